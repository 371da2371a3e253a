#!/usr/bin/env bash
# bench/bench.sh: proxywrap and proxychains4 side by side, in one run,
# through the same real proxies on loopback (dante SOCKS5 with and without
# user/password, tinyproxy HTTP CONNECT), plus a relay that delays every
# chunk to count handshake round trips, and what programs see while a
# handshake is pending (node's event loop, python's connect timeout).
# Prints a Markdown table and saves it as bench/bench-results.md (OUT=file
# elsewhere).  Knobs: N_LAT N_RT N_CONC INFLIGHT DELAY_MS BYTES N_SPAWN N_UDP
# N_UDPB UDP_WIN.
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
N_LAT=${N_LAT:-500}
N_RT=${N_RT:-20}
N_CONC=${N_CONC:-1000}
INFLIGHT=${INFLIGHT:-100}
DELAY_MS=${DELAY_MS:-20}
BYTES=${BYTES:-1073741824}
N_SPAWN=${N_SPAWN:-1000}
N_UDP=${N_UDP:-5000}
N_UDPB=${N_UDPB:-50000}
UDP_WIN=${UDP_WIN:-32}
OUT=${OUT:-bench/bench-results.md}
TPUT_ROUNDS=${TPUT_ROUNDS:-5}
PY=/usr/bin/python3
PCLIB=$(dpkg -L libproxychains4 2>/dev/null | grep -m1 '/libproxychains\.so\.4$')
BUSER=pwbench
BPASS=bench-$RANDOM$RANDOM

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# --- dependencies -----------------------------------------------------------
need=()
command -v proxychains4 >/dev/null || need+=(proxychains4)
command -v danted >/dev/null || need+=(dante-server)
command -v tinyproxy >/dev/null || need+=(tinyproxy)
command -v valgrind >/dev/null || need+=(valgrind)
command -v node >/dev/null || need+=(nodejs)
[ -x $PY ] || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	say "installing ${need[*]}"
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q \
	    "${need[@]}" >/dev/null || die "apt-get install ${need[*]} failed"
	PCLIB=$(dpkg -L libproxychains4 | grep -m1 '/libproxychains\.so\.4$')
fi
[ -n "$PCLIB" ] || die "libproxychains.so.4 not found"
[ -x build/libshim.so ] && [ -x build/proxywrap ] ||
    make -s all >/dev/null || die "make failed"
if ! id "$BUSER" >/dev/null 2>&1; then
	useradd -M -d /nonexistent -s /usr/sbin/nologin "$BUSER" ||
	    die "useradd $BUSER failed"
fi
printf '%s:%s\n' "$BUSER" "$BPASS" | chpasswd -c SHA512 -s 1000 || die "chpasswd failed"

