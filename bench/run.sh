#!/usr/bin/env bash
# make bench: proxywrap and proxychains4 side by side, one run, the same
# proxies (dante SOCKS5, tinyproxy HTTP CONNECT), all on loopback.  Prints
# a Markdown table (also saved as bench/results.md).
set -u
cd "$(dirname "$0")/.." || exit 1
N_SEQ=${N_SEQ:-300}
N_CONC=${N_CONC:-1000}
INFLIGHT=${INFLIGHT:-100}
DELAY_MS=${DELAY_MS:-20}
GIB=${GIB:-1073741824}

for p in proxychains4 danted tinyproxy; do
	command -v "$p" >/dev/null || { bash tests/deps.sh >/dev/null || exit 1; break; }
done
make -s all >/dev/null || exit 1
dir=$(mktemp -d /tmp/proxywrap-bench.XXXXXX)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
gcc -O2 -o "$dir/connbench" bench/connbench.c -lpthread || exit 1
CB=$dir/connbench
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up() { for _ in $(seq 100); do python3 -c "import socket; socket.create_connection(('$1',$2),0.2)" 2>/dev/null && return 0; sleep 0.1; done; echo "bench: $1:$2 did not come up" >&2; exit 1; }

WEB=$(port); BULK=$(port); DANTE=$(port); TINY=$(port); RELAY=$(port)
"$CB" serve 127.0.0.2 "$WEB" 0 & pids+=($!)
"$CB" serve 127.0.0.2 "$BULK" "$GIB" & pids+=($!)
cat >"$dir/danted.conf" <<CONF
logoutput: $dir/danted.log
internal: 127.0.0.1 port = $DANTE
external: 127.0.0.1
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 127.0.0.0/8 }
socks pass { from: 127.0.0.0/8 to: 127.0.0.0/8 command: connect }
CONF
danted -f "$dir/danted.conf" -p "$dir/danted.pid" -N 4 & pids+=($!)
cat >"$dir/tiny.conf" <<CONF
Port $TINY
Listen 127.0.0.1
Timeout 30
MaxClients 200
Allow 127.0.0.1
LogLevel Critical
CONF
tinyproxy -d -c "$dir/tiny.conf" >/dev/null 2>&1 & pids+=($!)
python3 bench/delay.py "$RELAY" "$DANTE" "$DELAY_MS" & pids+=($!)
up 127.0.0.2 "$WEB"; up 127.0.0.1 "$DANTE"; up 127.0.0.1 "$TINY"; up 127.0.0.1 "$RELAY"

