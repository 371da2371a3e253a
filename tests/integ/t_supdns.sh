# t_supdns.sh - the supervisor's DNS responder (issue 15): programs with
# their own resolver (a static Go client, dig) send their queries for the
# resolver of resolv.conf to proxywrap instead.  Remote names get the
# session's fake addresses with no query at the client's resolver (its
# dnsmasq logs every query: dns_env, t_dns.sh), local names the real
# answer, blocked names NXDOMAIN with a log line.

# The helpers of t_dns.sh (dns_env, dnsq_*) and t_supervise.sh (sup_go),
# sourced in the case's shell only (sourced at the top, t_supervise.sh
# would register its cases twice).
sdns_need() {
	declare -F dns_env >/dev/null || . "$PW_INTEG_DIR/t_dns.sh"
	declare -F sup_go >/dev/null || . "$PW_INTEG_DIR/t_supervise.sh"
}

# The fake pools (fakedns.h): an answer inside them is a fake.
SDNS_FAKE4='^2(4[0-9]|5[0-5])\.'

# sdns_conf FILE PROXYURL: remote names via the proxy, .lan.test direct,
# blocked.world.test blocked.
sdns_conf() {
	conf "$1" <<-EOC
	proxy p $2
	block $DNS_BLOCKED
	direct .lan.test
	via p *
	EOC
}

# A static Go HTTP client (Go's own resolver, CGO_ENABLED=0) fetches a
# world name through socks5h (dante) and HTTP CONNECT (tinyproxy): the
# name reaches the proxy, the client's resolver is never asked.
tcase supdns_go
tc_supdns_go() {
	local m u
	sdns_need
	sup_go 0
	dns_env
	for u in "socks5h://$P4:1080" "$U_TINY"; do
		sdns_conf g.conf "$u"
		m=$(mark)
		run pw -c g.conf "$SUPGO" "$DNS_WORLD:80" "$m"
		expect_rc 0
		expect_out_re 'status=HTTP/1.1 200'
		# getpeername: the fake address the program dialled (Go
		# takes the A or the AAAA answer)
		expect_out_re 'peer=(2(4[0-9]|5[0-5])\.[0-9.]+|\[fd70:7277:7261::[0-9a-f:]+\]):80'
		world_saw "$m" "$PW4"
		dnsq_lacks "$DNS_WORLD"
	done
	# the same client without proxywrap asks the resolver: the check
	# above can see a query
	run inc "$SUPGO" "$DNS_WORLD:80" /x
	dnsq_has "$DNS_WORLD"
}

# dig_ask ARGS...: dig under the whole tree's supervisor.
dig_ask() {
	run pw --supervise=all -c d.conf dig +time=3 +tries=1 "$@"
}

