#!/bin/bash
# bench/optimistic.sh - optimistic data and TCP Fast Open to the proxy
# (issue 19): SOCKS5 (dante) connect + GET + first response, in round
# trips of 40 ms, two ways:
#  - relay: bench/delayrelay.py holds every chunk 20 ms each way (as
#    bench.sh's round-trip rows); the TCP handshake with it is not delayed;
#  - wire: bench/tunwire.py holds every packet 20 ms each way between the
#    client's namespace and the proxy's, SYNs included, so a connection's
#    own handshake counts too (and what Fast Open saves shows).
# Runs as root in two network namespaces of its own (net.ipv4.tcp_fastopen=3
# there; nothing changed outside):
#
#   sudo bash bench/optimistic.sh            prints the tables and writes them
#                                            into bench/bench-results.md
#                                            (between its markers)
# N=20 connections per case; DELAY_MS=20.
#
# "No shim" is bench/pwbench speaking SOCKS5 itself, one message at a time
# (greeting, request, then the GET); proxywrap pipelines greeting and
# request; with optimistic=on the GET follows the request in the same
# flight.  The first connection of each proxywrap run learns that dante
# takes pipelining and is not optimistic; the median is of all N.  tfo=on
# goes through a port whose listener takes Fast Open (a relay in front of
# dante, which does not): the client kernel's TCPFastOpenActive counter
# says how many SYNs carried data.  With both, the handshake waits for the
# program's first write and goes with it, in the SYN once the client
# kernel has the front's cookie ("first bytes in SYN"); the row after it
# sends the GET with sendfile(), which the handshake goes before, alone
# (what a tfo=on tunnel did for every program before).  The load average
# is printed with the tables: the machine may be shared.  "round trips"
# runs to the server's EOF; "first byte" to the response's first byte: a
# Fast Open server sends its FIN only once the handshake's last ACK is in,
# a round trip after data it sent with its SYN-ACK (the kernel's, with or
# without the shim).
set -u
cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "optimistic.sh: needs root" >&2; exit 1; }
N=${N:-20}
DELAY_MS=${DELAY_MS:-20}
OUT=${OUT:-bench/bench-results.md}
PY=/usr/bin/python3
say() { printf 'optimistic: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

NA=pwopt$$a NB=pwopt$$b		# the client's namespace, the proxy's
AA=198.18.10.1 AB=198.18.10.2	# the wire's two ends
[ -x build/proxywrap ] || make -s all >/dev/null || die "make failed"
command -v danted >/dev/null || die "needs dante-server"

. bench/lib.sh
bench_tmp pwopt
cleanup() {
	bench_reap
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
for ns in "$NA" "$NB"; do
	ip netns add "$ns" && ip -n "$ns" link set lo up &&
	    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fastopen=3 ||
	    die "cannot set up namespace $ns"
done
A() { ip netns exec "$NA" "$@"; }
Bn() { ip netns exec "$NB" "$@"; }

gcc -std=gnu11 -D_GNU_SOURCE -O2 -o "$T/pwbench" bench/pwbench.c -lpthread ||
    die "build pwbench"
B=$T/pwbench
WEB=8080 DO=1080 RDO=1180 RTF=1181 WTF=1081

$PY bench/tunwire.py "$DELAY_MS" "$NA" "$AA" "$NB" "$AB" >"$T/wire.out" 2>&1 &
pids+=($!)
Bn "$B" serve 127.0.0.2 "$WEB" >"$T/serve.out" 2>&1 & pids+=($!)
# bench/lib.sh's dante configuration, also on the wire's end and for its client
bench_dante_conf "$T/dante.conf" "$T/dante.log" "$DO"
sed -i "s|^internal: .*|&\ninternal: $AB port = $DO|; s|from: 127.0.0.0/8|from: 0.0.0.0/0|" \
    "$T/dante.conf"
for i in $(seq 50); do grep -q ready "$T/wire.out" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$T/wire.out" || die "tunwire.py: $(cat "$T/wire.out")"
Bn danted -f "$T/dante.conf" -p "$T/dante.pid" -N 2 >"$T/dante.out" 2>&1 &
pids+=($!)
Bn $PY bench/delayrelay.py "$DELAY_MS" "$RDO:$DO" "$RTF:$DO:tfo" \
    >"$T/relay.out" 2>&1 & pids+=($!)
Bn $PY tests/integ/tfo_front.py "$AB" "$WTF" 127.0.0.1 "$DO" 3600 \
    >"$T/front.out" 2>&1 & pids+=($!)
for p in "127.0.0.2 $WEB" "127.0.0.1 $DO" "127.0.0.1 $RDO" "127.0.0.1 $RTF" \
    "$AB $DO" "$AB $WTF"; do
	for i in $(seq 100); do
		Bn $PY -c "import socket; socket.create_connection(('${p% *}', ${p#* }), 0.2)" \
		    2>/dev/null && break
		sleep 0.1
	done
done

conf() {	# NAME HOST PORT OPTIONS
	printf 'proxy p socks5://%s:%s %s\nvia p 127.0.0.2\nconnect_timeout 30s\n' \
	    "$2" "$3" "$4" >"$T/$1.pw"
}
kv() { local w; for w in $1; do [ "${w%%=*}" = "$2" ] && echo "${w#*=}"; done; }
tfo_active() { "$1" nstat -asz TcpExtTCPFastOpenActive 2>/dev/null |
    awk '$1 == "TcpExtTCPFastOpenActive" { print $2 }'; }
served() { Bn "$B" count 127.0.0.2 "$WEB" 4; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

rows=()
rtt() { awk -v u="$1" -v d="$DELAY_MS" 'BEGIN { printf "%.1f", u / 1000 / (2 * d) }'; }
row() {	# LABEL LINE TFO-SYNS
	local p50 c50 f50 rt
	p50=$(kv "$2" p50); c50=$(kv "$2" conn_p50); f50=$(kv "$2" first_p50)
	[ -n "$p50" ] && [ "$(kv "$2" fail)" = 0 ] || die "$1: $2"
	rt=$(rtt "$p50")
	rows+=("| $1 | $rt | $(ms "$p50") | $(rtt "$f50") | $(ms "$c50") | $3 |")
	say "$1: $rt round trips (p50 $p50 us, first byte $f50 us, connect() $c50 us)"
}
# one WHERE LABEL CONF|-x URL: N connections from WHERE (Bn: in the proxy's
# namespace, through the relay; A: across the wire)
one() {
	local where=$1 label=$2 before line t0 t1
	before=$(served); t0=$(tfo_active "$where")
	if [ "$3" = -x ]; then
		line=$("$where" "$B" lat 127.0.0.2 "$WEB" "$N" -x "$4")
	else
		line=$("$where" build/proxywrap -q -c "$T/$3.pw" "$B" "${LAT:-lat}" \
		    127.0.0.2 "$WEB" "$N")
	fi
	t1=$(tfo_active "$where")
	[ "$(( $(served) - before ))" -ge "$N" ] ||
	    die "$label: the server saw fewer than $N connections from dante"
	row "$label" "$line" "$(( ${t1:-0} - ${t0:-0} ))"
}
say "$N connections per case, ${DELAY_MS} ms each way"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
conf off 127.0.0.1 "$RDO" ""
conf on 127.0.0.1 "$RDO" "optimistic=on"
conf tfo 127.0.0.1 "$RTF" "tfo=on"
conf both 127.0.0.1 "$RTF" "optimistic=on tfo=on"
one Bn "no shim (one message at a time)" -x "socks5://127.0.0.1:$RDO"
one Bn "proxywrap, pipelined (before)" off
one Bn "proxywrap, optimistic=on" on
one Bn "proxywrap, tfo=on" tfo
one Bn "proxywrap, optimistic=on tfo=on, first bytes in SYN" both
LAT=latsf one Bn "proxywrap, optimistic=on tfo=on, GET by sendfile" both
relay_rows=("${rows[@]}")
rows=()
conf off "$AB" "$DO" ""
conf on "$AB" "$DO" "optimistic=on"
conf tfo "$AB" "$WTF" "tfo=on"
conf both "$AB" "$WTF" "optimistic=on tfo=on"
one A "no shim (one message at a time)" -x "socks5://$AB:$DO"
one A "proxywrap, pipelined (before)" off
one A "proxywrap, optimistic=on" on
one A "proxywrap, tfo=on" tfo
one A "proxywrap, optimistic=on tfo=on, first bytes in SYN" both
LAT=latsf one A "proxywrap, optimistic=on tfo=on, GET by sendfile" both
wire_rows=("${rows[@]}")
load1=$(cut -d' ' -f1-3 /proc/loadavg)

{
	echo "<!-- bench/optimistic.sh -->"
	echo "Optimistic data and TCP Fast Open (issue 19; \`sudo bash bench/optimistic.sh\`,"
	echo "N=$N, dante $(dpkg-query -W -f '${Version}' dante-server 2>/dev/null)):"
	echo "SOCKS5 connect + GET + first response, median, in round trips of"
	echo "$((2 * DELAY_MS)) ms."
	echo
	echo "Through bench/delayrelay.py ($DELAY_MS ms each way on every chunk; the TCP"
	echo "handshake with the relay is not delayed):"
	echo
	echo "| case | round trips | ms | first byte, round trips | connect() returns, ms | SYNs with data (TCPFastOpenActive) |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${relay_rows[@]}"
	echo
	echo "Across bench/tunwire.py ($DELAY_MS ms each way on every packet, SYNs"
	echo "included: the connection's own handshake counts):"
	echo
	echo "| case | round trips | ms | first byte, round trips | connect() returns, ms | SYNs with data (TCPFastOpenActive) |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${wire_rows[@]}"
	echo
	echo "$(uname -r), $(nproc) cores; load average $load0 at the start, $load1 at the end."
	echo "<!-- end bench/optimistic.sh -->"
} >"$T/section.md"
cat "$T/section.md"
if [ -f "$OUT" ]; then
	$PY - "$OUT" "$T/section.md" <<'EOP'
import sys
out, sec = sys.argv[1], open(sys.argv[2]).read()
text = open(out).read()
a = text.find("<!-- bench/optimistic.sh -->")
b = text.find("<!-- end bench/optimistic.sh -->")
if a >= 0 and b > a:
    text = text[:a] + sec + text[b + len("<!-- end bench/optimistic.sh -->\n"):]
else:
    text = text.rstrip("\n") + "\n\n" + sec
open(out, "w").write(text)
EOP
fi
