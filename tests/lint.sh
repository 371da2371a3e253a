#!/bin/sh
# tests/lint.sh - the project's checksrc (STYLE.md §8).
set -u
cd "$(dirname "$0")/.." || exit 1
rc=0

# Banned in everything that runs inside a host program (src/core,
# src/base, src/shim): unbounded string functions, and anything that could
# exit, abort or print there.
banned='\<(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|gets|alloca|exit|abort|assert|printf|fprintf|puts|perror)[[:space:]]*\('
if grep -nE "$banned" src/core/*.c src/base/*.c src/shim/*.c src/shim/hooks/*.c src/session/explain.c src/session/summary.c | grep -v '^\s*/\?\*'; then
	echo "lint: banned function in src/ (see STYLE.md)" >&2
	rc=1
fi

# The pure modules touch no socket and do no I/O.
pure="src/core/buf.c src/core/url.c src/core/rules.c src/core/rulesimg.c src/core/socks5.c src/core/http_connect.c src/session/explain.c src/core/addrinfo.c src/core/proxy_proto.c src/core/fromenv.c src/core/dnsmsg.c"
io='\<(socket|connect|recv|recvfrom|recvmsg|send|sendto|sendmsg|poll|read|write|open|fopen|close)[[:space:]]*\('
for f in $pure; do
	[ -f "$f" ] || continue
	if grep -nE "$io" "$f" | grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)'; then
		echo "lint: $f is a pure module: no I/O" >&2
		rc=1
	fi
done
# config.c may read its file in cfg_load only.
if [ -f src/core/config.c ] && grep -nE '\<(socket|connect|recv|send|poll)[[:space:]]*\(' src/core/config.c |
    grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)'; then
	echo "lint: src/core/config.c: no sockets" >&2
	rc=1
fi

# Raw socket calls only where DESIGN.md allows them.
for f in src/core/*.c src/base/*.c src/shim/*.c src/shim/hooks/*.c; do
	case "$f" in
	src/base/real.c|src/shim/tunnel.c|src/shim/dns.c|src/shim/hooks/*.c|src/shim/route.c) continue ;;
	esac
	if grep -nE '\<(socket|connect|recv|recvfrom|send|sendto|poll)[[:space:]]*\(' "$f" |
	    grep -v 'real_' | grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)'; then
		echo "lint: $f: socket calls belong in real.c, tunnel.c, dns.c" >&2
		rc=1
	fi
done

# dlsym only in real.c.
if grep -ln 'dlsym' src/*/*.c src/shim/hooks/*.c | grep -v '^src/base/real.c$'; then
	echo "lint: dlsym outside src/base/real.c" >&2
	rc=1
fi
exit $rc