# --- temp dir, services, cleanup ------------------------------------------
. bench/lib.sh
bench_tmp pwbench
cleanup() {
	bench_reap
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CFLAGS="-std=gnu11 -D_GNU_SOURCE -Iinclude -Wall -Wextra -Wshadow -Wformat=2
	-Wno-format-nonliteral -Wstrict-prototypes -Wmissing-prototypes -Wvla -O2"
# shellcheck disable=SC2086
gcc $CFLAGS -o "$T/pwbench" bench/pwbench.c -lpthread || die "build pwbench"
B=$T/pwbench

read -r WEB DO DU TP RDO RDU RTP UECHO < <($PY -c '
import socket
ss = [socket.socket() for _ in range(8)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')


"$B" serve 127.0.0.2 "$WEB" & pids+=($!)
# The UDP echo, and in section 7 dante and the clients, run on one CPU:
# see there.
UCPU=0
taskset -c $UCPU "$B" udpecho 127.0.0.2 "$UECHO" & pids+=($!)

dante_conf() {	# NAME PORT METHOD EXTERNAL
	bench_dante_conf "$T/$1.conf" "$T/$1.log" "$2" "$3" "$4" udp
	danted -f "$T/$1.conf" -p "$T/$1.pid" -N 2 >"$T/$1.out" 2>&1 &
	pids+=($!)
	eval "PID_$1=\$!"
}
dante_conf dante "$DO" none 127.0.0.4
dante_conf danteu "$DU" username 127.0.0.5

mkdir -p "$T/tiny" && chown nobody:nogroup "$T/tiny"
cat >"$T/tiny/tiny.conf" <<EOF
User nobody
Group nogroup
Port $TP
Listen 127.0.0.1
Bind 127.0.0.3
Timeout 60
LogFile "$T/tiny/tiny.log"
LogLevel Warning
MaxClients 256
Allow 127.0.0.0/8
ConnectPort $WEB
EOF
tinyproxy -d -c "$T/tiny/tiny.conf" >"$T/tiny.out" 2>&1 & pids+=($!)

$PY bench/delayrelay.py "$DELAY_MS" "$RDO:$DO" "$RDU:$DU" "$RTP:$TP" \
    >"$T/relay.out" 2>&1 & pids+=($!)

for p in "$WEB:127.0.0.2" "$DO:127.0.0.1" "$DU:127.0.0.1" "$TP:127.0.0.1" \
    "$RDO:127.0.0.1" "$RDU:127.0.0.1" "$RTP:127.0.0.1"; do
	bench_wait_port "${p#*:}" "${p%%:*}"
done

# --- rule files: one proxy each, the server (127.0.0.2) routed through it -
U_DO=socks5://127.0.0.1:$DO;		U_TP=http://127.0.0.1:$TP
U_RDO=socks5://127.0.0.1:$RDO;		U_RTP=http://127.0.0.1:$RTP
U_RDU=socks5://$BUSER:$BPASS@127.0.0.1:$RDU
pw_conf() { printf 'proxy p %s\nvia p 127.0.0.2\nconnect_timeout 30s\n' \
    "$2" >"$T/$1.pw"; chmod 600 "$T/$1.pw"; }
pc_conf() {	# NAME TYPE PORT [USER PASS]
	cat >"$T/$1.pc" <<EOF
strict_chain
quiet_mode
tcp_read_time_out 30000
tcp_connect_time_out 10000
${LOCALNET:-}
[ProxyList]
$2 127.0.0.1 $3 ${4:+$4 $5}
EOF
}
pw_conf dante "$U_DO";  pc_conf dante socks5 "$DO"
pw_conf tiny "$U_TP";   pc_conf tiny http "$TP"
pw_conf rdo "$U_RDO";   pc_conf rdo socks5 "$RDO"
pw_conf rdu "$U_RDU";   pc_conf rdu socks5 "$RDU" "$BUSER" "$BPASS"
pw_conf rtp "$U_RTP";   pc_conf rtp http "$RTP"
# UDP not routed: 127.0.0.2 is loopback that no rule names (direct).
printf 'proxy p %s\nvia p 127.0.0.9\n' "$U_DO" >"$T/udpdirect.pw"
# For the hook costs: loopback is not routed by either shim.
LOCALNET='localnet 127.0.0.0/255.0.0.0' pc_conf local socks5 "$DO"

PW() { local c=$1; shift; "$ROOT/build/proxywrap" -q -c "$T/$c.pw" "$@"; }
PC() { local c=$1; shift; proxychains4 -q -f "$T/$c.pc" "$@"; }
NS() { shift; "$@"; }

R=$T/results	# "key value" lines, formatted by bench/report.py
put() { printf '%s %s\n' "$1" "$2" >>"$R"; }
: >"$R"
put delay_ms "$DELAY_MS"; put n_lat "$N_LAT"; put n_rt "$N_RT"
put n_conc "$N_CONC"; put inflight "$INFLIGHT"; put bytes "$BYTES"
put n_spawn "$N_SPAWN"; put n_udp "$N_UDP"; put n_udpb "$N_UDPB"
put udp_win "$UDP_WIN"
# kv LINE KEY: the value of KEY=... in LINE
kv() { local w; for w in $1; do [ "${w%%=*}" = "$2" ] && echo "${w#*=}"; done; }

# How many connections the server took from a proxy: each proxy connects
# from its own address (tinyproxy 127.0.0.3, dante .4, dante with
# user/password .5; direct connections come from 127.0.0.1).
seen() {
	case $1 in
	tiny) "$B" count 127.0.0.2 "$WEB" 3 ;;
	dante) "$B" count 127.0.0.2 "$WEB" 4 ;;
	danteu) "$B" count 127.0.0.2 "$WEB" 5 ;;
	esac
}
# proves WHAT PROXY BEFORE N: the server took at least N more from PROXY
proves() {
	local now; now=$(seen "$2")
	[ "$((now - $3))" -ge "$4" ] ||
	    die "$1: the server saw $((now - $3)) of $4 connections from $2"
}

