# t_https_h2.sh - http2=on: the life of the relay's shared HTTP/2
# connections (relay_h2*.c).  A connection that is full, that the proxy
# sent GOAWAY on, or that failed takes no more tunnels; once its last
# stream is over it closes and its thread ends.  The cases count the
# proxy's TCP connections with ss in its namespace and proxywrap's
# threads in /proc/PID/task, from inside the session (the program is
# proxywrap's child: $PPID).  PROXYWRAP_H2_STREAMS, PROXYWRAP_H2_AT_ONCE
# and PROXYWRAP_H2_IDLE (proxywrap(1)) make the stream caps and the idle
# close small enough to reach.

PWC=$TOP/${PW_BUILD:-build}/bin/pwclient

# h2_watch PORT: a shell prelude for the program's script: thr (proxywrap's
# threads), fds (its open files), conns (established to the proxy's
# PORT), settle N T [TENTHS] (until at most N connections and T threads,
# 10 s at most, or TENTHS of a second), base and fbase (threads and files
# now).
h2_watch() {
	cat <<-EOS
	pwpid=\$PPID
	thr() { ls /proc/\$pwpid/task | wc -l; }
	fds() { ls /proc/\$pwpid/fd | wc -l; }
	conns() {
		ip netns exec $NSP ss -Htn state established '( sport = :$1 )' |
		    wc -l
	}
	settle() {
		i=0
		while [ \$i -lt "\${3:-100}" ] && { [ "\$(conns)" -gt "\$1" ] ||
		    [ "\$(thr)" -gt "\$2" ]; }; do
			sleep 0.1
			i=\$((i + 1))
		done
	}
	base=\$(thr)
	fbase=\$(fds)
	EOS
}

# h2_setup PORT [OPTION...]: certificates, nghttpx on PORT (with nghttpx's
# OPTIONs) and t.conf sending the world's tunnels to it with http2=on.
h2_setup() {
	command -v nghttpx >/dev/null || fail "nghttpx missing (tests/deps.sh)"
	https_certs
	https_nghttpx "$@"
	conf t.conf <<-EOC
	proxy ng https://$P4:$1 ca=$CD/ca.crt http2=on
	via ng 198.18.1.0/24
	EOC
}

# With at most 3 streams in a connection's life: 10 tunnels one after
# another take 4 connections, and 12 at once 4 more; each full one closes
# when its last stream ends (one left open, one relay thread and three
# files more than before the first tunnel), and the last closes after 3
# idle seconds (back to the threads and files before).
tcase https_h2_retire
tc_https_h2_retire() {
	local n max
	h2_setup 8480
	{ h2_watch 8480; cat <<-EOS; } >s.sh
	for i in 1 2 3 4 5 6 7 8 9 10; do
		'$PWC' get $W4 80 /h2-retire-\$i >/dev/null || echo "GET \$i failed"
	done
	settle 1 \$((base + 1))
	echo "SEQ conns \$(conns) threads +\$((\$(thr) - base))" \
	    "fds +\$((\$(fds) - fbase))" \
	    "new \$(grep -c '"shared":false' '$CD/audit.log')"
	'$PWC' threads 12 $W4 80 /h2-retire-t | tail -n 1
	settle 1 \$((base + 1))
	echo "PAR conns \$(conns) threads +\$((\$(thr) - base))"
	settle 0 \$base
	echo "IDLE conns \$(conns) threads +\$((\$(thr) - base))" \
	    "fds +\$((\$(fds) - fbase))"
	EOS
	export PROXYWRAP_H2_STREAMS=3 PROXYWRAP_H2_IDLE=3
	run -t 60 pw --log "$CD/audit.log" -c t.conf sh s.sh
	unset PROXYWRAP_H2_STREAMS PROXYWRAP_H2_IDLE
	https_nghttpx_stop
	expect_rc 0
	expect_out_lacks "failed"
	# one connection open: its socket and its wake-up pipe
	expect_out_has "SEQ conns 1 threads +1 fds +3 new 4"
	expect_out_has "ok 12/12"
	expect_out_has "PAR conns 1 threads +1"
	expect_out_has "IDLE conns 0 threads +0 fds +0"
	n=$(grep -c '"shared":false' audit.log || true)
	[ "$n" -ge 8 ] || fail "$n new connections for 22 tunnels, 3 each"
	max=$(grep -o '"proxy_h2":{"stream":[0-9]*' audit.log |
	    sed 's/.*://' | sort -n | tail -n 1)
	[ "$max" = 5 ] || fail "stream $max on a connection of 3 streams"
}

