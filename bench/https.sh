#!/usr/bin/env bash
# bench/https.sh - what TLS to an https proxy costs: one transfer of BYTES
# (default 1 GiB) from a loopback server through tinyproxy, by HTTP/1.1
# CONNECT (http://) and by https:// (proxywrap's relay, TLS to stunnel in
# front of the same tinyproxy).  Per row the median MB/s of ROUNDS (5)
# and, for https, the CPU proxywrap spent (the relay thread: user+system,
# from /proc/<proxywrap>/stat after the transfer) per GiB.  The tunnel's
# other TLS end (stunnel) and tinyproxy are not counted.  A last row has
# curl's own https proxy support through the same stunnel: what that TLS
# proxy allows with no relay at all.  A row with tlspeer (bench/tlspeer.c:
# OpenSSL, answers CONNECT itself and serves the bytes, no second hop) is
# the relay with a TLS peer that costs little.  Then the CPU each process
# of the chain spent per GiB (medians): the relay, stunnel, tinyproxy,
# the server and the program (pwbench get).
# With nghttpx installed (its own /etc/nghttpx/nghttpx.conf left out: it
# binds a frontend of its own), two rows more: TLS to nghttpx (tinyproxy behind
# it) over HTTP/1.1, and with http2=on (the tunnel one HTTP/2 stream).
# Needs build/ (make all), tinyproxy, stunnel4, openssl.
set -u
cd "$(dirname "$0")/.." || exit 1
ROUNDS=${ROUNDS:-5} BYTES=${BYTES:-1073741824}
PW=${PW:-$PWD/build/proxywrap}	# another build: PW=/path/to/proxywrap
PY=/usr/bin/python3
[ -x "$PW" ] || { echo "bench: make all first" >&2; exit 1; }
for p in tinyproxy stunnel4 openssl; do
	command -v $p >/dev/null || { echo "bench: needs $p" >&2; exit 1; }
done
. bench/lib.sh
bench_tmp pwhttps
cleanup() {
	bench_reap
	rm -rf "$T"
}
trap cleanup EXIT
gcc -std=gnu11 -D_GNU_SOURCE -O2 -o "$T/pwbench" bench/pwbench.c -lpthread ||
    exit 1
gcc -std=gnu11 -O2 -o "$T/tlspeer" bench/tlspeer.c -lssl -lcrypto -lpthread ||
    exit 1
