#!/bin/bash
# run.sh - the integration tests: real proxies and servers in network
# namespaces, real programs under the shim.  Run as root from the top of
# the tree (make check does: bash tests/integ/run.sh).
#
# Environment:
#   PW_BUILD           build directory (default build)
#   PW_LIB             the library (default $PW_BUILD/libshim.so)
#   PW_TOOL            the wrapper (default $PW_BUILD/proxywrap)
#   PW_PRELOAD_EXTRA   preloaded before the library (e.g. the ASan runtime)
#   PW_ONLY            "smoke" for the smoke cases, else an extended regex
#                      over case names
#   PW_CASE_TIMEOUT    seconds per case (default 60)
#   PW_KEEP            1: keep the temp dir (logs) even when all pass
#
# Output: "ok - NAME" / "not ok - NAME" (diagnostics indented with "#"),
# then "integ: N passed, N failed".  Exit 1 if any failed.
set -u

cd "$(dirname "$0")/../.." || exit 2
TOP=$PWD
PW_INTEG_DIR=$TOP/tests/integ
PW_BUILD=${PW_BUILD:-build}
PW_LIB=${PW_LIB:-$PW_BUILD/libshim.so}
PW_TOOL=${PW_TOOL:-$PW_BUILD/proxywrap}
case $PW_LIB in /*) ;; *) PW_LIB=$TOP/$PW_LIB ;; esac
case $PW_TOOL in /*) ;; *) PW_TOOL=$TOP/$PW_TOOL ;; esac
PW_PRELOAD_EXTRA=${PW_PRELOAD_EXTRA:-}
PW_ONLY=${PW_ONLY:-}
PW_CASE_TIMEOUT=${PW_CASE_TIMEOUT:-60}
export TOP PW_INTEG_DIR PW_BUILD PW_LIB PW_TOOL PW_PRELOAD_EXTRA
if [ -n "$PW_PRELOAD_EXTRA" ]; then
	# The runtime is preloaded into programs that are not built with it,
	# and proxywrap puts the shim in front of it.
	export ASAN_OPTIONS=${ASAN_OPTIONS:-verify_asan_link_order=0:detect_leaks=0:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi

if [ "$(id -u)" != 0 ]; then
	echo "integ: needs root (network namespaces)" >&2
	echo "integ: 0 passed, 1 failed"
	exit 1
fi
for f in "$PW_LIB" "$PW_TOOL"; do
	if [ ! -e "$f" ]; then
		echo "integ: missing $f (run make first)" >&2
		echo "integ: 0 passed, 1 failed"
		exit 1
	fi
done

. "$PW_INTEG_DIR/env.sh"
. "$PW_INTEG_DIR/lib.sh"
for f in "$PW_INTEG_DIR"/t_*.sh; do
	. "$f"
done

FAILED_ANY=0
cleanup() {
	env_teardown
	if [ -n "${T:-}" ] && [ -d "$T" ]; then
		if [ "$FAILED_ANY" = 0 ] && [ "${PW_KEEP:-0}" != 1 ]; then
			rm -rf "$T"
		else
			echo "# logs kept in $T" >&2
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

selected() {
	local name=$1
	[ -z "$PW_ONLY" ] && return 0
	if [ "$PW_ONLY" = smoke ]; then
		[ -n "${CASE_SMOKE[$name]:-}" ]
		return
	fi
	[[ $name =~ $PW_ONLY ]]
}

t0=$SECONDS
if ! env_setup; then
	FAILED_ANY=1
	echo "not ok - setup"
	echo "integ: 0 passed, 1 failed"
	exit 1
fi
# proxywrap preloads the libshim.so that sits next to it: when PW_LIB is
# another one (the sanitizer build), run a copy of proxywrap that sits
# next to a link to PW_LIB.
PW_TOOL_RUN=$PW_TOOL
if ! [ "$(dirname "$PW_TOOL")/libshim.so" -ef "$PW_LIB" ]; then
	mkdir -p "$T/bin"
	cp "$PW_TOOL" "$T/bin/proxywrap"
	ln -s "$PW_LIB" "$T/bin/libshim.so"
	# and its dynamic build, for https and Negotiate sessions
	[ ! -e "$(dirname "$PW_TOOL")/proxywrap-dl" ] ||
	    ln -s "$(dirname "$PW_TOOL")/proxywrap-dl" "$T/bin/proxywrap-dl"
	PW_TOOL_RUN=$T/bin/proxywrap
fi
export PW_TOOL_RUN

# Some programs deadlock at start when the GCC ASan runtime is preloaded
# into them (curl: setlocale; not the library's doing).  Cases that need
# them are skipped under that runtime (need_prog in lib.sh).
PW_BROKEN_PROGS=""
if [ -n "$PW_PRELOAD_EXTRA" ]; then
	for p in curl; do
		if ! timeout 5 env LD_PRELOAD="$PW_PRELOAD_EXTRA" $p --version \
		    >/dev/null 2>&1; then
			PW_BROKEN_PROGS="$PW_BROKEN_PROGS $p"
			echo "# $p does not run with $PW_PRELOAD_EXTRA preloaded: its cases are skipped"
		fi
	done
fi
export PW_BROKEN_PROGS
echo "# setup done in $((SECONDS - t0))s ($T)"

pass=0
nfail=0
nskip=0
for name in "${CASES[@]}"; do
	selected "$name" || continue
	d=$T/case/$name
	mkdir -p "$d"
	start=$SECONDS
	(
		cd "$d" || exit 1
		export CASE=$name CD=$d
		timeout -k 5 "$PW_CASE_TIMEOUT" bash -c '
			set -eu
			. "$PW_INTEG_DIR/env.sh" 2>/dev/null
			NSC='"$NSC"' NSP='"$NSP"' NSW='"$NSW"'
			. "$PW_INTEG_DIR/lib.sh"
			. "$1"
			"tc_$CASE"
		' case "${CASE_FILE[$name]}"
	) >"$d/log" 2>&1
	rc=$?
	secs=$((SECONDS - start))
	if [ $rc = 0 ]; then
		pass=$((pass + 1))
		echo "ok - $name"
	elif [ $rc = 77 ]; then
		nskip=$((nskip + 1))
		echo "ok - $name # SKIP $(tail -n 1 "$d/log" | sed 's/^# SKIP: //')"
	else
		nfail=$((nfail + 1))
		FAILED_ANY=1
		echo "not ok - $name"
		[ $rc = 124 ] && echo "#   case timed out after ${PW_CASE_TIMEOUT}s"
		grep -v '^\$ ' "$d/log" | tail -n 16 | sed 's/^#\?/#  /'
	fi
	[ $secs -ge 10 ] && echo "#   (took ${secs}s)"
done

if [ $nskip -gt 0 ]; then
	echo "integ: $pass passed, $nfail failed, $nskip skipped"
else
	echo "integ: $pass passed, $nfail failed"
fi
[ $nfail = 0 ]
