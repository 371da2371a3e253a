# t_harden.sh - hardening (issue 13): DNS that must not leave this host
# through the resolver's other entry points, and bad input that must get
# the kernel's or glibc's answer, never a hang, a crash or a raw byte.
#
# The DNS cases use t_dns.sh's query-logging resolver (dns_env: dnsmasq
# on the client's 127.0.0.1:53, --log-queries): each shows that no query
# for the name arrived, and, with a name whose rule is direct, that the
# same probe does reach it (so a leak could be seen).

declare -F dns_env >/dev/null || . "$PW_INTEG_DIR/t_dns.sh"

DNSPROBE=$TOP/${PW_BUILD:-build}/bin/dnsprobe

need_dnsprobe() {
	[ -x "$DNSPROBE" ] || { printf '# SKIP: no %s (make testbins)\n' "$DNSPROBE" >&2; exit 77; }
}

# expect_fake: the probe's answer is a fake address (240/4 or the ULA).
expect_fake() {
	expect_out_re ' (240\.[0-9.]+|fd70:7277:7261:[0-9a-f:]+)($| )'
}

# res_query and its relatives, the old __res_query@GLIBC_2.2.5 and
# res_send: a remote name's A/AAAA comes from the fake table, other types
# are refused with one log line, and nothing reaches the resolver.
tcase harden_res_remote smoke
tc_harden_res_remote() {
	need_dnsprobe
	local how a b
	dns_env
	for how in query search nquery oldquery send; do
		run shim socks.conf "$DNSPROBE" $how "$DNS_WORLD" A
		expect_rc 0
		expect_out_re '^rc=[1-9][0-9]* herr=0 rcode=0 an=1 240\.'
	done
	run shim socks.conf "$DNSPROBE" query "$DNS_WORLD" AAAA
	expect_out_re 'an=1 fd70:7277:7261:'
	run shim socks.conf "$DNSPROBE" querydomain www world.test A
	expect_fake
	dnsq_lacks "$DNS_WORLD"
	# the fake is the session's: getaddrinfo in another process of the
	# same proxywrap session gets the same address
	run pw -c socks.conf sh -c "'$DNSPROBE' query $DNS_WORLD A; '$DNSPROBE' gai $DNS_WORLD"
	a=$(sed -n 's/^rc=.* an=1 \([0-9.]*\)$/\1/p' out)
	b=$(sed -n 's/^gai=0 first=\(.*\)$/\1/p' out)
	[ -n "$a" ] && [ "$a" = "$b" ] || { show; fail "res_query gave '$a', getaddrinfo '$b'"; }
	# SRV (apt's lookups) and TXT: refused, one line each, no query
	run shim_env SHIM_CONFIG=socks.conf SHIM_LOG="$CD/audit.json" -- \
	    "$DNSPROBE" query "_http._tcp.$DNS_WORLD" SRV
	expect_out_has "rc=-1 herr=3"
	expect_err_re "^proxywrap: refused a SRV query for _http\._tcp\.www\.world\.test: .* \(socks\.conf:3 via p \*\)"
	[ "$(err_lines)" = 1 ] || { show; fail "wanted one log line"; }
	[ "$(grep -c '"event":"resolve".*"action":"block".*SRV query refused' audit.json)" = 1 ] ||
	    { cat audit.json >&2; fail "wanted one audit event for the refusal"; }
	run shim socks.conf "$DNSPROBE" send "$DNS_WORLD" TXT
	expect_out_re '^rc=[1-9][0-9]* herr=0 rcode=5 an=0'
	expect_err_re "refused a TXT query for www\.world\.test"
	dnsq_lacks "_http._tcp.$DNS_WORLD"
	dnsq_lacks "$DNS_WORLD"
	# a name whose rule is direct is asked, through the same calls
	run shim socks.conf "$DNSPROBE" query "$DNS_LOCAL" A
	expect_out_re "an=1 $P4"
	dnsq_has "$DNS_LOCAL"
}

