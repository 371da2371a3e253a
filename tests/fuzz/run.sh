#!/bin/sh
# run.sh BUILD_DIR - run every libFuzzer target in BUILD_DIR/fuzz for
# $FUZZ_SECONDS (default 60) on a scratch copy of its seed corpus
# (tests/fuzz/corpus/<name without fuzz_>/), and print one TAP line each.
# Crash artifacts and logs go to a temp dir, never into the repository;
# on a crash they are kept and the line names the artifact.
set -u

build=${1:-build}
secs=${FUZZ_SECONDS:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/proxywrap-fuzz.XXXXXX") || exit 1
fail=0
ran=0

# UB is a crash too: make UBSan stop the run so libFuzzer saves the input.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

for bin in "$build"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	ran=$((ran + 1))
	target=$(basename "$bin")
	name=${target#fuzz_}
	dir=$work/$target
	mkdir -p "$dir/corpus" "$dir/artifacts"
	if [ -d "$here/corpus/$name" ]; then
		cp -R "$here/corpus/$name/." "$dir/corpus/"
	fi
	log=$dir/log
	# Run from the scratch dir so nothing (fuzz-*.log, crash-*) lands in
	# the tree; the outer timeout bounds a hung target.
	(cd "$dir" && timeout $((secs + 120)) "$bin" \
		-max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/" "$dir/corpus" \
		>"$log" 2>&1)
	rc=$?
	runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	if [ -z "$runs" ]; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
			tail -n 1)
	fi
	if [ "$rc" -eq 0 ] && [ -n "$runs" ]; then
		echo "ok - fuzz $name: $runs executions, no crash"
		rm -rf "$dir"
		continue
	fi
	fail=1
	art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
	[ -n "$art" ] || art=$log
	echo "not ok - fuzz $name: crash (see $art)"
	echo "# log: $log"
	grep -E '^(==[0-9]+==ERROR|SUMMARY)|runtime error' "$log" |
		head -n 5 | sed 's/^/# /'
done

if [ "$ran" -eq 0 ]; then
	echo "not ok - fuzz: no targets in $build/fuzz"
	fail=1
fi
# Keep the temp dir only when it holds something to look at.
if [ "$fail" -eq 0 ]; then
	rm -rf "$work"
fi
exit "$fail"