# At most 2 streams at once: 5 tunnels held open take 3 connections; the
# two that were full (retired: the next took the proxy's slot) close once
# their tunnels end (within 4 s: before the idle time), though they
# have room again, and the last one stays until its idle time (6 s).
tcase https_h2_retire_at_once
tc_https_h2_retire_at_once() {
	h2_setup 8484
	{ h2_watch 8484; cat <<-EOS; } >s.sh
	'$PY' -c '
	import os, socket, time
	held = [socket.create_connection(("$W4", 80), timeout=10)
	        for i in range(5)]
	open("held", "w").close()
	for i in range(200):
	    if os.path.exists("release"):
	        break
	    time.sleep(0.05)
	n = 0
	for s in held:
	    # a whole answer ends the stream (a FIN alone would leave it
	    # half-open until the world times out)
	    s.sendall(b"GET /h2-at-once HTTP/1.0\\r\\nHost: w\\r\\n\\r\\n")
	    while s.recv(65536):
	        pass
	    s.close()
	    n += 1
	print("RELEASED", n)
	' &
	py=\$!
	i=0
	while [ ! -e held ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
	echo "HELD conns \$(conns) threads +\$((\$(thr) - base))"
	touch release
	wait \$py
	settle 1 \$((base + 1)) 40
	echo "AFTER conns \$(conns) threads +\$((\$(thr) - base))"
	settle 0 \$base
	echo "IDLE conns \$(conns) threads +\$((\$(thr) - base))"
	EOS
	export PROXYWRAP_H2_AT_ONCE=2 PROXYWRAP_H2_IDLE=6
	run -t 60 pw -c t.conf sh s.sh
	unset PROXYWRAP_H2_AT_ONCE PROXYWRAP_H2_IDLE
	https_nghttpx_stop
	expect_rc 0
	expect_out_has "HELD conns 3 threads +3"
	expect_out_has "RELEASED 5"
	expect_out_has "AFTER conns 1 threads +1"
	expect_out_has "IDLE conns 0 threads +0"
}

# The proxy's GOAWAY on a connection with a stream open: that stream goes
# on to its end, the one it refused (above the GOAWAY's last stream id)
# fails the program's connect with ECONNREFUSED and one line, and the
# next tunnel goes on a new connection; the old one, once its stream is
# over, says GOAWAY itself and closes.  nghttpx never leaves a stream
# above its last stream id (its GOAWAY on SIGQUIT names every stream it
# took), so the proxy here is a stand-in, h2goaway.py, that is its own
# destination.
tcase https_h2_goaway_refused
tc_https_h2_goaway_refused() {
	local spid
	https_certs
	ip netns exec "$NSP" "$PY" "$PW_INTEG_DIR/h2goaway.py" server "$P4" 8482 \
	    "$CD/good.crt" "$CD/good.key" "$CD/h2g.log" </dev/null >h2g.out 2>&1 &
	spid=$!
	env_wait_port "$NSP" "$P4" 8482 10 || fail "h2goaway.py did not start"
	conf t.conf <<-EOC
	proxy fake https://$P4:8482 ca=$CD/ca.crt http2=on
	via fake 198.18.1.0/24
	EOC
	run -t 30 pw -c t.conf "$PY" "$PW_INTEG_DIR/h2goaway.py" client "$W4" 9
	sleep 0.5
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	expect_rc 0
	expect_out_has "A ping1"
	expect_out_has "B ECONNREFUSED"
	expect_out_has "A ping2 eof"
	expect_out_has "C ping3"
	[ "$(err_lines)" = 1 ] || { show; fail "wanted one line"; }
	expect_err_re "proxy fake \\(https://$P4:8482\\) refused: HTTP 502 stream refused \\(HTTP/2 GOAWAY"
	# the relay's GOAWAY on the first connection (its own, once A is
	# over: C may be on the second by then), and a second connection
	for e in "conn 1" "goaway-sent 1" "goaway-got 1" "conn 2"; do
		grep -qx "$e" h2g.log ||
		    fail "the stand-in proxy did not log $e: $(tr '\n' ' ' <h2g.log)"
	done
	sed -n '/^goaway-sent 1$/,$p' h2g.log | grep -qx "goaway-got 1" ||
	    fail "the relay's GOAWAY came before the proxy's: $(tr '\n' ' ' <h2g.log)"
}

# nghttpx's graceful shutdown (SIGQUIT: GOAWAY, then it ends once its
# connections have): a tunnel open on the connection gets its answer
# whole after it, a new tunnel does not go on that connection (it tries a
# new one, which nghttpx no longer takes), and once the open one ends the
# relay's connection closes, its thread ends and nghttpx exits.
tcase https_h2_goaway_nghttpx
tc_https_h2_goaway_nghttpx() {
	local i
	h2_setup 8481
	{ h2_watch 8481; cat <<-EOS; } >s.sh
	'$PY' -c '
	import os, socket, sys, time
	s = socket.create_connection(("$W4", 80), timeout=10)
	open("held", "w").close()
	for i in range(200):
	    if os.path.exists("go"):
	        break
	    time.sleep(0.05)
	s.sendall(b"GET /h2-held HTTP/1.0\r\nHost: w\r\n\r\n")
	data = b""
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    data += b
	print("HELD", data.split(b"\r\n\r\n", 1)[-1].decode().strip())
	' &
	held=\$!
	i=0
	while [ ! -e held ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i + 1)); done
	echo "BEFORE conns \$(conns)"
	kill -QUIT $NGPID
	i=0
	while ip netns exec $NSP ss -Hltn '( sport = :8481 )' | grep -q . &&
	    [ \$i -lt 100 ]; do
		sleep 0.1
		i=\$((i + 1))
	done
	'$PY' '$PYC' get $W4 80 /h2-after | sed 's/^/AFTER /'
	touch go
	wait \$held
	settle 0 \$base
	echo "END conns \$(conns) threads +\$((\$(thr) - base))"
	EOS
	run -t 60 pw -c t.conf sh s.sh
	for i in $(seq 1 50); do
		kill -0 "$NGPID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$NGPID" 2>/dev/null && { https_nghttpx_stop; fail "nghttpx did not exit: a connection stayed open"; }
	wait "$NGPID" 2>/dev/null || true
	expect_rc 0
	expect_out_has "BEFORE conns 1"
	expect_out_has "HELD world $W4:80 /h2-held"
	expect_out_has "AFTER ERRNO ECONNREFUSED"
	expect_err_re "proxy ng \\(https://$P4:8481\\): unreachable: Connection refused"
	expect_out_has "END conns 0 threads +0"
}

