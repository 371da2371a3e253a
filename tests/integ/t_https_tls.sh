# t_https_tls.sh - TLS session resumption to an https proxy (HTTP/1.1,
# a TLS connection per tunnel): the relay keeps the proxy's sessions and
# the next tunnel offers one.  stunnel (in the proxy namespace, tinyproxy
# behind it) logs each handshake as "new session negotiated" or "previous
# session reused"; the audit log says "proxy_tls_resumed":true.

# resume_run PORT OPTIONS N: N curl runs one after another in one session
# through stunnel on PORT (proxy line OPTIONS), each a tunnel of its own;
# then stunnel's counts of full and resumed handshakes in FULL, RESUMED
# and the audit log's resumed connects in LOGGED.
resume_run() {
	local i
	m=$(mark)
	conf t.conf <<-EOC
	proxy tls https://$P4:$1 $2
	via tls 198.18.1.0/24
	EOC
	run pw --log "$CD/audit.log" -c t.conf sh -c '
	    i=0
	    while [ $i -lt "$2" ]; do
		curl -sS -m 10 "http://$0$1-$i" || exit 1
		i=$((i + 1))
	    done' "$W4" "$m" "$3"
	https_stop
	FULL=$(grep -c 'new session negotiated' "st-$1.log" || true)
	RESUMED=$(grep -c 'previous session reused' "st-$1.log" || true)
	LOGGED=$(grep -c '"proxy_tls_resumed":true' audit.log || true)
	for i in $(seq 0 $(($3 - 1))); do
		expect_out_has "world $W4:80 $m-$i"
	done
}

# TLS 1.3: one full handshake, then every tunnel resumes (a ticket each:
# stunnel sends two per connection, each used once).
tcase https_resume_tls13
tc_https_resume_tls13() {
	need_prog curl
	https_certs
	ST_DEBUG=info https_stunnel good.pem 8541
	resume_run 8541 "ca=$CD/ca.crt" 4
	expect_rc 0
	[ "$FULL" = 1 ] && [ "$RESUMED" = 3 ] ||
	    fail "stunnel saw $FULL full and $RESUMED resumed handshakes (want 1 and 3)"
	[ "$LOGGED" = 3 ] ||
	    fail "$LOGGED connect events say proxy_tls_resumed (want 3)"
	grep -q '"proxy_tls":"TLSv1.3","proxy_tls_resumed":true' audit.log ||
	    fail "the audit event does not show TLS 1.3 resumed"
}

# TLS 1.2 (a session the proxy keeps by its id or ticket): the same.
tcase https_resume_tls12
tc_https_resume_tls12() {
	need_prog curl
	https_certs
	ST_DEBUG=info ST_OPT="sslVersionMax = TLSv1.2" https_stunnel good.pem 8542
	resume_run 8542 "ca=$CD/ca.crt" 3
	expect_rc 0
	[ "$FULL" = 1 ] && [ "$RESUMED" = 2 ] ||
	    fail "stunnel saw $FULL full and $RESUMED resumed handshakes (want 1 and 2)"
	grep -q '"proxy_tls":"TLSv1.2","proxy_tls_resumed":true' audit.log ||
	    fail "the audit event does not show TLS 1.2 resumed"
}

# With pin=: resumed sessions still carry the proxy's certificate, and
# the pin is checked on them too (they pass).
tcase https_resume_pin
tc_https_resume_pin() {
	local pin
	need_prog curl
	https_certs
	pin=$(openssl x509 -in good.crt -pubkey -noout |
	    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
	    base64)
	ST_DEBUG=info https_stunnel good.pem 8543
	resume_run 8543 "ca=$CD/ca.crt pin=sha256/$pin" 3
	expect_rc 0
	[ "$FULL" = 1 ] && [ "$RESUMED" = 2 ] && [ "$LOGGED" = 2 ] ||
	    fail "full $FULL, resumed $RESUMED, logged $LOGGED (want 1, 2, 2)"
}

# A session from a connection that failed pin= is not kept: TLS 1.2
# hands it over in the handshake, before the pin is checked; the next
# tunnel does a full handshake again and fails the same way.
tcase https_resume_pin_mismatch
tc_https_resume_pin_mismatch() {
	local pin m
	https_certs
	pin=$(openssl pkey -in ca.key -pubout -outform der |
	    openssl dgst -sha256 -binary | base64)
	ST_DEBUG=info ST_OPT="sslVersionMax = TLSv1.2" https_stunnel good.pem 8544
	m=$(mark)
	conf t.conf <<-EOC
	proxy tls https://$P4:8544 ca=$CD/ca.crt pin=sha256/$pin
	via tls 198.18.1.0/24
	EOC
	run pw -c t.conf sh -c '"$0" "$1" get "$2" 80 "$3"; "$0" "$1" get "$2" 80 "$3"' \
	    "$PY" "$PYC" "$W4" "$m"
	https_stop
	nobody_saw "$m"
	[ "$(grep -c 'pin mismatch' err)" = 2 ] ||
	    { show; fail "wanted two pin mismatches"; }
	[ "$(grep -c 'new session negotiated' st-8544.log)" = 2 ] ||
	    fail "the second tunnel did not do a full handshake"
	! grep -q 'previous session reused' st-8544.log ||
	    fail "a session that failed the pin was resumed"
}
