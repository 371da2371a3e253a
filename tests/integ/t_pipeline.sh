# t_pipeline.sh - SOCKS5 greeting, auth and request sent in one write.
# dante reads past the greeting and answers all three: no fallback.
# microsocks drops what follows the greeting: the first connection of the
# session falls back on the same socket (and still succeeds), and the
# processes after it go one message at a time straight away.

# pipeline_run URL: two curls in one proxywrap session, -vv.
pipeline_run() {
	local m1 m2
	need_prog curl
	m1=$(mark)
	m2=$(mark)
	run pw -vv -p "$1" sh -c "curl -sS -m 10 http://$W4$m1 && curl -sS -m 10 http://$W4$m2"
	expect_rc 0
	world_saw "$m1" "$PW4"
	world_saw "$m2" "$PW4"
}

tcase pipeline_dante_noauth smoke
tc_pipeline_dante_noauth() {
	pipeline_run "$U_DANTE"
	expect_err_re "takes a pipelined SOCKS5 handshake"
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
