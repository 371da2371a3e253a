#!/usr/bin/env bash
# bench/supervise_go.sh - bench/supervise.sh's throughput rows: a static Go
# HTTP client (bench/gofetch.go, CGO_ENABLED=0) downloads K bodies of
# BYTES through SOCKS5 (dante), supervised (proxywrap --supervise=all, a
# via rule: the supervisor routes its connect) and configured with the
# proxy natively (Go's own SOCKS5 client, no proxywrap).  MB/s, the median
# of ROUNDS runs each, and their ratio.  Runs as root in a network
# namespace of its own (unshare -n: loopback only).
set -u
cd "$(dirname "$0")/.." || exit 1
if [ -z "${PW_SUPGO_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "# go rows: need root (unshare -n)"; exit 0; }
	command -v danted >/dev/null || { echo "# go rows: need dante-server"; exit 0; }
	command -v go >/dev/null || { echo "# go rows: need golang-go"; exit 0; }
	PW_SUPGO_NS=1 exec unshare -n bash "$0" "$@"
fi
ROUNDS=${ROUNDS:-7} K=${K:-4} BYTES=${BYTES:-268435456}
PW=$PWD/build/proxywrap
. bench/lib.sh
bench_tmp pwsupgo
cleanup() {
	bench_reap
	rm -rf "$T"
}
trap cleanup EXIT
ip link set lo up || exit 1
gcc -std=gnu11 -D_GNU_SOURCE -O2 -o "$T/pwbench" bench/pwbench.c -lpthread ||
    exit 1
# std lib only, no module download
HOME=$T GOCACHE=$T/gocache GOPATH=$T/gopath GOFLAGS= GOPROXY=off \
    CGO_ENABLED=0 go build -o "$T/gofetch" bench/gofetch.go || exit 1
"$T/pwbench" serve 127.0.0.2 8080 >"$T/serve.out" 2>&1 & pids+=($!)
bench_dante_conf "$T/dante.conf" "$T/dante.log" 1080
danted -f "$T/dante.conf" -p "$T/dante.pid" -N 2 >"$T/dante.out" 2>&1 &
pids+=($!)
for p in "127.0.0.2 8080" "127.0.0.1 1080"; do
	for i in $(seq 100); do
		timeout 1 bash -c "</dev/tcp/${p% *}/${p#* }" 2>/dev/null && break
		sleep 0.1
	done
done
printf 'proxy p socks5://127.0.0.1:1080\nvia p 127.0.0.2\n' >"$T/go.pw"
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
mbs() { "$@" | sed -n 's/.*mb_per_s=\([0-9.]*\).*/\1/p'; }
URL=http://127.0.0.2:8080/$BYTES
for r in $(seq "$ROUNDS"); do
	mbs "$T/gofetch" "$URL" "$K" socks5://127.0.0.1:1080 >>"$T/native"
	mbs "$PW" --supervise=all -q -c "$T/go.pw" -- "$T/gofetch" "$URL" "$K" \
	    >>"$T/supervised"
done
# every connection came through dante (its external address 127.0.0.4)
got=$("$T/pwbench" count 127.0.0.2 8080 4)
[ "$got" -ge $((2 * ROUNDS * K)) ] ||
    { echo "# go rows: the server saw $got connections from dante, not $((2 * ROUNDS * K))"; exit 1; }
nat=$(median <"$T/native")
sup=$(median <"$T/supervised")
echo "# a static Go client, $K x $BYTES bytes through dante, MB/s (median of $ROUNDS)"
echo "go_native_proxy $nat"
echo "go_supervised $sup"
awk -v n="$nat" -v s="$sup" 'BEGIN { if (n > 0) printf "go_ratio %.3f\n", s / n }'