# --- 1. latency ---------------------------------------------------------
say "1/10 latency: $N_LAT sequential connections per case"
line=$("$B" lat 127.0.0.2 "$WEB" "$N_LAT")
put lat_direct_p50 "$(kv "$line" p50)"; put lat_direct_p95 "$(kv "$line" p95)"
for px in dante:socks5://127.0.0.1:$DO tiny:http://127.0.0.1:$TP; do
	p=${px%%:*}; url=${px#*:}
	log=$p; [ "$p" = tiny ] && log=tiny
	for who in ns pw pc; do
		before=$(seen "$log")
		case $who in
		ns) line=$("$B" lat 127.0.0.2 "$WEB" "$N_LAT" -x "$url") ;;
		pw) line=$(PW "$p" "$B" lat 127.0.0.2 "$WEB" "$N_LAT") ;;
		pc) line=$(PC "$p" "$B" lat 127.0.0.2 "$WEB" "$N_LAT") ;;
		esac
		[ "$(kv "$line" fail)" = 0 ] || die "latency $p $who: $line"
		proves "latency $p $who" "$log" "$before" "$N_LAT"
		put "lat_${p}_${who}_p50" "$(kv "$line" p50)"
		put "lat_${p}_${who}_p95" "$(kv "$line" p95)"
	done
done

# --- 2. round trips ---------------------------------------------------
say "2/10 round trips: ${DELAY_MS} ms each way, $N_RT connections per case"
for c in rdo:dante:$U_RDO rdu:danteu:$U_RDU rtp:tiny:$U_RTP; do
	IFS=: read -r p log _ <<<"$c"
	url=${c#*:*:}
	for who in ns pw pc; do
		before=$(seen "$log")
		case $who in
		ns) line=$("$B" lat 127.0.0.2 "$WEB" "$N_RT" -x "$url") ;;
		pw) line=$(PW "$p" "$B" lat 127.0.0.2 "$WEB" "$N_RT") ;;
		pc) line=$(PC "$p" "$B" lat 127.0.0.2 "$WEB" "$N_RT") ;;
		esac
		[ "$(kv "$line" fail)" = 0 ] || die "round trips $p $who: $line"
		proves "round trips $p $who" "$log" "$before" "$N_RT"
		put "rt_${p}_${who}_conn_p50" "$(kv "$line" conn_p50)"
	done
done

