#!/usr/bin/env bash
# bench/evidence.sh [BASE_BUILD] - what a tunnel's close event costs: a
# 1 GiB download through dante on loopback (bench.sh's throughput row:
# pwbench get) with this build, with and without an audit log, and with
# BASE_BUILD (another build directory, e.g. of the commit before) when
# given; then 20 tunnels under strace, counting getsockopt calls (the
# close event's TCP_INFO: one per tunnel).  ROUNDS (5), BYTES (1 GiB).
set -u
cd "$(dirname "$0")/.." || exit 1
NEW=$PWD/build BASE=${1:-} ROUNDS=${ROUNDS:-5} BYTES=${BYTES:-1073741824}
. bench/lib.sh
bench_tmp pwevid
trap 'bench_reap; rm -rf "$T"' EXIT
gcc -std=gnu11 -D_GNU_SOURCE -Iinclude -O2 -o "$T/pwbench" bench/pwbench.c \
    -lpthread || exit 1
read -r WEB DO < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
"$T/pwbench" serve 127.0.0.2 "$WEB" & pids+=($!)
bench_dante_conf "$T/d.conf" "$T/d.log" "$DO"
danted -f "$T/d.conf" -p "$T/d.pid" -N 2 >"$T/d.out" 2>&1 & pids+=($!)
for i in $(seq 50); do
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $DO), 0.2)" \
	    2>/dev/null && break
	sleep 0.2
done
printf 'proxy p socks5://127.0.0.1:%s\nvia p 127.0.0.2\n' "$DO" >"$T/p.conf"
get() {	# BUILD [--log FILE]
	local b=$1
	shift
	"$b/proxywrap" -q "$@" -c "$T/p.conf" "$T/pwbench" get 127.0.0.2 \
	    "$WEB" "$BYTES"
}
whos="new newlog"
[ -n "$BASE" ] && whos="base $whos"
for r in $(seq "$ROUNDS"); do
	for who in $whos; do
		case $who in
		base) echo "base   $(get "$BASE")" ;;
		new) echo "new    $(get "$NEW")" ;;
		newlog) : >"$T/a.log"; echo "newlog $(get "$NEW" --log "$T/a.log")" ;;
		esac
	done
done
echo "the last close event: $(grep '"event":"close"' "$T/a.log")"
cat >"$T/many.py" <<EOP
import socket, sys
for i in range(20):
    s = socket.create_connection(("127.0.0.2", int(sys.argv[1])))
    s.sendall(b"GET /1000 HTTP/1.0\r\n\r\n")
    while s.recv(65536):
        pass
    s.close()
EOP
for who in ${BASE:+base} new; do
	b=$NEW
	[ "$who" = base ] && b=$BASE
	: >"$T/b.log"
	strace -f -qq -e trace=getsockopt -o "$T/st" "$b/proxywrap" -q \
	    --log "$T/b.log" -c "$T/p.conf" python3 "$T/many.py" "$WEB"
	echo "$who: 20 tunnels: getsockopt $(grep -c getsockopt "$T/st")" \
	    "(TCP_INFO $(grep -c TCP_INFO "$T/st"), SO_ERROR" \
	    "$(grep -c SO_ERROR "$T/st")), close events" \
	    "$(grep -c '"event":"close"' "$T/b.log")"
done
