# t_udp.sh - UDP through dante's UDP relay (SOCKS5 UDP ASSOCIATE).
#
# The client namespace has no route to the world, so a reply from the
# world's echo (198.18.1.2:7007, [2001:db8:1::2]:7007) can only have come
# through the proxy; the echo also logs every datagram's source, and the
# tests check it was the proxy's external address (198.18.1.1 /
# 2001:db8:1::1), never the client (198.18.0.2).  The echo on
# 198.18.0.1:7007 (proxy namespace) is reachable direct.

UDPC=$PW_INTEG_DIR/udp_client.py

# A payload unique to this case and call.
umark() {
	local m
	m=$(mark)
	printf 'u%s' "${m//\//-}"
}

# echo_saw world|local PAYLOAD FROM: that echo got PAYLOAD from FROM.
echo_saw() {
	local log=$T/log/udp-echo-$1.log i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		grep -q "^FROM $3 [0-9]* $2\$" "$log" 2>/dev/null && return 0
		sleep 0.1
	done
	say "$log:"
	grep -F -- "$2" "$log" | sed 's/^/#   /' >&2
	fail "the $1 echo did not see $2 from $3"
}

# echo_never world|local TEXT: no datagram with TEXT reached that echo.
echo_never() {
	local log=$T/log/udp-echo-$1.log
	sleep 0.3
	if grep -qF -- "$2" "$log" 2>/dev/null; then
		grep -F -- "$2" "$log" | sed 's/^/#   /' >&2
		fail "a datagram with $2 reached the $1 echo"
	fi
}

# udp_via PROXY MODE DEST RELAYSRC CLIENTSRC [PW-OPTION...]: udp_client.py
# MODE sends to DEST's echo through PROXY; the reply comes from DEST,
# and the echo saw the datagram from the relay, never from the client.
udp_via() {
	local m proxy=$1 mode=$2 dest=$3 relay=$4 client=$5
	shift 5
	m=$(umark)
	run pw -p "$proxy" "$@" "$PY" "$UDPC" "$mode" "$dest" 7007 "$m"
	expect_rc 0
	expect_out_has "reply echo $m from $dest 7007"
	expect_out_has "source ok"
	echo_saw world "$m" "$relay"
	echo_never world "FROM $client "
}

# unreached WANT CMD...: CMD without the shim must not get WANT (the client
# has no route to the world): what it got under the shim came through the
# proxy.
unreached() {
	local want=$1
	shift
	run inc "$@"
	if [ "$RC" = 0 ] && grep -qF -- "$want" out; then
		fail "$1 got $want without the shim"
	fi
}

# The fixture itself: dante relays UDP for a client that speaks SOCKS5
# itself (no shim), so a failure below is the shim's.
tcase udp_dante_native
tc_udp_dante_native() {
	local m
	m=$(umark)
	run inc "$PY" "$UDPC" native "$P4" 1080 "$W4" 7007 "$m"
	expect_rc 0
	expect_out_has "native reply echo $m from $W4 via $P4"
	echo_saw world "$m" "$PW4"
}

tcase udp_python_sendto smoke
tc_udp_python_sendto() {
	udp_via "$U_DANTE" sendto "$W4" "$PW4" "$C4"
}

tcase udp_python_connected smoke
tc_udp_python_connected() {
	local m
	m=$(umark)
	run pw -p "$U_DANTE" "$PY" "$UDPC" connected "$W4" 7007 "$m"
	expect_rc 0
	expect_out_has "peer $W4 7007"
	expect_out_has "peek echo $m"
	expect_out_has "recv echo $m"
	expect_out_has "trunc real length 65, got echo xxxxx"
	expect_out_has "recvmsg echo xxx truncated True"
	expect_out_has "dontwait EAGAIN"
	expect_out_has "read echo by write"
	expect_out_has "readv echo by writev"
	expect_out_has "recvmsg echo by sendmsg from $W4 7007"
	expect_out_has "recvfrom echo by send from $W4 7007"
	echo_saw world "$m" "$PW4"
	echo_saw world "by writev" "$PW4"
	echo_never world "FROM $C4 "
}