# --- 3. concurrency ---------------------------------------------------
say "3/10 concurrency: $N_CONC connections, $INFLIGHT in flight (proxychains4 is serial: about 2 min)"
for c in rdo:dante rtp:tiny; do
	p=${c%%:*}; log=${c#*:}
	for who in pw pc; do
		before=$(seen "$log")
		if [ $who = pw ]; then
			line=$(PW "$p" "$B" conc 127.0.0.2 "$WEB" "$N_CONC" "$INFLIGHT")
		else
			line=$(PC "$p" "$B" conc 127.0.0.2 "$WEB" "$N_CONC" "$INFLIGHT")
		fi
		[ "$(kv "$line" fail)" = 0 ] || die "concurrency $p $who: $line"
		proves "concurrency $p $who" "$log" "$before" "$N_CONC"
		put "conc_${p}_${who}_ms" "$(kv "$line" total_ms)"
	done
done

# --- 4. start-up -------------------------------------------------------
say "4/10 start-up: /bin/true x $N_SPAWN x 3 rounds per case"
TRUE=/bin/true
for round in 1 2 3; do
	for who in ns pwlib pclib pw pc; do
		case $who in
		ns) line=$("$B" spawn "$N_SPAWN" -- "$TRUE") ;;
		pwlib) line=$("$B" spawn "$N_SPAWN" "LD_PRELOAD=$ROOT/build/libshim.so" \
		    "SHIM_CONFIG=$T/dante.pw" -- "$TRUE") ;;
		pclib) line=$("$B" spawn "$N_SPAWN" "LD_PRELOAD=$PCLIB" \
		    "PROXYCHAINS_CONF_FILE=$T/dante.pc" PROXYCHAINS_QUIET_MODE=1 \
		    -- "$TRUE") ;;
		pw) line=$("$B" spawn "$N_SPAWN" -- "$ROOT/build/proxywrap" -q \
		    -c "$T/dante.pw" "$TRUE") ;;
		pc) line=$("$B" spawn "$N_SPAWN" -- "$(command -v proxychains4)" \
		    -q -f "$T/dante.pc" "$TRUE") ;;
		esac
		[ -n "$(kv "$line" us)" ] || die "start-up $who failed"
		put "spawn_${who}_us" "$(kv "$line" us)"
	done
done

# --- 5. hook cost -------------------------------------------------------
# Timed, and counted in instructions: callgrind counts user space only
# (not the system call itself), the same every run, where the timed base
# drifts by more than the hooks cost.  CMD N and CMD 2N are counted, so
# the difference is K*N iterations (CMD repeats its loop K times) without
# start-up and exit.
IR_N=2000
ir_run() {	# N ns|pw=RULEFILE|pc CMD...: callgrind's count for CMD N
	local n=$1 who=$2 vg="valgrind --tool=callgrind --callgrind-out-file=/dev/null"
	shift 2
	case $who in
	ns) set -- $vg "$@" ;;
	pw=*) set -- env "LD_PRELOAD=$ROOT/build/libshim.so" \
	    "SHIM_CONFIG=${who#pw=}" $vg "$@" ;;
	pc) set -- env "LD_PRELOAD=$PCLIB" "PROXYCHAINS_CONF_FILE=$T/local.pc" \
	    PROXYCHAINS_QUIET_MODE=1 $vg "$@" ;;
	esac
	"$@" "$n" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
ir_per() {	# K ns|pw=RULEFILE|pc CMD...: instructions per iteration
	local k=$1 a b
	shift
	a=$(ir_run "$IR_N" "$@")
	b=$(ir_run $((2 * IR_N)) "$@")
	[ -n "$a" ] && [ -n "$b" ] || return 1
	echo $(((b - a) / (k * IR_N)))
}
say "5/10 hook cost on calls not routed"
for w in unix tcp gai; do
	for who in ns "pw=$T/dante.pw" pc; do
		v=$(ir_per 5 "$who" "$B" hook "$w") ||	# 5 rounds
		    die "callgrind hook $w $who failed"
		put "hookir_${w}_${who%%=*}" "$v"
	done
done
# The readiness calls (poll, select, epoll_wait) on an fd that is not a
# pending tunnel, counted only: in a process that never had a tunnel
# (pw), and in one with a tunnel pending toward a proxy that never answers
# (pend), against a process without the shim that has an idle thread as
# the shim's helper is one (nst; glibc's wrappers cost more with threads).
$PY -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True); time.sleep(3600)' >"$T/silent.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/silent.port" ] && break; sleep 0.1; done
printf 'proxy s socks5://127.0.0.1:%s\nvia s 192.0.2.0/24\n' \
    "$(cat "$T/silent.port")" >"$T/pend.pw"
for w in poll select epoll; do
	for who in ns nst pw pend; do
		case $who in
		ns) v=$(ir_per 5 ns "$B" hook "$w") ;;
		nst) v=$(PWBENCH_THREAD=1 ir_per 5 ns "$B" hook "$w") ;;
		pw) v=$(ir_per 5 "pw=$T/dante.pw" "$B" hook "$w") ;;
		pend) v=$(PWBENCH_PENDING=192.0.2.1:80 \
		    ir_per 5 "pw=$T/pend.pw" "$B" hook "$w") ;;
		esac
		[ -n "$v" ] || die "callgrind hook $w $who failed"
		put "hookir_${w}_${who}" "$v"
	done
