# t_readiness.sh - the readiness contract: a pending tunnel looks to the
# program exactly like a kernel TCP connect in progress.  The same C
# program (tests/bin/readiness.c) runs once against the kernel (a direct
# connect to a server in the proxy namespace) and once through the shim,
# for a reachable, a refused, an unreachable (timeout) and a slow
# destination; the step-by-step outputs must be identical.

RDY=$TOP/${PW_BUILD:-build}/bin/readiness

# rdy_diff NAME: compare out of the direct run (saved as NAME.kernel)
# with out of the shim run.
rdy_kernel() {
	[ -x "$RDY" ] || fail "no $RDY (make testbins)"
	run -t 20 inc "$RDY" "$@"
	expect_rc 0
	cp out kernel.out
	cp err kernel.err
}

rdy_shim() {
	run -t 20 "$@"
	expect_rc 0
	if ! diff -u kernel.out out >diff.out; then
		say "kernel (-) and shim (+) differ:"
		sed 's/^/#   /' diff.out >&2
		say "stderr of the shim run:"
		sed 's/^/#   /' err >&2
		fail "the shim's answers are not the kernel's"
	fi
}

tcase readiness_ok smoke
tc_readiness_ok() {
	local name
	rdy_kernel ok "$P4" 8080
	expect_out_has "end answer: HTTP/1.1"
	for name in dante tiny squid; do
		rdy_shim pw -p "$(proxy_url "$name")" "$RDY" ok "$W4" 80
	done
}

tcase readiness_refused smoke
tc_readiness_refused() {
	rdy_kernel refused "$P4" 9
	expect_out_has "end SO_ERROR: ECONNREFUSED"
	rdy_shim pw -p "$U_DANTE" "$RDY" refused "$W4" 9
}

# Nobody has 198.18.0.99 or 198.18.1.99: the kernel (or dante) waits for
# ARP for seconds, and the program's own 1 s timeout must end the wait.
tcase readiness_timeout
tc_readiness_timeout() {
	rdy_kernel timeout 198.18.0.99 80
	expect_out_has "pending poll on time: yes"
	expect_out_has "pending connect again: -1 EALREADY"
	rdy_shim pw -p "$U_DANTE" "$RDY" timeout 198.18.1.99 80
	rdy_shim pw -p "$U_TINY" "$RDY" timeout 198.18.1.99 80
}

# The kernel's slow connect: a server whose accept queue is full drops the
# first SYN (slowaccept.py).  The shim's: a SOCKS5 proxy that takes 1 s per
# reply (badproxy.py slow), which then answers HTTP itself.
tcase readiness_slow
tc_readiness_slow() {
	ip netns exec "$NSP" "$PY" "$PW_INTEG_DIR/slowaccept.py" "$P4" 8099 20 \
	    >slow.out 2>&1 &
	local i
	for i in $(seq 1 50); do
		grep -q ready slow.out 2>/dev/null && break
		sleep 0.1
	done
	grep -q ready slow.out || fail "slowaccept did not start"
	rdy_kernel slow "$P4" 8099
	expect_out_has "end answer: HTTP/1.0"
	badproxy slow 18087
	rdy_shim pw -p socks5://127.0.0.1:18087 "$RDY" slow "$W4" 80
	kill "$BADPID" 2>/dev/null
}
