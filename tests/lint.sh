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

# The pure modules, all of src/core and explain, touch no socket and do no
# I/O (reading files is src/base's: cfgload.c, execfile.c).
io='\<(socket|connect|recv|recvfrom|recvmsg|send|sendto|sendmsg|poll|read|write|open|fopen|close)[[:space:]]*\('
# nor asks the file system or the process (what execfile.c does)
fs='\<(openat|pread|pwrite|fstat|fstatat|stat|lstat|fstatvfs|fgetxattr|access|realpath|readlink|getenv|getuid|getgid)[[:space:]]*\('
for f in src/core/*.c src/session/explain.c; do
	[ -f "$f" ] || continue
	if grep -nE "$io|$fs" "$f" | grep -vE '^[0-9]+:[[:space:]]*(/?\*|//)'; then
		echo "lint: $f is a pure module: no I/O" >&2
		rc=1
	fi
done

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

# TLS and HTTP/2 run in proxywrap's relay only (DESIGN.md): nothing the
# library is built from includes OpenSSL or nghttp2, and the built library
# neither links nor calls them.
if grep -lE '#include <(openssl|nghttp2)/' src/core/*.c src/base/*.c \
    src/shim/*.c src/shim/hooks/*.c include/*.h; then
	echo "lint: OpenSSL or nghttp2 outside src/session (the relay's)" >&2
	rc=1
fi
lib=${BUILD:-build}/libshim.so
if [ -f "$lib" ] && { readelf -d "$lib" | grep -qE 'NEEDED.*lib(ssl|crypto|nghttp2)\.' ||
    nm -D --undefined-only "$lib" | grep -qE ' (SSL|TLS|OPENSSL|EVP|nghttp2)_'; }; then
	echo "lint: $lib links OpenSSL or nghttp2" >&2
	rc=1
fi
# GSSAPI is proxywrap's (Negotiate tokens, src/session/negotiate.c): the
# library loaded into every wrapped program neither includes nor links it.
if grep -lnE '#include <(gssapi|krb5)' src/core/*.c src/base/*.c src/shim/*.c src/shim/hooks/*.c include/*.h; then
	echo "lint: GSSAPI or krb5 in the library's sources (proxywrap only)" >&2
	rc=1
fi
if [ -f "${BUILD:-build}/libshim.so" ] &&
    readelf -d "${BUILD:-build}/libshim.so" | grep -qiE 'NEEDED.*(gssapi|krb5|k5crypto|com_err)'; then
	echo "lint: libshim.so links GSSAPI or krb5 (proxywrap only)" >&2
	rc=1
fi

# dlsym only in real.c.
if grep -ln 'dlsym' src/*/*.c src/shim/hooks/*.c | grep -v '^src/base/real.c$'; then
	echo "lint: dlsym outside src/base/real.c" >&2
	rc=1
fi
# The layers: includes one way between the folders, no call circles
# between files (from the objects of the last build, when there is one).
if ! sh tests/layers.sh "${BUILD:-build}" >/dev/null; then
	echo "lint: the layout's rule is broken (sh tests/layers.sh)" >&2
	rc=1
fi
exit $rc
