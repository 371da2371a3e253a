#!/bin/sh
# deps.sh - install (with apt-get, only what is missing) everything the unit
# and integration tests need.  Run as root on Debian 12.  The list below is
# added to what building needs; tools/deps-build.sh does the installing
# (silent when nothing is missing; it also keeps installed services from
# starting: the integration harness starts its own instances, with its own
# configs, inside network namespaces).
set -eu

PKGS="gcc make clang libclang-rt-14-dev libcmocka-dev libc-ares-dev
binutils pkg-config mandoc man-db debootstrap
iproute2 procps dante-server tinyproxy squid microsocks nginx openssl
openssh-server openssh-client socat curl python3 dnsmasq apache2-utils
netcat-openbsd dnsutils proxychains4 haproxy valgrind ruby
redis-server redis-tools perl wget rsync git postgresql mariadb-server
mariadb-client mosquitto mosquitto-clients lftp python3-pyftpdlib telnet
dpkg-dev apt-utils bind9-host ncat openjdk-17-jdk-headless whois tnftp
gcc-multilib debhelper lintian bash-completion golang-go rsyslog
etcd-server etcd-client rclone stunnel4 nghttp2-proxy apache2-bin krb5-kdc
krb5-admin-server krb5-user"

# nodejs is often installed outside apt (nvm, a tarball): only ask apt for
# it when there is no node at all.
if ! command -v node >/dev/null 2>&1 && ! dpkg -s nodejs >/dev/null 2>&1; then
	PKGS="$PKGS nodejs"
fi

# shellcheck disable=SC2086
exec sh "$(dirname "$0")/../tools/deps-build.sh" $PKGS