# Strict mode: a name no rule names is blocked (NXDOMAIN, no query).
tcase harden_res_strict
tc_harden_res_strict() {
	need_dnsprobe
	dns_env
	conf strict.conf <<-EOC
	strict on
	direct .lan.test
	EOC
	run shim strict.conf "$DNSPROBE" query "_ldap._tcp.$DNS_WORLD" SRV
	expect_out_has "rc=-1 herr=1"
	expect_err_re "blocked name _ldap\._tcp\.www\.world\.test .*strict"
	run shim strict.conf "$DNSPROBE" send "$DNS_WORLD" A
	expect_out_re 'rcode=3 an=0'
	dnsq_lacks "$DNS_WORLD"
	run shim strict.conf "$DNSPROBE" send "$DNS_LOCAL" A
	expect_out_re "rcode=0 an=1 $P4"
	dnsq_has "$DNS_LOCAL"
}

# getaddrinfo_a: glibc resolves its requests without calling getaddrinfo.
tcase harden_gai_a
tc_harden_gai_a() {
	need_dnsprobe
	local how
	dns_env
	for how in wait nowait thread; do
		run shim socks.conf "$DNSPROBE" gai_a "$DNS_WORLD" $how
		expect_rc 0
		expect_out_re 'submit=0 error=0 gai=0 first=(240\.|fd70:)'
	done
	expect_out_has "notified=1"
	dnsq_lacks "$DNS_WORLD"
	run shim socks.conf "$DNSPROBE" gai_a "$DNS_LOCAL" wait
	expect_out_has "error=0 gai=0 first=$P4"
	dnsq_has "$DNS_LOCAL"
}

# RFC 6761: names under .localhost are loopback, and no query is sent.
# Without the shim glibc asks the resolver (so the log can show a leak).
tcase harden_localhost smoke
tc_harden_localhost() {
	need_dnsprobe
	local n
	dns_env
	run shim socks.conf "$DNSPROBE" gai app.localhost
	expect_out_re 'gai=0 first=(::1|127\.0\.0\.1)$'
	run shim socks.conf "$DNSPROBE" query web.app.localhost A
	expect_out_re 'an=1 127\.0\.0\.1$'
	run shim socks.conf "$DNSPROBE" query web.app.localhost MX
	expect_out_has "rc=-1 herr=4"
	run shim socks.conf "$DNSPROBE" gai_a other.localhost wait
	expect_out_re 'gai=0 first=(::1|127\.0\.0\.1)$'
	run shim socks.conf "$PY" -c 'import socket; print(socket.gethostbyname("x.localhost"))'
	expect_out_has "127.0.0.1"
	for n in app.localhost web.app.localhost other.localhost x.localhost; do
		dnsq_lacks $n
	done
	run inc "$DNSPROBE" gai app.localhost
	dnsq_has app.localhost
}

# Reverse lookups: a PTR query leaves only for an address whose rule is
# direct (getnameinfo, gethostbyaddr, res_query of the reverse name).
tcase harden_ptr
tc_harden_ptr() {
	need_dnsprobe
	local r6
	dns_env
	conf ptr.conf <<-EOC
	proxy p socks5h://$P4:1080
	direct $P4
	via p *
	EOC
	run shim ptr.conf "$DNSPROBE" ni "$W4"
	expect_out_has "ni=0 host=$W4"
	run shim ptr.conf "$DNSPROBE" ni "$W4" namereqd
	expect_out_has "ni=-2 host=-"
	run shim ptr.conf "$DNSPROBE" hba "$W4"
	expect_out_has "hba=- herr=1"
	run shim ptr.conf "$DNSPROBE" query 2.1.18.198.in-addr.arpa PTR
	expect_out_has "rc=-1 herr=1"
	run shim ptr.conf "$DNSPROBE" ni "$W6"
	expect_out_has "ni=0 host=$W6"
	dnsq_lacks 2.1.18.198.in-addr.arpa
	r6=$("$PY" -c 'import ipaddress; print(ipaddress.ip_address("'"$W6"'").reverse_pointer)')
	dnsq_lacks "$r6"
	# the address whose rule is direct is asked; so is W4 without the shim
	run shim ptr.conf "$DNSPROBE" ni "$P4"
	dnsq_has 1.0.18.198.in-addr.arpa
	run inc "$DNSPROBE" ni "$W4"
	dnsq_has 2.1.18.198.in-addr.arpa
}

