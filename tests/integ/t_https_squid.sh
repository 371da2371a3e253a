# t_https_squid.sh - squid's own https_port as an https:// proxy: TLS
# ends in squid (Debian's GnuTLS build), not in a stunnel in front of it.
# squid does not speak HTTP/2, so http2=on must fall back to HTTP/1.1.

# https_squid PORT: a squid of its own in the proxy namespace with
# https_port $P4:PORT (good.crt), sending from $PW4; its pid in SQPID.
https_squid() {
	local d=$CD/sq
	mkdir -p "$d"
	cp good.crt good.key "$d/"
	{ env_squid_head "$d" "127.0.0.1:$(($1 + 1))" pwsquid-tls; cat <<-EOC; } >"$d/squid.conf"
	https_port $P4:$1 tls-cert=$d/good.crt tls-key=$d/good.key
	tcp_outgoing_address $PW4
	acl pw_ports port 80
	acl CONNECT method CONNECT
	http_access deny CONNECT !pw_ports
	http_access allow all
	EOC
	chown -R proxy:proxy "$d"
	ip netns exec "$NSP" squid -N -f "$d/squid.conf" >sq.out 2>&1 </dev/null &
	SQPID=$!
	env_wait_port "$NSP" "$P4" "$1" 30 ||
	    { cat sq.out "$d/cache.log" >&2; fail "squid did not start"; }
}

https_squid_stop() {
	kill "$SQPID" 2>/dev/null || true
	wait "$SQPID" 2>/dev/null || true
}

# squid_connects: the CONNECTs squid's access log has
squid_connects() {
	grep -c " CONNECT $W4:80 " "$CD/sq/access.log" 2>/dev/null || true
}

tcase https_squid_tls
tc_https_squid_tls() {
	need_prog curl
	local m n
	https_certs
	https_squid 8471
	conf t.conf <<-EOC
	proxy sq https://$P4:8471 ca=$CD/ca.crt
	via sq 198.18.1.0/24
	EOC
	conf h2.conf <<-EOC
	proxy sq https://$P4:8471 ca=$CD/ca.crt http2=on
	via sq 198.18.1.0/24
	EOC
	m=$(mark)
	run pw --log "$CD/audit.log" -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	grep -q '"proxy_tls":"TLSv1' audit.log ||
	    fail "the audit log does not show the proxy's TLS version"
	m=$(mark)
	run pw --strict -c t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	# http2=on: squid offers no h2 by ALPN, so the tunnel is HTTP/1.1
	m=$(mark)
	rm -f audit.log
	run pw --log "$CD/audit.log" -c h2.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	grep -q '"proxy_h2"' audit.log &&
	    fail "an HTTP/2 stream to squid, which has no h2: $(cat audit.log)"
	n=$(squid_connects)
	https_squid_stop
	[ "$n" -ge 3 ] || fail "squid logged $n CONNECTs, 3 expected"
}

# A client that does not trust squid's certificate fails closed.
tcase https_squid_wrong_ca
tc_https_squid_wrong_ca() {
	local m n
	https_certs
	https_squid 8473
	conf t.conf <<-EOC
	proxy sq https://$P4:8473 ca=$CD/ca2.crt
	via sq 198.18.1.0/24
	EOC
	m=$(mark)
	run pw -c t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	n=$(squid_connects)
	https_squid_stop
	expect_rc 3
	expect_errno ECONNREFUSED
	nobody_saw "$m"
	[ "$(err_lines)" = 1 ] || { show; fail "wanted one line"; }
	expect_err_re "proxy sq \\(https://$P4:8473\\): TLS: certificate not trusted"
	[ "$n" = 0 ] || fail "squid logged $n CONNECTs with an untrusted certificate"
}
