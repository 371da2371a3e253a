# t_dns.sh - names: remote or local resolution per rule, no DNS leaks,
# fake addresses shared by a session.  Every case proves where the query
# and the traffic arrived, and where they did not.
#
# Each case starts its own dnsmasq in the client namespace (127.0.0.1:53,
# --log-queries to $CD/dnsq.log) that knows only the local name
# db.lan.test (the local server 198.18.0.1:8080), and points the client's
# /etc/netns/NSC/resolv.conf at it for the duration of the case (restored
# on exit).  The proxies resolve world names through the world's dnsmasq
# (env.sh: www.world.test -> 198.18.1.2 and 2001:db8:1::2).

DNS_LOCAL=db.lan.test
DNS_WORLD=www.world.test
DNS_BLOCKED=blocked.world.test
DNS_PY=$PW_INTEG_DIR/dns_client.py
DNS_JS=$PW_INTEG_DIR/dns_client.js

_dns_restore() {
	if [ -f "$CD/resolv.saved" ]; then
		cat "$CD/resolv.saved" >"/etc/netns/$NSC/resolv.conf"
		rm -f "$CD/resolv.saved"
	fi
	if [ -s "$CD/dnsmasq-c.pid" ]; then
		kill "$(cat "$CD/dnsmasq-c.pid")" 2>/dev/null || true
	fi
}

# dns_env: the client's query-logging resolver, and the rule files
# socks.conf (socks5h dante) and http.conf (tinyproxy).
dns_env() {
	local i
	cp "/etc/netns/$NSC/resolv.conf" "$CD/resolv.saved"
	trap _dns_restore EXIT
	trap 'exit 143' TERM INT
	printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
	    >"/etc/netns/$NSC/resolv.conf"
	: >"$CD/dnsq.log"
	ip netns exec "$NSC" dnsmasq --no-resolv --no-hosts --user=root \
	    --listen-address=127.0.0.1 --bind-interfaces --port=53 \
	    --log-queries --log-facility="$CD/dnsq.log" \
	    --pid-file="$CD/dnsmasq-c.pid" \
	    --address="/$DNS_LOCAL/$P4" >"$CD/dnsmasq-c.out" 2>&1 </dev/null ||
	    fail "client dnsmasq did not start: $(cat "$CD/dnsmasq-c.out")"
	for i in $(seq 1 50); do
		[ -s "$CD/dnsmasq-c.pid" ] && break
		sleep 0.1
	done
	env_wait_udp "$NSC" 127.0.0.1 53 5 || fail "client dnsmasq not listening"
	conf socks.conf <<-EOC
	proxy p socks5h://$P4:1080
	direct .lan.test
	via p *
	EOC
	conf http.conf <<-EOC
	proxy p $U_TINY
	direct .lan.test
	via p *
	EOC
}

# dnsq_has NAME / dnsq_lacks NAME: the client's resolver was (not) asked.
dnsq_has() {
	sleep 0.2
	if ! grep -qF "] $1 from" "$CD/dnsq.log"; then
		show
		say "client resolver log: $(tail -n 5 "$CD/dnsq.log")"
		fail "the client's resolver was never asked for $1"
	fi
}

dnsq_lacks() {
	local hit
	sleep 0.2
	hit=$(grep -F " $1 from" "$CD/dnsq.log" | head -n 3 || true)
	if [ -n "$hit" ]; then
		show
		say "leaked: $hit"
		fail "the client's resolver was asked for $1"
	fi
}

# Connections dante made to the world's web server (it logs addresses).
dante_world() {
	echo $(($(pcount dante "$W4" 80) + $(pcount dante "$W6" 80)))
}

