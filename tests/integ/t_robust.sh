# t_robust.sh - real programs keep working: scrubbed environments, exec of
# programs the shim cannot follow, raw syscalls, TCP Fast Open, threads,
# fd hygiene, signals during a handshake, misbehaving proxies.

PWC=$TOP/${PW_BUILD:-build}/bin/pwclient

need_pwclient() {
	[ -x "$PWC" ] || { printf '# SKIP: no %s (make testbins)\n' "$PWC" >&2; exit 77; }
}

# env -i and "unset LD_PRELOAD" in the tree: the child is still wrapped.
tcase exec_scrubbed_env smoke
tc_exec_scrubbed_env() {
	need_prog curl
	local m
	m=$(mark)
	run pw -p "$U_DANTE" env -i /usr/bin/curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
	m=$(mark)
	run pw -p "$U_DANTE" sh -c "unset LD_PRELOAD SHIM_PROXY; exec curl -sS -m 10 http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
	# a rule file and strict mode survive env -i too: blocked, not direct
	conf t.conf <<-EOC
	block 198.18.0.1
	EOC
	m=$(mark)
	run pw --strict -c t.conf env -i /usr/bin/curl -sS -m 10 "http://$P4:8080$m"
	expect_fail
	expect_err_re "proxywrap: blocked 198\.18\.0\.1:8080"
	nobody_saw "$m"
}

# A static build of the test client: the shim cannot follow it.
tcase exec_static_strict smoke
tc_exec_static_strict() {
	need_pwclient
	local m
	gcc -static -O1 -o stclient "$TOP/tests/bin/pwclient.c" -lpthread 2>gcc.err ||
	    { printf '# SKIP: gcc -static failed\n' >&2; exit 77; }
	m=$(mark)
	run pw --strict --supervise=off -p "$U_DANTE" "$CD/stclient" get "$P4" 8080 "$m"
	expect_rc 126
	expect_err_re "refused exec of $CD/stclient: statically linked: the shim cannot follow it \(strict mode; allow with allow_exec $CD/stclient\)"
	nobody_saw "$m"
	# supervised (the default under --strict) it runs, and its connect
	# is the supervisor's, through the proxy
	m=$(mark)
	run pw --strict -v -p "$U_DANTE" "$CD/stclient" get "$P4" 8080 "$m"
	expect_rc 0
	expect_err_re "via p1 \(.*\): 198\.18\.0\.1:8080 in [0-9]+ ms \(-p: via p1 \*\) \[supervised: pid [0-9]+ $CD/stclient\]"
	local_saw "$m" "$PW4"
	# inside the tree, supervised: the shell's exec runs it, and its
	# connect goes through the proxy as above
	m=$(mark)
	run pw --strict -v -p "$U_DANTE" sh -c "'$CD/stclient' get $P4 8080 $m; echo rc=\$?"
	expect_out_has "rc=0"
	expect_err_re "via p1 \(.*\): 198\.18\.0\.1:8080 in [0-9]+ ms"
	local_saw "$m" "$PW4"
	# inside the tree without the supervisor: the shell's exec is refused
	m=$(mark)
	run pw --strict --supervise=off --log audit.json -p "$U_DANTE" sh -c "'$CD/stclient' get $P4 8080 $m; echo rc=\$?"
	expect_out_has "rc=126"
	expect_err_re "refused exec of $CD/stclient: statically linked"
	nobody_saw "$m"
	# the audit log has the refusal as an event of its own
	if ! "$PY" -c '
import json, sys
ev = [json.loads(l) for l in open("audit.json")]
sys.exit(0 if any(e.get("event") == "exec-refused" and
                  e.get("path", "").endswith("/stclient") for e in ev) else 1)'; then
		show
		fail "no exec-refused event for stclient in the audit log"
	fi
	# not strict: it runs (direct, unwrapped) and the log says so
	m=$(mark)
	run pw -p "$U_DANTE" sh -c "'$CD/stclient' get $P4 8080 $m"
	expect_rc 0
	expect_err_re "exec of $CD/stclient: statically linked: the shim cannot follow it"
	local_saw "$m" "$C4"
	# allow_exec names it: runs under strict, logged as allowed
	conf t.conf <<-EOC
	proxy d $U_DANTE
	via d *
	allow_exec $CD/stclient
	EOC
	m=$(mark)
	run pw --strict -c t.conf sh -c "'$CD/stclient' get $P4 8080 $m"
	expect_rc 0
	expect_err_re "allowed exec of $CD/stclient: statically linked: runs without the shim \(.*t\.conf:3 allow_exec"
	local_saw "$m" "$C4"
}

# A setuid copy of a client (to another user: the loader drops LD_PRELOAD).
tcase exec_setuid_strict
tc_exec_setuid_strict() {
	need_pwclient
	local m
	chmod 755 "$CD"
	cp "$PWC" suclient
	chown nobody suclient
	chmod 4755 suclient
	m=$(mark)
	run pw --strict -p "$U_DANTE" sh -c "'$CD/suclient' get $P4 8080 $m; echo rc=\$?"
	expect_out_has "rc=126"
	expect_err_re "refused exec of $CD/suclient: setuid: the shim cannot follow it"
	nobody_saw "$m"
	run pw --strict -p "$U_DANTE" "$CD/suclient" get "$P4" 8080 "$m"
	expect_rc 126
	nobody_saw "$m"
	m=$(mark)
	run pw -p "$U_DANTE" "$CD/suclient" get "$P4" 8080 "$m"
	expect_rc 0
	expect_err_re "exec of $CD/suclient: setuid: the shim cannot follow it"
	local_saw "$m" "$C4"
}

