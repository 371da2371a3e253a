#!/bin/bash
# valgrind.sh - a representative subset of wrapped clients under valgrind
# (memcheck): blocking and non-blocking handshakes through SOCKS5 and HTTP
# proxies, threads, a raw syscall, a scrubbed environment's exec, UDP
# through dante's relay.  Any
# memory error or definite leak fails the case.  Run as root from the top
# of the tree (tests/run.sh does when this file exists).
# Output: "ok - valgrind NAME" / "not ok - valgrind NAME".
set -u
cd "$(dirname "$0")/../.." || exit 2
TOP=$PWD
PW_INTEG_DIR=$TOP/tests/integ
PW_BUILD=${PW_BUILD:-build}
PW_LIB=$TOP/$PW_BUILD/libshim.so
PWC=$TOP/$PW_BUILD/bin/pwclient
export TOP PW_INTEG_DIR PW_BUILD PW_LIB

if ! command -v valgrind >/dev/null 2>&1; then
	echo "ok - valgrind # SKIP valgrind not installed"
	exit 0
fi
if [ "$(id -u)" != 0 ] || [ ! -x "$PWC" ] || [ ! -e "$PW_LIB" ]; then
	echo "not ok - valgrind (needs root, $PW_LIB and $PWC)"
	exit 1
fi
. "$PW_INTEG_DIR/env.sh"
. "$PW_INTEG_DIR/lib.sh"
trap 'env_teardown; rm -rf "${T:-/nonexistent}"' EXIT
if ! env_setup; then
	echo "not ok - valgrind setup"
	exit 1
fi

VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite"
fails=0

# vg NAME PROXY-URL CMD...: CMD under valgrind with the shim preloaded.
vg() {
	local name=$1 url=$2 log=$T/out/vg-$1.log rc
	shift 2
	timeout -k 2 60 ip netns exec "$NSC" env LD_PRELOAD="$PW_LIB" \
	    SHIM_PROXY="$url" $VG "$@" >"$log" 2>&1 </dev/null
	rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok - valgrind $name"
	else
		fails=$((fails + 1))
		echo "not ok - valgrind $name (exit $rc)"
		head -n 30 "$log" | sed 's/^/#   /'
	fi
}

vg socks5_blocking "$U_DANTE" "$PWC" get "$P4" 8080 /vg1
vg http_blocking "$U_TINY" "$PWC" get "$W4" 80 /vg2
vg socks5_auth "$U_DANTE_USER" "$PWC" get "$W4" 80 /vg3
vg raw_syscall "$U_DANTE" "$PWC" raw "$W4" 80 /vg4
vg nonblocking_fds "$U_DANTE" "$PWC" fds "$W4" 80 /vg5
vg threads_8 "$U_DANTE" "$PWC" threads 8 "$W4" 80 /vg6
vg tcp_fastopen "$U_DANTE" "$PWC" tfo "$W4" 80 /vg7
vg exec_env_i "$U_DANTE" /usr/bin/env -i "$PWC" get "$W4" 80 /vg8
vg udp_associate "$U_DANTE" "$PWC" udp "$W4" 7007 vg9
[ "$fails" = 0 ]