tcase udp_ipv6
tc_udp_ipv6() {
	udp_via "$U_DANTE6" sendto "$W6" "$PW6" "$C6"
}

# An IPv6 socket with IPV6_V6ONLY (dig and every libuv/BIND client set
# it) cannot send to an IPv4 relay, not even as ::ffff:198.18.0.1.  Dante
# answers UDP ASSOCIATE with a relay in the family of the request's ATYP
# (0.0.0.0 -> 198.18.0.1, :: -> 2001:db8::1), whatever the control
# connection's, so such a socket needs an ATYP 4 request.
tcase udp_ipv6_v6only smoke
tc_udp_ipv6_v6only() {
	udp_via "$U_DANTE6" v6only "$W6" "$PW6" "$C6"
}

# A name the proxy resolves (socks5h): the datagram carries the name, the
# reply comes back from the fake address the application resolved.  (The
# name has an IPv4 address only: dante 1.4.2 prefers a name's IPv6
# address and then fails to bind its IPv4 external for it.)
tcase udp_remote_name
tc_udp_remote_name() {
	local m
	m=$(umark)
	run pw -p "socks5h://$P4:1080" -v "$PY" "$UDPC" sendto udp.world.test \
	    7007 "$m"
	expect_rc 0
	expect_out_has "reply echo $m from 240."
	expect_out_has "source ok"
	expect_err_re "udp via p1: udp.world.test:7007"
	echo_saw world "$m" "$PW4"
}

tcase udp_user_auth
tc_udp_user_auth() {
	udp_via "$U_DANTE_USER" sendto "$W4" "$PW4" "$C4" -vv
	expect_err_lacks "$PW_USER_PASS"
}

tcase udp_socat
tc_udp_socat() {
	local m
	m=$(umark)
	run pw -p "$U_DANTE" sh -c \
	    "echo $m | socat -t 3 - UDP4:$W4:7007"
	expect_rc 0
	expect_out_has "echo $m"
	echo_saw world "$m" "$PW4"
	echo_never world "FROM $C4 "
}

# dig's own resolver client (BIND's, on libuv) through the relay.
tcase udp_dig
tc_udp_dig() {
	run pw -p "$U_DANTE" dig +notcp +tries=1 +time=3 +short \
	    "@$W4" www.world.test A
	expect_rc 0
	expect_out_has "$W4"
	run pw -p "$U_DANTE6" dig +notcp +tries=1 +time=3 +short \
	    "@$W4" www.world.test AAAA
	expect_rc 0
	expect_out_has "$W6"
	unreached "$W4" dig +notcp +tries=1 +time=1 +short "@$W4" \
	    www.world.test A
}

# Resolvers with their own DNS client: node's dns.Resolver (its bundled
# c-ares) and nslookup, each asking the world's resolver through the
# relay.  Without the shim the resolver is out of reach (no route).
tcase udp_node_resolver_nslookup
tc_udp_node_resolver_nslookup() {
	command -v node >/dev/null || fail "node is not installed"
	run pw -p "$U_DANTE" node -e '
		const r = new (require("dns").promises.Resolver)({timeout: 3000,
								   tries: 1});
		r.setServers([process.argv[1]]);
		r.resolve4("www.world.test").then(
			(a) => console.log("resolved", a.join(" ")),
			(e) => { console.log("failed", e.code); process.exit(3); });
	' "$W4"
	expect_rc 0
	expect_out_has "resolved $W4"
	run pw -p "$U_DANTE" nslookup -timeout=3 -retry=1 www.world.test "$W4"
	expect_rc 0
	expect_out_has "Address: $W4"
	expect_out_lacks "timed out"
	unreached "Address: $W4" nslookup -timeout=1 -retry=1 \
	    www.world.test "$W4"
}

