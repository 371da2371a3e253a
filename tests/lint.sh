#!/bin/sh
# tests/lint.sh - the project's checksrc (STYLE.md §8).
set -u
cd "$(dirname "$0")/.." || exit 1
rc=0

# Banned everywhere in src/: unbounded string functions, and anything that
# could exit, abort or print from inside a host program.
banned='\<(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|gets|alloca|exit|abort|assert|printf|fprintf|puts|perror)[[:space:]]*\('
if grep -nE "$banned" src/*.c | grep -v '^\s*/\?\*'; then
	echo "lint: banned function in src/ (see STYLE.md)" >&2
	rc=1
fi

# The pure modules touch no socket and do no I/O.
pure="src/buf.c src/url.c src/rules.c src/rulesimg.c src/socks5.c src/http_connect.c src/explain.c src/addrinfo.c src/proxy_proto.c src/fromenv.c src/dnsmsg.c"
io='\<(socket|connect|recv|recvfrom|recvmsg|send|sendto|sendmsg|poll|read|write|open|fopen|close)[[:space:]]*\('
for f in $pure; do
	[ -f "$f" ] || continue
	if grep -nE "$io" "$f" | grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)'; then
		echo "lint: $f is a pure module: no I/O" >&2
		rc=1
	fi
done
# config.c may read its file in cfg_load only.
if [ -f src/config.c ] && grep -nE '\<(socket|connect|recv|send|poll)[[:space:]]*\(' src/config.c |
    grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)'; then
	echo "lint: src/config.c: no sockets" >&2
	rc=1
fi

# Raw socket calls only where DESIGN.md allows them.
for f in src/*.c; do
	case "$f" in
	src/real.c|src/tunnel.c|src/dns.c|src/hooks_*.c|src/route.c) continue ;;
	esac
	if grep -nE '\<(socket|connect|recv|recvfrom|send|sendto|poll)[[:space:]]*\(' "$f" |
	    grep -v 'real_' | grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)'; then
		echo "lint: $f: socket calls belong in real.c, tunnel.c, dns.c" >&2
		rc=1
	fi
done

# dlsym only in real.c.
if grep -ln 'dlsym' src/*.c | grep -v '^src/real.c$'; then
	echo "lint: dlsym outside src/real.c" >&2
	rc=1
fi
exit $rc