# dig (bind's own resolver, UDP and +tcp) under --supervise=all: a remote
# name gets a fake address, a local one the resolver's answer, a blocked
# one NXDOMAIN and the log line; only the local name reaches the resolver.
tcase supdns_dig
tc_supdns_dig() {
	local tcp
	sdns_need
	command -v dig >/dev/null 2>&1 ||
	    { printf '# SKIP: no dig (tests/deps.sh installs dnsutils)\n' >&2; exit 77; }
	dns_env
	sdns_conf d.conf "socks5h://$P4:1080"
	: >"$CD/audit.log"
	for tcp in +notcp +tcp; do
		dig_ask "$tcp" +short "$DNS_WORLD" A
		expect_rc 0
		expect_out_re "$SDNS_FAKE4"
		dig_ask "$tcp" +short "$DNS_WORLD" AAAA
		expect_rc 0
		expect_out_re '^fd70:7277:7261::'
		# another type of a remote name: an empty answer
		dig_ask "$tcp" "$DNS_WORLD" MX
		expect_out_re 'status: NOERROR'
		expect_out_re 'ANSWER: 0,'
		dnsq_lacks "$DNS_WORLD"
		# the server dig asked, as dig saw it: the resolver's address
		expect_out_re 'SERVER: 127\.0\.0\.1#53'
		dig_ask "$tcp" +short "$DNS_LOCAL" A
		expect_rc 0
		expect_out_has "$P4"
		dnsq_has "$DNS_LOCAL"
		run pw --supervise=all --log "$CD/audit.log" -c d.conf \
		    dig +time=3 +tries=1 "$tcp" "$DNS_BLOCKED" A
		expect_out_re 'status: NXDOMAIN'
		expect_err_re "^proxywrap: blocked name $DNS_BLOCKED: A query answered NXDOMAIN \(.*d\.conf:2 block $DNS_BLOCKED\) \[supervised: pid [0-9]+ /"
		dnsq_lacks "$DNS_BLOCKED"
	done
	grep -F '"event":"resolve"' "$CD/audit.log" |
	    grep -F "\"name\":\"$DNS_BLOCKED\"" | grep -qF '"action":"block"' ||
	    fail "no resolve/block audit event: $(head -c 600 "$CD/audit.log")"
	# without the supervisor the same dig asks the resolver itself
	run inc dig +time=3 +tries=1 +short "$DNS_WORLD" A
	dnsq_has "$DNS_WORLD"
}

# Hostile queries at the responder (a static program's raw packets: a
# malformed query, a TCP length of 65535 never sent, 300 queries at once)
# never hold up the next query.
tcase supdns_hostile
tc_supdns_hostile() {
	sdns_need
	command -v dig >/dev/null 2>&1 ||
	    { printf '# SKIP: no dig (tests/deps.sh installs dnsutils)\n' >&2; exit 77; }
	need_prog python3
	dns_env
	sdns_conf h.conf "socks5h://$P4:1080"
	cat >hostile.py <<-'EOF'
	import socket, struct, sys, time
	ns = ("127.0.0.1", 53)
	u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
	q += b"\x07blocked\x05world\x04test\x00" + struct.pack(">HH", 1, 1)
	b.sendto(q, ns)
	b.settimeout(5)
	d, a = b.recvfrom(4096)
	print("blocked rcode=%d from=%s:%d" % (d[3] & 15, a[0], a[1]))
	u.sendto(b"\x00\x01garbage", ns)
	u.sendto(b"\xff" * 600, ns)
	for i in range(300):
	    q = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0)
	    q += b"\x03www\x05world\x04test\x00" + struct.pack(">HH", 1, 1)
	    u.sendto(q, ns)
	t = socket.create_connection(ns, timeout=5)
	t.sendall(b"\xff\xff" + b"x" * 100)
	t2 = socket.create_connection(ns, timeout=5)
	t2.sendall(b"\x00\x05ab")
	got = 0
	u.settimeout(2)
	try:
	    while got < 300:
	        d, a = u.recvfrom(4096)
	        got += 1
	except socket.timeout:
	    pass
	print("answers=%d from=%s" % (got, "%s:%d" % a if got else "-"))
	EOF
	run pw --supervise=all -c h.conf python3 hostile.py
	expect_rc 0
	# the answers came back from the resolver python asked
	expect_out_re 'answers=[1-9][0-9]* from=127\.0\.0\.1:53$'
	# an unbound socket's first query: NXDOMAIN, the line names python
	expect_out_has "blocked rcode=3 from=127.0.0.1:53"
	expect_err_re "^proxywrap: blocked name $DNS_BLOCKED: A query answered NXDOMAIN .*\[supervised: pid [0-9]+ /[^ ]*python"
	dnsq_lacks "$DNS_BLOCKED"
	run pw --supervise=all -c h.conf dig +time=3 +tries=1 +short "$DNS_WORLD" A
	expect_out_re "$SDNS_FAKE4"
	dnsq_lacks "$DNS_WORLD"
}

