# t_optimistic.sh - optimistic data (proxy ... optimistic=on): the
# program's connect completes once the pipelined SOCKS5 handshake is
# written, its first bytes follow the request in the same flight, and the
# proxy's replies are taken before the program reads.  Real proxies:
# dante, microsocks (which drops early data: its #105) and OpenSSH's
# `ssh -D`, started here in the proxy namespace.

EARLY_PROBE=$PW_INTEG_DIR/early_probe.py
OPT_SSH_PORT=1085

# opt_ssh_socks: `ssh -D $P4:$OPT_SSH_PORT` in the proxy namespace, logged
# in by key to the world's program sshd (prog_env.sh, $WP4:22), which opens
# the forwarded connections (the world sees them come from $W4, its own
# address).
# Started once per run (the case's time limit kills its process group,
# so setsid).
. "$PW_INTEG_DIR/prog_env.sh"
opt_ssh_socks() {
	[ -e "$T/optssh.up" ] && return 0
	prog_need sshd
	setsid ip netns exec "$NSP" ssh -N -i "$PT/id_ed25519" \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o BatchMode=yes -o ExitOnForwardFailure=yes \
	    -D "$P4:$OPT_SSH_PORT" "root@$WP4" \
	    >"$T/log/optssh.out" 2>&1 </dev/null &
	env_wait_port "$NSP" "$P4" "$OPT_SSH_PORT" 10 ||
	    fail "ssh -D did not start: $(tail -n 3 "$T/log/optssh.out")"
	touch "$T/optssh.up"
}

# The fidelity check under the design: what each proxy does with bytes
# that follow a pipelined greeting and request (tests/integ/early_probe.py,
# no shim).  dante and ssh -D forward them; microsocks 1.0.3 answers the
# greeting and loses the rest of that segment (#105), so nothing reaches
# the destination; given the request alone after the greeting's reply,
# it connects and loses the bytes that came with the request.  If one of these changes, optimistic=on's detection
# (README) must be looked at again.
tcase optimistic_proxies_fidelity
tc_optimistic_proxies_fidelity() {
	local m
	opt_ssh_socks
	m=$(mark)
	run inc "$PY" "$EARLY_PROBE" "$P4" 1080 "$W4" 80 "$m"
	expect_out_has "early: ok HTTP/1.1 200"
	world_saw "$m" "$PW4"
	m=$(mark)
	run inc "$PY" "$EARLY_PROBE" "$P4" "$OPT_SSH_PORT" "$W4" 80 "$m"
	expect_out_has "early: ok HTTP/1.1 200"
	world_saw "$m" "$W4"
	m=$(mark)
	run inc "$PY" "$EARLY_PROBE" "$P4" 1083 "$W4" 80 "$m"
	expect_out_has "early: silent reply"
	nobody_saw "$m"
	m=$(mark)
	run inc "$PY" "$EARLY_PROBE" -g "$P4" 1083 "$W4" 80 "$m"
	expect_out_has "early: silent data"
	nobody_saw "$m"
}

OPT_CLIENT=$PW_INTEG_DIR/opt_client.py
OPT_PWCLIENT=$TOP/${PW_BUILD:-build}/bin/pwclient

# opt_conf URL [OPTIONS]: opt.conf sends everything through URL, with
# optimistic=on unless OPTIONS say otherwise.
opt_conf() {
	printf 'proxy p %s %s\nvia p *\nconnect_timeout 10s\n' "$1" \
	    "${2:-optimistic=on}" >opt.conf
}

# opt_lines RE: how many lines of err match RE.
opt_lines() {
	grep -cE -- "$1" err || true
}

# opt_echo_session URL [FROM]: in one proxywrap session, the echo client
# three times (python3, blocking: the first learns whether the proxy takes
# a pipelined handshake), then curl (non-blocking) for a page, which the
# world sees from FROM (default: the proxy host, $PW4).
opt_echo_session() {
	local m
	need_prog curl
	m=$(mark)
	opt_conf "$1"
	run pw -vv -c opt.conf sh -c '
for i in 1 2 3; do "$0" "$1" echo "$2" 2222 "$3" || exit 1; done
curl -sS -m 10 -o curl.out -w "curl %{http_code}\n" "http://$2$4"' \
	    "$PY" "$OPT_CLIENT" "$W4" 200000 "$m"
	expect_rc 0
	if [ "$(grep -c '^echo ok 200000$' out)" != 3 ]; then
		show
		fail "wanted three whole echoes"
	fi
	expect_out_has "curl 200"
	world_saw "$m" "${2:-$PW4}"
}

