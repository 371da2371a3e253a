# t_fidelity_dns.sh - a remotely resolved name costs one proxy attempt,
# and an IPV6_V6ONLY socket reaches an IPv4 proxy (issue 12, items 2-3).
#
# "One attempt": glibc answers AF_UNSPEC with an A and an AAAA record,
# and clients try each in turn; with two fake addresses a connection
# the proxy cannot make was asked of it twice.  The cases count what the
# proxy itself logged, the shim's log lines and the audit events.
# "V6ONLY": Ruby's Addrinfo#connect and Socket.tcp set IPV6_V6ONLY on
# every AF_INET6 socket, which cannot reach ::ffff:PROXY; the shim puts
# an AF_INET socket in its place.  The cases assert where the bytes
# arrived (the world's nginx log) and what the program sees of its socket.

FID_NAME=www.world.test
FID_V6C=$TOP/${PW_BUILD:-build}/bin/v6client
FID_RB=$PW_INTEG_DIR/v6only.rb
# the -vv line that shows the socket was IPv6-only and got replaced
FID_REPLACED='proxywrap: fd [0-9]+: IPv6-only socket replaced by an IPv4 one to reach IPv4 proxy p '

# fid_conf: r.socks (dante, IPv4 address, remote names), r.http
# (tinyproxy), r.socks6 (dante's IPv6 address).
fid_conf() {
	conf r.socks <<-EOC
	proxy p socks5h://$P4:1080
	via p *
	EOC
	conf r.http <<-EOC
	proxy p $U_TINY
	via p *
	EOC
	conf r.socks6 <<-EOC
	proxy p socks5h://[$P6]:1080
	via p *
	EOC
}

# dante's log lines about a connect to the world's server on PORT (it
# logs the address it resolved the name to), refused or not: every
# attempt it was asked to make.
fid_dante_tries() {
	grep -cE -- "tcp/connect .* (${W4//./\\.}|$W6)\\.$1 -> " \
	    "$T/log/danted-open.log" || true
}

fid_proxy_tries() {
	if [ "$1" = socks ]; then
		fid_dante_tries 81
	else
		pcount tiny "$FID_NAME" 81
	fi
}

# fid_once KIND CMD...: CMD connects to $FID_NAME:81, where nothing
# listens: it must fail after exactly one proxy attempt.
fid_once() {
	local kind=$1 before after i
	shift
	before=$(fid_proxy_tries "$kind")
	rm -f audit.log
	run -t 40 pw --log "$CD/audit.log" -c "r.$kind" "$@"
	expect_fail
	# the proxy logs when it gives up; allow it a moment
	for i in $(seq 1 20); do
		after=$(fid_proxy_tries "$kind")
		[ "$after" -gt "$before" ] && break
		sleep 0.1
	done
	sleep 0.3
	after=$(fid_proxy_tries "$kind")
	if [ $((after - before)) != 1 ]; then
		show
		fail "$kind: the proxy was asked $((after - before)) times, wanted 1"
	fi
	i=$(grep -c "proxywrap: failed $FID_NAME:81: " err || true)
	if [ "$i" != 1 ]; then
		show
		fail "$kind: $i 'failed' log lines, wanted 1"
	fi
	i=$(grep -c '"event":"proxy-error"' audit.log || true)
	[ "$i" = 1 ] || fail "$kind: $i proxy-error audit events, wanted 1"
}

tcase fid_dns_one_attempt smoke
tc_fid_dns_one_attempt() {
	local k
	[ -n "${PW_PRELOAD_EXTRA:-}" ] || command -v ruby >/dev/null ||
	    fail "ruby missing (tests/deps.sh)"
	fid_conf
	for k in socks http; do
		fid_once $k "$PY" -c 'import socket
socket.create_connection(("'$FID_NAME'", 81), timeout=20)'
		# curl and ruby may not start with the sanitizer runtime
		# preloaded (lib.sh need_prog); the smoke run then skips them
		case " ${PW_BROKEN_PROGS:-} " in
		*" curl "*) ;;
		*) fid_once $k curl -sS -m 20 "http://$FID_NAME:81/" ;;
		esac
		[ -n "${PW_PRELOAD_EXTRA:-}" ] && continue
		fid_once $k ruby -rsocket -e 'Socket.tcp("'$FID_NAME'", 81).close'
	done
}

