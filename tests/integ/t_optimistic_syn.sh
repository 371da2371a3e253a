# t_optimistic_syn.sh - the program's first bytes in the SYN (optimistic=on
# with tfo=on, tunnel_early.c): the pipelined SOCKS5 handshake waits for
# the program's first send, and one write carries both, in the SYN when
# the client's kernel has the proxy's Fast Open cookie.  dante does not
# take Fast Open, so tests/integ/tfo_front.py stands in front of it (as in
# t_optimistic.sh's optimistic_tfo); tests/integ/synsniff.py, in the proxy
# namespace, prints every SYN that reaches the front and the data it
# carries, so that a case can tell whether a program's bytes rode in it.
# The program is tests/bin/synclient against the banner echo ($W4:2222):
# the banner, then every byte back, whole and in order.

SYN_CLIENT=$TOP/${PW_BUILD:-build}/bin/synclient
SYN_PORT=1087

# syn_conf URL: syn.conf sends everything through URL with optimistic=on
# tfo=on.
syn_conf() {
	printf 'proxy p %s optimistic=on tfo=on\nvia p *\nconnect_timeout 10s\n' \
	    "$1" >syn.conf
}

# syn_count RE: how many lines of err match RE.
syn_count() {
	grep -cE -- "$1" err || true
}

# syn_start: the Fast Open front at $P4:$SYN_PORT (before dante), the
# sniffer, no cookie cached in the client namespace, and syn.conf with
# optimistic=on tfo=on.  syn_stop ends them.
syn_start() {
	local i
	[ -x "$SYN_CLIENT" ] || fail "no $SYN_CLIENT (make testbins)"
	SYN_OLD=$(ip netns exec "$NSP" sysctl -n net.ipv4.tcp_fastopen)
	ip netns exec "$NSP" sysctl -qw net.ipv4.tcp_fastopen=3
	ip -n "$NSC" tcp_metrics flush all 2>/dev/null || true
	ip netns exec "$NSP" "$PY" "$PW_INTEG_DIR/tfo_front.py" "$P4" \
	    "$SYN_PORT" "$P4" 1080 50 >front.out 2>&1 &
	SYN_FPID=$!
	ip netns exec "$NSP" "$PY" "$PW_INTEG_DIR/synsniff.py" c0 \
	    "$SYN_PORT" 50 >sniff.out 2>&1 &
	SYN_SPID=$!
	for i in $(seq 1 50); do
		grep -q ready front.out 2>/dev/null &&
		    grep -q ready sniff.out 2>/dev/null && break
		sleep 0.1
	done
	grep -q ready front.out || fail "tfo_front.py did not start"
	grep -q ready sniff.out || fail "synsniff.py did not start: $(cat sniff.out)"
	syn_conf "socks5://$P4:$SYN_PORT"
}

syn_stop() {
	sleep 0.2	# the sniffer's last lines
	kill "$SYN_FPID" "$SYN_SPID" 2>/dev/null || true
	wait "$SYN_FPID" "$SYN_SPID" 2>/dev/null || true
	ip netns exec "$NSP" sysctl -qw "net.ipv4.tcp_fastopen=$SYN_OLD"
}

# syn_session N MODE...: one proxywrap session: a first connection that
# learns the proxy (and fetches the cookie), then synclient MODE with N
# bytes for each MODE, its tag "$SYN_M-MODE-" (SYN_M: a new mark).
syn_session() {
	local n=$1
	shift
	SYN_M=$(mark)
	run pw -vv -c syn.conf sh -c 'c=$0 w=$1 m=$2 n=$3
shift 3
"$c" write "$w" 2222 "$m-learn-" 1000 || exit 1
for mode in "$@"; do
	"$c" "$mode" "$w" 2222 "$m-$mode-" "$n" || exit 1
done' "$SYN_CLIENT" "$W4" "$SYN_M" "$n" "$@"
}

# syn_in TAG: a SYN carried TAG; syn_not_in TAG: none did.
syn_in() {
	if ! grep -E '^syn [0-9]+ ' sniff.out | grep -qF -- "$1"; then
		show
		say "SYNs: $(cut -c1-60 sniff.out | tr '\n' '|')"
		fail "no SYN carried $1"
	fi
}

