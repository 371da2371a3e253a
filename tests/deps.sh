#!/bin/sh
# deps.sh - install (with apt-get, only what is missing) everything the unit
# and integration tests need.  Run as root on Debian 12.
#
# Service packages (nginx, tinyproxy, squid, dnsmasq, danted) may start
# system instances when installed; the integration harness never uses them:
# it starts its own instances, with its own configs, inside network
# namespaces.  To keep an install from starting them at all, a policy-rc.d
# that denies starts is put in place for the duration of the install when
# none exists.
set -eu

PKGS="gcc make clang libclang-rt-14-dev libcmocka-dev libc-ares-dev
binutils pkg-config
iproute2 procps dante-server tinyproxy squid microsocks nginx openssl
openssh-server openssh-client socat curl python3 dnsmasq apache2-utils
netcat-openbsd dnsutils proxychains4 haproxy valgrind"

missing=""
for p in $PKGS; do
	if ! dpkg -s "$p" >/dev/null 2>&1; then
		missing="$missing $p"
	fi
done
# nodejs is often installed outside apt (nvm, a tarball): only ask apt for
# it when there is no node at all.
if ! command -v node >/dev/null 2>&1 && ! dpkg -s nodejs >/dev/null 2>&1; then
	missing="$missing nodejs"
fi

if [ -z "$missing" ]; then
	echo "deps: all present"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing (run as root to install)" >&2
	exit 1
fi

echo "deps: installing:$missing"
rc_policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$rc_policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$rc_policy"
	chmod 755 "$rc_policy"
	own_policy=1
fi
trap 'if [ "$own_policy" = 1 ]; then rm -f "$rc_policy"; fi' EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
echo "deps: done"