# A local name direct and a world name through the proxy, in one program
# run, for the socks5h proxy and the HTTP proxy.
tcase dns_local_direct_world_proxied
tc_dns_local_direct_world_proxied() {
	local m1 m2 c n lm=()
	dns_env
	for c in socks http; do
		m1=$(mark)
		m2=$(mark)
		lm+=("$m1")
		if [ $c = socks ]; then
			n=$(dante_world)
		else
			n=$(pcount tiny "$DNS_WORLD" 80)
		fi
		run pw -c $c.conf "$PY" "$DNS_PY" both "$DNS_LOCAL" 8080 \
		    "$DNS_WORLD" 80 "$m1" "$m2"
		expect_rc 0
		expect_out_has "local $P4:8080 $m1"
		expect_out_re "world ($W4:80|$W6:80) $m2"
		world_saw "$m2" "\\($PW4\\|$PW6\\)"
		nobody_saw_from_client "$m2"
		# The proxy carried it (tinyproxy logs the name it was given).
		if [ $c = socks ]; then
			[ "$(dante_world)" -gt "$n" ] || fail "dante did not carry $m2"
		else
			proxy_saw tiny "$DNS_WORLD" 80 "$n"
		fi
	done
	dnsq_has "$DNS_LOCAL"
	dnsq_lacks "$DNS_WORLD"
	# The local name went direct: from the client's own address, not
	# from a proxy (198.18.1.1 / 198.18.0.1).
	for m1 in "${lm[@]}"; do
		local_saw "$m1" "$C4"
	done
}

# The world server saw MARK only from the proxy, never from the client.
nobody_saw_from_client() {
	if grep -F " \"GET $1 " "$T/log/world-access.log" | grep -q "^$C4 \|^$C6 "; then
		fail "the world saw $1 straight from the client"
	fi
}

# No query for a remote name reaches the client's resolver, whatever the
# program asks with.
tcase dns_no_leak
tc_dns_no_leak() {
	local m
	dns_env
	# The log check can fail: a local name is looked up there.
	run pw -c socks.conf getent hosts "$DNS_LOCAL"
	expect_rc 0
	expect_out_has "$P4"
	dnsq_has "$DNS_LOCAL"

	need_prog curl
	m=$(mark)
	run pw -c socks.conf curl -sS -m 10 "http://$DNS_WORLD$m"
	expect_rc 0
	world_saw "$m" "\\($PW4\\|$PW6\\)"

	m=$(mark)
	run pw -c socks.conf "$PY" "$DNS_PY" calls "$DNS_WORLD" 80 "$m"
	expect_rc 0
	expect_out_re '^GHBN 2(4[0-9]|5[0-5])\.'
	expect_out_has "world "
	world_saw "$m" "\\($PW4\\|$PW6\\)"

	run pw -c socks.conf getent hosts "$DNS_WORLD"
	expect_rc 0
	expect_out_has "$DNS_WORLD"
	expect_out_lacks "$W4"

	run pw -c socks.conf getent ahosts "$DNS_WORLD"
	expect_rc 0
	expect_out_lacks "$W4"

	need_prog node
	m=$(mark)
	run pw -c socks.conf node "$DNS_JS" "$DNS_WORLD" 80 "$m"
	expect_rc 0
	expect_out_has "STATUS 200"
	world_saw "$m" "\\($PW4\\|$PW6\\)"

	need_prog ssh-keyscan
	run pw -c socks.conf ssh-keyscan -T 10 -t ed25519 "$DNS_WORLD"
	cp out keyscan.out
	dnsq_lacks "$DNS_WORLD"
	expect_rc 0
	# The key of the world's sshd, reached by name (ssh-keyscan first
	# asks getaddrinfo with AI_NUMERICHOST whether the name is an
	# address: it must say no, as glibc does).
	expect_out_re "^$DNS_WORLD ssh-ed25519 "
	grep -qF "$(cut -d' ' -f2 "$T/ssh_host_ed25519_key.pub")" keyscan.out ||
	    { show; fail "not the world sshd's key"; }
}