syn_not_in() {
	if grep -E '^syn [0-9]+ ' sniff.out | grep -qF -- "$1"; then
		show
		fail "a SYN carried $1"
	fi
}

# syn_tfo_active: the client namespace's TCPFastOpenActive counter.
syn_tfo_active() {
	ip netns exec "$NSC" nstat -asz TcpExtTCPFastOpenActive |
	    awk '$1 == "TcpExtTCPFastOpenActive" { print $2 }'
}

# Every way the program sends first: the first connection learns that
# the proxy takes pipelining (and gets the cookie: its SYN carries
# nothing); each later one's SYN carries the greeting, the request and
# the program's first bytes (its TAG), and 20 kB come back whole.
tcase optimistic_syn_write smoke
tc_optimistic_syn_write() {
	local before after mode
	syn_start
	before=$(syn_tfo_active)
	syn_session 20000 write writev sendmsg nbwrite
	after=$(syn_tfo_active)
	syn_stop
	expect_rc 0
	for mode in write writev sendmsg nbwrite; do
		expect_out_has "$mode ok 20000"
		syn_in "$SYN_M-$mode-"
	done
	syn_not_in "$SYN_M-learn-"
	if [ "$(syn_count 'the handshake goes with its first bytes')" != 4 ]; then
		show
		fail "wanted 4 connections holding the handshake"
	fi
	expect_err_lacks "the handshake goes alone"
	if [ "$(( ${after:-0} - ${before:-0} ))" -lt 4 ]; then
		show
		fail "SYNs with data: ${before:-?} -> ${after:-?}, wanted 4 more"
	fi
}

# Without a cookie the kernel sends a plain SYN (asking for one) and the
# handshake waits from its SYN-ACK on: the bytes go with it right after,
# still whole; with the cookie back, the next one rides in the SYN again.
tcase optimistic_syn_nocookie
tc_optimistic_syn_nocookie() {
	local m
	syn_start
	m=$(mark)
	run pw -vv -c syn.conf sh -c 'c=$0 w=$1 m=$2
"$c" write "$w" 2222 "$m-learn-" 1000 || exit 1
ip tcp_metrics flush all || exit 1
"$c" write "$w" 2222 "$m-nocookie-" 20000 || exit 1
"$c" writev "$w" 2222 "$m-cookie-" 20000 || exit 1' "$SYN_CLIENT" "$W4" "$m"
	syn_stop
	expect_rc 0
	expect_out_has "write ok 20000"
	expect_out_has "writev ok 20000"
	syn_not_in "$m-nocookie-"
	syn_in "$m-cookie-"
	expect_err_lacks "the handshake goes alone"
}

# A program that reads first (a server that speaks first: SSH, SMTP)
# must not wait on a handshake held for bytes it will not send yet: a
# read, a poll or select for input alone, an epoll registration for input
# alone, syscall(SYS_poll) each send it at once (no SYN carries the bytes
# written after the banner, and the 100 ms bound never runs out).  Only a
# wait the library cannot see (the poll system call made without libc)
# waits for that bound, once.
tcase optimistic_syn_readfirst
tc_optimistic_syn_readfirst() {
	local mode
	syn_start
	syn_session 5000 readfirst pollfirst selectfirst epollfirst sysfirst
	expect_rc 0
	for mode in readfirst pollfirst selectfirst epollfirst sysfirst; do
		expect_out_has "$mode ok 5000"
		syn_not_in "$SYN_M-$mode-"
	done
	if [ "$(syn_count 'the handshake goes with its first bytes')" != 5 ]; then
		show
		fail "wanted 5 connections holding the handshake"
	fi
	expect_err_lacks "the handshake goes alone"
	syn_session 5000 rawfirst
	syn_stop
	expect_rc 0
	expect_out_has "rawfirst ok 5000"
	# the bound, not the helper's idle second (or a hang)
	if [ "$(sed -n 's/^rawfirst ok 5000 banner_ms=//p' out)" -ge 900 ]; then
		show
		fail "the banner took the helper's idle second, not the bound"
	fi
	if [ "$(syn_count 'nothing from the program in 100 ms: the handshake goes alone')" != 1 ]; then
		show
		fail "wanted the bound to send the handshake once"
	fi
}