# dante and ssh -D take a pipelined handshake: the first connection learns
# it (and waits for the replies), every later one goes optimistic, curl's
# non-blocking one too; 200 kB written at once come back whole, in order,
# behind the banner the server sends first.
tcase optimistic_dante smoke
tc_optimistic_dante() {
	opt_echo_session "$U_DANTE"
	expect_err_re "takes a pipelined SOCKS5 handshake"
	if [ "$(opt_lines 'optimistic: connected for the program')" != 3 ]; then
		show
		fail "wanted 3 optimistic connections (2 python, 1 curl)"
	fi
	expect_err_lacks "optimistic=on):"
}

tcase optimistic_dante_userauth
tc_optimistic_dante_userauth() {
	opt_echo_session "$U_DANTE_USER"
	if [ "$(opt_lines 'optimistic: connected for the program')" != 3 ]; then
		show
		fail "wanted 3 optimistic connections"
	fi
	expect_err_lacks "$PW_USER_PASS"
}

tcase optimistic_ssh_d
tc_optimistic_ssh_d() {
	opt_ssh_socks
	opt_echo_session "socks5://$P4:$OPT_SSH_PORT" "$W4"
	expect_err_re "takes a pipelined SOCKS5 handshake"
	if [ "$(opt_lines 'optimistic: connected for the program')" != 3 ]; then
		show
		fail "wanted 3 optimistic connections"
	fi
}

# microsocks drops what follows the greeting: the first process's
# blocking connect finds that out (one fallback for the whole session),
# and no later process of the session sends it a byte early.
tcase optimistic_microsocks_never
tc_optimistic_microsocks_never() {
	opt_echo_session "$U_MS"
	if [ "$(opt_lines 'pipelined SOCKS5 handshake got no answer')" != 1 ]; then
		show
		fail "wanted one fallback line for the session"
	fi
	expect_err_lacks "optimistic: connected"
	expect_err_lacks "$MS_PASS"
}

# Without optimistic=on nothing changes: dante's connections wait.
tcase optimistic_off
tc_optimistic_off() {
	opt_conf "$U_DANTE" "max_conns=50"
	run pw -vv -c opt.conf sh -c 'for i in 1 2; do "$0" "$1" echo "$2" 2222 1000 || exit 1; done' \
	    "$PY" "$OPT_CLIENT" "$W4"
	expect_rc 0
	expect_err_lacks "optimistic: connected"
}

# The readiness contract while the replies are still to come: a
# non-blocking socket driven by poll(), then by a level-triggered epoll,
# is told writable, writes 100 kB at once, and every read it is told it
# may do returns bytes (EAGAIN=0: the proxy's replies never show as
# readable); the bytes are the banner, then the echo, whole.  A C client
# (tests/bin/pwclient, blocking) fetches a page in the same session.
tcase optimistic_readiness
tc_optimistic_readiness() {
	local m
	[ -x "$OPT_PWCLIENT" ] || fail "no $OPT_PWCLIENT (make testbins)"
	m=$(mark)
	opt_conf "$U_DANTE"
	run pw -vv -c opt.conf sh -c '
"$0" "$1" echo "$2" 2222 1000 || exit 1
"$0" "$1" poll "$2" 2222 100000 || exit 1
"$0" "$1" epoll "$2" 2222 100000 || exit 1
"$3" get "$2" 80 "$4"' "$PY" "$OPT_CLIENT" "$W4" "$OPT_PWCLIENT" "$m"
	expect_rc 0
	expect_out_has "poll ok 100000 EAGAIN=0"
	expect_out_has "epoll ok 100000 EAGAIN=0"
	world_saw "$m" "$PW4"
	if [ "$(opt_lines 'optimistic: connected for the program')" != 3 ]; then
		show
		fail "wanted 3 optimistic connections (poll, epoll, pwclient)"
	fi
}

# A refusal after the program has written: a proxy that takes pipelining
# (tests/integ/badproxy.py refuselate; the first connection learns it)
# refuses port 9 after 300 ms, when the program's connect() has said 0
# and its send has gone out.  Its next call gets ECONNREFUSED, and one log
# line says why.  (dante refuses a closed port too fast for this: the
# refusal is back before connect() would return, and then connect() gets
# ECONNREFUSED itself, as from the kernel.)  The same with tfo=on, where
# the handshake waits for the program's line and goes with it
# (t_optimistic_syn.sh; badproxy.py takes no Fast Open: after a plain
# handshake).
# opt_refused PORT OPTIONS
opt_refused() {
	badproxy refuselate "$1"
	opt_conf "socks5://127.0.0.1:$1" "$2"
	run pw -vv -c opt.conf sh -c '
"$0" -c "import socket; s = socket.socket(); s.connect((\"$2\", 80)); s.sendall(b\"GET / HTTP/1.0\r\n\r\n\"); print(s.recv(100).split()[1].decode())" || exit 1
"$0" "$1" refused "$2" 9' "$PY" "$OPT_CLIENT" "$W4"
	kill "$BADPID" 2>/dev/null || true
	expect_rc 0
	expect_out_has "200"
	expect_out_has "connect ok"
	expect_out_has "send ok"
	expect_errno ECONNREFUSED
	expect_err_re "optimistic: connected for the program"
	expect_err_re "failed $W4:9: proxy p .* refused: .*after its connect had completed \(optimistic=on\): Connection refused on its next call"
	if [ "$(grep -c "failed $W4:9" err)" != 1 ]; then
		show
		fail "wanted one log line for the refusal"
	fi
}

