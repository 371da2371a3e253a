#!/usr/bin/env bash
# tests/run.sh - everything `make check` runs, in order:
#   dependencies, warning-free build (normal, ASan), lint, make demo's
#   dependency order (tests/newcomer.sh; with PW_FRESH=1 also in a real
#   debootstrap'd root, tests/fresh-root.sh), the man pages, the bash
#   completion, the Debian package (tests/deb.sh), unit tests,
#   fuzz corpus replay and a short fuzz run per target, integration tests
#   in network namespaces, the integration smoke set under ASan+UBSan, and
#   a valgrind run of a small subset.
# Each check prints "ok - NAME" or "not ok - NAME"; the last line is
# "N passed, N failed".  Exit status: 0 only when nothing failed.
set -u
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
PASS=0
FAIL=0
SKIP=0
LOGDIR=$(mktemp -d /tmp/proxywrap-check.XXXXXX)

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
not_ok() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# Run a command that prints TAP-like lines; count them.  A command that
# fails without printing a "not ok" line counts as one failure.
tap() {
	local name=$1 out rc p f s
	shift
	out="$LOGDIR/$(echo "$name" | tr -c 'a-zA-Z0-9_\n' _).log"
	"$@" >"$out" 2>&1
	rc=$?
	# a skipped case is reported as skipped, never counted as passed
	p=$(grep -E '^ok( |$)' "$out" | grep -vc '# SKIP')
	s=$(grep -E '^ok( |$)' "$out" | grep -c '# SKIP')
	f=$(grep -cE '^not ok( |$)' "$out")
	grep -E '^(ok|not ok)( |$)|^#|^ ' "$out" | grep -vE '^# (ok|PASS)' || true
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	SKIP=$((SKIP + s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		not_ok "$name exited $rc (log: $out)"
		tail -n 20 "$out" | sed 's/^/    /'
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$s" -eq 0 ] && [ "$rc" -eq 0 ]; then
		not_ok "$name ran no test (log: $out)"
	fi
}

step() {
	local name=$1
	shift
	if "$@" >"$LOGDIR/$name.log" 2>&1; then
		ok "$name"
	else
		not_ok "$name (log: $LOGDIR/$name.log)"
		tail -n 30 "$LOGDIR/$name.log" | sed 's/^/    /'
		return 1
	fi
}

finish() {
	echo "logs: $LOGDIR"
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" -eq 0 ]
	exit $?
}

step deps bash tests/deps.sh || finish
step build make -j2 WERROR=1 BUILD="$BUILD" all unit testbins || finish
step build-asan make -j2 WERROR=1 BUILD="$BUILD" asan || finish
step lint env BUILD="$BUILD" sh tests/lint.sh
# make demo as the first command: dependencies before the compiler
tap "newcomer" bash tests/newcomer.sh
if [ "${PW_FRESH:-0}" = 1 ]; then
	tap "fresh-root" bash tests/fresh-root.sh
fi
tap "man" sh tests/man.sh
tap "completion" bash tests/completion.sh
# the Debian package: built, lintian, its files, a run from the unpacked tree
tap "deb" bash tests/deb.sh

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	tap "unit $(basename "$t")" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done

step build-fuzz make -j2 BUILD="$BUILD" fuzz-bins replay-bins
for r in "$BUILD"/replay/fuzz_*; do
	[ -x "$r" ] || continue
	name=$(basename "$r")
	tap "replay $name" "$r" "tests/fuzz/corpus/${name#fuzz_}"
done
tap "fuzz" env FUZZ_SECONDS="$FUZZ_SECONDS" sh tests/fuzz/run.sh "$(realpath "$BUILD")"

tap "integration" env PW_BUILD="$BUILD" bash tests/integ/run.sh

# The sanitizer build of the library, preloaded after the ASan runtime.
asan_rt=$(gcc -print-file-name=libasan.so)
ubsan_rt=$(gcc -print-file-name=libubsan.so)
tap "integration-asan" env PW_BUILD="$BUILD" PW_ONLY=smoke \
	PW_LIB="$BUILD/asan/libshim.so" \
	PW_PRELOAD_EXTRA="$asan_rt $ubsan_rt" \
	ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	bash tests/integ/run.sh

if [ -f tests/integ/valgrind.sh ]; then
	tap "valgrind" env PW_BUILD="$BUILD" bash tests/integ/valgrind.sh
fi

finish