# The other ways bytes or a FIN reach the socket: sendfile and splice
# (the handshake goes first, alone), a dup'ed fd, a forked child, and a
# shutdown(SHUT_WR) right after the write (which must not meet the socket
# in SYN_SENT: the kernel would drop the connection); and a thread that
# writes while another, let go at the same moment, waits for input (the
# hold ends once, under the tunnel's lock, either way).  Byte-exact each.
tcase optimistic_syn_paths
tc_optimistic_syn_paths() {
	local mode
	syn_start
	syn_session 50000 sendfile splice dup fork shutwr race race race race race
	syn_stop
	expect_rc 0
	for mode in sendfile splice dup fork shutwr; do
		expect_out_has "$mode ok 50000"
	done
	if [ "$(grep -c '^race ok 50000' out)" != 5 ]; then
		show
		fail "wanted five whole echoes with two threads"
	fi
	syn_in "$SYN_M-shutwr-"
	expect_err_lacks "the handshake goes alone"
}

# Real programs: curl (non-blocking connect, poll) and python's
# http.client (blocking): each GET rides in the SYN and the world sees it.
tcase optimistic_syn_programs
tc_optimistic_syn_programs() {
	local m1 m2 m3
	need_prog curl
	syn_start
	m1=$(mark) m2=$(mark) m3=$(mark)
	run pw -vv -c syn.conf sh -c '
curl -sS -m 10 -o /dev/null -w "curl %{http_code}\n" "http://$1$2" || exit 1
curl -sS -m 10 -o /dev/null -w "curl %{http_code}\n" "http://$1$3" || exit 1
"$0" -c "import http.client, sys
c = http.client.HTTPConnection(sys.argv[1], 80)
c.request(\"GET\", sys.argv[2])
print(\"python\", c.getresponse().status)" "$1" "$4"' "$PY" "$W4" "$m1" "$m2" "$m3"
	syn_stop
	expect_rc 0
	if [ "$(grep -c '^curl 200$' out)" != 2 ]; then
		show
		fail "wanted two pages for curl"
	fi
	expect_out_has "python 200"
	world_saw "$m2" "$PW4"
	world_saw "$m3" "$PW4"
	syn_in "GET $m2 "
	syn_in "GET $m3 "
	expect_err_lacks "the handshake goes alone"
}

# An event loop with many connections at once: asyncio opens 16 through
# the front together, each writes a tagged 20 kB as soon as it is told
# connected and reads the banner and the echo back.  asyncio registers
# its reader (EPOLLIN alone) before the protocol writes, so each held
# handshake goes alone at that registration, never waiting for the bound;
# every echo comes back whole.  (16: the banner echo, socat forking under
# a loaded machine, resets some of 40 at once, with or without tfo=on.)
tcase optimistic_syn_asyncio
tc_optimistic_syn_asyncio() {
	syn_start
	run pw -vv -c syn.conf sh -c '
"$1" write "$2" 2222 learn- 1000 || exit 1
"$0" -c "
import asyncio, sys
BANNER = b\"PWBANNER-0123456789 hello\r\n\"
async def one(i):
    r, w = await asyncio.open_connection(sys.argv[1], 2222)
    data = b\"tag-%d-\" % i + bytes(range(256)) * 80
    w.write(data)
    want, got = BANNER + data, b\"\"
    try:
        while len(got) < len(want):
            c = await asyncio.wait_for(r.read(65536), 20)
            if not c:
                break
            got += c
    except asyncio.TimeoutError:
        pass
    w.close()
    if got != want:
        print(\"asyncio bad\", i, len(got), \"of\", len(want), got[:40], flush=True)
    return got == want
async def main():
    ok = await asyncio.gather(*(one(i) for i in range(16)))
    print(\"asyncio ok\", sum(ok))
asyncio.run(main())" "$2"' "$PY" "$SYN_CLIENT" "$W4"
	syn_stop
	expect_rc 0
	expect_out_has "asyncio ok 16"
	if [ "$(syn_count 'the handshake goes with its first bytes')" -lt 12 ]; then
		show
		fail "wanted most of the 16 connections holding the handshake"
	fi
	expect_err_lacks "the handshake goes alone"
}