read -r WEB TP TS TN TR TQ TN2 TR2 < <($PY -c '
import socket
ss = [socket.socket() for _ in range(8)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
"$T/pwbench" serve 127.0.0.2 "$WEB" & pids+=($!); SRVPID=$!
mkdir -p "$T/tiny" && chown nobody:nogroup "$T/tiny"
cat >"$T/tiny/tiny.conf" <<EOC
User nobody
Group nogroup
Port $TP
Listen 127.0.0.1
Timeout 600
MaxClients 16
Allow 127.0.0.0/8
ConnectPort $WEB
EOC
tinyproxy -d -c "$T/tiny/tiny.conf" >/dev/null 2>&1 & pids+=($!); TPPID=$!
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench-proxy \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/k.pem" \
    -out "$T/c.pem" >/dev/null 2>&1 || exit 1
cat "$T/c.pem" "$T/k.pem" >"$T/st.pem"
cat >"$T/st.conf" <<EOC
foreground = yes
pid =
debug = 3
[https]
accept = 127.0.0.1:$TS
connect = 127.0.0.1:$TP
cert = $T/st.pem
EOC
stunnel4 "$T/st.conf" >"$T/st.log" 2>&1 & pids+=($!); STPID=$!
"$T/tlspeer" "$TQ" "$T/c.pem" "$T/k.pem" 2>/dev/null & pids+=($!); PEERPID=$!
bench_wait_port 127.0.0.2 "$WEB"; bench_wait_port 127.0.0.1 "$TP"; bench_wait_port 127.0.0.1 "$TS"
bench_wait_port 127.0.0.1 "$TQ"
# nghttpx (HTTP/2 forward proxy, same tinyproxy behind it), if installed:
# https:// over HTTP/1.1 and with http2=on
cases="h1 tls peer"
if command -v nghttpx >/dev/null; then
	nghttpx --conf=/dev/null --http2-proxy --workers=1 \
	    --frontend="127.0.0.1,$TN" --backend="127.0.0.1,$TP" --no-ocsp \
	    --errorlog-file="$T/ng.err" "$T/k.pem" "$T/c.pem" >/dev/null 2>&1 &
	pids+=($!); NGPID=$!
	bench_wait_port 127.0.0.1 "$TN"
	printf 'proxy ng https://127.0.0.1:%s ca=%s\nvia ng 127.0.0.2\n' \
	    "$TN" "$T/c.pem" >"$T/ng1.conf"
	printf 'proxy ng https://127.0.0.1:%s ca=%s http2=on\nvia ng 127.0.0.2\n' \
	    "$TN" "$T/c.pem" >"$T/ng2.conf"
	cases="$cases ng1 ng2"
fi
printf 'proxy h1 http://127.0.0.1:%s\nvia h1 127.0.0.2\n' "$TP" >"$T/h1.conf"
printf 'proxy tls https://127.0.0.1:%s ca=%s\nvia tls 127.0.0.2\n' "$TS" \
    "$T/c.pem" >"$T/tls.conf"
printf 'proxy peer https://127.0.0.1:%s ca=%s\nvia peer 127.0.0.2\n' "$TQ" \
    "$T/c.pem" >"$T/peer.conf"
# a process's CPU ticks (utime+stime), 0 once it is gone
ticks() {
	[ -n "$1" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null ||
	    echo 0
}
# a process's and its children's (tinyproxy's and nghttpx's workers)
treeticks() {
	local p t=0
	for p in $1 $(pgrep -P "$1"); do t=$((t + $(ticks "$p"))); done
	echo $t
}
tpticks() { treeticks $TPPID; }
# one transfer under proxywrap; prints pwbench's line, proxywrap's CPU
# ticks once it is done, the program's (cl), and those of the server,
# the TLS peer (stunnel, tlspeer) and tinyproxy during it
run() {
	local s0 st0 tp0 sp=
	case $1 in tls) sp=$STPID ;; peer) sp=$PEERPID ;; esac
	s0=$(ticks $SRVPID) st0=$(ticks "$sp") tp0=$(tpticks)
	"$PW" -c "$T/$1.conf" sh -c '"$0" get 127.0.0.2 "$1" "$2" &&
	    awk "{print \"ticks=\" \$14 + \$15}" /proc/$PPID/stat &&
	    awk "{print \"cl=\" \$16 + \$17}" /proc/$$/stat' \
	    "$T/pwbench" "$WEB" "$BYTES"
	echo "srv=$(($(ticks $SRVPID) - s0)) st=$(($(ticks "$sp") - st0))" \
	    "tp=$(($(tpticks) - tp0))"
}
kv() { local w; for w in $1; do [ "${w%%=*}" = "$2" ] && echo "${w#*=}"; done; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
hz=$(getconf CLK_TCK)
# the rows take turns, round by round: a load that comes and goes on the
# shared machine then falls on every row alike
for c in $cases; do : >"$T/$c.mbps"; done
for r in $(seq "$ROUNDS"); do
	for c in $cases; do
		line=$(run $c)
		[ "$(kv "$line" bytes)" = "$BYTES" ] ||
		    { echo "bench: $c: $line" >&2; exit 1; }
		kv "$line" mbps >>"$T/$c.mbps"
		# CPU seconds per GiB, of proxywrap and the chain's others
		for k in ticks cl srv st tp; do
			awk -v t="$(kv "$line" $k)" -v hz="$hz" -v b="$BYTES" \
			    'BEGIN {printf "%.2f\n", t / hz / (b / 1073741824)}' \
			    >>"$T/$c.$k"
		done
	done
done
for c in $cases; do cp "$T/$c.ticks" "$T/$c.cpu"; done
# the same stunnel with TLS in the client itself (curl's --proxy https://):
# what the TLS proxy allows without a relay
: >"$T/curl.mbps"
if command -v curl >/dev/null; then
	for r in $(seq "$ROUNDS"); do
		curl -s --proxy "https://127.0.0.1:$TS" --proxy-cacert "$T/c.pem" \
		    -p "http://127.0.0.2:$WEB/$BYTES" -o /dev/null \
		    -w '%{speed_download}\n' |
		    awk '{printf "%.0f\n", $1 / 1e6}' >>"$T/curl.mbps"
	done
fi
h1=$(median <"$T/h1.mbps"); tls=$(median <"$T/tls.mbps")
echo "| path ($BYTES bytes, median of $ROUNDS) | MB/s | proxywrap CPU s/GiB |"
echo "|---|---|---|"
echo "| http:// (HTTP/1.1 CONNECT, in-band) | $h1 | $(median <"$T/h1.cpu") |"
echo "| https:// (relay, TLS to stunnel) | $tls | $(median <"$T/tls.cpu") |"
[ -s "$T/curl.mbps" ] &&
    echo "| curl --proxy https:// (TLS in curl, same stunnel) | $(median <"$T/curl.mbps") | - |"
echo "| https:// (relay, TLS to tlspeer: no proxy behind it, for the relay alone) | $(median <"$T/peer.mbps") | $(median <"$T/peer.cpu") |"
if [ -s "$T/ng1.mbps" ]; then
	echo "| https:// (relay, TLS to nghttpx, HTTP/1.1) | $(median <"$T/ng1.mbps") | $(median <"$T/ng1.cpu") |"
	echo "| https:// http2=on (relay, one stream of nghttpx's h2) | $(median <"$T/ng2.mbps") | $(median <"$T/ng2.cpu") |"
fi
awk -v a="$tls" -v b="$h1" 'BEGIN {printf "https / http: %.2f\n", a / b}'
paste "$T/tls.mbps" "$T/h1.mbps" | awk '{printf "%.2f\n", $1 / $2}' | median |
    awk '{print "https / http, the median of the rounds (each its two rows side by side): " $1}'
echo
echo "| CPU s/GiB (median) | proxywrap (relay) | stunnel / tlspeer | tinyproxy | server | program | all |"
echo "|---|---|---|---|---|---|---|"
for c in h1 tls peer; do
	r=$(median <"$T/$c.ticks") st=$(median <"$T/$c.st") tp=$(median <"$T/$c.tp")
	sv=$(median <"$T/$c.srv") cl=$(median <"$T/$c.cl")
	echo "| $c | $r | $st | $tp | $sv | $cl |" \
	    "$(awk -v a="$r" -v b="$st" -v c="$tp" -v d="$sv" -v e="$cl" \
	    'BEGIN {printf "%.2f", a + b + c + d + e}') |"
done
[ -s "$T/ng1.mbps" ] || exit 0

# Round trips of a new tunnel: nghttpx behind a relay that holds every
# chunk DELAY_MS each way (its own TCP handshake is not delayed, so what
# is counted is TLS and CONNECT), 10 tunnels one after another; the
# median handshake_ms of the audit log's connect events over 2 x DELAY_MS.
# Over HTTP/1.1 the first tunnel's TLS is a full handshake and the later
# ones resume its session (PROXYWRAP_TLS_RESUME=off: none does); a second
# nghttpx that stops at TLS 1.2 shows the round trip resumption saves
# there.  Then the CPU of a new tunnel (no delay, 200 one after another):
# proxywrap's and nghttpx's milliseconds per tunnel, full and resumed.
DELAY_MS=${DELAY_MS:-20}
nghttpx --conf=/dev/null --http2-proxy --workers=1 --frontend="127.0.0.1,$TN2" \
    --backend="127.0.0.1,$TP" --no-ocsp --errorlog-file="$T/ng12.err" \
    --tls-max-proto-version=TLSv1.2 "$T/k.pem" "$T/c.pem" >/dev/null 2>&1 &
pids+=($!)
bench_wait_port 127.0.0.1 "$TN2"
sed "s/:$TN /:$TN2 /" "$T/ng1.conf" >"$T/ng12.conf"
$PY bench/delayrelay.py "$DELAY_MS" "$TR:$TN" "$TR2:$TN2" 2>/dev/null &
pids+=($!)
bench_wait_port 127.0.0.1 "$TR"; bench_wait_port 127.0.0.1 "$TR2"
lat() {	# NAME CONF [VAR=VALUE]: 10 tunnels, the audit log in $T/NAME.log
	rm -f "$T/$1.log"
	env ${3:-} "$PW" --log "$T/$1.log" -c "$2" "$T/pwbench" lat 127.0.0.2 \
	    "$WEB" 10 >/dev/null || exit 1
}
for c in ng1 ng2 ng12; do
	sed "s/:$TN /:$TR /; s/:$TN2 /:$TR2 /" "$T/$c.conf" >"$T/d$c.conf"
	lat "d$c" "$T/d$c.conf"
done
lat dng1off "$T/dng1.conf" PROXYWRAP_TLS_RESUME=off
lat dng12off "$T/dng12.conf" PROXYWRAP_TLS_RESUME=off
rtt() {	# LOG [first|later]: round trips of the first tunnel or the others
	grep '"event":"connect"' "$1" |
	    sed 's/.*"handshake_ms":\([0-9]*\).*/\1/' |
	    { if [ "$2" = first ]; then head -n 1; else tail -n +2; fi; } |
	    median | awk -v d="$DELAY_MS" '{printf "%.1f (%d ms)", $1 / (2 * d), $1}'
}
resumed() { grep -c '"proxy_tls_resumed":true' "$1"; }
echo
echo "| new tunnel, ${DELAY_MS} ms each way to the proxy | round trips |"
echo "|---|---|"
echo "| https:// (HTTP/1.1), TLS 1.3, the first tunnel (full handshake) | $(rtt "$T/dng1.log" first) |"
echo "| https:// (HTTP/1.1), TLS 1.3, the later ones (resumed: $(resumed "$T/dng1.log") of 9) | $(rtt "$T/dng1.log" later) |"
echo "| https:// (HTTP/1.1), TLS 1.3, PROXYWRAP_TLS_RESUME=off, every tunnel | $(rtt "$T/dng1off.log" later) |"
echo "| https:// (HTTP/1.1), TLS 1.2, the first tunnel (full handshake) | $(rtt "$T/dng12.log" first) |"
echo "| https:// (HTTP/1.1), TLS 1.2, the later ones (resumed: $(resumed "$T/dng12.log") of 9) | $(rtt "$T/dng12.log" later) |"
echo "| https:// (HTTP/1.1), TLS 1.2, PROXYWRAP_TLS_RESUME=off, every tunnel | $(rtt "$T/dng12off.log" later) |"
echo "| http2=on, the first tunnel (TLS + stream) | $(rtt "$T/dng2.log" first) |"
echo "| http2=on, a tunnel on the open connection | $(rtt "$T/dng2.log" later) |"

# CPU per new tunnel (no delay): proxywrap's (the relay's handshakes) and
# the proxy's (nghttpx, TLS 1.3), 200 tunnels one after another
N=200
cpu_tunnel() {	# [VAR=VALUE]: "RELAY_MS NGHTTPX_MS" per tunnel
	local n0 n1 line
	n0=$(treeticks "$NGPID")
	line=$(env ${1:-} "$PW" -c "$T/ng1.conf" sh -c '"$0" lat 127.0.0.2 "$1" "$2" >/dev/null &&
	    awk "{print \$14 + \$15}" /proc/$PPID/stat' "$T/pwbench" "$WEB" $N)
	n1=$(treeticks "$NGPID")
	awk -v a="$line" -v b=$((n1 - n0)) -v hz="$hz" -v n=$N \
	    'BEGIN {printf "%.2f | %.2f", a * 1000 / hz / n, b * 1000 / hz / n}'
}
echo
echo "| CPU of a new tunnel (TLS 1.3 to nghttpx, $N one after another) | proxywrap ms | nghttpx ms |"
echo "|---|---|---|"
echo "| full handshakes (PROXYWRAP_TLS_RESUME=off) | $(cpu_tunnel PROXYWRAP_TLS_RESUME=off) |"
echo "| resumed | $(cpu_tunnel) |"