done
for round in 1 2 3; do
	for what in unix:1000000 tcp:20000 gai:20000; do
		w=${what%%:*}; n=${what#*:}
		for who in ns pw pc; do
			case $who in
			ns) line=$("$B" hook "$w" "$n") ;;
			pw) line=$(LD_PRELOAD=$ROOT/build/libshim.so \
			    SHIM_CONFIG=$T/dante.pw "$B" hook "$w" "$n") ;;
			pc) line=$(PC local "$B" hook "$w" "$n") ;;
			esac
			[ -n "$(kv "$line" ns)" ] || die "hook $w $who failed"
			put "hook_${w}_${who}_ns" "$(kv "$line" ns)"
		done
	done
done

# --- 6. throughput ----------------------------------------------------------
say "6/10 throughput: $BYTES bytes x $TPUT_ROUNDS per case"
for round in $(seq "$TPUT_ROUNDS"); do
	for who in direct ns pw pc; do
		before=$(seen dante)
		case $who in
		direct) line=$("$B" get 127.0.0.2 "$WEB" "$BYTES") ;;
		ns) line=$("$B" get 127.0.0.2 "$WEB" "$BYTES" -x "$U_DO") ;;
		pw) line=$(PW dante "$B" get 127.0.0.2 "$WEB" "$BYTES") ;;
		pc) line=$(PC dante "$B" get 127.0.0.2 "$WEB" "$BYTES") ;;
		esac
		[ "$(kv "$line" bytes)" = "$BYTES" ] || die "throughput $who: $line"
		[ $who = direct ] || proves "throughput $who" dante "$before" 1
		put "tput_${who}_secs" "$(kv "$line" secs)"
	done
done

# --- 7. UDP ------------------------------------------------------------
# A UDP ping-pong between processes on different CPUs pays a cross-CPU
# wake-up per hop (about 50 µs on this 2-core VM) or not, as the scheduler
# happens to place them: the direct round trip measured 5 or 55 µs from
# one run to the next, shim or no shim, which swamps what the shim adds.
# So the echo, dante (every process of it; children it forks later
# inherit the mask) and the clients all run on CPU $UCPU.
descendants() {	# PID: it and all its descendants
	local c
	echo "$1"
	for c in $(pgrep -P "$1"); do descendants "$c"; done
}
for p in $(descendants "$PID_dante"); do
	taskset -a -p -c $UCPU "$p" >/dev/null 2>&1
done
UT="taskset -c $UCPU"
say "7/10 UDP: $N_UDP ping-pong round trips and $N_UDPB datagrams $UDP_WIN in flight, 64 bytes, x 3 rounds per case"
for round in 1 2 3; do
	for who in direct pwdirect ns pw; do
		before=$("$B" udpcount 127.0.0.2 "$UECHO" 4)
		case $who in
		direct) line=$($UT "$B" udplat 127.0.0.2 "$UECHO" "$N_UDP") ;;
		pwdirect) line=$(LD_PRELOAD=$ROOT/build/libshim.so \
		    SHIM_CONFIG=$T/udpdirect.pw $UT "$B" udplat 127.0.0.2 "$UECHO" \
		    "$N_UDP") ;;
		ns) line=$($UT "$B" udplat 127.0.0.2 "$UECHO" "$N_UDP" -x "$U_DO") ;;
		pw) line=$(PW dante $UT "$B" udplat 127.0.0.2 "$UECHO" "$N_UDP") ;;
		esac
		[ "$(kv "$line" fail)" = 0 ] || die "udp $who: $line"
		after=$("$B" udpcount 127.0.0.2 "$UECHO" 4)
		# dante relays from its external address, 127.0.0.4
		case $who in
		ns|pw) [ $((after - before)) -ge "$N_UDP" ] ||
		    die "udp $who: dante relayed $((after - before)) of $N_UDP" ;;
		*) [ $((after - before)) = 0 ] ||
		    die "udp $who: went through dante" ;;
		esac
		put "udp_${who}_p50" "$(kv "$line" p50)"
		put "udp_${who}_rate" "$(kv "$line" rate)"
	done
	# throughput: UDP_WIN datagrams in flight
	for who in direct ns pw; do
		before=$("$B" udpcount 127.0.0.2 "$UECHO" 4)
		case $who in
		direct) line=$($UT "$B" udpburst 127.0.0.2 "$UECHO" "$N_UDPB" \
		    "$UDP_WIN") ;;
		ns) line=$($UT "$B" udpburst 127.0.0.2 "$UECHO" "$N_UDPB" \
		    "$UDP_WIN" -x "$U_DO") ;;
		pw) line=$(PW dante $UT "$B" udpburst 127.0.0.2 "$UECHO" \
		    "$N_UDPB" "$UDP_WIN") ;;
		esac
		[ "$(kv "$line" fail)" = 0 ] || die "udp burst $who: $line"
		after=$("$B" udpcount 127.0.0.2 "$UECHO" 4)
		case $who in
		ns|pw) [ $((after - before)) -ge "$(kv "$line" got)" ] ||
		    die "udp burst $who: dante relayed $((after - before))" ;;
		*) [ $((after - before)) = 0 ] ||
		    die "udp burst $who: went through dante" ;;
		esac
		put "udpb_${who}_rate" "$(kv "$line" rate)"
		put "udpb_${who}_lost" "$(kv "$line" lost)"
	done
