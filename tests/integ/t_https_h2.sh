# t_https_h2.sh - http2=on: the life of the relay's shared HTTP/2
# connections (relay_h2*.c).  A connection that is full, that the proxy
# sent GOAWAY on, or that failed takes no more tunnels; once its last
# stream is over it closes and its thread ends.  The cases count the
# proxy's TCP connections with ss in its namespace and proxywrap's
# threads in /proc/PID/task, from inside the session (the program is
# proxywrap's child: $PPID).  PROXYWRAP_H2_STREAMS and PROXYWRAP_H2_IDLE
# (proxywrap(1)) make the stream cap and the idle close small enough to
# reach.

PWC=$TOP/${PW_BUILD:-build}/bin/pwclient

# h2_watch PORT: a shell prelude for the program's script: thr (proxywrap's
# threads), conns (established to the proxy's PORT), settle N T (until at
# most N connections and T threads, 10 s at most), base (threads now).
h2_watch() {
	cat <<-EOS
	pwpid=\$PPID
	thr() { ls /proc/\$pwpid/task | wc -l; }
	conns() {
		ip netns exec $NSP ss -Htn state established '( sport = :$1 )' |
		    wc -l
	}
	settle() {
		i=0
		while [ \$i -lt 100 ] && { [ "\$(conns)" -gt "\$1" ] ||
		    [ "\$(thr)" -gt "\$2" ]; }; do
			sleep 0.1
			i=\$((i + 1))
		done
	}
	base=\$(thr)
	EOS
}

# With at most 3 streams in a connection's life: 10 tunnels one after
# another take 4 connections, and 12 at once 4 more; each full one closes
# when its last stream ends (one left open, one relay thread more than
# before the first tunnel), and the last closes after 3 idle seconds
# (back to the threads before).
tcase https_h2_retire
tc_https_h2_retire() {
	local n max
	command -v nghttpx >/dev/null || fail "nghttpx missing (tests/deps.sh)"
	https_certs
	https_nghttpx 8480
	conf t.conf <<-EOC
	proxy ng https://$P4:8480 ca=$CD/ca.crt http2=on
	via ng 198.18.1.0/24
	EOC
	{ h2_watch 8480; cat <<-EOS; } >s.sh
	for i in 1 2 3 4 5 6 7 8 9 10; do
		'$PWC' get $W4 80 /h2-retire-\$i >/dev/null || echo "GET \$i failed"
	done
	settle 1 \$((base + 1))
	echo "SEQ conns \$(conns) threads +\$((\$(thr) - base))" \
	    "new \$(grep -c '"shared":false' '$CD/audit.log')"
	'$PWC' threads 12 $W4 80 /h2-retire-t | tail -n 1
	settle 1 \$((base + 1))
	echo "PAR conns \$(conns) threads +\$((\$(thr) - base))"
	settle 0 \$base
	echo "IDLE conns \$(conns) threads +\$((\$(thr) - base))"
	EOS
	export PROXYWRAP_H2_STREAMS=3 PROXYWRAP_H2_IDLE=3
	run -t 60 pw --log "$CD/audit.log" -c t.conf sh s.sh
	unset PROXYWRAP_H2_STREAMS PROXYWRAP_H2_IDLE
	https_nghttpx_stop
	expect_rc 0
	expect_out_lacks "failed"
	expect_out_has "SEQ conns 1 threads +1 new 4"
	expect_out_has "ok 12/12"
	expect_out_has "PAR conns 1 threads +1"
	expect_out_has "IDLE conns 0 threads +0"
	n=$(grep -c '"shared":false' audit.log || true)
	[ "$n" -ge 8 ] || fail "$n new connections for 22 tunnels, 3 each"
	max=$(grep -o '"proxy_h2":{"stream":[0-9]*' audit.log |
	    sed 's/.*://' | sort -n | tail -n 1)
	[ "$max" = 5 ] || fail "stream $max on a connection of 3 streams"
}