# --summary counts the failure once.
tcase fid_dns_summary_once
tc_fid_dns_summary_once() {
	fid_conf
	run -t 40 pw --summary -c r.socks "$PY" -c 'import socket
socket.create_connection(("'$FID_NAME'", 81), timeout=20)'
	expect_fail
	expect_err_re 'proxywrap: summary: 0 connections, 0 blocked, 1 error$'
	expect_err_re "^  $FID_NAME:81 via p: ECONNREFUSED .* \\(1x\\)\$"
}

# A proxy that never answers: one connect_timeout, not one per family
# (python's create_connection and Ruby's Socket.tcp, no timeout of their
# own), and one connection to the proxy.
tcase fid_dns_one_timeout
tc_fid_dns_one_timeout() {
	local t0 ms before prog
	badproxy silent 18171
	conf t.conf <<-EOC
	proxy bad socks5h://127.0.0.1:18171
	via bad *
	connect_timeout 1s
	EOC
	for prog in python ruby; do
		[ $prog = ruby ] && [ -n "${PW_PRELOAD_EXTRA:-}" ] && continue
		before=$(cat count-silent)
		t0=$(date +%s%N)
		if [ $prog = python ]; then
			run -t 20 pw -c t.conf "$PY" -c 'import socket
socket.create_connection(("'$FID_NAME'", 80))'
		else
			run -t 20 pw -c t.conf ruby -rsocket -e \
			    'Socket.tcp("'$FID_NAME'", 80)'
		fi
		ms=$((($(date +%s%N) - t0) / 1000000))
		expect_fail
		expect_err_re 'no reply within 1000 ms'
		say "$prog: failed in $ms ms"
		[ "$ms" -ge 900 ] || fail "$prog: failed after $ms ms, before the timeout"
		[ "$ms" -lt 1900 ] || fail "$prog: $ms ms: waited for more than one connect_timeout"
		sleep 0.2
		[ $(($(cat count-silent) - before)) = 1 ] ||
		    fail "$prog: $(($(cat count-silent) - before)) connections to the proxy, wanted 1"
	done
	kill "$BADPID" 2>/dev/null || true
}

