#!/usr/bin/env bash
# bench/startup.sh: the wrapper command's start-up against proxychains4's,
# measured as bench.sh's section 4 does (pwbench spawn of
# `proxywrap -q -c dante.pw /bin/true` and `proxychains4 -q -f dante.pc
# /bin/true`), but in alternating rounds (ns, pw, pc in one loop, so that
# the load of a shared machine falls on all three alike), with medians
# and ranges, plus the counts that do not depend on the load: page
# faults and system calls from exec to exit, and user-space instructions
# (callgrind) of the wrapper up to its exec and of /bin/true after it.
# No proxy runs: /bin/true opens no socket.  Knobs: ROUNDS N, and OLD=
# another build's proxywrap (with its libshim.so beside it) to run as a
# fourth in the same rounds.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
ROUNDS=${ROUNDS:-15}
N=${N:-200}

say() { printf 'startup: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

command -v proxychains4 >/dev/null || die "proxychains4 missing (apt-get install proxychains4)"
[ -x build/proxywrap ] && [ -x build/libshim.so ] || make -s all >/dev/null ||
    die "make failed"
. bench/lib.sh
bench_tmp pwstartup
trap 'rm -rf "$T"' EXIT
gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -O2 -o "$T/pwbench" bench/pwbench.c \
    -lpthread || die "build pwbench"
B=$T/pwbench
# the same rule files as bench.sh's dante.pw and dante.pc
printf 'proxy p socks5://127.0.0.1:1080\nvia p 127.0.0.2\nconnect_timeout 30s\n' \
    >"$T/dante.pw"
chmod 600 "$T/dante.pw"
printf '%s\n' strict_chain quiet_mode 'tcp_read_time_out 30000' \
    'tcp_connect_time_out 10000' '[ProxyList]' 'socks5 127.0.0.1 1080' \
    >"$T/dante.pc"
PW=("$ROOT/build/proxywrap" -q -c "$T/dante.pw" /bin/true)
PC=("$(command -v proxychains4)" -q -f "$T/dante.pc" /bin/true)
OLD=${OLD:-}
WHO="ns pw pc${OLD:+ old}"

say "load before: $(uptime)"
for _ in $(seq "$ROUNDS"); do
	for who in $WHO; do
		case $who in
		ns) l=$("$B" spawn "$N" -- /bin/true) ;;
		pw) l=$("$B" spawn "$N" -- "${PW[@]}") ;;
		pc) l=$("$B" spawn "$N" -- "${PC[@]}") ;;
		old) l=$("$B" spawn "$N" -- "$OLD" "${PW[@]:1}") ;;
		esac
		[ -n "$l" ] || die "spawn $who failed"
		echo "$who ${l#us=}"
	done
done >"$T/rounds"
say "load after: $(uptime)"
# medians and ranges; each round's pw and pc less the same round's ns
python3 - "$T/rounds" "$N" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
ws = [w for w in ("ns", "pw", "pc", "old") if any(k == w for k, v in rows)]
us = {w: [float(v) for k, v in rows if k == w] for w in ws}
n = len(us["ns"])
def line(what, xs, fmt):
    print("%s: median %s, %s to %s" % (what, fmt % statistics.median(xs),
                                     fmt % min(xs), fmt % max(xs)))
for w in ws:
    line("%s µs a start (%d rounds of %s)" % (w, n, sys.argv[2]), us[w], "%.0f")
for w in ws[1:]:
    line("%s µs added to /bin/true" % w,
         [a - b for a, b in zip(us[w], us["ns"])], "%+.0f")
line("pw / pc, each round", [a / b for a, b in zip(us["pw"], us["pc"])], "%.2f")
print("rounds where proxywrap started faster than proxychains4: %d of %d" %
      (sum(a < b for a, b in zip(us["pw"], us["pc"])), n))
PY

# args WHO: its command line in CMD
args() {
	case $1 in
	pw) CMD=("${PW[@]}") ;;
	pc) CMD=("${PC[@]}") ;;
	old) CMD=("$OLD" "${PW[@]:1}") ;;
	esac
}
# perf stat -r 50, five times in turn: page faults and CPU time (ms)
if command -v perf >/dev/null; then
	for _ in 1 2 3 4 5; do
		for who in ${WHO#ns }; do
			args "$who"
			perf stat -x, -r 50 -e page-faults,task-clock "${CMD[@]}" \
			    2>&1 >/dev/null | awk -F, -v w="$who" \
			    '$3=="page-faults"{f=$1} $3=="task-clock"{t=$1}
			     END {print w, f, t}'
		done
	done | python3 -c '
import statistics, sys
v = {}
for l in sys.stdin:
    w, f, t = l.split()
    v.setdefault(w, []).append((float(f), float(t)))
for w, xs in v.items():
    t = [x[1] for x in xs]
    print("%s: %.0f page faults, %.2f ms CPU (median of 5 perf stat -r 50 in turn, %.2f to %.2f)" %
          (w, statistics.median(x[0] for x in xs), statistics.median(t), min(t), max(t)))'
fi
if command -v strace >/dev/null; then
	for who in ${WHO#ns }; do
		args "$who"
		n=$(strace -f -o "$T/st" "${CMD[@]}" && grep -cvE '^[0-9]+ +\+\+\+' "$T/st")
		echo "$who: $n system calls, exec to exit (strace -f)"
	done
fi
if command -v valgrind >/dev/null; then
	for who in ${WHO#ns }; do
		args "$who"
		valgrind --tool=callgrind --dump-before=execve \
		    --callgrind-out-file="$T/cg.w" "${CMD[@]}" >/dev/null 2>&1
		valgrind --tool=callgrind --trace-children=yes \
		    --callgrind-out-file="$T/cg.t" "${CMD[@]}" >/dev/null 2>&1
		echo "$who: $(sed -n 's/^summary: //p' "$T/cg.w.1") user instructions to the exec of /bin/true, $(sed -n 's/^summary: //p' "$T/cg.t") in /bin/true after it (callgrind)"
		rm -f "$T"/cg.*
	done
fi