tcase optimistic_refused_after_write
tc_optimistic_refused_after_write() {
	opt_refused 18089 optimistic=on
	opt_refused 18090 "optimistic=on tfo=on"
	expect_err_re "the handshake goes with its first bytes"
}

# tfo=on: the greeting goes in the SYN once the client namespace's kernel
# holds the proxy's cookie.  dante does not take Fast Open, so a relay
# whose listener does (tests/integ/tfo_front.py, with the server bit of
# net.ipv4.tcp_fastopen in the proxy namespace) stands in front of it.
# The client kernel's TCPFastOpenActive counter must grow by the later
# connections; the bytes come back whole.
tcase optimistic_tfo
tc_optimistic_tfo() {
	local old before after i
	old=$(ip netns exec "$NSP" sysctl -n net.ipv4.tcp_fastopen)
	ip netns exec "$NSP" sysctl -qw net.ipv4.tcp_fastopen=3
	ip netns exec "$NSP" "$PY" "$PW_INTEG_DIR/tfo_front.py" "$P4" 1086 \
	    "$P4" 1080 30 >front.out 2>&1 &
	local fpid=$!
	for i in $(seq 1 50); do
		grep -q ready front.out 2>/dev/null && break
		sleep 0.1
	done
	grep -q ready front.out || fail "tfo_front.py did not start"
	before=$(ip netns exec "$NSC" nstat -asz TcpExtTCPFastOpenActive |
	    awk '$1 == "TcpExtTCPFastOpenActive" { print $2 }')
	opt_conf "socks5://$P4:1086" "optimistic=on tfo=on"
	run pw -vv -c opt.conf sh -c 'for i in 1 2 3 4; do "$0" "$1" echo "$2" 2222 50000 || exit 1; done' \
	    "$PY" "$OPT_CLIENT" "$W4"
	after=$(ip netns exec "$NSC" nstat -asz TcpExtTCPFastOpenActive |
	    awk '$1 == "TcpExtTCPFastOpenActive" { print $2 }')
	kill "$fpid" 2>/dev/null || true
	wait "$fpid" 2>/dev/null || true
	ip netns exec "$NSP" sysctl -qw "net.ipv4.tcp_fastopen=$old"
	expect_rc 0
	if [ "$(grep -c '^echo ok 50000$' out)" != 4 ]; then
		show
		fail "wanted four whole echoes"
	fi
	if [ "$(( ${after:-0} - ${before:-0} ))" -lt 3 ]; then
		show
		fail "SYNs with data: ${before:-?} -> ${after:-?}, wanted 3 more"
	fi
}

# A session of non-blocking clients only (opt_client.py poll: a
# non-blocking connect, as curl's) never tries pipelining on a proxy not
# known yet, so the helper probes the proxy on a socket of its own (a
# pipelined request for 0.0.0.0:0).  dante refuses it (REP 8), which
# proves it reads past the greeting: the next connection goes optimistic.
# microsocks stays silent (a process that ends first leaves it unknown,
# one that lives marks it): never sent early bytes either way.  No
# destination sees a probe: it asks for 0.0.0.0:0.
# opt_probe_session URL PAUSE: two non-blocking echo connections in one
# session, PAUSE seconds apart; both must come back whole.
opt_probe_session() {
	opt_conf "$1"
	run pw -vv -c opt.conf sh -c '"$0" "$1" poll "$2" 2222 1000 &&
sleep "$3" && "$0" "$1" poll "$2" 2222 1000' "$PY" "$OPT_CLIENT" "$W4" "$2"
	expect_rc 0
	if [ "$(grep -c '^poll ok 1000 EAGAIN=0$' out)" != 2 ]; then
		show
		fail "wanted two whole echoes through $1"
	fi
}

tcase optimistic_probe_nonblocking
tc_optimistic_probe_nonblocking() {
	opt_probe_session "$U_DANTE" 0.5
	expect_err_re "probe of proxy p .* ended: .*refused"
	if [ "$(opt_lines 'optimistic: connected for the program')" != 1 ]; then
		show
		fail "wanted the second connection (only) optimistic"
	fi
	opt_probe_session "$U_MS" 1
	expect_err_lacks "optimistic: connected"
	expect_err_lacks "$MS_PASS"
}