# Which fake a name gets: one address; IPv4 for AF_UNSPEC on this host
# (it has IPv4); the family asked for otherwise; every lookup call.
tcase fid_dns_one_fake
tc_fid_dns_one_fake() {
	local n
	fid_conf
	run pw -c r.socks getent ahosts "$FID_NAME"
	expect_rc 0
	n=$(awk '{print $1}' out | sort -u | wc -l)
	[ "$n" = 1 ] || { show; fail "AF_UNSPEC gave $n addresses, wanted 1"; }
	expect_out_re '^24[0-9]\.|^25[0-5]\.'
	run pw -c r.socks getent ahostsv6 "$FID_NAME"
	expect_rc 0
	expect_out_re '^fd70:7277:7261:'
	expect_out_lacks ' STREAM 24'
	run pw -c r.socks getent ahostsv4 "$FID_NAME"
	expect_rc 0
	expect_out_re '^24[0-9]\.|^25[0-5]\.'
	# gethostbyname_r and gethostbyname2_r: one address of the family
	run pw -c r.socks "$PY" -c 'import socket
n, al, a = socket.gethostbyname_ex("'$FID_NAME'")
print("gethostbyname", len(a), a[0])
for fam in (socket.AF_UNSPEC, socket.AF_INET, socket.AF_INET6):
    r = socket.getaddrinfo("'$FID_NAME'", 80, fam, socket.SOCK_STREAM)
    print("gai", fam, len(r), r[0][4][0])'
	expect_rc 0
	expect_out_re '^gethostbyname 1 24'
	expect_out_re "^gai $(inc "$PY" -c 'import socket;print(int(socket.AF_UNSPEC))') 1 24"
	expect_out_re "^gai $(inc "$PY" -c 'import socket;print(int(socket.AF_INET))') 1 24"
	expect_out_re "^gai $(inc "$PY" -c 'import socket;print(int(socket.AF_INET6))') 1 fd70:"
	# getaddrinfo_a as getaddrinfo; res_query answers one record a type
	run pw -c r.socks "$TOP/${PW_BUILD:-build}/bin/dnsprobe" gai_a \
	    "$FID_NAME" wait
	expect_out_re 'gai=0 first=24[0-9]\.|gai=0 first=25[0-5]\.'
	run pw -c r.socks "$TOP/${PW_BUILD:-build}/bin/dnsprobe" query \
	    "$FID_NAME" A
	expect_out_re '^rc=[0-9]+ herr=0 rcode=0 an=1 24'
	run pw -c r.socks "$TOP/${PW_BUILD:-build}/bin/dnsprobe" query \
	    "$FID_NAME" AAAA
	expect_out_re '^rc=[0-9]+ herr=0 rcode=0 an=1 fd70:'
	# an IPv6 fake still works: the connection goes through the proxy
	run pw -c r.socks "$FID_V6C" block dual "$FID_NAME" 80 "$(mark)"
	expect_rc 0
	expect_out_re '^dst \[fd70:7277:7261:'
}

# A host with IPv6 and no IPv4 (other than loopback) gets an IPv6 fake
# for AF_UNSPEC: the client's IPv4 address is taken away for the case.
tcase fid_dns_v6_only_host
tc_fid_dns_v6_only_host() {
	local m
	fid_conf
	trap 'ip -n "$NSC" addr add "$C4/24" dev eth0 2>/dev/null || true' EXIT
	ip -n "$NSC" addr del "$C4/24" dev eth0
	run pw -c r.socks6 getent ahosts "$FID_NAME"
	expect_rc 0
	expect_out_re '^fd70:7277:7261:'
	[ "$(awk '{print $1}' out | sort -u | wc -l)" = 1 ] ||
	    { show; fail "more than one address"; }
	m=$(mark)
	run pw -c r.socks6 curl -sS -m 10 "http://$FID_NAME$m"
	expect_rc 0
	world_saw "$m" "\\($PW4\\|$PW6\\)"
}

# The C client's V6ONLY socket to a remote name (IPv6 fake) through
# dante's and tinyproxy's IPv4 addresses, blocking, non-blocking, and in
# an epoll set before connect (the set must follow the new socket).
tcase fid_v6only_c smoke
tc_fid_v6only_c() {
	local k mode m
	fid_conf
	for k in socks http; do
		for mode in block nonblock epoll; do
			m=$(mark)
			run pw -vv -c "r.$k" "$FID_V6C" $mode v6only \
			    "$FID_NAME" 80 "$m"
			expect_rc 0
			expect_err_re "$FID_REPLACED"
			expect_out_re '^dst \[fd70:7277:7261:'
			expect_out_has "peer ok"
			expect_out_has "opts ok"
			expect_out_re '^HTTP/1.[01] 200'
			expect_shim_lacks unreachable
			world_saw "$m" "\\($PW4\\|$PW6\\)"
			nobody_saw_client "$m"
		done
	done
	# an IPv6 literal destination from a V6ONLY socket, IPv4 proxy
	m=$(mark)
	run pw -c r.socks "$FID_V6C" nonblock v6only "$W6" 80 "$m"
	expect_rc 0
	expect_out_has "peer ok"
	world_saw "$m" "$PW6"
	# a dual-stack socket to a v4-mapped destination: as before
	m=$(mark)
	run pw -c r.socks "$FID_V6C" block dual "::ffff:$W4" 80 "$m"
	expect_rc 0
	expect_out_has "peer ok"
	world_saw "$m" "$PW4"
	# V6ONLY to dante's IPv6 address: no replacement needed
	m=$(mark)
	run pw -vv -c r.socks6 "$FID_V6C" nonblock v6only "$FID_NAME" 80 "$m"
	expect_rc 0
	expect_shim_lacks replaced
	expect_out_has "opts ok"
	world_saw "$m" "\\($PW4\\|$PW6\\)"
}

