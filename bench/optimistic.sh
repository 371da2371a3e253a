#!/bin/bash
# bench/optimistic.sh - optimistic data and TCP Fast Open to the proxy
# (issue 19): connect + request + first response through SOCKS5 (dante)
# behind bench/delayrelay.py, 20 ms each way (40 ms a round trip), in
# round trips.  Runs as root in a network namespace of its own (unshare -n:
# loopback only; net.ipv4.tcp_fastopen=3 there, nothing changed outside).
#
#   sudo bash bench/optimistic.sh            prints the table and writes it
#                                            into bench/bench-results.md
#                                            (between its markers)
# N=20 connections per case; DELAY_MS=20.
#
# Cases: "no shim" is bench/pwbench speaking SOCKS5 itself, one message at
# a time (greeting, request, then the GET: 3 round trips); proxywrap
# pipelines greeting and request (2); with optimistic=on the GET follows
# the request in the same flight (1).  The first connection of each
# proxywrap run learns that dante takes pipelining and is not optimistic;
# the median is of all N.  tfo=on goes through a relay port whose
# listener takes Fast Open: the kernel's TCPFastOpenActive counter says
# how many SYNs carried the greeting.  The relay does not delay the TCP
# handshake itself (a user-space relay cannot hold a SYN), so a round
# trip saved on it does not show in these figures.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
if [ -z "${PW_OPT_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "optimistic.sh: needs root" >&2; exit 1; }
	PW_OPT_NS=1 exec unshare -n bash "$0" "$@"
fi
N=${N:-20}
DELAY_MS=${DELAY_MS:-20}
OUT=${OUT:-bench/bench-results.md}
PY=/usr/bin/python3
say() { printf 'optimistic: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

ip link set lo up || die "no loopback"
sysctl -qw net.ipv4.tcp_fastopen=3 || die "cannot enable Fast Open here"
[ -x build/proxywrap ] || make -s all >/dev/null || die "make failed"
command -v danted >/dev/null || die "needs dante-server"

T=$(mktemp -d /tmp/pwopt.XXXXXX) || exit 1
chmod 755 "$T"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -s "$T/dante.pid" ] && kill "$(cat "$T/dante.pid")" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

gcc -std=gnu11 -D_GNU_SOURCE -O2 -o "$T/pwbench" bench/pwbench.c -lpthread ||
    die "build pwbench"
B=$T/pwbench
WEB=8080 DO=1080 RDO=1180 RTF=1181

"$B" serve 127.0.0.2 "$WEB" >"$T/serve.out" 2>&1 & pids+=($!)
cat >"$T/dante.conf" <<EOC
logoutput: $T/dante.log
internal: 127.0.0.1 port = $DO
external: 127.0.0.4
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 127.0.0.0/8 to: 0.0.0.0/0
	log: error
}
socks pass {
	from: 127.0.0.0/8 to: 127.0.0.2/32
	command: connect
	log: error
}
EOC
danted -f "$T/dante.conf" -p "$T/dante.pid" -N 2 >"$T/dante.out" 2>&1 &
pids+=($!)
$PY bench/delayrelay.py "$DELAY_MS" "$RDO:$DO" "$RTF:$DO:tfo" \
    >"$T/relay.out" 2>&1 & pids+=($!)
for p in "127.0.0.2 $WEB" "127.0.0.1 $DO" "127.0.0.1 $RDO" "127.0.0.1 $RTF"; do
	for i in $(seq 100); do
		$PY -c "import socket,sys; socket.create_connection(('${p% *}', ${p#* }), 0.2)" \
		    2>/dev/null && break
		sleep 0.1
	done
done

conf() {	# NAME PORT OPTIONS
	printf 'proxy p socks5://127.0.0.1:%s %s\nvia p 127.0.0.2\nconnect_timeout 30s\n' \
	    "$2" "$3" >"$T/$1.pw"
}
conf off "$RDO" ""
conf on "$RDO" "optimistic=on"
conf tfo "$RTF" "tfo=on"
conf both "$RTF" "optimistic=on tfo=on"
kv() { local w; for w in $1; do [ "${w%%=*}" = "$2" ] && echo "${w#*=}"; done; }
tfo_active() { nstat -asz TcpExtTCPFastOpenActive 2>/dev/null |
    awk '$1 == "TcpExtTCPFastOpenActive" { print $2 }'; }
served() { "$B" count 127.0.0.2 "$WEB" 4; }

rows=()
row() {	# LABEL LINE TFO-SYNS
	local p50 c50 rt
	p50=$(kv "$2" p50); c50=$(kv "$2" conn_p50)
	[ -n "$p50" ] && [ "$(kv "$2" fail)" = 0 ] || die "$1: $2"
	rt=$(awk -v u="$p50" -v d="$DELAY_MS" 'BEGIN { printf "%.1f", u / 1000 / (2 * d) }')
	rows+=("| $1 | $rt | $(awk -v u="$p50" 'BEGIN { printf "%.1f", u / 1000 }') | $(awk -v u="$c50" 'BEGIN { printf "%.1f", u / 1000 }') | $3 |")
	say "$1: $rt round trips (p50 $p50 us, connect() $c50 us)"
}
run_case() {	# LABEL CONF
	local before line t0 t1
	before=$(served); t0=$(tfo_active)
	line=$(build/proxywrap -q -c "$T/$2.pw" "$B" lat 127.0.0.2 "$WEB" "$N")
	t1=$(tfo_active)
	[ "$(( $(served) - before ))" -ge "$N" ] ||
	    die "$1: the server saw fewer than $N connections from dante"
	row "$1" "$line" "$(( ${t1:-0} - ${t0:-0} ))"
}
say "$N connections per case, ${DELAY_MS} ms each way"
before=$(served)
line=$("$B" lat 127.0.0.2 "$WEB" "$N" -x "socks5://127.0.0.1:$RDO")
[ "$(( $(served) - before ))" -ge "$N" ] || die "no shim: connections missing"
row "no shim (one message at a time)" "$line" 0
run_case "proxywrap, pipelined (today)" off
run_case "proxywrap, optimistic=on" on
run_case "proxywrap, tfo=on" tfo
run_case "proxywrap, optimistic=on tfo=on" both

{
	echo "<!-- bench/optimistic.sh -->"
	echo "Optimistic data and TCP Fast Open (issue 19; \`sudo bash bench/optimistic.sh\`,"
	echo "N=$N, $DELAY_MS ms each way through bench/delayrelay.py, dante 1.4.2):"
	echo "SOCKS5 connect + GET + first response, median."
	echo
	echo "| case | round trips | ms | connect() returns, ms | SYNs with data (TCPFastOpenActive) |"
	echo "|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "The relay does not delay the TCP handshake, so Fast Open's saving (the"
	echo "SYN's round trip) does not show here; the last column proves the greeting"
	echo "rode in the SYN. $(uname -r), $(nproc) cores."
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