# One rule file and one proxychains4 file per proxy.
pwconf() { printf 'proxy p %s\nvia p 127.0.0.2\nconnect_timeout 30s\n' "$1" >"$dir/$2.conf"; }
pcconf() { printf 'strict_chain\nquiet_mode\ntcp_read_time_out 30000\ntcp_connect_time_out 30000\n[ProxyList]\n%s\n' "$1" >"$dir/$2.pc"; }
pwconf "socks5://127.0.0.1:$DANTE" dante;  pcconf "socks5 127.0.0.1 $DANTE" dante
pwconf "http://127.0.0.1:$TINY" tiny;      pcconf "http 127.0.0.1 $TINY" tiny
pwconf "socks5://127.0.0.1:$RELAY" relay;  pcconf "socks5 127.0.0.1 $RELAY" relay
PW() { local c=$1; shift; build/proxywrap -q -c "$dir/$c.conf" "$@"; }
PC() { local c=$1; shift; proxychains4 -q -f "$dir/$c.pc" "$@"; }
ratio() { python3 -c "a,b=float('$1'),float('$2'); print('%.2f' % (a/b) if b else 'n/a')"; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 |"); }

# 1. sequential latency
for c in dante tiny; do
	read -r pw50 pw95 < <(PW "$c" "$CB" seq "$N_SEQ" 127.0.0.2 "$WEB")
	read -r pc50 pc95 < <(PC "$c" "$CB" seq "$N_SEQ" 127.0.0.2 "$WEB")
	row "latency p50, $c ($N_SEQ sequential connect+GET+close)" "${pw50} µs" "${pc50} µs" "$(ratio "$pw50" "$pc50")"
	row "latency p95, $c" "${pw95} µs" "${pc95} µs" "$(ratio "$pw95" "$pc95")"
done
read -r d50 _ < <("$CB" seq "$N_SEQ" 127.0.0.2 "$WEB")

# 2. round trips through the delay relay (2 x DELAY_MS each); the GET
#    itself costs one; the first connect of a session teaches proxywrap
#    whether the proxy takes a pipelined handshake.
rt=$((2 * DELAY_MS * 1000))
read -r pw50 _ < <(PW relay "$CB" seq 20 127.0.0.2 "$WEB")
read -r pc50 _ < <(PC relay "$CB" seq 20 127.0.0.2 "$WEB")
pwrt=$(python3 -c "print(round($pw50/$rt) - 1)"); pcrt=$(python3 -c "print(round($pc50/$rt) - 1)")
row "SOCKS5 no-auth handshake round trips (${DELAY_MS} ms each way)" "$pwrt" "$pcrt" "$(ratio "$pwrt" "$pcrt")"

# 3. event-loop concurrency through the delayed proxy
read -r pwc pwok < <(PW relay "$CB" conc "$N_CONC" "$INFLIGHT" 127.0.0.2 "$WEB")
read -r pcc pcok < <(PC relay "$CB" conc "$N_CONC" "$INFLIGHT" 127.0.0.2 "$WEB")
row "concurrency: $N_CONC conns, $INFLIGHT in flight, epoll (total)" "${pwc} ms (${pwok} ok)" "${pcc} ms (${pcok} ok)" "$(ratio "$pwc" "$pcc")"

# 4. start-up: /bin/true, 500 runs from a shell loop; only /bin/true
#    gets the library (the loop itself must not)
#    best of 3 rounds, to keep the machine's noise out
startup() {
	local t0 t1 i r best=999999999
	for r in 1 2 3; do
		t0=$(date +%s%N)
		for i in $(seq 500); do "$@"; done
		t1=$(date +%s%N)
		[ $(( (t1 - t0) / 500000 )) -lt "$best" ] && best=$(( (t1 - t0) / 500000 ))
	done
	echo "$best"
}
base=$(startup env /bin/true)
pws=$(startup env LD_PRELOAD="$PWD/build/libshim.so" SHIM_CONFIG="$dir/dante.conf" /bin/true)
pcs=$(startup env proxychains4 -q -f "$dir/dante.pc" /bin/true)
row "start-up of /bin/true, added per process" "$((pws - base)) µs" "$((pcs - base)) µs" "$(ratio "$((pws - base))" "$((pcs - base))")"

# 5. hook cost on calls the shim does not route
read -r hu hl hg < <("$CB" hooks 1000000)
read -r su sl sg < <(LD_PRELOAD=$PWD/build/libshim.so SHIM_CONFIG=$dir/dante.conf "$CB" hooks 1000000)
read -r cu cl cg < <(PC dante "$CB" hooks 1000000)
d() { python3 -c "print('%+.0f' % ($1 - $2))"; }
row "hook cost: AF_UNIX connect (ns added)" "$(d "$su" "$hu")" "$(d "$cu" "$hu")" "-"
row "hook cost: loopback connect, direct (ns added)" "$(d "$sl" "$hl")" "$(d "$cl" "$hl")" "-"
row "hook cost: getaddrinfo(\"localhost\") (ns added)" "$(d "$sg" "$hg")" "$(d "$cg" "$hg")" "-"

# 6. throughput, 1 GiB through dante
read -r none_t _ < <("$CB" tput5 "$DANTE" 127.0.0.2 "$BULK")
read -r pw_t _ < <(PW dante "$CB" tput 127.0.0.2 "$BULK")
read -r pc_t _ < <(PC dante "$CB" tput 127.0.0.2 "$BULK")
row "throughput, 1 GiB via dante, MB/s (no shim: $none_t; proxywrap/no shim: $(ratio "$pw_t" "$none_t"))" "$pw_t" "$pc_t" "$(ratio "$pw_t" "$pc_t")"

# 7. rules at scale
if [ -f bench/rules_bench.c ]; then
	gcc -O2 -std=gnu11 -D_GNU_SOURCE -Iinclude -o "$dir/rules_bench" bench/rules_bench.c src/rules.c src/config.c src/url.c 2>/dev/null &&
		"$dir/rules_bench" | sed 's/^/    /' >"$dir/rules.txt"
fi

{
	echo "| measure | proxywrap | proxychains4 | ratio |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "Direct (no proxy, no shim) latency p50: ${d50} µs. Machine: $(nproc) cores, $(uname -r)."
	if [ -s "$dir/rules.txt" ]; then echo; echo "Rules at scale (bench/rules_bench.c):"; echo; cat "$dir/rules.txt"; fi
} | tee bench/results.md