# dig to an IPv6 server: its socket is IPV6_V6ONLY (see udp_ipv6_v6only).
tcase udp_dig_ipv6
tc_udp_dig_ipv6() {
	run pw -p "$U_DANTE6" dig +notcp +tries=1 +time=3 +short \
	    "@$W6" www.world.test AAAA
	expect_rc 0
	expect_out_has "$W6"
	unreached "$W6" dig +notcp +tries=1 +time=1 +short "@$W6" \
	    www.world.test AAAA
}

tcase udp_node_dgram
tc_udp_node_dgram() {
	local m
	command -v node >/dev/null || fail "node is not installed"
	m=$(umark)
	run pw -p "$U_DANTE" node -e '
		const s = require("dgram").createSocket("udp4");
		s.on("message", (msg, r) => {
			console.log("node", msg.toString(), "from", r.address, r.port);
			s.close();
		});
		s.send(process.argv[1], 7007, process.argv[2]);
		setTimeout(() => { console.log("timeout"); process.exit(3); },
			   5000).unref();
	' "$m" "$W4"
	expect_rc 0
	expect_out_has "node echo $m from $W4 7007"
	echo_saw world "$m" "$PW4"
	echo_never world "FROM $C4 "
}

# Non-blocking socket, datagrams sent before the association is up, epoll.
tcase udp_nonblocking_epoll
tc_udp_nonblocking_epoll() {
	run pw -p "$U_DANTE" "$PY" "$UDPC" nonblock "$W4" 7007 20
	expect_rc 0
	expect_out_has "nonblock got 20/20"
	echo_saw world nb19 "$PW4"
	echo_never world "FROM $C4 "
}

# asyncio's datagram endpoints: connected (remote_addr) and not, each
# sending before the association is up; the protocol's addr is the echo.
tcase udp_asyncio
tc_udp_asyncio() {
	run pw -p "$U_DANTE" "$PY" "$UDPC" asyncio "$W4" 7007 5
	expect_rc 0
	expect_out_has "aconn got 5/5"
	expect_out_has "aunconn got 5/5"
	expect_out_lacks "error"
	[ "$(grep -c ' from dest$' out)" = 10 ] || { show; fail "sources"; }
	echo_saw world aconn4 "$PW4"
	echo_saw world aunconn4 "$PW4"
	echo_never world "FROM $C4 "
}

# sendmmsg/recvmmsg (python has neither: ctypes calls libc's, which the
# shim interposes): every datagram wrapped, every reply unwrapped with the
# echo's address in its msg_name.
tcase udp_mmsg
tc_udp_mmsg() {
	run pw -p "$U_DANTE" "$PY" "$UDPC" mmsg "$W4" 7007 4
	expect_rc 0
	expect_out_has "sendmmsg sent 4"
	expect_out_has "recvmmsg got 4"
	[ "$(grep -c "^mmsg echo mm[0-3] from $W4 7007 namelen 16\$" out)" = 4 ] ||
	    { show; fail "want 4 echoes from $W4 7007"; }
	echo_saw world mm0 "$PW4"
	echo_saw world mm3 "$PW4"
	echo_never world "FROM $C4 "
}

# MSG_PEEK on an unconnected socket: the same payload and source twice.
tcase udp_peek_unconnected
tc_udp_peek_unconnected() {
	local m
	m=$(umark)
	run pw -p "$U_DANTE" "$PY" "$UDPC" peekfrom "$W4" 7007 "$m"
	expect_rc 0
	expect_out_has "peekfrom echo $m from $W4 7007"
	expect_out_has "peek same"
	echo_saw world "$m" "$PW4"
}

# A dual-stack IPv6 socket sending to ::ffff:198.18.1.2 (node's udp6,
# java): matched as IPv4, relayed, the reply's source v4-mapped again.
tcase udp_v4mapped
tc_udp_v4mapped() {
	local m
	m=$(umark)
	run pw -p "$U_DANTE" "$PY" "$UDPC" mapped "$W4" 7007 "$m"
	expect_rc 0
	expect_out_has "reply echo $m from ::ffff:$W4 7007"
	echo_saw world "$m" "$PW4"
	echo_never world "FROM $C4 "
}

