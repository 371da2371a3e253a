# t_https.sh - https:// proxies: TLS to the proxy runs in proxywrap's
# relay, never in the program.  stunnel (in the proxy namespace) puts TLS
# in front of tinyproxy, with certificates made here: a CA, a server
# certificate for the proxy's address and name, an expired one, one for
# another name, and a second CA that signed none of them.

tcase https_curl_tinyproxy smoke
tc_https_curl_tinyproxy() {
	need_prog curl
	local m n
	https_certs
	https_stunnel good.pem 8443
	m=$(mark)
	n=$(pcount tiny "$W4" 80)
	conf t.conf <<-EOC
	proxy tls https://$P4:8443 ca=$CD/ca.crt
	via tls 198.18.1.0/24
	EOC
	run pw --log "$CD/audit.log" --summary=sum.txt -c t.conf \
	    curl -sS -m 10 "http://$W4$m"
	https_stop
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	proxy_saw tiny "$W4" 80 "$n"
	grep -q '"proxy_tls":"TLSv1.3"' audit.log ||
	    fail "the audit log does not show the proxy's TLS version"
	grep -q "via tls (TLSv1.3)" sum.txt ||
	    fail "the summary does not show the proxy's TLS version: $(cat sum.txt)"
}

# Under --strict: a dynamic program (the shim) and a static one (the
# supervisor's own connect, which uses the same relay); getpeername says
# the destination.
tcase https_strict_supervised
tc_https_strict_supervised() {
	local m
	need_prog curl
	static_bin supclient
	https_certs
	https_stunnel good.pem 8452
	conf t.conf <<-EOC
	proxy tls https://$P4:8452 ca=$CD/ca.crt
	via tls $W4:80
	EOC
	m=$(mark)
	run pw --strict -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	m=$(mark)
	run pw --strict --log "$CD/audit.log" -c t.conf "$SBIN" get "$W4" 80 "$m"
	https_stop
	expect_rc 0
	expect_out_has "peer=$W4:80 len=16"
	expect_out_re 'status=HTTP/1.1 200'
	world_saw "$m" "$PW4"
	grep -q '"proxy_tls":"TLSv1.3"' audit.log ||
	    fail "the supervisor's event does not show the proxy's TLS version"
}

# https_refused CERT PORT OPTIONS WHY: a connect through stunnel with CERT
# and the proxy line's OPTIONS fails closed: ECONNREFUSED for the
# program, one line naming the proxy and WHY (an extended regex).
https_refused() {
	local m
	https_certs
	https_stunnel "$1" "$2"
	m=$(mark)
	conf t.conf <<-EOC
	proxy tls https://$P4:$2 $3
	via tls 198.18.1.0/24
	EOC
	run pw -c t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	https_stop
	expect_rc 3
	expect_errno ECONNREFUSED
	nobody_saw "$m"
	[ "$(err_lines)" = 1 ] || { show; fail "wanted one line"; }
	expect_err_re "proxywrap: failed $W4:80: proxy tls \\(https://$P4:$2\\): TLS: $4"
}

tcase https_wrong_ca
tc_https_wrong_ca() {
	https_refused good.pem 8444 "ca=$CD/ca2.crt" \
	    "certificate not trusted: unable to get local issuer certificate"
}

tcase https_expired
tc_https_expired() {
	https_refused expired.pem 8445 "ca=$CD/ca.crt" \
	    "certificate not trusted: certificate has expired"
}

tcase https_name_mismatch
tc_https_name_mismatch() {
	https_refused wrongname.pem 8446 "ca=$CD/ca.crt sni=proxy.test" \
	    "certificate not trusted: hostname mismatch"
}

tcase https_ip_mismatch
tc_https_ip_mismatch() {
	https_refused wrongname.pem 8447 "ca=$CD/ca.crt" \
	    "certificate not trusted: IP address mismatch"
}

tcase https_pin_mismatch
tc_https_pin_mismatch() {
	# the CA's key is not the proxy's
	local pin
	https_certs
	pin=$(openssl pkey -in ca.key -pubout -outform der |
	    openssl dgst -sha256 -binary | base64)
	https_refused good.pem 8448 "ca=$CD/ca.crt pin=sha256/$pin" \
	    "pin mismatch: its public key is sha256/"
}

