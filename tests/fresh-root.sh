#!/usr/bin/env bash
# tests/fresh-root.sh - `make demo` as the very first command on a fresh
# Debian 12: a throw-away minbase root made by Debian's own debootstrap, with
# nothing added but make (no compiler, no headers, no package lists), and a
# copy of this tree.  Prints "ok"/"not ok" lines and the transcript.
#
# Slow and needs the network (the Debian mirror this machine's apt uses), so
# make check leaves it out unless PW_FRESH=1; `make check-fresh` runs it.
# tests/newcomer.sh checks the same order in seconds and offline.
#
# The root is made once and kept as a tarball, and the packages apt
# downloads inside it are kept too, both under $FRESH_CACHE: the first run
# takes a few minutes, later ones about as long as the build.
#   FRESH_ALL=1   also run tests/deps.sh and the build in a second fresh
#                 root (make check's first steps; downloads much more)
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${FRESH_CACHE:-/var/cache/proxywrap-fresh}
SUITE=bookworm
TARBALL=$CACHE/$SUITE-minbase-make.tar.gz

if [ -z "${FRESH_INNER:-}" ]; then
	exec unshare -m --propagation private env FRESH_INNER=1 bash "$0" "$@"
fi

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
fail() { not_ok "$*"; echo "1..$n"; exit 1; }

command -v debootstrap >/dev/null ||
	fail "debootstrap is not installed (apt-get install debootstrap)"

# The mirror this machine's apt uses (deb822 or one-line sources).
mirror=$(grep -hoE 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list 2>/dev/null | head -n 1 | tr -d ' ')
mirror=${mirror:-http://deb.debian.org/debian}

mkdir -p "$CACHE/archives/partial" "$CACHE/lists/partial"
if [ ! -s "$TARBALL" ]; then
	echo "# making $TARBALL from $mirror (once)"
	b=$(mktemp -d /var/tmp/proxywrap-debootstrap.XXXXXX)
	start=$SECONDS
	if ! timeout 600 debootstrap --variant=minbase --include=make "$SUITE" \
	    "$b/root" "$mirror" >"$b/log" 2>&1; then
		tail -n 5 "$b/log" | sed 's/^/#   /'
		rm -rf "$b"
		fail "debootstrap $SUITE from $mirror"
	fi
	rm -rf "$b/root/var/cache/apt/archives/"*.deb
	tar -C "$b/root" -czf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
	rm -rf "$b"
	ok "debootstrap minbase root made in $((SECONDS - start)) s"
fi

WORK=$(mktemp -d /var/tmp/proxywrap-fresh.XXXXXX)
cleanup() {
	local m
	for m in $(awk -v w="$WORK" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

# A fresh root with this tree (its files as git knows them, not build/) in
# /src.  The kept .debs and lists are bound in; "fresh" is about what is
# installed, and tools/deps-build.sh runs apt-get update regardless.
new_root() { # dir
	local r=$1
	mkdir -p "$r"
	tar -C "$r" -xzf "$TARBALL" || return 1
	mkdir -p "$r/src"
	git -C "$SRC" ls-files -z --cached --others --exclude-standard |
		tar -C "$SRC" --null -T - -cf - | tar -C "$r/src" -xf - || return 1
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount --bind "$CACHE/archives" "$r/var/cache/apt/archives" &&
	mount --bind "$CACHE/lists" "$r/var/lib/apt/lists" &&
	mount -t proc proc "$r/proc" &&
	mount --rbind /dev "$r/dev"
}

R=$WORK/demo
new_root "$R" || fail "unpack a fresh root"
if chroot "$R" sh -c 'command -v cc || test -e /usr/include/ares.h' >/dev/null; then
	fail "the fresh root already has a compiler or ares.h"
fi
ok "fresh root: make, no cc, no ares.h"

echo "# transcript: (cd /src && make demo) in the fresh root"
start=$SECONDS
timeout 900 chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    TERM=dumb sh -c 'cd /src && make demo' >"$WORK/demo.out" 2>&1
rc=$?
secs=$((SECONDS - start))
# the compiler lines are long and many: keep what each one makes
sed -E 's/^cc .* -c ([^ ]+) .*/cc ... -c \1/; s/^cc .* -o ([^ ]+) .*/cc ... -o \1 .../' \
    "$WORK/demo.out" | sed 's/^/#   /'
if [ "$rc" -eq 0 ]; then ok "make demo as the first command exits 0 ($secs s)"
else not_ok "make demo as the first command exits 0 (exit $rc, $secs s)"; fi
grep -qx 'hello from 127.0.0.2' "$WORK/demo.out" && ok "demo: curl through SOCKS5" ||
	not_ok "demo: curl through SOCKS5"
grep -qx 'hello from 127.0.0.3' "$WORK/demo.out" && ok "demo: python3 through HTTP CONNECT" ||
	not_ok "demo: python3 through HTTP CONNECT"

if [ "${FRESH_ALL:-0}" = 1 ]; then
	R=$WORK/check
	new_root "$R" || fail "unpack a second fresh root"
	start=$SECONDS
	timeout 1800 chroot "$R" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
	    sh -c 'cd /src && bash tests/deps.sh && make -j2 WERROR=1 all unit testbins' \
	    >"$WORK/check.out" 2>&1
	rc=$?
	tail -n 3 "$WORK/check.out" | sed -E 's/^(.{100}).*/\1 .../; s/^/#   /'
	if [ "$rc" -eq 0 ]; then ok "make check's deps and build steps first ($((SECONDS - start)) s)"
	else not_ok "make check's deps and build steps first (exit $rc)"; fi
fi
echo "1..$n"