done

# The direct round trip's cost in instructions (see ir_per), without the
# sort of the times (PWBENCH_COUNT): its instructions depend on them.
for who in ns "pw=$T/udpdirect.pw"; do
	v=$(PWBENCH_COUNT=1 ir_per 1 "$who" "$B" udplat 127.0.0.2 "$UECHO") ||
	    die "callgrind udplat $who failed"
	put "udp_ir_${who%%=*}" "$v"
done

# --- 8. rules at scale --------------------------------------------------
if [ -f bench/rules_bench.c ]; then
	say "8/10 rules at scale (bench/rules_bench.c)"
	# shellcheck disable=SC2086
	if gcc $CFLAGS -o "$T/rules_bench" bench/rules_bench.c src/core/*.c \
	    2>"$T/rules_build.err"; then
		"$T/rules_bench" >"$T/rules.txt" 2>&1 ||
		    echo "(rules_bench failed)" >>"$T/rules.txt"
	else
		{ echo "(rules_bench did not build)"; head -5 "$T/rules_build.err"; } \
		    >"$T/rules.txt"
	fi
else
	echo "(bench/rules_bench.c not present)" >"$T/rules.txt"
fi

# --- 9. event loop -----------------------------------------------------------
# node's event loop while INFLIGHT handshakes are in flight through the
# relay (dante behind DELAY_MS each way): the largest interval between the
# ticks of a 10 ms timer once the connects are issued, and how long the
# burst of net.connect() calls took (bench/nodegap.js).  "direct" is node
# connecting to the server itself: the loop's own floor on this host.
# node runs at real-time priority (SCHED_FIFO 10, its threads and so the
# shim's helper too): on 2 cores shared with other work a loop at normal
# priority stalls by tens of ms with nothing to do, shim or not, which
# would hide what the shim adds.  Three rounds at normal priority too.
NODE=$(command -v node)
say "9/10 event loop: node, $INFLIGHT connects through the ${DELAY_MS} ms relay, x 3 rounds per case"
for round in 1 2 3; do
	for who in direct pw pc directn pwn; do
		before=$(seen dante)
		rt="chrt -f 10"
		case $who in *n) rt= ;; esac
		case $who in
		direct*) line=$($rt $NODE bench/nodegap.js 127.0.0.2 "$WEB" "$INFLIGHT") ;;
		pw*) line=$(PW rdo $rt $NODE bench/nodegap.js 127.0.0.2 "$WEB" "$INFLIGHT") ;;
		pc) line=$(PC rdo $rt $NODE bench/nodegap.js 127.0.0.2 "$WEB" "$INFLIGHT") ;;
		esac
		[ "$(kv "$line" ok)" = "$INFLIGHT" ] || die "event loop $who: $line"
		case $who in direct*) ;; *)
		    proves "event loop $who" dante "$before" "$INFLIGHT" ;;
		esac
		put "loop_${who}_gap_ms" "$(kv "$line" gap_ms)"
		put "loop_${who}_burst_ms" "$(kv "$line" burst_ms)"
		put "loop_${who}_total_ms" "$(kv "$line" total_ms)"
	done
done

# --- 10. connect timeout -------------------------------------------------
# python3's socket.create_connection(timeout=1) toward a destination the
# proxy never answers for: the SOCKS5 or HTTP proxy here accepts TCP and
# never writes a byte (the listener of section 5).  "direct" is the same
# call to a server whose accept queue is full (the kernel drops the SYNs):
# the kernel's own 1 s.  proxychains4 with the timeouts of its shipped
# /etc/proxychains4.conf (read 15 s, connect 8 s).
CTO='import socket, sys, time
t = time.monotonic()
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
    r = "connected"
except socket.timeout:
    r = "timeout"
except OSError as e:
    r = "error_%d" % e.errno
print("secs=%.3f result=%s" % (time.monotonic() - t, r))'
$PY -c 'import socket, time
s = socket.socket(); s.bind(("127.0.0.2", 0)); s.listen(0)
held = []
for _ in range(3):	# more than a backlog of 0 holds
    c = socket.socket(); c.setblocking(False); c.connect_ex(s.getsockname())
    held.append(c)
time.sleep(0.5)
print(s.getsockname()[1], flush=True); time.sleep(3600)' >"$T/full.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$T/full.port" ] && break; sleep 0.1; done
SIL=$(cat "$T/silent.port")
printf 'proxy s socks5://127.0.0.1:%s\nvia s 127.0.0.2\n' "$SIL" >"$T/sils.pw"
printf 'proxy s http://127.0.0.1:%s\nvia s 127.0.0.2\n' "$SIL" >"$T/silh.pw"
chmod 600 "$T/sils.pw" "$T/silh.pw"
printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
    "$SIL" >"$T/sil.pc"
say "10/10 connect timeout: python3 create_connection(timeout=1) x 5 per case (proxychains4 x 1: about 15 s)"
for round in 1 2 3 4 5; do
	for who in direct pws pwh pc; do
		[ $who = pc ] && [ "$round" != 1 ] && continue
		case $who in
		direct) line=$($PY -c "$CTO" 127.0.0.2 "$(cat "$T/full.port")") ;;
		pws) line=$(PW sils $PY -c "$CTO" 127.0.0.2 "$WEB") ;;
		pwh) line=$(PW silh $PY -c "$CTO" 127.0.0.2 "$WEB") ;;
		pc) line=$(PC sil $PY -c "$CTO" 127.0.0.2 "$WEB") ;;
		esac
		[ -n "$(kv "$line" secs)" ] || die "connect timeout $who: $line"
		# a connection that went direct would connect at once
		[ $who = pc ] || [ "$(kv "$line" result)" = timeout ] ||
		    die "connect timeout $who: $line"
		put "cto_${who}_secs" "$(kv "$line" secs)"
		put "cto_${who}_$(kv "$line" result)" 1
	done
done

{
	echo "machine $(nproc) cores, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/ /_/g')"
	echo "versions proxywrap_$(git describe --always --dirty 2>/dev/null || echo '?'),_proxychains4_$(dpkg-query -W -f '${Version}' proxychains4),_dante_$(dpkg-query -W -f '${Version}' dante-server),_tinyproxy_$(dpkg-query -W -f '${Version}' tinyproxy-bin 2>/dev/null || dpkg-query -W -f '${Version}' tinyproxy)"
} >>"$R"
$PY bench/report.py "$R" "$T/rules.txt" | tee "$OUT"
# Optimistic data and Fast Open (issue 19): a namespace of its own, its
# section added to $OUT.
OUT=$OUT bash bench/optimistic.sh >/dev/null || say "bench/optimistic.sh failed"
