# t_pipeline.sh - SOCKS5 greeting, auth and request sent in one write.
# A blocking connect() tries it on a proxy not known yet: dante reads past
# the greeting and answers all three; microsocks drops what follows the
# greeting, so that connection starts over on the same socket (and still
# succeeds).  What was learned holds for the whole session: later
# processes, and non-blocking sockets (curl), pipeline only where it works
# and go one message at a time straight away where it does not.

PIPE_CLIENT=$TOP/${PW_BUILD:-build}/bin/pwclient

# pipeline_run URL: a blocking GET (tests/bin/pwclient), then curl
# (non-blocking), in one proxywrap session, -vv.
pipeline_run() {
	local m1 m2
	need_prog curl
	[ -x "$PIPE_CLIENT" ] || fail "no $PIPE_CLIENT (make testbins)"
	m1=$(mark)
	m2=$(mark)
	run pw -vv -p "$1" sh -c "\"\$0\" get $W4 80 $m1 && curl -sS -m 10 http://$W4$m2" "$PIPE_CLIENT"
	expect_rc 0
	world_saw "$m1" "$PW4"
	world_saw "$m2" "$PW4"
}

tcase pipeline_dante_noauth smoke
tc_pipeline_dante_noauth() {
	pipeline_run "$U_DANTE"
	# learned once (by the blocking connect), used by curl after it
	if [ "$(grep -c "takes a pipelined SOCKS5 handshake" err)" != 1 ]; then
		show
		fail "expected exactly one 'takes a pipelined' line"
	fi
	expect_err_lacks "pipelined SOCKS5 handshake got"
}

tcase pipeline_dante_userauth
tc_pipeline_dante_userauth() {
	pipeline_run "$U_DANTE_USER"
	expect_err_re "takes a pipelined SOCKS5 handshake"
	expect_err_lacks "pipelined SOCKS5 handshake got"
	expect_err_lacks "$PW_USER_PASS"
}

tcase pipeline_microsocks_fallback
tc_pipeline_microsocks_fallback() {
	local n
	pipeline_run "$U_MS"
	# learned once for the whole session, not once per process
	n=$(grep -c "pipelined SOCKS5 handshake got no answer" err)
	if [ "$n" != 1 ]; then
		show
		fail "expected one fallback line for the session, got $n"
	fi
	expect_err_lacks "$MS_PASS"
}

# A non-blocking connect never tries an unknown proxy: an event loop must
# not see its socket hang up while a handshake starts over.
tcase pipeline_nonblocking_never_probes
tc_pipeline_nonblocking_never_probes() {
	need_prog curl
	local m
	m=$(mark)
	run pw -vv -p "$U_MS" curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
	expect_err_lacks "pipelined SOCKS5 handshake"
}

# A proxy with user/password that takes pipelining, toward a destination
# slow to connect (a fake, tests/integ/badproxy.py slowdest: no real
# proxy here can be made slow on the request alone).  Its auth reply
# proves it read past the greeting; the 600 ms before the request's reply
# must not be taken for a dropped pipeline (a fallback: one more
# connection to the proxy, and the proxy marked "no" for the session).
tcase pipeline_slow_destination
tc_pipeline_slow_destination() {
	local i
	rm -f count
	inc "$PY" "$PW_INTEG_DIR/badproxy.py" slowdest 18086 count 40 \
	    </dev/null >/dev/null 2>&1 &
	for i in $(seq 1 50); do
		[ -s count ] && break
		sleep 0.1
	done
	[ -s count ] || fail "badproxy slowdest did not start"
	run pw -vv -p "socks5://u:p-Secret@127.0.0.1:18086" "$PY" \
	    "$PW_INTEG_DIR/chain_client.py" "$W4" 80 /slow b b
	expect_rc 0
	expect_err_re "takes a pipelined SOCKS5 handshake"
	expect_err_lacks "pipelined SOCKS5 handshake got"
	expect_err_lacks "pipelined SOCKS5 handshake was"
	expect_err_lacks "p-Secret"
	if [ "$(cat count)" != 2 ]; then
		show
		fail "the proxy saw $(cat count) connections for 2"
	fi
}
