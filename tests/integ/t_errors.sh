# t_errors.sh - proxy failures give an errno and a log line, never a direct
# connection; passwords never appear in what proxywrap prints.

# The proxy is down; the destination is directly reachable, so a fallback
# would be visible at the local server.
tcase proxy_down_fail_closed smoke
tc_proxy_down_fail_closed() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	proxy down socks5://$P4:1999
	via down *
	EOC
	m=$(mark)
	run pw -c t.conf "$PY" "$PYC" get "$P4" 8080 "$m"
	expect_rc 3
	expect_errno ECONNREFUSED
	expect_err_re "proxywrap: .*198\.18\.0\.1:8080"
	nobody_saw "$m"
	m=$(mark)
	run pw -p "http://$P4:1999" curl -sS -m 10 "http://$P4:8080$m"
	expect_rc 7
	nobody_saw "$m"
}

# An unreachable proxy (no such host): bounded by connect_timeout.
tcase proxy_unreachable_timeout
tc_proxy_unreachable_timeout() {
	local m t0 t1
	conf t.conf <<-EOC
	proxy gone socks5://198.18.0.9:1080
	via gone *
	connect_timeout 1s
	EOC
	m=$(mark)
	t0=$(date +%s%N)
	run pw -c t.conf "$PY" "$PYC" get "$P4" 8080 "$m"
	t1=$(date +%s%N)
	expect_rc 3
	if ! grep -qxE 'ERRNO (ETIMEDOUT|ECONNREFUSED)' out; then
		show
		fail "wanted ETIMEDOUT or ECONNREFUSED"
	fi
	[ $(((t1 - t0) / 1000000)) -lt 4000 ] ||
	    fail "took $(((t1 - t0) / 1000000)) ms with connect_timeout 1s"
	nobody_saw "$m"
}

# dante answers REP 5 (connection refused) for a closed port.
tcase socks_refused_errno
tc_socks_refused_errno() {
	run pw -p "$U_DANTE" "$PY" "$PYC" connect "$W4" 81
	expect_rc 3
	expect_errno ECONNREFUSED
}

tcase squid_wrong_password smoke
tc_squid_wrong_password() {
	need_prog curl
	local m bad=Wr0ngPw-71x
	m=$(mark)
	run pw -p "http://$SQUID_USER:$bad@$P4:3128" curl -sS -m 10 "http://$W4$m"
	expect_rc 7
	expect_err_re "proxy authentication required"
	expect_err_lacks "$bad"
	nobody_saw "$m"
	# The errno, and the same from a rule file, verbose.
	conf t.conf <<-EOC
	proxy sq http://$SQUID_USER:$bad@$P4:3128
	via sq *
	EOC
	run pw -v -c t.conf "$PY" "$PYC" connect "$W4" 80
	expect_rc 3
	expect_errno EACCES
	expect_err_re "proxy authentication required"
	expect_err_lacks "$bad"
}

tcase dante_wrong_password
tc_dante_wrong_password() {
	need_prog curl
	local m bad=Wr0ngPw-72y
	m=$(mark)
	run pw -v -p "socks5://$PW_USER:$bad@$P4:1081" curl -sS -m 10 "http://$W4$m"
	expect_rc 7
	expect_err_re "proxywrap: "
	expect_err_lacks "$bad"
	nobody_saw "$m"
}

# Verbose logging of successful connections through every authenticating
# proxy, to stderr and to a --log file: no password anywhere.
tcase no_password_in_logs smoke
tc_no_password_in_logs() {
	need_prog curl
	local name m
	for name in dante_user squid ms; do
		m=$(mark)
		run pw -vv -p "$(proxy_url "$name")" curl -sS -m 10 "http://$W4$m"
		expect_rc 0
		world_saw "$m" "$PW4"
		[ -s err ] || { show; fail "-vv logged nothing"; }
		expect_err_lacks "$PW_USER_PASS"
		expect_err_lacks "$SQUID_PASS"
		expect_err_lacks "$MS_PASS"
		m=$(mark)
		run pw -vv --log "$CD/pw-$name.log" -p "$(proxy_url "$name")" \
		    curl -sS -m 10 "http://$W4$m"
		expect_rc 0
		[ -s "$CD/pw-$name.log" ] || fail "--log file is empty"
		for p in "$PW_USER_PASS" "$SQUID_PASS" "$MS_PASS"; do
			if grep -qF "$p" "$CD/pw-$name.log"; then
				fail "password in --log file: $(grep -F "$p" "$CD/pw-$name.log" | head -n 1)"
			fi
		done
	done
	# --explain and --check output do not show it either.
	conf t.conf <<-EOC
	proxy sq $U_SQUID
	via sq *
	EOC
	run pw --explain "$W4:80" -c t.conf
	expect_rc 0
	expect_out_lacks "$SQUID_PASS"
	expect_err_lacks "$SQUID_PASS"
}