# fork: the child uses the parent's socket (and its association), then
# the parent goes on.
tcase udp_fork
tc_udp_fork() {
	run pw -p "$U_DANTE" "$PY" "$UDPC" fork "$W4" 7007
	expect_rc 0
	expect_out_has "reply echo fork-parent0 from $W4 7007"
	expect_out_has "reply echo fork-child from $W4 7007"
	expect_out_has "reply echo fork-parent1 from $W4 7007"
	echo_saw world fork-child "$PW4"
	echo_never world "FROM $C4 "
}

# Threads racing the first datagrams of one blocking socket: one
# association, nothing lost, every reply from the echo.
tcase udp_threads
tc_udp_threads() {
	run pw -p "$U_DANTE" "$PY" "$UDPC" threads "$W4" 7007 4 10
	expect_rc 0
	expect_out_has "threads got 40/40, 0 from elsewhere, 0 send errors"
	echo_never world "FROM $C4 "
}

# The same with more datagrams than the queue holds (64) while the first
# thread's association starts: on a blocking socket a sendto that returns
# success has sent its datagram (the kernel never drops one at the sender
# of a blocking socket; a full queue should wait, as a full socket buffer
# does), so all 100 come back.
tcase udp_threads_many smoke
tc_udp_threads_many() {
	run pw -p "$U_DANTE" "$PY" "$UDPC" threads "$W4" 7007 4 25
	expect_rc 0
	expect_out_has "threads got 100/100, 0 from elsewhere, 0 send errors"
	expect_err_lacks "sent before the relay was known"
}

# A receiver thread blocked in recvfrom before the first datagram opens
# the association (stub resolvers, game and QUIC clients): the reply it
# gets must be unwrapped and come from the echo, not from the relay with
# the SOCKS5 header still on it.
tcase udp_recv_blocked_before_association smoke
# Each receive call has its own hook.  read() cannot say who sent what it
# got, so there the datagram is dropped (a stray could have sent it):
# never handed over with the header on.
tc_udp_recv_blocked_before_association() {
	local m call
	for call in recvfrom recv recvmsg recvmmsg read; do
		m=$(umark)
		run pw -p "$U_DANTE" "$PY" "$UDPC" recvfirst "$W4" 7007 "$m" \
		    "$call"
		expect_rc 0
		echo_saw world "$m" "$PW4"
		case $call in
		recvfrom|recvmsg|recvmmsg)
			expect_out_has "receiver $call b'echo $m' from $W4 7007" ;;
		recv)	expect_out_has "receiver $call b'echo $m' from - -" ;;
		read)	expect_out_has "receiver error"
			expect_out_lacks "$m"
			expect_err_re "dropped a datagram from an unknown sender" ;;
		esac
	done
}

# A closed proxied socket's fd number taken by a new socket: the new one
# has no association; its direct datagram goes direct.
tcase udp_fd_reuse
tc_udp_fd_reuse() {
	conf ru.conf <<-EOC
	proxy d $U_DANTE
	direct $P4:7007
	via d *
	EOC
	run pw -c ru.conf "$PY" "$UDPC" reuse "$W4" 7007 "$P4" 7007
	expect_rc 0
	expect_out_has "same fd"
	expect_out_has "reply echo reuse-direct from $P4 7007"
	expect_out_has "reply echo reuse-again from $W4 7007"
	echo_saw local reuse-direct "$C4"
	echo_saw world reuse-again "$PW4"
}

