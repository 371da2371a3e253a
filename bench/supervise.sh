#!/usr/bin/env bash
# bench/supervise.sh - what the supervisor (proxywrap --supervise) costs:
#  - a supervised connect: N loopback connects of a static program (the
#    raw call, what a Go program pays), plainly and supervised, and of a
#    dynamic one through the shim, without and with the supervisor
#    (tests/bin/supclient.c's bench: us per connect);
#  - a call the filter does not trap: M getppid() and M 1-byte reads of
#    /dev/zero, plainly and supervised (ns per call);
#  - a receive it traps for the DNS responder's sake (recvfrom with an
#    address, on a loopback UDP socket): M/100 of them (ns per call);
#  - a static Go client's throughput through dante, supervised and with
#    Go's own proxy support (bench/supervise_go.sh; root).
# ROUNDS (7) rounds each; the median is printed.  Needs build/ (make all).
set -u
cd "$(dirname "$0")/.." || exit 1
ROUNDS=${ROUNDS:-7} N=${N:-2000} M=${M:-2000000}
PW=$PWD/build/proxywrap
T=$(mktemp -d /tmp/pwsup.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
[ -x "$PW" ] || { echo "bench: make all first" >&2; exit 1; }
gcc -D_GNU_SOURCE -O1 -static -o "$T/sc-static" tests/bin/supclient.c -lpthread &&
gcc -D_GNU_SOURCE -O1 -o "$T/sc-dyn" tests/bin/supclient.c -lpthread || exit 1
cat >"$T/calls.c" <<'EOC'
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv)
{
	long n = atol(argv[1]), i;
	int fd = open("/dev/zero", O_RDONLY);
	char c;
	double t0 = now(), t1;
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	t1 = now();
	printf("getppid_ns=%.1f ", (t1 - t0) / n);
	t0 = now();
	for (i = 0; i < n; i++)
		if (read(fd, &c, 1) != 1)
			return 1;
	printf("read_ns=%.1f ", (now() - t0) / n);
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(0x7f000001) }, f;
	socklen_t al = sizeof(a), fl;
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(u, (struct sockaddr *)&a, al) || getsockname(u, (struct sockaddr *)&a, &al))
		return 1;
	n /= 100;
	double tr = 0;
	for (i = 0; i < n; i++) {
		if (syscall(SYS_sendto, u, "x", 1, 0, &a, al) != 1)
			return 1;
		fl = sizeof(f);
		t0 = now();
		if (recvfrom(u, &c, 1, 0, (struct sockaddr *)&f, &fl) != 1)
			return 1;
		tr += now() - t0;
	}
	printf("recvfrom_ns=%.1f\n", tr / n);
	return 0;
}
EOC
gcc -O2 -static -o "$T/calls" "$T/calls.c" || exit 1
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
us() { "$@" | sed -n 's/.*us_per_connect=\([0-9.]*\).*/\1/p'; }
rows() {	# NAME CMD...: ROUNDS runs of CMD's us_per_connect, median
	local name=$1 r
	shift
	for r in $(seq "$ROUNDS"); do us "$@"; done | median | sed "s/^/$name /"
}
echo "# supervised connect, us per connect (median of $ROUNDS x $N)"
rows static_plain "$T/sc-static" bench "$N"
rows static_supervised "$PW" --supervise=all -q -- "$T/sc-static" bench "$N"
rows shim "$PW" --supervise=off -q -- "$T/sc-dyn" bench "$N" libc
rows shim_supervised "$PW" --supervise=all -q -- "$T/sc-dyn" bench "$N" libc
echo "# calls the filter does not trap, ns per call (median of $ROUNDS x $M;"
echo "# recvfrom with an address, which it traps: x $((M / 100)))"
for who in plain supervised; do
	for r in $(seq "$ROUNDS"); do
		if [ $who = plain ]; then "$T/calls" "$M"
		else "$PW" --supervise=all -q -- "$T/calls" "$M"; fi
	done >"$T/$who.txt"
	for k in getppid_ns read_ns recvfrom_ns; do
		sed -n "s/.*$k=\([0-9.]*\).*/\1/p" "$T/$who.txt" | median |
		    sed "s/^/${k%_ns}_$who /"
	done
done
ROUNDS=$ROUNDS bash bench/supervise_go.sh