# syscall(SYS_connect, ...) goes through the rules like connect().
tcase raw_syscall_connect smoke
tc_raw_syscall_connect() {
	need_pwclient
	local m
	m=$(mark)
	run pw -p "$U_DANTE" "$PWC" raw "$P4" 8080 "$m"
	expect_rc 0
	local_saw "$m" "$PW4"
	conf t.conf <<-EOC
	block 198.18.0.1
	EOC
	m=$(mark)
	run pw --strict -c t.conf "$PWC" raw "$P4" 8080 "$m"
	expect_rc 3
	expect_errno EACCES
	nobody_saw "$m"
}

# sendto(MSG_FASTOPEN): the data reaches the destination through the
# tunnel; a direct destination keeps the kernel's Fast Open.
tcase tcp_fastopen smoke
tc_tcp_fastopen() {
	need_pwclient
	local m
	m=$(mark)
	run pw -p "$U_DANTE" "$PWC" tfo "$P4" 8080 "$m"
	expect_rc 0
	expect_out_has "200 OK"
	local_saw "$m" "$PW4"
	conf t.conf <<-EOC
	direct 198.18.0.1
	via d *
	proxy d $U_DANTE
	EOC
	m=$(mark)
	run pw -c t.conf "$PWC" tfo "$P4" 8080 "$m"
	expect_rc 0
	local_saw "$m" "$C4"
	if ! case " ${PW_BROKEN_PROGS:-} " in *" curl "*) true ;; *) false ;; esac &&
	    curl --help all 2>/dev/null | grep -q tcp-fastopen; then
		m=$(mark)
		run pw -p "$U_DANTE" curl -sS -m 10 --tcp-fastopen "http://$W4$m"
		expect_rc 0
		world_saw "$m" "$PW4"
	fi
}

# 64 threads connect at once through dante: all 64 get their answer.
tcase threads_64
tc_threads_64() {
	need_pwclient
	run -t 40 pw -p "$U_DANTE" "$PWC" threads 64 "$P4" 8080 /threads
	expect_rc 0
	expect_out_has "ok 64/64"
}

# close_range(3, ~0U) and dup2 over every fd after the helper started:
# the helper keeps its fd, the next non-blocking connect still works.
tcase fd_hygiene
tc_fd_hygiene() {
	need_pwclient
	local m
	m=$(mark)
	run pw -p "$U_DANTE" "$PWC" fds "$P4" 8080 "$m"
	expect_rc 0
	local_saw "$m" "$PW4"
}

# A signal during a blocking connect's handshake: the handler runs and
# the handshake goes on (with or without SA_RESTART); connect returns only
# a finished tunnel or a failure with the socket shut down.
tcase signal_during_handshake
tc_signal_during_handshake() {
	need_pwclient
	local how
	badproxy slow 18085
	conf t.conf <<-EOC
	proxy slow socks5://127.0.0.1:18085
	via slow *
	connect_timeout 5s
	EOC
	for how in restart norestart; do
		run pw -c t.conf "$PWC" sig "$how" "$W4" 80
		expect_rc 0
		expect_out_has "fired 1"
		expect_out_has "connected"
		expect_out_has "200 OK"
		expect_out_lacks "HALF-MADE"
	done
	kill "$BADPID" 2>/dev/null || true
}

# A proxy that misbehaves: an errno within connect_timeout, one log line,
# no hang, never a direct connection.
tcase bounded_proxy_failures smoke
tc_bounded_proxy_failures() {
	need_pwclient
	local mode port=18090 m t0 ms
	for mode in silent close dribble garbage; do
		port=$((port + 1))
		badproxy "$mode" "$port"
		conf t.conf <<-EOC
		proxy bad socks5://127.0.0.1:$port
		via bad *
		connect_timeout 2s
		EOC
		m=$(mark)
		t0=$(date +%s%N)
		run -t 20 pw -c t.conf "$PWC" get "$P4" 8080 "$m"
		ms=$((($(date +%s%N) - t0) / 1000000))
		expect_rc 3
		[ "$ms" -lt 4000 ] || fail "$mode: took $ms ms with connect_timeout 2s"
		[ "$(err_lines)" = 1 ] || { show; fail "$mode: wanted one log line"; }
		say "$mode: $(grep ERRNO out) in $ms ms: $(cat err)"
		nobody_saw "$m"
		kill "$BADPID" 2>/dev/null || true
	done
	# 407 forever: EACCES, one attempt, never retried
	badproxy 407 18099
	conf t.conf <<-EOC
	proxy bad http://127.0.0.1:18099
	via bad *
	connect_timeout 2s
	EOC
	m=$(mark)
	run -t 20 pw -c t.conf "$PWC" get "$P4" 8080 "$m"
	expect_rc 3
	expect_errno EACCES
	expect_err_re "proxy authentication required"
	[ "$(err_lines)" = 1 ] || { show; fail "407: wanted one log line"; }
	sleep 0.5
	[ "$(cat count-407)" = 1 ] || fail "407: $(cat count-407) connections to the proxy"
	nobody_saw "$m"
	kill "$BADPID" 2>/dev/null || true
}

# A rule file with a password that other users can read: one warning.
tcase config_mode_warning
tc_config_mode_warning() {
	conf t.conf <<-EOC
	proxy sq $U_SQUID
	via sq *
	EOC
	chmod 644 t.conf
	run pw -c t.conf true
	expect_rc 0
	expect_err_re "t\.conf holds proxy credentials and other users can read it"
	expect_err_lacks "$SQUID_PASS"
	chmod 600 t.conf
	run pw -c t.conf true
	expect_rc 0
	expect_err_lacks "other users can read"
}