# A connected socket re-connected: proxied, direct, proxied again, each
# with the right peer and the reply from the right place.
tcase udp_reconnect
tc_udp_reconnect() {
	conf rc.conf <<-EOC
	proxy d $U_DANTE
	direct $P4:7007
	via d *
	EOC
	run pw -c rc.conf "$PY" "$UDPC" reconnect "$W4" 7007 "$P4" 7007
	expect_out_has "connected $W4 7007: echo rc0-$W4 from $W4"
	expect_out_has "connected $P4 7007: echo rc1-$P4 from $P4"
	expect_out_has "connected $W4 7007: echo rc2-$W4 from $W4"
	echo_saw world "rc0-$W4" "$PW4"
	echo_saw local "rc1-$P4" "$C4"
	echo_saw world "rc2-$W4" "$PW4"
	echo_never world "FROM $C4 "
}

# connect(AF_UNSPEC) dissolves a connected socket (README: "undoes it"),
# then the same socket sends unconnected, direct and proxied.  Linux
# releases a port that bind(port 0) chose on AF_UNSPEC, so the next
# datagram leaves from a new port; dante only relays from the port the
# UDP ASSOCIATE request named.
tcase udp_unspec_disconnect smoke
tc_udp_unspec_disconnect() {
	conf rc.conf <<-EOC
	proxy d $U_DANTE
	direct $P4:7007
	via d *
	EOC
	run pw -c rc.conf "$PY" "$UDPC" reconnect "$W4" 7007 "$P4" 7007
	expect_rc 0
	expect_out_has "unconnected ENOTCONN"
	expect_out_has "sendto $P4: echo rc-unspec0-$P4 from $P4 7007"
	expect_out_has "sendto $W4: echo rc-unspec1-$W4 from $W4 7007"
	echo_saw world "rc-unspec1-$W4" "$PW4"
	echo_never world "FROM $C4 "
}
# Datagrams to one direct address skip the rule decision after the first
# (a per-thread memo), but a lookup that ties the address to a name whose
# rule comes first must still change where the next one goes.
tcase udp_direct_memo_follows_lookup
tc_udp_direct_memo_follows_lookup() {
	local m
	m=$(umark)
	conf memo.conf <<-EOC
	proxy d socks5://$P4:1080
	via d web.local.test
	direct *
	EOC
	run pw -c memo.conf "$PY" "$UDPC" resolved "$P4" 7007 web.local.test \
	    "$m"
	expect_rc 0
	expect_out_has "web.local.test is $P4"
	expect_out_has "reply echo $m-after from $P4 7007"
	echo_saw local "$m-before2" "$C4"
	echo_saw local "$m-after" "$PW4"
}

# One socket, a direct and a proxied destination in turns.
tcase udp_direct_and_proxied
tc_udp_direct_and_proxied() {
	conf mix.conf <<-EOC
	proxy d $U_DANTE
	direct $P4:7007
	via d *
	EOC
	run pw -c mix.conf "$PY" "$UDPC" alternate "$P4" 7007 "$W4" 7007 3
	expect_rc 0
	expect_out_has "reply echo alt2-$P4 from $P4"
	expect_out_has "reply echo alt2-$W4 from $W4"
	[ "$(grep -c '^reply' out)" = 6 ] || { show; fail "want 6 replies"; }
	echo_saw local "alt0-$P4" "$C4"
	echo_saw world "alt0-$W4" "$PW4"
	echo_never world "FROM $C4 "
}

# A sender on the client's network (the proxy host, from a port that is
# not the relay's) cannot get a datagram into a proxied socket.
tcase udp_stray_sender
tc_udp_stray_sender() {
	local m port i
	m=$(umark)
	pw -p "$U_DANTE" "$PY" "$UDPC" stray "$W4" 7007 "$CD/port" \
	    >out 2>err </dev/null &
	for i in $(seq 1 100); do
		[ -s "$CD/port" ] && break
		sleep 0.1
	done
	port=$(cat "$CD/port" 2>/dev/null) || fail "the client never got a reply"
	ip netns exec "$NSP" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(5):
    s.sendto(b"STRAY-%d" % i, (sys.argv[1], int(sys.argv[2])))
' "$C4" "$port"
	touch "$CD/port.sent"
	wait $! || { show; fail "client failed"; }
	expect_out_has "reply echo second from $W4"
	expect_out_has "quiet"
	grep -q STRAY out && { show; fail "a stray datagram was delivered"; }
	expect_err_re "dropped a datagram from $P4 port [0-9]+: not a relay"
	return 0
}

