# t_oddargs.sh - the differential test (issue 13): tests/bin/oddargs.c
# calls every hooked function with odd arguments (NULL, short and long
# lengths, bad pointers, bad fds, non-sockets, in-progress and connected
# sockets, vlen 0 and over UIO_MAXIOV, garbage flags) and prints each
# call's return value, errno and what it wrote.  Under the shim with
# "direct *" (proxywrap, --strict too, and a bare LD_PRELOAD) the program
# must see exactly what the kernel and glibc say without it: the outputs
# are compared line by line.
#
# Its listeners are on the client's own addresses (not loopback), so each
# connect and datagram is decided by the rule "direct *".

ODDARGS=$TOP/${PW_BUILD:-build}/bin/oddargs

# odd_run LABEL HOW...: run oddargs as HOW says into odd-LABEL.out; it
# must exit 0 and reach its last call (a crash or a hang is a failure).
odd_run() {
	local label=$1
	shift
	run -t 40 "$@" "$ODDARGS" "$C4" "$C6"
	cp out "odd-$label.out"
	cp err "odd-$label.err"
	if [ "$RC" != 0 ] || ! tail -n 1 out | grep -qx 'close(tcp) = -1 EBADF'; then
		show
		fail "oddargs ($label) exited $RC before its last call"
	fi
}

# odd_same LABEL: odd-LABEL.out is the plain run's, line for line.
odd_same() {
	if ! diff -u odd-plain.out "odd-$1.out" >"odd-$1.diff"; then
		say "oddargs: plain run against $1 (- plain, + shim):"
		head -n 40 "odd-$1.diff" | sed 's/^/#   /' >&2
		fail "oddargs under $1 differs from the plain run in $(grep -c '^[-+][^-+]' "odd-$1.diff") lines"
	fi
	# under "direct *" nothing is refused: no log line either
	if grep -q '^proxywrap: ' "odd-$1.err"; then
		say "stderr: $(grep '^proxywrap: ' "odd-$1.err" | head -n 3)"
		fail "oddargs under $1 logged"
	fi
}

tcase oddargs smoke
tc_oddargs() {
	[ -x "$ODDARGS" ] || { say "SKIP: no $ODDARGS (make testbins)"; exit 77; }
	# the sanitizer runtime's own wrappers fault on a bad pointer before
	# the shim sees it: those calls are left out of every run
	local min=600
	if [ -n "${PW_PRELOAD_EXTRA:-}" ]; then
		export ODDARGS_SAFE=1
		min=400
	fi
	conf direct.conf <<-EOC
	direct *
	EOC
	odd_run plain inc
	# the plain run is the kernel's own, and the same each time
	odd_run plain2 inc
	diff -u odd-plain.out odd-plain2.out >&2 ||
	    fail "oddargs differs between two plain runs"
	[ "$(wc -l <odd-plain.out)" -gt "$min" ] ||
	    fail "oddargs printed only $(wc -l <odd-plain.out) lines"
	odd_run proxywrap pw -c direct.conf
	odd_same proxywrap
	odd_run preload shim direct.conf
	odd_same preload
	# strict mode changes nothing where every destination is direct
	odd_run strict pw --strict -c direct.conf
	odd_same strict
}
