#!/usr/bin/env bash
# tests/newcomer.sh - `make demo` as the first command on a machine that
# lacks the build dependencies: the dependency step must come before the
# compiler, plain `make` must say what to run, and a second run must be
# silent.  Prints "ok"/"not ok" lines.  Run as root.
#
# The fresh machine is imitated, not built (a real throw-away root is
# tests/fresh-root.sh: network and minutes; this needs neither, so make check
# runs it every time).  Inside a private mount namespace, the headers of
# libc-ares-dev are hidden by an overlay of whiteouts over /usr/include, so
# the real compiler really cannot find ares.h.  apt-get, dpkg-query and dpkg
# on PATH are small fakes that answer from a list of "missing" packages and
# record each call; the fake apt-get "installs" libc-ares-dev by lifting the
# overlay.  The compiler is the real one behind a wrapper that records each
# call, so the record shows which came first.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)

if [ -z "${NEWCOMER_INNER:-}" ]; then
	exec unshare -m --propagation private env NEWCOMER_INNER=1 bash "$0" "$@"
fi

T=$(mktemp -d /tmp/proxywrap-newcomer.XXXXXX)
trap 'umount /usr/include /usr/sbin 2>/dev/null; umount "$T" 2>/dev/null; rm -rf "$T"' EXIT
mount -t tmpfs tmpfs "$T" || { echo "not ok - tmpfs for the test"; exit 1; }
mkdir -p "$T/bin" "$T/upper" "$T/work"
LOG=$T/calls
: >"$LOG"