# No line of the shim's says WORD.
expect_shim_lacks() {
	if grep proxywrap err | grep -qF -- "$1"; then
		show
		fail "a proxywrap log line says: $1"
	fi
}

nobody_saw_client() {
	if grep -F " \"GET $1 " "$T/log/world-access.log" |
	    grep -q "^$C4 \|^$C6 "; then
		fail "the world saw $1 straight from the client"
	fi
}

# A bound V6ONLY socket: a port (on ::) is kept, and dante sees the
# connection come from it; an IPv6 address cannot be, and the log says
# so instead of calling the proxy unreachable.
tcase fid_v6only_bound
tc_fid_v6only_bound() {
	local m port=$((40000 + $$ % 20000))
	fid_conf
	m=$(mark)
	run pw -c r.socks "$FID_V6C" block v6only "$FID_NAME" 80 "$m" :: $port
	expect_rc 0
	expect_out_has "port ok"
	expect_out_has "peer ok"
	world_saw "$m" "\\($PW4\\|$PW6\\)"
	grep -qF "$C4.$port " "$T/log/danted-open.log" || {
		say "dante: $(tail -n 3 "$T/log/danted-open.log")"
		fail "dante did not see the client's port $port"
	}
	for b in ::1 "$C6"; do
		m=$(mark)
		run pw -c r.socks "$FID_V6C" nonblock v6only "$FID_NAME" 80 \
		    "$m" "$b"
		expect_rc 3
		expect_errno ENETUNREACH
		expect_err_re "failed $FID_NAME:80: IPv6-only socket bound to \\[$b\\]:[0-9]+ cannot reach IPv4 proxy p \\(socks5h://$P4:1080\\)"
		expect_shim_lacks unreachable
		nobody_saw "$m"
	done
}

# Ruby: Addrinfo#connect and Socket.tcp make V6ONLY sockets.
tcase fid_v6only_ruby
tc_fid_v6only_ruby() {
	local k m mode
	command -v ruby >/dev/null || fail "ruby missing (tests/deps.sh)"
	fid_conf
	for k in socks http; do
		for mode in block nonblock; do
			m=$(mark)
			run pw -vv -c "r.$k" ruby "$FID_RB" $mode inet6 \
			    "$FID_NAME" 80 "$m"
			expect_rc 0
			expect_err_re "$FID_REPLACED"
			expect_out_re '^remote \[fd70:7277:7261:[0-9a-f:]+\]:80$'
			expect_out_re '^HTTP/1.[01] 200'
			expect_shim_lacks unreachable
			world_saw "$m" "\\($PW4\\|$PW6\\)"
			nobody_saw_client "$m"
		done
	done
	# Socket.tcp to an IPv6 literal: its own V6ONLY socket, blocking
	# and with connect_timeout (non-blocking, a second connect)
	for mode in tcp tcp_timeout; do
		m=$(mark)
		run pw -vv -c r.socks ruby "$FID_RB" $mode any "$W6" 80 "$m"
		expect_rc 0
		expect_err_re "$FID_REPLACED"
		expect_out_re '^HTTP/1.[01] 200'
		world_saw "$m" "$PW6"
	done
	# Socket.tcp to a name (AF_UNSPEC): the one IPv4 fake
	m=$(mark)
	run pw -c r.http ruby "$FID_RB" tcp any "$FID_NAME" 80 "$m"
	expect_rc 0
	expect_out_re '^remote 24[0-9.]+:80$|^remote 25[0-9.]+:80$'
	world_saw "$m" "$PW4"
}