# AI_NUMERICHOST: a name is not a number, even a remote one (glibc:
# EAI_NONAME, -2), and asking is not a query.
tcase dns_numerichost
tc_dns_numerichost() {
	dns_env
	run pw -c socks.conf "$PY" "$DNS_PY" numeric "$DNS_WORLD"
	expect_rc 0
	expect_out_has "NUMERIC 0 GAIERROR -2"
	expect_out_has "NUMERIC 2 GAIERROR -2"
	expect_out_has "NUMERIC 10 GAIERROR -2"
	run pw -c socks.conf "$PY" "$DNS_PY" numeric "$DNS_LOCAL"
	expect_rc 0
	expect_out_has "NUMERIC 0 GAIERROR -2"
	dnsq_lacks "$DNS_WORLD"
	dnsq_lacks "$DNS_LOCAL"
}

# A program that asks for AF_INET6 (tests/bin/v6client; wget -6) gets an
# IPv6 fake, and the proxy still gets the name.  (curl 7.88's -6 asks for
# AF_UNSPEC and filters: it finds no IPv6 answer, README's DNS section.)
tcase dns_ipv6_fake
tc_dns_ipv6_fake() {
	local m n
	dns_env
	n=$(dante_world)
	m=$(mark)
	run pw -v -c socks.conf "$TOP/${PW_BUILD:-build}/bin/v6client" block \
	    dual "$DNS_WORLD" 80 "$m"
	expect_rc 0
	expect_out_re '^dst \[fd70:7277:7261:'
	expect_err_re "dns $DNS_WORLD: remote \\(fake fd70:7277:7261:"
	world_saw "$m" "\\($PW4\\|$PW6\\)"
	[ "$(dante_world)" -gt "$n" ] || fail "dante did not carry $m"
	n=$(pcount tiny "$DNS_WORLD" 80)
	m=$(mark)
	if command -v wget >/dev/null; then
		run pw -c http.conf wget -6 -q -O- -T 10 -t 1 "http://$DNS_WORLD$m"
	else
		run pw -c http.conf "$TOP/${PW_BUILD:-build}/bin/v6client" \
		    nonblock dual "$DNS_WORLD" 80 "$m"
	fi
	expect_rc 0
	world_saw "$m" "\\($PW4\\|$PW6\\)"
	proxy_saw tiny "$DNS_WORLD" 80 "$n"
	dnsq_lacks "$DNS_WORLD"
}

# A blocked name: the program fails, one log line names the rule, and the
# name is never looked up.
tcase dns_blocked_name smoke
tc_dns_blocked_name() {
	need_prog curl
	local m
	dns_env
	conf b.conf <<-EOC
	proxy p socks5h://$P4:1080
	direct .lan.test
	block $DNS_BLOCKED
	via p *
	EOC
	m=$(mark)
	run pw -c b.conf curl -sS -m 10 "http://$DNS_BLOCKED$m"
	expect_rc 6
	expect_err_re "proxywrap: blocked name $DNS_BLOCKED \\(([^ ]*/)?b\\.conf:3 block $DNS_BLOCKED"
	[ "$(grep -c 'proxywrap: blocked' err)" = 1 ] ||
	    { show; fail "wanted one log line for the blocked name"; }
	nobody_saw "$m"
	run pw -c b.conf "$PY" "$DNS_PY" resolve "$DNS_BLOCKED"
	expect_rc 4
	expect_out_re '^GAIERROR -?[0-9]+'
	expect_err_re "blocked name $DNS_BLOCKED \\(([^ ]*/)?b\\.conf:3 block"
	dnsq_lacks "$DNS_BLOCKED"
	# Other names are unaffected.
	run pw -c b.conf getent hosts "$DNS_LOCAL"
	expect_rc 0
	dnsq_has "$DNS_LOCAL"
}

# One process resolves and exits; another process of the same session
# connects to the fake address it printed.
tcase dns_session_shared smoke
tc_dns_session_shared() {
	local m
	dns_env
	m=$(mark)
	run pw -c socks.conf sh -c '"$1" "$2" resolve "$3" >"$4" &&
	    wait && "$1" "$2" get "$(cat "$4")" 80 "$5"' sh \
	    "$PY" "$DNS_PY" "$DNS_WORLD" "$CD/fake" "$m"
	expect_rc 0
	grep -qE '^2(4[0-9]|5[0-5])\.[0-9]+\.[0-9]+\.[0-9]+$' fake ||
	    { show; fail "not a fake address: $(cat fake)"; }
	expect_out_has "world "
	world_saw "$m" "\\($PW4\\|$PW6\\)"
	dnsq_lacks "$DNS_WORLD"
}

