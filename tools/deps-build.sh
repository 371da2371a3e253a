#!/bin/sh
# deps-build.sh - install (with apt-get, only what is missing) what building
# proxywrap needs on Debian 12, plus any package named on the command line.
#
#   sh tools/deps-build.sh            build: compiler, libc and c-ares headers
#   sh tools/deps-build.sh --demo     and what `make demo` runs
#   sh tools/deps-build.sh PKG...     and PKG... (tests/deps.sh passes its list)
#
# Silent when nothing is missing, so `make demo` and `make check` run it
# every time.  Installing needs root; as another user it names what is
# missing and fails.
#
# Service packages (tinyproxy, squid, nginx ...) may start system instances
# when installed; nothing here uses them (the demo and the tests start their
# own).  To keep an install from starting them at all, a policy-rc.d that
# denies starts is put in place for the duration of the install when none
# exists.
set -eu

# libc6-dev is only a Recommends of gcc: name it, --no-install-recommends
# would leave it out.  libc-ares-dev: headers and the static libcares.a;
# libssl-dev, libnghttp2-dev: OpenSSL and nghttp2 for proxywrap's relay
# (https proxies, http2=on); libkrb5-dev: MIT krb5's GSSAPI, for
# proxywrap's Negotiate tokens.
BUILD_PKGS="gcc libc6-dev make libc-ares-dev libssl-dev libnghttp2-dev libkrb5-dev"
DEMO_PKGS="microsocks tinyproxy curl python3"

want=$BUILD_PKGS
for a in "$@"; do
	case "$a" in
	--demo) want="$want $DEMO_PKGS" ;;
	-*) echo "deps: unknown option $a" >&2; exit 2 ;;
	*) want="$want $a" ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	# dpkg -s also answers for a package that was removed but left its
	# configuration files: only "install ok installed" counts.
	if [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != "ii " ]; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing (run as root: sh $0 $*)" >&2
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
# A fresh machine (or container) may have no package lists at all.
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