tcase udp_block_and_http
tc_udp_block_and_http() {
	local m
	m=$(umark)
	conf b.conf <<-EOC
	proxy d $U_DANTE
	block $W4:7007
	via d *
	EOC
	run pw -c b.conf "$PY" "$UDPC" sendto "$W4" 7007 "$m"
	expect_out_has "error EACCES"
	expect_err_re "blocked udp $W4:7007 \(.*b.conf:2 block $W4:7007\)"
	echo_never world "$m"
	m=$(umark)
	run pw -p "$U_TINY" "$PY" "$UDPC" sendto "$W4" 7007 "$m"
	expect_out_has "error EACCES"
	expect_err_re "an HTTP CONNECT proxy cannot carry UDP"
	echo_never world "$m"
}

# Two SOCKS5 proxies in a chain cannot carry UDP (the relay of the last
# would have to be reached through the first): refused, never direct.
tcase udp_chain_refused
tc_udp_chain_refused() {
	local m n0
	m=$(umark)
	n0=$(pcount dante "$P4" 1081)
	conf ch.conf <<-EOC
	proxy a $U_DANTE
	proxy b $U_DANTE_USER
	via a>b *
	EOC
	run pw -c ch.conf "$PY" "$UDPC" sendto "$W4" 7007 "$m"
	expect_out_has "error EACCES"
	expect_err_re "UDP cannot go through a chain of proxies"
	expect_err_lacks "$PW_USER_PASS"
	echo_never world "$m"
	# nothing reached even the first hop
	[ "$(pcount dante "$P4" 1081)" = "$n0" ] ||
	    fail "the chain's first hop was used"
}

# A relay that misbehaves (udp_fakerelay.py): a fragment, a malformed
# header, a datagram shorter than a header, a well-formed one from another
# port of the relay's host, then the real reply.  Only the last reaches
# the application; each kind of drop is logged once.
fakerelay_start() {	# DELAY_MS: sets FR_PORT
	local i
	ip netns exec "$NSP" "$PY" "$PW_INTEG_DIR/udp_fakerelay.py" \
	    "$CD/relay.log" "$P4" "$CD/relay.port" "$1" \
	    >"$CD/relay.out" 2>&1 </dev/null &
	FR_PID=$!
	trap 'kill $FR_PID 2>/dev/null || true' EXIT
	for i in $(seq 1 50); do
		[ -s "$CD/relay.port" ] && break
		sleep 0.1
	done
	FR_PORT=$(cat "$CD/relay.port") || fail "the fake relay did not start"
}

tcase udp_relay_junk_dropped
tc_udp_relay_junk_dropped() {
	local m
	m=$(umark)
	fakerelay_start 0
	run pw -p "socks5://$P4:$FR_PORT" "$PY" "$UDPC" drain "$W4" 7007 "$m"
	expect_rc 0
	expect_out_has "reply echo $m from $W4 7007"
	expect_out_has "quiet"
	[ "$(grep -c '^reply' out)" = 1 ] || { show; fail "want one reply"; }
	expect_out_lacks FRAGMENT
	expect_out_lacks BADATYP
	expect_out_lacks SPOOF
	expect_err_re "dropped a datagram from $P4 port [0-9]+: a SOCKS5 fragment"
	expect_err_re "dropped a datagram from $P4 port [0-9]+: a malformed"
	expect_err_re "dropped a datagram from $P4 port [0-9]+: not a relay"
	# what the shim sent the relay: RSV 0, FRAG 0, the IPv4 destination
	grep -q "^DGRAM rsv 0 frag 0 atyp 1 $W4 7007 $m from $C4 " relay.log ||
	    { cat relay.log >&2; fail "the relay did not get a clean header"; }
	grep -q "^ASSOC cmd 3 " relay.log || fail "no UDP ASSOCIATE"
	echo_never world "$m"
	# recvmmsg: the junk among a batch is left out, the echoes kept
	run pw -p "socks5://$P4:$FR_PORT" "$PY" "$UDPC" mmsg "$W4" 7007 3
	expect_rc 0
	expect_out_has "recvmmsg got 3"
	[ "$(grep -c "^mmsg echo mm[0-2] from $W4 7007 namelen 16\$" out)" = 3 ] ||
	    { show; fail "want 3 echoes from $W4 7007"; }
}