# Names glibc will not send to a server fail as glibc fails them, and
# never reach the proxy as a fake address.
tcase harden_bad_names
tc_harden_bad_names() {
	need_dnsprobe
	local n plain
	dns_env
	for n in "a b.world.test" "a	b.world.test" "a;b.world.test" \
	    "$(printf 'a\nb.world.test')" "-a.world.test"; do
		run inc "$DNSPROBE" gai "$n"
		plain=$(cat out)
		run shim socks.conf "$DNSPROBE" gai "$n"
		[ "$(cat out)" = "$plain" ] || { show; fail "'$n': '$(cat out)', glibc says '$plain'"; }
		expect_out_has "gai=-2 first=-"
	done
	run shim socks.conf "$PY" -c 'import socket
try:
    socket.gethostbyname("a b.world.test"); print("resolved")
except socket.gaierror as e:
    print("gaierror", e.errno)'
	expect_out_has "gaierror -2"
}

# A FIFO as rule file: refused at once (both used to hang for ever).
tcase harden_fifo_config smoke
tc_harden_fifo_config() {
	mkfifo rules.fifo
	run -t 10 pw -c "$CD/rules.fifo" true
	[ "$RC" != 124 ] || fail "proxywrap hung on a FIFO"
	expect_fail
	expect_err_re "rules\.fifo: .*not a regular file"
	run -t 10 shim "$CD/rules.fifo" "$PY" -c 'import socket
try:
    socket.create_connection(("'"$P4"'", 8080), 5); print("connected")
except OSError as e:
    print("refused", e.errno)'
	[ "$RC" != 124 ] || fail "a program with a FIFO as SHIM_CONFIG hung"
	expect_out_has "refused"
	expect_err_re "not a regular file \(a FIFO\)"
}

# Raw bytes from the rule file or from a name never reach the terminal.
tcase harden_log_escape
tc_harden_log_escape() {
	need_dnsprobe
	printf 'proxy p socks5h://%s:1080\nvia p *\n\033[2Jbogus\r x\n' "$P4" >esc.conf
	run pw -c esc.conf true
	expect_fail
	expect_err_re 'esc\.conf:3: unknown keyword .\\x1b\[2Jbogus.'
	if grep -q "$(printf '\033')" err; then show; fail "a raw ESC reached stderr"; fi
	# the bare library logs the same error through its own log line
	run shim esc.conf "$PY" -c 'import socket
try:
    socket.create_connection(("'"$P4"'", 8080), 5)
except OSError:
    pass'
	expect_err_re '^proxywrap: .*esc\.conf:3: unknown keyword .\\x1b\[2Jbogus.'
	if grep -q "$(printf '\033')" err; then show; fail "a raw ESC reached stderr"; fi
	# a name with CR, LF and ESC in a log line: DNS text escapes
	conf ok.conf <<-EOC
	proxy p socks5h://$P4:1080
	via p *
	EOC
	run shim ok.conf "$DNSPROBE" query "$(printf 'x\r\nproxywrap: forged\033[31m.world.test')" SRV
	expect_err_re 'refused a SRV query for x\\013\\010proxywrap:\\032forged\\027\[31m\.world\.test'
	if grep -q '^proxywrap: forged' err; then show; fail "a name forged a log line"; fi
	if grep -q "$(printf '[\033\r]')" err; then show; fail "a raw control byte reached stderr"; fi
}

# An IPv6 proxy address without brackets: say so, show the bracketed form.
tcase harden_v6_brackets
tc_harden_v6_brackets() {
	run pw -p socks5h://2001:db8::1:1080 true
	expect_fail
	expect_err_re 'needs brackets: \[2001:db8::1\]:1080'
	expect_err_lacks "IPv4"
	conf v6.conf <<-EOC
	proxy p socks5h://2001:db8::1:1080
	via p *
	EOC
	run pw -c v6.conf true
	expect_fail
	expect_err_re "v6\.conf:1: .*needs brackets: \[2001:db8::1\]:1080"
}

