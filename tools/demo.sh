#!/usr/bin/env bash
# make demo: start a local SOCKS5 proxy (microsocks), an HTTP proxy
# (tinyproxy) and two small web servers, all on loopback, then run real
# clients through proxywrap and show each decision.  Stops what it started.
set -u
cd "$(dirname "$0")/.." || exit 1
PW=${BUILD:-build}/proxywrap
# make demo has run tools/deps-build.sh --demo; run alone, do it here.
sh tools/deps-build.sh --demo || exit 1
dir=$(mktemp -d /tmp/proxywrap-demo.XXXXXX)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # host port
	for _ in $(seq 50); do
		python3 -c "import socket,sys; socket.create_connection(('$1',$2),0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "demo: $1:$2 did not come up" >&2; exit 1
}

SOCKS=$(free_port); HTTP=$(free_port); WEB=$(free_port)
microsocks -i 127.0.0.1 -p "$SOCKS" >"$dir/microsocks.log" 2>&1 & pids+=($!)
cat >"$dir/tinyproxy.conf" <<CONF
Port $HTTP
Listen 127.0.0.1
Timeout 30
LogFile "$dir/tinyproxy.log"
LogLevel Connect
MaxClients 20
Allow 127.0.0.1
CONF
tinyproxy -d -c "$dir/tinyproxy.conf" >/dev/null 2>&1 & pids+=($!)
# Two "destinations" on other loopback addresses, each saying who it is.
for a in 127.0.0.2 127.0.0.3 127.0.0.4; do
	mkdir -p "$dir/www-$a"; echo "hello from $a" >"$dir/www-$a/index.html"
	python3 -m http.server -b "$a" -d "$dir/www-$a" "$WEB" >"$dir/web-$a.log" 2>&1 & pids+=($!)
done
wait_port 127.0.0.1 "$SOCKS"; wait_port 127.0.0.1 "$HTTP"; wait_port 127.0.0.2 "$WEB"

cat >"$dir/shim.conf" <<CONF
proxy socks socks5://127.0.0.1:$SOCKS
proxy web   http://127.0.0.1:$HTTP

via socks 127.0.0.2        # loopback is direct unless a rule names it
via web   127.0.0.3
block     127.0.0.4
CONF
echo "== the rule file"; sed 's/^/   /' "$dir/shim.conf"
echo "== proxywrap --check"; $PW --check -c "$dir/shim.conf"
for a in 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5; do
	echo "== proxywrap --explain $a:$WEB"; $PW --explain "$a:$WEB" -c "$dir/shim.conf"
done
echo "== curl through SOCKS5 (microsocks)"
$PW -v -c "$dir/shim.conf" curl -sS "http://127.0.0.2:$WEB/"
echo "== python3 through HTTP CONNECT (tinyproxy)"
$PW -v -c "$dir/shim.conf" python3 -c "
import urllib.request
print(urllib.request.urlopen('http://127.0.0.3:$WEB/', timeout=5).read().decode().strip())"
echo "== curl to a blocked destination (expect EACCES: curl exit 7)"
$PW -c "$dir/shim.conf" curl -sS "http://127.0.0.4:$WEB/"; echo "   curl exit status: $?"
echo "== -p alone: everything (but loopback) via one proxy"
$PW -p "socks5h://127.0.0.1:$SOCKS" --explain example.com:443
echo "== what tinyproxy saw"; grep -h CONNECT "$dir/tinyproxy.log" | tail -n 2 | sed 's/^/   /'