n=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; }
check() { # name, then a command that must succeed
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
show() { sed 's/^/#   /' "$@"; }

# Hide every header libc-ares-dev owns.
hidden=0
for h in $(dpkg -L libc-ares-dev | grep '^/usr/include/.*\.h$'); do
	rel=${h#/usr/include/}
	mkdir -p "$T/upper/$(dirname "$rel")"
	mknod "$T/upper/$rel" c 0 0
	hidden=$((hidden + 1))
done
if [ "$hidden" -eq 0 ] || ! mount -t overlay overlay \
    -o "lowerdir=/usr/include,upperdir=$T/upper,workdir=$T/work" /usr/include; then
	echo "not ok - hide the c-ares headers (overlay over /usr/include)"
	exit 1
fi

# The policy-rc.d that tools/deps-build.sh puts in place while installing
# lands in an overlay too, so a real install elsewhere on this machine never
# sees it come and go.
mkdir -p "$T/sbin-upper" "$T/sbin-work"
mount -t overlay overlay \
    -o "lowerdir=/usr/sbin,upperdir=$T/sbin-upper,workdir=$T/sbin-work" /usr/sbin ||
	{ echo "not ok - overlay over /usr/sbin"; exit 1; }

printf '%s\n' libc-ares-dev microsocks >"$T/missing"

cat >"$T/bin/dpkg-query" <<EOF
#!/bin/sh
# only the form tools/deps-build.sh uses: dpkg-query -W -f=FORMAT PKG
[ "\$1" = -W ] && [ \$# = 3 ] || { echo "fake dpkg-query: \$*" >&2; exit 99; }
if grep -qx "\$3" "$T/missing"; then
	echo "dpkg-query: no packages found matching \$3" >&2
	exit 1
fi
printf 'ii '
EOF
cat >"$T/bin/dpkg" <<EOF
#!/bin/sh
[ "\$1" = -s ] || exec /usr/bin/dpkg "\$@"
! grep -qx "\$2" "$T/missing"
EOF
cat >"$T/bin/apt-get" <<EOF
#!/bin/sh
echo "apt-get \$*" >>"$LOG"
[ "\$1" = update ] && exit 0
for a in "\$@"; do
	case "\$a" in -*|install) continue ;; esac
	grep -vx "\$a" "$T/missing" >"$T/missing.new"; mv "$T/missing.new" "$T/missing"
	if [ "\$a" = libc-ares-dev ] && mountpoint -q /usr/include; then
		umount /usr/include || exit 100
	fi
done
EOF
cat >"$T/bin/cc" <<EOF
#!/bin/sh
echo "cc \$*" >>"$LOG"
exec /usr/bin/cc "\$@"
EOF
chmod 755 "$T/bin/"*
export PATH="$T/bin:$PATH"
CCW=$T/bin/cc

# The imitation holds: without the install, the real compiler fails.
check "the fake machine has no ares.h" \
	bash -c "! echo '#include <ares.h>' | /usr/bin/cc -E -x c - >/dev/null 2>&1"

# 1. Plain make: no install, a message naming the script, nothing compiled.
make -C "$SRC" --no-print-directory BUILD="$T/b0" CC="$CCW" all \
    >"$T/make-all.out" 2>&1
rc=$?
check "plain make fails without c-ares (exit $rc)" [ "$rc" -ne 0 ]
check "plain make names tools/deps-build.sh" \
	grep -q 'run: sh tools/deps-build.sh' "$T/make-all.out"
check "plain make installs nothing" bash -c "! grep -q '^apt-get' '$LOG'"
check "plain make compiles nothing" \
	bash -c "[ -z \"\$(find '$T/b0' -name '*.o' 2>/dev/null)\" ]"
show "$T/make-all.out"

# 2. make demo: the install comes first, then the build, then the demo.
: >"$LOG"
timeout 300 make -j2 -C "$SRC" --no-print-directory BUILD="$T/b1" CC="$CCW" \
    demo >"$T/demo.out" 2>&1
rc=$?
check "make demo exits 0 (exit $rc)" [ "$rc" -eq 0 ]
inst=$(grep -n '^apt-get install' "$LOG" | head -n 1 | cut -d: -f1)
first_cc=$(grep -n '^cc ' "$LOG" | head -n 1 | cut -d: -f1)
check "make demo installs libc-ares-dev and the demo's packages" \
	grep -q '^apt-get install.* libc-ares-dev.* microsocks' "$LOG"
check "make demo installs (line ${inst:-none}) before the compiler runs (line ${first_cc:-none})" \
	[ -n "$inst" ] && [ -n "$first_cc" ] && [ "$inst" -lt "$first_cc" ]
check "make demo built proxywrap and libshim.so" \
	[ -x "$T/b1/proxywrap" ] && [ -f "$T/b1/libshim.so" ]
check "the demo reached the SOCKS5 destination" \
	grep -qx 'hello from 127.0.0.2' "$T/demo.out"
check "the demo reached the HTTP CONNECT destination" \
	grep -qx 'hello from 127.0.0.3' "$T/demo.out"
head -n 4 "$T/demo.out" | show
grep -E '^(apt-get|cc )' "$LOG" | head -n 3 | cut -c1-100 | show

# The build just made says its version and the c-ares it was built with:
# the installed libc-ares-dev's, whose libcares.a is in libshim.so.
ver=$("$T/b1/proxywrap" --version)
want=$(/usr/bin/dpkg-query -W -f='${Version}' libc-ares-dev | sed 's/-[^-]*$//')
check "proxywrap --version names the version and c-ares $want" \
	grep -qx "c-ares $want (static, in libshim.so)" <<<"$ver"
check "libshim.so has c-ares in it, and exports none of it" \
	bash -c "nm '$T/b1/libshim.so' | grep -q ' ares_init' &&
		! nm -D --defined-only '$T/b1/libshim.so' | grep -q ' ares_'"
check "proxywrap --version starts with proxywrap VERSION" \
	grep -qE '^proxywrap [0-9]+\.[0-9]+\.[0-9]+' <<<"$ver"

# 3. Everything present: both dependency scripts are silent and install
# nothing.
: >"$LOG"
out=$(cd "$SRC" && sh tools/deps-build.sh --demo 2>&1 && sh tests/deps.sh 2>&1)
rc=$?
check "with nothing missing both scripts exit 0 (exit $rc)" [ "$rc" -eq 0 ]
check "with nothing missing both scripts print nothing" [ -z "$out" ]
check "with nothing missing nothing is installed" [ ! -s "$LOG" ]

# make check's side: its first step is tests/deps.sh (checked in the
# script, as running make check from inside make check is not an option),
# and tests/deps.sh installs what building needs too.
check "make check's first step is tests/deps.sh" \
	bash -c "grep -m1 '^step ' '$SRC/tests/run.sh' | grep -q 'tests/deps.sh'"
printf '%s\n' libc-ares-dev gcc >>"$T/missing"
(cd "$SRC" && sh tests/deps.sh >/dev/null 2>&1)
rc=$?
check "tests/deps.sh installs the build packages (exit $rc)" \
	bash -c "[ $rc -eq 0 ] && grep -q '^apt-get install.* gcc.* libc-ares-dev' '$LOG'"
: >"$LOG"

# 4. Not root: the missing packages are named, nothing is installed.
echo libc-ares-dev >>"$T/missing"
printf '#!/bin/sh\necho 1000\n' >"$T/bin/id"
chmod 755 "$T/bin/id"
out=$(cd "$SRC" && sh tools/deps-build.sh 2>&1)
rc=$?
rm -f "$T/bin/id"
check "not root, a missing package fails the script (exit $rc)" [ "$rc" -ne 0 ]
check "not root, the message names the package" \
	grep -q 'missing: libc-ares-dev (run as root' <<<"$out"
check "not root, nothing is installed" [ ! -s "$LOG" ]

echo "1..$n"