# A suffix rule (direct .lan.test) under --strict: the static Go client
# resolves db.lan.test itself (the responder forwards it to the real
# resolver) and its connect to the answer's address is decided by that
# name; an address no answer gave stays refused.
tcase supdns_suffix
tc_supdns_suffix() {
	local m
	sdns_need
	sup_go 0
	dns_env
	conf s.conf <<-EOC
	direct .lan.test
	EOC
	m=$(mark)
	run pw --strict -c s.conf "$SUPGO" "$DNS_LOCAL:8080" "$m"
	expect_rc 0
	expect_out_has "peer=$P4:8080"
	expect_out_re 'status=HTTP/1.1 200'
	local_saw "$m" "$C4"
	dnsq_has "$DNS_LOCAL"
	# the same address by itself: no name, no rule
	m=$(mark)
	run pw --strict -c s.conf "$SUPGO" "$P4:8080" "$m"
	expect_out_has "dial errno=13"
	expect_err_re "blocked $P4:8080 .*add: direct $P4:8080"
}

# A static glibc program's getaddrinfo (glibc's own resolver in the
# program, on a connected UDP socket): a remote name gets its fake
# address, a local one the resolver's; nslookup (bind's resolver) the
# same fake.  (The reply's source matters to c-ares: the shim's lookups
# under --supervise=all, sup_direct_name; and to supdns_hostile.)
tcase supdns_static
tc_supdns_static() {
	sdns_need
	dns_env
	sdns_conf st.conf "socks5h://$P4:1080"
	cat >gai.c <<-'EOF2'
	#include <arpa/inet.h>
	#include <netdb.h>
	#include <stdio.h>
	#include <string.h>
	int main(int argc, char **argv)
	{
		struct addrinfo h, *r, *a;
		char s[64];
		int rc;

		memset(&h, 0, sizeof(h));
		h.ai_family = AF_INET;
		h.ai_socktype = SOCK_STREAM;
		rc = getaddrinfo(argv[1], "80", &h, &r);
		if (rc != 0) {
			printf("gai=%s\n", gai_strerror(rc));
			return 0;
		}
		for (a = r; a != NULL; a = a->ai_next)
			printf("addr=%s\n", inet_ntop(AF_INET, &((struct sockaddr_in *)
			       (void *)a->ai_addr)->sin_addr, s, sizeof(s)));
		return 0;
	}
	EOF2
	gcc -O1 -static -o gai gai.c >cc.log 2>&1 ||
	    { printf '# SKIP: gcc -static failed: %s\n' "$(tail -n 1 cc.log)" >&2; exit 77; }
	run pw -c st.conf ./gai "$DNS_WORLD"
	expect_rc 0
	expect_out_re "^addr=2(4[0-9]|5[0-5])\."
	run pw -c st.conf ./gai "$DNS_LOCAL"
	expect_out_has "addr=$P4"
	dnsq_has "$DNS_LOCAL"
	run pw --supervise=all -c st.conf nslookup -timeout=3 "$DNS_WORLD"
	expect_out_re "^Address: 2(4[0-9]|5[0-5])\."
	expect_out_re '^Server:[[:space:]]+127\.0\.0\.1$'
	dnsq_lacks "$DNS_WORLD"
}

# Rules with a port (what --learn writes): a query has none, so the name
# is decided at every port a rule names.  Under --strict, "via p
# www.world.test:80" gives the Go client its fake (no query leaves), and
# the connect at port 80 goes through the proxy.
tcase supdns_ports
tc_supdns_ports() {
	local m
	sdns_need
	sup_go 0
	dns_env
	conf pt.conf <<-EOC
	proxy p socks5h://$P4:1080
	via p $DNS_WORLD:80
	EOC
	m=$(mark)
	run pw --strict -c pt.conf "$SUPGO" "$DNS_WORLD:80" "$m"
	expect_rc 0
	expect_out_re 'status=HTTP/1.1 200'
	world_saw "$m" "$PW4"
	dnsq_lacks "$DNS_WORLD"
}
