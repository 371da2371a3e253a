# t_https.sh - https:// proxies: TLS to the proxy runs in proxywrap's
# relay, never in the program.  stunnel (in the proxy namespace) puts TLS
# in front of tinyproxy, with certificates made here: a CA, a server
# certificate for the proxy's address and name, an expired one, one for
# another name, and a second CA that signed none of them.

# https_certs: ca.crt, ca2.crt, good.pem, expired.pem, wrongname.pem in $CD.
https_certs() {
	local c
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pw-test-ca \
	    -keyout ca.key -out ca.crt >/dev/null 2>&1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pw-other-ca \
	    -keyout ca2.key -out ca2.crt >/dev/null 2>&1
	for c in good expired wrongname; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$c" \
		    -keyout "$c.key" -out "$c.csr" >/dev/null 2>&1
	done
	printf 'subjectAltName=IP:%s,DNS:proxy.test\n' "$P4" >good.ext
	printf 'subjectAltName=DNS:other.test\n' >wrongname.ext
	openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	    -days 2 -extfile good.ext -out good.crt >/dev/null 2>&1
	openssl x509 -req -in wrongname.csr -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile wrongname.ext \
	    -out wrongname.crt >/dev/null 2>&1
	# expired: a minimal `openssl ca` can date it in the past
	mkdir -p ca.db
	: >ca.db/index.txt
	echo 01 >ca.db/serial
	cat >ca.cnf <<-EOC
	[ca]
	default_ca = d
	[d]
	database = $CD/ca.db/index.txt
	serial = $CD/ca.db/serial
	new_certs_dir = $CD/ca.db
	default_md = sha256
	policy = p
	copy_extensions = none
	[p]
	commonName = supplied
	[x]
	subjectAltName = IP:$P4,DNS:proxy.test
	EOC
	openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key \
	    -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extensions x -in expired.csr -out expired.crt >/dev/null 2>&1
	for c in good expired wrongname; do
		[ -s "$c.crt" ] || fail "could not make the $c certificate"
		cat "$c.crt" "$c.key" >"$c.pem"
	done
}

# https_stunnel CERT PORT: stunnel on $P4:PORT in front of tinyproxy;
# its pid in STPID.
https_stunnel() {
	cat >"st-$2.conf" <<-EOC
	foreground = yes
	pid =
	debug = 4
	[https]
	accept = $P4:$2
	connect = $P4:8888
	cert = $CD/$1
	EOC
	ip netns exec "$NSP" stunnel4 "st-$2.conf" >"st-$2.log" 2>&1 </dev/null &
	STPID=$!
	env_wait_port "$NSP" "$P4" "$2" 10 || fail "stunnel did not start"
}

https_stop() {
	kill "$STPID" 2>/dev/null || true
	wait "$STPID" 2>/dev/null || true
}

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
	run pw --log "$CD/audit.log" -c t.conf curl -sS -m 10 "http://$W4$m"
	https_stop
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	proxy_saw tiny "$W4" 80 "$n"
	grep -q '"proxy_tls":"TLSv1.3"' audit.log ||
	    fail "the audit log does not show the proxy's TLS version"
}