# A proxy that takes a second to answer: a non-blocking socket's sendto
# returns at once (the datagrams wait in the queue), and every one is
# delivered once the relay is known.
tcase udp_slow_association
tc_udp_slow_association() {
	local ms
	fakerelay_start 1000
	run pw -p "socks5://$P4:$FR_PORT" "$PY" "$UDPC" nonblock "$W4" 7007 10
	expect_rc 0
	expect_out_has "nonblock got 10/10"
	ms=$(sed -n 's/^sent 10 in \([0-9]*\) ms$/\1/p' out)
	[ -n "$ms" ] && [ "$ms" -lt 300 ] ||
	    { show; fail "sendto waited for the association (${ms:-?} ms)"; }
	[ "$(grep -c "^DGRAM rsv 0 frag 0 atyp 1 $W4 7007 nb" relay.log)" = 10 ] ||
	    { cat relay.log >&2; fail "the relay did not get 10 datagrams"; }
}

tcase udp_audit
tc_udp_audit() {
	local m
	m=$(umark)
	run pw --log "$CD/audit.log" -p "$U_DANTE" "$PY" "$UDPC" sendto \
	    "$W4" 7007 "$m"
	expect_rc 0
	"$PY" - "$CD/audit.log" "$W4" <<-'EOP' || fail "audit log"
	import json, sys
	evs = [json.loads(l) for l in open(sys.argv[1])]
	udp = [e for e in evs if e.get("proto") == "udp"]
	assert len(udp) == 1, evs
	e = udp[0]
	assert e["event"] == "connect" and e["action"] == "via", e
	assert e["dest"]["addr"] == sys.argv[2] and e["dest"]["port"] == 7007, e
	assert e["proxy"]["name"] == "p1", e
	EOP
}

# A proxy that refuses UDP ASSOCIATE (microsocks: CONNECT only) while an
# event loop waits for replies: the loop wakes up with the error (as for
# an ICMP error) instead of waiting forever; blocking sockets get it from
# sendto itself.
tcase udp_refused_wakes_event_loop
tc_udp_refused_wakes_event_loop() {
	local ms=socks5://$MS_USER:$MS_PASS@$P4:1082
	run -t 10 pw -p "$ms" "$PY" "$UDPC" nonblock "$W4" 7007 3
	expect_out_has "error ENOTSUP"
	expect_err_re "failed udp $W4:7007: .*command not supported \(SOCKS5 reply 7\)"
	expect_err_lacks "$MS_PASS"
	command -v node >/dev/null || fail "node is not installed"
	run -t 10 pw -p "$ms" node -e '
		const s = require("dgram").createSocket("udp4");
		s.on("message", () => { console.log("message?"); process.exit(0); });
		s.on("error", (e) => { console.log("node error", e.code); process.exit(0); });
		s.send("hi", 7007, process.argv[1]);
		setTimeout(() => { console.log("timeout"); process.exit(3); },
			   5000).unref();
	' "$W4"
	expect_rc 0
	expect_out_has "node error ENOTSUP"
	run pw -p "$ms" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", (sys.argv[1], 7007))
    print("sent")
except OSError as e:
    print("blocking", e.errno == 95)
' "$W4"
	expect_out_has "blocking True"
}