# "100 Continue" before the proxy's 200 is interim (RFC 9110 §15.2): the
# tunnel works and the server's first bytes reach the program.  The proxy
# is a fake (badproxy.py continue): no real proxy sends 1xx to CONNECT.
tcase harden_http_100
tc_harden_http_100() {
	local bp
	rm -f count-continue
	inc "$PY" "$PW_INTEG_DIR/badproxy.py" continue 18097 count-continue 30 \
	    </dev/null >/dev/null 2>&1 &
	bp=$!
	for _ in $(seq 1 50); do [ -s count-continue ] && break; sleep 0.1; done
	conf c.conf <<-EOC
	proxy p http://127.0.0.1:18097
	via p *
	EOC
	run -t 20 shim c.conf "$PY" -c 'import socket
s = socket.create_connection(("'"$W4"'", 22), 10)
print(s.makefile().readline().strip())'
	expect_rc 0
	expect_out_has "BANNER-behind-100"
	kill "$bp" 2>/dev/null || true
}

SENDESC=$TOP/${PW_BUILD:-build}/bin/sendesc

# udp_lacks MSG: the local UDP echo (198.18.0.1:7007, which the client
# reaches without a proxy) never got a datagram with MSG.
udp_lacks() {
	sleep 0.3
	if grep -qF -- "$1" "$T/log/udp-echo-local.log" 2>/dev/null; then
		show
		fail "the UDP echo got $1"
	fi
}

# Datagrams and Fast Open sent the odd ways the kernel still accepts:
# under --strict each is refused with one log line and nothing arrives.
# The client reaches 198.18.0.1 directly, so an escape would arrive;
# it has no route to the world's IPv6 address, where the kernel's
# ENETUNREACH (instead of EACCES) would show the datagram was let go.
tcase harden_udp_escapes smoke
tc_harden_udp_escapes() {
	[ -x "$SENDESC" ] || { printf '# SKIP: no %s\n' "$SENDESC" >&2; exit 77; }
	local how msg m
	conf strict.conf <<-EOC
	strict on
	EOC
	for how in "udp6-24 $W6" "udp6-mapped $P4" "udp6-mapped24 $P4" \
	    "udp-unspec $P4" "mmsg $P4"; do
		msg="esc-${how%% *}-$$"
		run shim strict.conf "$SENDESC" $how 7007 "$msg"
		expect_out_has "rc=-1 errno=EACCES"
		expect_err_re "blocked udp"
		[ "$(err_lines)" = 1 ] || { show; fail "$how: wanted one log line"; }
		udp_lacks "$msg"
	done
	# without the shim the kernel does send these (the check can fail)
	for how in udp6-mapped24 udp-unspec; do
		run inc "$SENDESC" $how "$P4" 7007 "plain-$how-$$"
		expect_out_has "rc="
		sleep 0.3
		grep -qF "plain-$how-$$" "$T/log/udp-echo-local.log" ||
		    fail "$how did not reach the echo without the shim"
	done
	# TCP Fast Open through sendmmsg: connects through the shim, refused
	m=$(mark)
	run shim strict.conf "$SENDESC" mmsg-tfo "$P4" 8080 "$(printf 'GET %s HTTP/1.0\r\n\r\n' "$m")"
	expect_out_has "rc=-1 errno=EACCES"
	expect_err_re "blocked $P4:8080"
	nobody_saw "$m"
}
# The kernel's answer for odd arguments, under "direct *" as without it.
tcase harden_udp_kernel_answers
tc_harden_udp_kernel_answers() {
	[ -x "$SENDESC" ] || { printf '# SKIP: no %s\n' "$SENDESC" >&2; exit 77; }
	local how plain
	conf direct.conf <<-EOC
	direct *
	EOC
	for how in longname mmsg-big badptr; do
		run inc "$SENDESC" $how 127.0.0.1 9 "k-$how"
		plain=$(cat out)
		run shim direct.conf "$SENDESC" $how 127.0.0.1 9 "k-$how"
		[ "$(cat out)" = "$plain" ] || { show; fail "$how: '$(cat out)', the kernel says '$plain'"; }
	done
	grep -q "EFAULT" out || fail "badptr: no EFAULT at all: $(head -3 out)"
	run inc "$SENDESC" mmsg-big 127.0.0.1 9 x
	expect_out_has "rc=1024"
}
