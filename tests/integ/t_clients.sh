# t_clients.sh - real programs with their own socket styles under the shim:
# python (blocking, asyncio, non-blocking), node, socat, ssh-keyscan; the
# server-first banner survives; getpeername() names the destination.

tcase python_blocking smoke
tc_python_blocking() {
	local m
	m=$(mark)
	run pw -p "$U_DANTE" "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

tcase python_asyncio
tc_python_asyncio() {
	local name m
	for name in dante squid; do
		m=$(mark)
		run pw -p "$(proxy_url $name)" "$PY" "$PYC" asyncio "$W4" 80 "$m"
		expect_rc 0
		expect_out_has "world $W4:80 $m"
		world_saw "$m" "$PW4"
	done
}

tcase node_http_and_net
tc_node_http_and_net() {
	local m
	command -v node >/dev/null || fail "node is not installed"
	m=$(mark)
	run pw -p "$U_DANTE" node -e '
		const http = require("http");
		http.get({host: process.argv[1], port: 80, path: process.argv[2]},
		    (res) => { let b = ""; res.on("data", (d) => b += d);
			res.on("end", () => console.log("HTTP", res.statusCode, b.trim())); })
		    .on("error", (e) => { console.log("ERR", e.code); process.exit(3); });
	' "$W4" "$m"
	expect_rc 0
	expect_out_has "HTTP 200 world $W4:80 $m"
	world_saw "$m" "$PW4"
	run pw -p "$U_TINY" node -e '
		const net = require("net");
		const s = net.connect({host: process.argv[1], port: 2222}, () => {});
		let b = "";
		s.on("data", (d) => { b += d; if (b.includes("\n")) {
			console.log("BANNER", b.split("\r\n")[0]);
			console.log("REMOTE", s.remoteAddress, s.remotePort); s.end(); } });
		s.on("error", (e) => { console.log("ERR", e.code); process.exit(3); });
		setTimeout(() => { console.log("TIMEOUT"); process.exit(4); }, 15000).unref();
	' "$W4"
	expect_rc 0
	expect_out_has "BANNER PWBANNER-0123456789 hello"
	expect_out_has "REMOTE $W4 2222"
}

# socat half-closes its socket when stdin ends; microsocks (like many
# relays) then closes both directions before the answer comes back, with or
# without a shim.  shut-none keeps the write side open until the server
# closes, which is what this test is about: socat's bytes through the shim.
tcase socat_world
tc_socat_world() {
	local m
	m=$(mark)
	run pw -p "$U_MS" sh -c "printf 'GET $m HTTP/1.0\r\n\r\n' | socat -t 5 -T 10 - TCP:$W4:80,shut-none"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

# The banner arrives in the same segment as (or right after) the proxy's
# reply: not one byte may be lost, through every kind of proxy.
tcase banner_every_proxy smoke
tc_banner_every_proxy() {
	local name
	for name in dante dante_user tiny squid ms; do
		run pw -p "$(proxy_url $name)" "$PY" "$PYC" banner "$W4" 2222
		expect_rc 0
		if ! grep -qx "BANNER PWBANNER-0123456789 hello" out; then
			show
			fail "banner damaged through $name"
		fi
		expect_out_has "ECHO ping-pw"
	done
}

tcase ssh_keyscan_every_proxy smoke
tc_ssh_keyscan_every_proxy() {
	local name key
	key=$(awk '{print $2}' "$T/ssh_host_ed25519_key.pub")
	for name in dante dante_user tiny squid ms; do
		run pw -p "$(proxy_url $name)" ssh-keyscan -T 10 -t ed25519 "$W4"
		if ! grep -qF "$W4 ssh-ed25519 $key" out; then
			show
			fail "ssh-keyscan through $name did not print the host key"
		fi
	done
	# IPv6 destination through dante.
	run pw -p "$U_DANTE" ssh-keyscan -T 10 -t ed25519 "$W6"
	if ! grep -qF "ssh-ed25519 $key" out; then
		show
		fail "ssh-keyscan to [$W6] through dante did not print the host key"
	fi
}

tcase getpeername_is_destination smoke
tc_getpeername_is_destination() {
	local name
	for name in dante tiny; do
		run pw -p "$(proxy_url $name)" "$PY" "$PYC" peer "$W4" 80
		expect_rc 0
		if ! grep -qx "PEER $W4 80" out; then
			show
			fail "getpeername through $name is not $W4 80"
		fi
	done
	run pw -p "$U_DANTE" "$PY" "$PYC" peer "$W6" 443
	expect_rc 0
	grep -qx "PEER $W6 443" out || { show; fail "getpeername (v6) is not $W6 443"; }
}

tcase nonblocking_connect smoke
tc_nonblocking_connect() {
	local name m
	for name in dante squid ms; do
		m=$(mark)
		run pw -p "$(proxy_url $name)" "$PY" "$PYC" nonblock "$W4" 80 "$m"
		expect_rc 0
		expect_out_re "^CONNECT (0|EINPROGRESS)$"
		expect_out_has "SO_ERROR 0"
		expect_out_has "PEER $W4 80"
		expect_out_has "world $W4:80 $m"
		world_saw "$m" "$PW4"
	done
	# A failure comes through SO_ERROR (or connect itself), never direct.
	conf t.conf <<-EOC
	proxy down socks5://$P4:1999
	via down *
	EOC
	m=$(mark)
	run pw -c t.conf "$PY" "$PYC" nonblock "$P4" 8080 "$m"
	expect_rc 3
	expect_errno ECONNREFUSED
	nobody_saw "$m"
}


# The decisions again with a python client only (the sanitizer run's
# smoke set cannot run curl under a preloaded ASan runtime).
tcase python_rules_and_auth smoke
tc_python_rules_and_auth() {
	local m
	conf t.conf <<-EOC
	proxy sq $U_SQUID
	proxy bad http://$SQUID_USER:Wr0ngPw-73z@$P4:3128
	proxy du $U_DANTE_USER
	direct 198.18.0.0/24
	block 198.18.1.3
	via bad 198.18.1.2:443
	via du 198.18.1.2:22
	via sq *
	EOC
	m=$(mark)
	run pw -c t.conf "$PY" "$PYC" get "$P4" 8080 "$m"
	expect_rc 0
	local_saw "$m" "$C4"
	run pw -c t.conf "$PY" "$PYC" connect "$WB4" 80
	expect_rc 3
	expect_errno EACCES
	expect_err_re "blocked 198\.18\.1\.3:80 \(([^ ]*/)?t\.conf:5 block"
	run pw -c t.conf "$PY" "$PYC" connect "$W4" 443
	expect_rc 3
	expect_errno EACCES
	expect_err_re "proxy authentication required"
	expect_err_lacks Wr0ngPw-73z
	m=$(mark)
	run pw -v -c t.conf "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	expect_err_lacks "$SQUID_PASS"
	run pw -v -c t.conf "$PY" "$PYC" banner "$W4" 22
	expect_rc 0
	expect_out_re "^BANNER SSH-2\.0-"
	expect_err_lacks "$PW_USER_PASS"
}