tcase https_not_tls
tc_https_not_tls() {
	# a plain HTTP server, no TLS: the handshake fails
	local m
	m=$(mark)
	conf t.conf <<-EOC
	proxy tls https://$P4:8080
	via tls 198.18.1.0/24
	EOC
	run pw -c t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 3
	expect_errno ECONNREFUSED
	nobody_saw "$m"
	expect_err_re "proxy tls \\(https://$P4:8080\\): TLS: handshake failed"
}

# The right pin, and sni= naming the certificate's DNS name: through.
tcase https_pin_sni_ok
tc_https_pin_sni_ok() {
	local m pin
	https_certs
	https_stunnel good.pem 8449
	pin=$(openssl x509 -in good.crt -pubkey -noout |
	    openssl pkey -pubin -outform der | openssl dgst -sha256 -binary |
	    base64)
	m=$(mark)
	conf t.conf <<-EOC
	proxy tls https://$P4:8449 ca=$CD/ca.crt sni=proxy.test pin=sha256//$pin
	via tls 198.18.1.0/24
	EOC
	run pw -c t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	https_stop
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

# A bare LD_PRELOAD has no relay: it says so once and blocks.
tcase https_bare_preload
tc_https_bare_preload() {
	local m
	m=$(mark)
	conf t.conf <<-EOC
	proxy tls https://$P4:8443
	via tls 198.18.1.0/24
	EOC
	run shim t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 3
	expect_errno EACCES
	nobody_saw "$m"
	[ "$(err_lines)" = 1 ] || { show; fail "wanted one line"; }
	expect_err_re "proxy tls \\(https://$P4:8443\\) is https: TLS to it runs in proxywrap"
}

# Half-close kept, every byte checked, from python and from C: the
# client's FIN reaches the far end (it answers only then) while the
# client still reads 4 MiB back.  tinyproxy and squid close both ways at
# the first FIN (without the relay too), so the far end here is a
# stand-in proxy that is its own destination, behind a real stunnel.
tcase https_halfclose
tc_https_halfclose() {
	local spid
	https_certs
	ip netns exec "$NSP" "$PY" "$PW_INTEG_DIR/halfclose.py" proxy "$P4" 7101 \
	    </dev/null >hc.log 2>&1 &
	spid=$!
	env_wait_port "$NSP" "$P4" 7101 10 || fail "halfclose proxy did not start"
	https_stunnel good.pem 8450 "$P4:7101"
	conf t.conf <<-EOC
	proxy tls https://$P4:8450 ca=$CD/ca.crt
	via tls 198.18.1.0/24
	EOC
	run pw -c t.conf "$PY" "$PW_INTEG_DIR/halfclose.py" client "$W4" 81 4194304
	expect_rc 0
	expect_out_has "HALFCLOSE ok 4194304"
	run pw -c t.conf "$TOP/${PW_BUILD:-build}/bin/halfclose" "$W4" 81 3000017
	expect_rc 0
	expect_out_has "HALFCLOSE ok 3000017"
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	https_stop
}

# 16 MiB from the world through stunnel and tinyproxy, whole.
tcase https_bytes_tinyproxy
tc_https_bytes_tinyproxy() {
	local spid
	https_certs
	https_stunnel good.pem 8451
	ip netns exec "$NSW" "$PY" "$PW_INTEG_DIR/halfclose.py" send "$W4" 81 \
	    16777216 </dev/null >hc.log 2>&1 &
	spid=$!
	env_wait_port "$NSW" "$W4" 81 10 || fail "sender did not start"
	conf t.conf <<-EOC
	proxy tls https://$P4:8451 ca=$CD/ca.crt
	via tls 198.18.1.0/24
	EOC
	run pw -c t.conf "$PY" "$PW_INTEG_DIR/halfclose.py" recv "$W4" 81 16777216
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	https_stop
	expect_rc 0
	expect_out_has "RECV ok 16777216"
}

# nghttpx with --http2-proxy as an https proxy, spoken to over HTTP/1.1
# (ALPN http/1.1): curl and python through it, the world sees the proxy.
tcase https_nghttpx_h1
tc_https_nghttpx_h1() {
	local m
	need_prog curl
	command -v nghttpx >/dev/null || fail "nghttpx missing (tests/deps.sh)"
	https_certs
	https_nghttpx 8460
	conf t.conf <<-EOC
	proxy ng https://$P4:8460 ca=$CD/ca.crt
	via ng 198.18.1.0/24
	EOC
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	m=$(mark)
	run pw -c t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	https_nghttpx_stop
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	grep -q "CONNECT $W4:80" ng-access.log ||
	    fail "nghttpx did not log the CONNECT: $(cat ng-access.log)"
}

# A chain whose first hop is https: tinyproxy (behind stunnel) connects
# to dante, which reaches the world.
tcase https_chain_first_hop
tc_https_chain_first_hop() {
	local m n
	need_prog curl
	https_certs
	https_stunnel good.pem 8453
	conf t.conf <<-EOC
	proxy tls https://$P4:8453 ca=$CD/ca.crt
	proxy d $U_DANTE
	via tls>d 198.18.1.0/24
	EOC
	m=$(mark)
	n=$(pcount dante "$W4" 80)
	run pw -c t.conf curl -sS -m 10 "http://$W4$m"
	https_stop
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	proxy_saw dante "$W4" 80 "$n"
	proxy_saw tiny "$P4" 1080 0
}

# http2=on through nghttpx: 50 tunnels at once are 50 streams of one TCP
# connection from the session (ss in the proxy's namespace, while the
# session runs), all answered, the audit log naming their streams.
tcase https_h2_50
tc_https_h2_50() {
	local n
	command -v nghttpx >/dev/null || fail "nghttpx missing (tests/deps.sh)"
	https_certs
	https_nghttpx 8470
	conf t.conf <<-EOC
	proxy ng https://$P4:8470 ca=$CD/ca.crt http2=on
	via ng 198.18.1.0/24
	EOC
	run -t 60 pw --log "$CD/audit.log" -c t.conf sh -c "
	    '$TOP/${PW_BUILD:-build}/bin/pwclient' threads 50 $W4 80 /h2-50 | tail -n 1
	    ip netns exec '$NSP' ss -Htn state established '( sport = :8470 )' |
	        wc -l | sed 's/^/CONNS /'"
	https_nghttpx_stop
	expect_rc 0
	expect_out_has "ok 50/50"
	expect_out_has "CONNS 1"
	n=$(grep -c "CONNECT $W4:80 HTTP/2\" 200" ng-access.log || true)
	[ "$n" -ge 50 ] || fail "nghttpx logged $n HTTP/2 CONNECTs, wanted 50"
	n=$(grep -c '"proxy_h2":{"stream":[0-9]*,"shared":true}' audit.log || true)
	[ "$n" -ge 49 ] || fail "$n connect events on a shared connection"
}

# A slow reader on one stream does not stall the others: it reads
# nothing while 20 GETs go one after another over the same connection,
# then gets its 32 MiB whole (its stream's window held it back, not the
# connection's).
tcase https_h2_slow_reader
tc_https_h2_slow_reader() {
	local spid
	command -v nghttpx >/dev/null || fail "nghttpx missing (tests/deps.sh)"
	https_certs
	https_nghttpx 8471
	ip netns exec "$NSW" "$PY" "$PW_INTEG_DIR/halfclose.py" send "$W4" 81 \
	    33554432 </dev/null >hc.log 2>&1 &
	spid=$!
	env_wait_port "$NSW" "$W4" 81 10 || fail "sender did not start"
	conf t.conf <<-EOC
	proxy ng https://$P4:8471 ca=$CD/ca.crt http2=on
	via ng 198.18.1.0/24
	EOC
	run -t 60 pw -c t.conf "$PY" "$PW_INTEG_DIR/halfclose.py" slow "$W4" 81 \
	    33554432 "$W4" 80 20
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	https_nghttpx_stop
	expect_rc 0
	expect_out_re "OTHERS ok 20 in [0-4]\.[0-9]+ s"
	expect_out_has "SLOW ok 33554432"
}

# http2=on to a proxy that offers only HTTP/1.1 (stunnel: no ALPN h2):
# as curl, HTTP/1.1 CONNECT, one connection per tunnel.
tcase https_h2_fallback
tc_https_h2_fallback() {
	local m
	https_certs
	https_stunnel good.pem 8472
	conf t.conf <<-EOC
	proxy tls https://$P4:8472 ca=$CD/ca.crt http2=on
	via tls 198.18.1.0/24
	EOC
	m=$(mark)
	run pw --log "$CD/audit.log" -c t.conf sh -c "'$PY' '$PYC' get $W4 80 $m-1 && '$PY' '$PYC' get $W4 80 $m-2"
	https_stop
	expect_rc 0
	world_saw "$m-1" "$PW4"
	world_saw "$m-2" "$PW4"
	grep -q '"proxy_tls":"TLSv1.3"' audit.log || fail "no TLS in the audit log"
	if grep -q '"proxy_h2"' audit.log; then fail "h2 claimed over HTTP/1.1"; fi
}
