# t_suphostile.sh - targets that try to hurt the supervisor (issue 15,
# "hostile targets"): a process killed while the supervisor holds its
# call, a fork tree, 1,000 threads connecting at once, and the page with
# the address coming and going under the calls.  The supervisor must not
# crash, must not hold up the rest of the tree, and must give each call
# what the kernel would.  All static programs: only the supervisor sees
# their calls.

# Twenty children are killed while their connect waits on a proxy that
# never answers: each dies at once (the supervisor's wait is killable),
# and the program's own connect afterwards is answered.  The proxy sees
# each handshake attempt at most once.
tcase sup_die
tc_sup_die() {
	static_bin suphostile
	badproxy silent 18173
	conf s.conf <<-EOC
	connect_timeout 3s
	proxy p socks5://127.0.0.1:18173
	via p $W4:80
	EOC
	run -t 60 pw --strict -c s.conf "$SBIN" die "$W4" 80 20
	kill "$BADPID" 2>/dev/null || true
	expect_rc 0
	expect_out_re "^die children=20 killed=20 worst_ms=[0-9]+ after rc=0$"
	local worst
	worst=$(sed -n 's/.*worst_ms=\([0-9]*\).*/\1/p' out)
	[ "$worst" -lt 2000 ] || { show; fail "a killed child took ${worst} ms to die"; }
	# every child's connect reached the supervisor (one via line each
	# would need the handshake's end; the proxy's count shows the tries)
	local n
	n=$(cat "count-silent" 2>/dev/null || echo 0)
	[ "$n" -ge 1 ] && [ "$n" -le 20 ] ||
	    { show; fail "the silent proxy saw $n connections for 20 children"; }
}

# A fork tree 128 leaves wide under --strict: every leaf's connect is
# answered (the supervisor serves the whole tree, no process waits on
# another's call).
tcase sup_bomb
tc_sup_bomb() {
	static_bin suphostile
	run -t 90 pw --strict "$SBIN" bomb 7
	expect_rc 0
	expect_out_re "^bomb leaves=128 connected=128 in [0-9]+ ms$"
}

# 1,000 threads connect at the same moment: every one is answered.
tcase sup_threads1000
tc_sup_threads1000() {
	static_bin supclient
	run -t 90 pw --strict "$SBIN" threads 1000
	expect_rc 0
	expect_out_re "^threads=1000 connected=1000 "
}

# The page that holds the address is made unreadable and readable again
# while 8 threads connect from it: plainly every call gives 0 or EFAULT;
# supervised, the same, and never another errno or a hang.
tcase sup_flip
tc_sup_flip() {
	static_bin suphostile
	run -t 30 inc "$SBIN" flip 8
	expect_rc 0
	expect_out_re "^flip threads=8 ok=[1-9][0-9]* efault=[1-9][0-9]* other=0$"
	run -t 60 pw --strict "$SBIN" flip 8
	expect_rc 0
	expect_out_re "^flip threads=8 ok=[1-9][0-9]* efault=[1-9][0-9]* other=0$"
}