# h2_vg VAR=VALUE... -- ARGS...: proxywrap ARGS under valgrind (memcheck)
# in the client namespace, in the background (its pid in VPID); any
# memory error or definite leak makes it exit 99, and vg.log not empty.
# Leaks of what the main thread allocated (once, at the start: the
# command's environment, the library's path) are not the relay's, whose
# connections live in threads of their own, and are left out.  The relay
# runs in proxywrap-dl (a static proxywrap runs it for https sessions,
# and valgrind cannot see a static program's malloc), so that one runs.
h2_vg() {
	local -a vars=()
	local tool=$PW_TOOL_RUN
	[ ! -e "$(dirname "$tool")/proxywrap-dl" ] ||
	    tool=$(dirname "$tool")/proxywrap-dl
	while [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	cat >vg.supp <<-EOS
	{
	   proxywrap-main-once
	   Memcheck:Leak
	   match-leak-kinds: definite
	   ...
	   fun:main
	}
	EOS
	timeout -k 2 100 ip netns exec "$NSC" env "${vars[@]}" valgrind -q \
	    --suppressions="$CD/vg.supp" --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite \
	    --child-silent-after-fork=yes --log-file="$CD/vg.log" \
	    "$tool" "$@" >out 2>err </dev/null &
	VPID=$!
	printf '$ valgrind proxywrap %s\n' "$*" >>cmds
}

# h2_vg_wait: its exit status in RC, nghttpx stopped; valgrind's words
# shown.
h2_vg_wait() {
	set +e
	wait "$VPID"
	RC=$?
	set -e
	https_nghttpx_stop
	if [ -s vg.log ]; then
		sed 's/^/# vg: /' vg.log | head -n 40 >&2
		fail "valgrind: memory errors or leaks (exit $RC)"
	fi
}

# h2_vg_need: valgrind is there, and no sanitizer runtime is preloaded.
h2_vg_need() {
	command -v valgrind >/dev/null || fail "valgrind missing (tests/deps.sh)"
	if [ -n "${PW_PRELOAD_EXTRA:-}" ]; then
		say "SKIP: valgrind with the sanitizer runtime preloaded"
		exit 77
	fi
}

# proxywrap itself under valgrind through every end a connection has:
# full (2 streams a connection), failed (nghttpx killed under an idle
# connection; the next tunnels go on a new one to a new nghttpx) and
# idle (1 s): no memory error, no definite leak (before, the struct of a
# failed connection was lost when the next replaced it), and every relay
# thread gone at the end.
tcase https_h2_valgrind
tc_https_h2_valgrind() {
	local i
	h2_vg_need
	h2_setup 8483 --single-process
	{ h2_watch 8483; cat <<-EOS; } >s.sh
	for i in 1 2 3; do
		'$PWC' get $W4 80 /h2-vg-\$i >/dev/null || echo "GET \$i failed"
	done
	echo "FULL conns \$(conns) threads +\$((\$(thr) - base))"
	touch killnow
	i=0
	while [ ! -e restarted ] && [ \$i -lt 300 ]; do sleep 0.1; i=\$((i + 1)); done
	settle 0 \$base
	echo "KILLED threads +\$((\$(thr) - base))"
	for i in 4 5; do
		'$PWC' get $W4 80 /h2-vg-\$i >/dev/null || echo "GET \$i failed"
	done
	settle 0 \$base
	echo "IDLE conns \$(conns) threads +\$((\$(thr) - base))"
	EOS
	h2_vg PROXYWRAP_H2_STREAMS=2 PROXYWRAP_H2_IDLE=1 -- -c t.conf sh s.sh
	for i in $(seq 1 600); do
		[ -e killnow ] && break
		sleep 0.1
	done
	[ -e killnow ] || { kill "$VPID" 2>/dev/null || true; https_nghttpx_stop; fail "the session did not get through its first tunnels"; }
	kill -9 "$NGPID" 2>/dev/null || true
	wait "$NGPID" 2>/dev/null || true
	https_nghttpx 8483 --single-process
	touch restarted
	h2_vg_wait
	expect_rc 0
	expect_out_lacks "failed"
	expect_out_has "FULL conns 1 threads +1"
	expect_out_has "KILLED threads +0"
	expect_out_has "IDLE conns 0 threads +0"
}

# Under valgrind too: 8 tunnels at once at one stream a connection, each
# closing as its stream ends (idle 0), while the next ones replace them
# in the proxy's slot (their handshakes, one after another under valgrind
# on a busy machine, get 30 s).
tcase https_h2_valgrind_burst
tc_https_h2_valgrind_burst() {
	local i
	h2_vg_need
	h2_setup 8485
	{ h2_watch 8485; cat <<-EOS; } >s2.sh
	'$PWC' threads 8 $W4 80 /h2-vg-burst | tail -n 1
	settle 0 \$base
	echo "BURST conns \$(conns) threads +\$((\$(thr) - base))"
	EOS
	{ echo "connect_timeout 30s"; cat t.conf; } >t2.conf
	h2_vg PROXYWRAP_H2_STREAMS=1 PROXYWRAP_H2_IDLE=0 -- \
	    --log "$CD/audit.log" -c t2.conf sh s2.sh
	h2_vg_wait
	expect_rc 0
	expect_out_has "ok 8/8"
	expect_out_has "BURST conns 0 threads +0"
	i=$(grep -c '"shared":false' audit.log || true)
	[ "$i" = 8 ] || fail "$i new connections for 8 tunnels at one stream each"
}
