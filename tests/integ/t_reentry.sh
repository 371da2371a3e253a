# t_reentry.sh - a re-entry guard never means "this call is the library's
# own": connect() from a signal handler that interrupts the library's own
# name lookup is decided (refused) like any other, with a log line each.

SIGC=$TOP/${PW_BUILD:-build}/bin/sigconnect

tcase reentry_signal_connect
tc_reentry_signal_connect() {
	local n e o lines
	[ -x "$SIGC" ] || fail "no $SIGC (make testbins)"
	conf t.conf <<-EOC
	block $P4:8080
	direct *
	EOC
	run -t 30 pw --strict -c t.conf --log audit.json "$SIGC" \
	    www.world.test "$P4" 8080 2
	expect_rc 0
	read -r _ _ _ n _ e _ o <out
	say "$(cat out)"
	[ "${n:-0}" -gt 100 ] || fail "too few handler connects ($n)"
	[ "$o" = 0 ] || fail "$o handler connects were not refused"
	lines=$(grep -c "blocked 198.18.0.1:8080" err)
	[ "$lines" = "$n" ] || fail "$n refusals but $lines log lines"
	lines=$(grep -c '"event":"block"' audit.json)
	[ "$lines" = "$n" ] || fail "$n refusals but $lines audit events"
}

# connect() with odd names: under 'direct *' exactly the kernel's answers;
# a 24-byte AF_INET6 name (plain and v4-mapped) is decided by the rules.
CODD=$TOP/${PW_BUILD:-build}/bin/connodd

tcase connect_odd_names
tc_connect_odd_names() {
	[ -x "$CODD" ] || fail "no $CODD (make testbins)"
	run inc "$CODD" "$P4" "$P6" 8080
	expect_rc 0
	expect_out_has "v6 len 24: 0 -"
	expect_out_has "v4-mapped len 24: 0 -"
	expect_out_has "v6 len 136: -1 EINVAL"
	expect_out_has "inaccessible page: -1 EFAULT"
	expect_out_has "udp sendmsg inaccessible msghdr: -1 EFAULT"
	cp out kernel.out
	conf direct.conf <<-EOC
	direct *
	EOC
	run pw --strict -c direct.conf "$CODD" "$P4" "$P6" 8080
	expect_rc 0
	diff -u kernel.out out >&2 || fail "the shim's answers are not the kernel's"
	conf block.conf <<-EOC
	block $P4 $P6
	direct *
	EOC
	run pw -c block.conf "$CODD" "$P4" "$P6" 8080
	expect_rc 0
	expect_out_has "v6 len 24: -1 EACCES"
	expect_out_has "v4-mapped len 24: -1 EACCES"
	expect_out_has "v6 len 28: -1 EACCES"
	expect_out_has "first page: -1 EFAULT"
	[ "$(grep -c 'blocked' err)" = 4 ] || { show; fail "wanted 4 refusal lines"; }
}