# --explain says where the name is resolved.
tcase dns_explain
tc_dns_explain() {
	dns_env
	run pw --explain "$DNS_WORLD:80" -c socks.conf
	expect_rc 0
	expect_out_re 'dns: remote'
	run pw --explain "$DNS_WORLD:80" -c http.conf
	expect_rc 0
	expect_out_re 'dns: remote'
	run pw --explain "$DNS_LOCAL:8080" -c socks.conf
	expect_rc 0
	expect_out_re 'dns: local'
	expect_out_has "$P4"
	dnsq_lacks "$DNS_WORLD"
}

# node exports its own c-ares symbols: under the shim both must work
# (dns.resolve4 is node's c-ares, dns.lookup is ours).
tcase dns_node
tc_dns_node() {
	need_prog node
	local m lm
	dns_env
	m=$(mark)
	run shim socks.conf node "$DNS_JS" "$DNS_WORLD" 80 "$m"
	expect_rc 0
	expect_out_has "STATUS 200"
	world_saw "$m" "\\($PW4\\|$PW6\\)"
	lm=$(mark)
	run pw -c socks.conf node "$DNS_JS" "$DNS_LOCAL" 8080 "$lm" "$DNS_LOCAL"
	expect_rc 0
	expect_out_has "RESOLVE4 $P4"
	expect_out_has "LOOKUP 4 $P4"
	expect_out_has "local $P4:8080 $lm"
	dnsq_lacks "$DNS_WORLD"
	local_saw "$lm" "$C4"
}

# fake_pool bounds the table: a /28 holds 14 names; the 15th new name
# fails with EAI_AGAIN and one log line, and the earlier ones keep working.
tcase dns_fake_pool_full
tc_dns_fake_pool_full() {
	conf pool.conf <<-EOC
	fake_pool 198.18.7.0/28
	proxy p socks5h://$P4:1080
	via p *
	EOC
	run pw -c pool.conf "$PY" -c '
import socket
for i in range(1, 16):
    try:
        a = socket.getaddrinfo("n%d.world.test" % i, 80, socket.AF_INET)[0][4][0]
        print("name", i, a)
        if i == 1:
            print("reverse", socket.getnameinfo((a, 80), 0)[0],
                  socket.gethostbyaddr(a)[0])
    except socket.gaierror as e:
        print("name", i, "error", e.errno)
'
	expect_rc 0
	expect_out_re "^name 1 198\.18\.7\.[0-9]+$"
	# a fake address answers reverse lookups with its name
	expect_out_has "reverse n1.world.test n1.world.test"
	expect_out_re "^name 14 198\.18\.7\.[0-9]+$"
	expect_out_has "name 15 error $("$PY" -c 'import socket; print(socket.EAI_AGAIN)')"
	expect_err_re "fake address table full"
}

# Two processes of one session resolve while both are alive: the second
# must not wait for the first to exit (the table's first-use lock must not
# outlive the sizing of the file; a mapping keeps a flock alive).
tcase dns_session_concurrent
tc_dns_session_concurrent() {
	conf cc.conf <<-EOC
	proxy p socks5h://$P4:1080
	via p *
	EOC
	run pw -c cc.conf sh -c '
		"$0" -c "import socket, time; socket.getaddrinfo(\"first.world.test\", 80); time.sleep(6)" &
		sleep 1
		start=$(date +%s%N)
		getent ahostsv4 second.world.test >/dev/null || echo "lookup failed"
		echo "waited_ms $(( ($(date +%s%N) - start) / 1000000 ))"
		wait' "$PY"
	expect_rc 0
	expect_out_lacks "lookup failed"
	expect_out_re "^waited_ms [0-9]{1,3}$"
}
