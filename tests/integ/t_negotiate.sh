# t_negotiate.sh - HTTP Negotiate (Kerberos) proxy authentication (issue
# 16): a real KDC (krb5kdc) in the proxy namespace with a realm the case
# makes (kdb5_util, kadmin.local), squid on $P4:3130 requiring Negotiate
# for CONNECT (negotiate_kerberos_auth with the keytab of
# HTTP/proxy.pwtest.example), and the client's tickets from kinit into a
# credential cache of the case's own.  No name is resolved: krb5.conf
# gives the KDC's address, with dns_canonicalize_hostname and rdns off,
# and the rules give the proxy's principal (spn=).
#
# The tokens come from proxywrap over the session's control socket;
# libshim.so never loads GSSAPI (tests/lint.sh checks its NEEDED list).

NEG_REALM=PWTEST.EXAMPLE
NEG_SPN=HTTP/proxy.pwtest.example
NEG_USER=alice
NEG_PASS=alice-Kerb5-Pw
NEG_PORT=3130
NEG_PROBE=$PW_INTEG_DIR/ctl_probe.py

# neg_kdc DIR: the realm in DIR, its KDC on $P4:88 (tcp and udp), the
# proxy's keytab DIR/http.keytab, and DIR/krb5.conf for everyone.
neg_kdc() {
	local d=$1 i
	mkdir -p "$d/db"
	cat >"$d/krb5.conf" <<-EOF
	[libdefaults]
		default_realm = $NEG_REALM
		dns_lookup_kdc = false
		dns_lookup_realm = false
		dns_canonicalize_hostname = false
		rdns = false
	[realms]
		$NEG_REALM = {
			kdc = $P4:88
		}
	[domain_realm]
		.pwtest.example = $NEG_REALM
	EOF
	cat >"$d/kdc.conf" <<-EOF
	[kdcdefaults]
		kdc_listen = $P4:88
		kdc_tcp_listen = $P4:88
	[realms]
		$NEG_REALM = {
			database_name = $d/db/principal
			key_stash_file = $d/db/stash
			acl_file = $d/kadm5.acl
			max_life = 1h
		}
	[logging]
		kdc = FILE:$d/kdc.log
	EOF
	: >"$d/kadm5.acl"
	export KRB5_CONFIG=$d/krb5.conf KRB5_KDC_PROFILE=$d/kdc.conf
	kdb5_util create -s -r "$NEG_REALM" -P "master-$$" >"$d/kdb.out" 2>&1 ||
	    { cat "$d/kdb.out" >&2; fail "kdb5_util create failed"; }
	kadmin.local -r "$NEG_REALM" -q "addprinc -pw $NEG_PASS $NEG_USER" \
	    >>"$d/kdb.out" 2>&1
	kadmin.local -r "$NEG_REALM" -q "addprinc -randkey $NEG_SPN" \
	    >>"$d/kdb.out" 2>&1
	kadmin.local -r "$NEG_REALM" -q "ktadd -k $d/http.keytab $NEG_SPN" \
	    >>"$d/kdb.out" 2>&1
	[ -s "$d/http.keytab" ] || { cat "$d/kdb.out" >&2; fail "no keytab"; }
	ip netns exec "$NSP" env KRB5_CONFIG="$d/krb5.conf" \
	    KRB5_KDC_PROFILE="$d/kdc.conf" krb5kdc -n -r "$NEG_REALM" \
	    >"$d/kdc.out" 2>&1 </dev/null &
	NEG_KDC=$!
	env_wait_port "$NSP" "$P4" 88 10 || { cat "$d/kdc.out" >&2; fail "the KDC did not start"; }
}

# neg_squid DIR: squid on $P4:$NEG_PORT, Negotiate required for
# everything, with DIR's keytab; waits until it listens.
neg_squid() {
	local d=$1
	mkdir -p "$d/rc"
	{ env_squid_head "$d" "$P4:$NEG_PORT" pwkrb; cat <<-EOF; } >"$d/squid.conf"
	dns_nameservers $W4
	tcp_outgoing_address $PW4
	auth_param negotiate program /usr/lib/squid/negotiate_kerberos_auth -k $d/http.keytab -s $NEG_SPN@$NEG_REALM -c $d/rc
	auth_param negotiate children 2 startup=1 idle=1
	auth_param negotiate keep_alive on
	acl authed proxy_auth REQUIRED
	http_access allow authed
	http_access deny all
	EOF
	chown -R proxy:proxy "$d"
	chmod 600 "$d/http.keytab"
	ip netns exec "$NSP" env KRB5_CONFIG="$d/krb5.conf" \
	    squid -N -f "$d/squid.conf" >"$d/squid.out" 2>&1 </dev/null &
	NEG_SQUID=$!
	env_wait_port "$NSP" "$P4" "$NEG_PORT" 20 ||
	    { cat "$d/squid.out" "$d/cache.log" >&2; fail "the Negotiate squid did not start"; }
}

neg_stop() {
	[ -n "${NEG_SQUID:-}" ] && { kill "$NEG_SQUID" 2>/dev/null || true; }
	[ -n "${NEG_KDC:-}" ] && { kill "$NEG_KDC" 2>/dev/null || true; }
	[ -n "${NEG_BG:-}" ] && { kill "$NEG_BG" 2>/dev/null || true; }
	wait 2>/dev/null || true
}

# neg_world: KDC, squid, the rule file k.conf; KRB5CCNAME is the case's.
neg_world() {
	trap neg_stop EXIT
	neg_kdc "$CD/krb"
	neg_squid "$CD/krb"
	export KRB5CCNAME=FILE:$CD/ccache
	conf k.conf <<-EOF
	proxy k http://$P4:$NEG_PORT auth=negotiate spn=$NEG_SPN
	via k $W4
	EOF
}

neg_kinit() {
	echo "$NEG_PASS" | inc env KRB5_CONFIG="$KRB5_CONFIG" \
	    KRB5CCNAME="$KRB5CCNAME" kinit "$@" "$NEG_USER" >kinit.out 2>&1 ||
	    { cat kinit.out >&2; fail "kinit failed"; }
}

# CONNECTs the Negotiate squid logged for the world's nginx.
neg_connects() {
	grep -cF -- "CONNECT $W4:80 " "$CD/krb/access.log" 2>/dev/null || true
}

# neg_wait_log N: squid writes its log line once a request is over.
neg_wait_log() {
	local i
	for i in $(seq 1 30); do
		[ "$(neg_connects)" -ge "$1" ] && return 0
		sleep 0.1
	done
}

# neg_saw_user: squid logged a CONNECT of the case's user.
neg_saw_user() {
	neg_wait_log 1
	grep -F "CONNECT $W4:80 " "$CD/krb/access.log" | grep -qF "$NEG_USER@$NEG_REALM" ||
	    { cat "$CD/krb/access.log" >&2; fail "squid does not name $NEG_USER@$NEG_REALM"; }
}

# neg_refused_once N: N connects in one session, each refused (EACCES),
# and squid saw exactly one CONNECT (none after the 407).
neg_refused_once() {
	local n
	cat >batch.sh <<-EOF
	for i in \$(seq 1 $1); do "$PY" "$PYC" connect $W4 80 >>res 2>>errs; done
	EOF
	run -t 30 pw -c k.conf sh batch.sh
	n=$(grep -c '^ERRNO EACCES$' res || true)
	[ "$n" = "$1" ] || { show; cat res >&2; fail "want $1 EACCES, got $n"; }
	sleep 0.3
	n=$(neg_connects)
	[ "$n" = 1 ] || { cat "$CD/krb/access.log" >&2; fail "squid saw $n CONNECTs, want exactly 1"; }
}

# A valid ticket: the CONNECT carries a token at once (one request at
# squid, no 407 first), squid names the user, the page arrives, and no
# token is ever written to a log.
tcase negotiate_ticket smoke
tc_negotiate_ticket() {
	local m n
	neg_world
	neg_kinit
	run pw --explain "$W4:80" -c k.conf
	expect_out_has "auth: k Negotiate (Kerberos) as $NEG_SPN"
	m=$(mark)
	run -t 30 pw -v --log audit.log -c k.conf "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "STATUS HTTP/1.1 200"
	world_saw "$m" "$PW4"
	neg_wait_log 1
	n=$(neg_connects)
	[ "$n" = 1 ] || { cat "$CD/krb/access.log" >&2; fail "squid saw $n CONNECTs, want 1 (the token goes with the first)"; }
	neg_saw_user
	grep -qF "TCP_TUNNEL/200" "$CD/krb/access.log" ||
	    { cat "$CD/krb/access.log" >&2; fail "squid did not tunnel"; }
	# SPNEGO tokens start 0x60 0x82: "YII" in base64
	! grep -qE 'Negotiate|YII[A-Za-z0-9+/]{20}' err audit.log ||
	    { show; fail "a token reached a log"; }
	# a second process of the same session gets its own token (squid's
	# replay cache would refuse a token seen twice)
	m=$(mark)
	run -t 30 pw -c k.conf sh -c "'$PY' '$PYC' get $W4 80 $m-a && '$PY' '$PYC' get $W4 80 $m-b"
	expect_rc 0
	world_saw "$m-a" "$PW4"
	world_saw "$m-b" "$PW4"
	# a non-blocking connect: in progress, then writable, SO_ERROR 0
	m=$(mark)
	run -t 30 pw -c k.conf "$PY" "$PYC" nonblock "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "SO_ERROR 0"
	world_saw "$m" "$PW4"
	# a group whose first member is a closed port: the failover's
	# attempt makes its own token (in the helper thread, for a
	# non-blocking connect)
	conf g.conf <<-EOF
	proxy dead http://$P4:3999 auth=negotiate spn=$NEG_SPN
	proxy k http://$P4:$NEG_PORT auth=negotiate spn=$NEG_SPN
	group g dead k
	via g $W4
	EOF
	m=$(mark)
	run -t 30 pw -c g.conf "$PY" "$PYC" nonblock "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "SO_ERROR 0"
	world_saw "$m" "$PW4"
}

# A static program the library cannot follow: the supervisor routes its
# connect through the same proxy, and proxywrap makes its token itself.
tcase negotiate_supervised
tc_negotiate_supervised() {
	local m c
	neg_world
	neg_kinit
	static_bin supclient
	c=$SBIN
	m=$(mark)
	run -t 30 pw --strict -v -c k.conf "$c" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "rc=0 errno=0"
	expect_out_re 'status=HTTP/1.1 200'
	expect_err_re 'supervised: pid'
	world_saw "$m" "$PW4"
	neg_saw_user
}

# No ticket: one CONNECT without a token, the 407, a line that says to
# run kinit; later connects of the session are not tried at all (a 407
# is remembered), so a program that retries never storms the proxy.
tcase negotiate_no_ticket
tc_negotiate_no_ticket() {
	neg_world
	neg_refused_once 3
	grep -q "HTTP 407 .*no Kerberos ticket for $NEG_SPN: run kinit" err ||
	    { show; fail "no line naming kinit"; }
	grep -q "it offers Negotiate" err || { show; fail "the line does not name the offered scheme"; }
}

# An expired ticket: the same, and the line says it expired.
tcase negotiate_expired
tc_negotiate_expired() {
	neg_world
	neg_kinit -l 2s
	sleep 3
	neg_refused_once 2
	grep -q "the Kerberos ticket for $NEG_SPN has expired: run kinit" err ||
	    { show; fail "no line saying the ticket expired"; }
}

# A ticket the proxy cannot read (its keytab holds the key the KDC had
# before a re-key): the token goes once, squid refuses it, the line says
# so, and nothing is sent again in the session: no loop.
tcase negotiate_wrong_key
tc_negotiate_wrong_key() {
	local n
	neg_world
	kadmin.local -r "$NEG_REALM" -q "cpw -randkey $NEG_SPN" >>"$CD/krb/kdb.out" 2>&1
	neg_kinit
	neg_refused_once 3
	grep -q "HTTP 407 .*it refused our Kerberos token" err ||
	    { show; fail "no line saying the token was refused"; }
	n=$(grep -c 'refused our credentials (407) earlier in this session' err || true)
	[ "$n" = 2 ] || { show; fail "want 2 connects saying why they were not tried, got $n"; }
}

# The control socket serves the session only: a process of the session
# (holding the sealed policy) gets a token; a process outside it, with
# the name but without that fd, or with a look-alike memfd, gets no
# answer at all.
tcase negotiate_ctl_peers
tc_negotiate_ctl_peers() {
	local i name pid before after
	neg_world
	neg_kinit
	pw -c k.conf sh -c "echo \$PPID >ppid; '$PY' '$NEG_PROBE' name >name; '$PY' '$NEG_PROBE' policy \$(cat name) $NEG_SPN >inside; sleep 8" \
	    >bg.out 2>&1 &
	NEG_BG=$!
	for i in $(seq 1 50); do
		[ -s inside ] && break
		sleep 0.1
	done
	name=$(cat name 2>/dev/null || true)
	case $name in
	proxywrap-ctl-*) ;;
	*) cat bg.out >&2; fail "no control socket name in the policy ('$name')" ;;
	esac
	grep -qE '^ANSWER 0 [0-9]{3,}$' inside ||
	    { cat inside bg.out >&2; fail "a session process got no token"; }
	run -t 20 inc "$PY" "$NEG_PROBE" nofd "$name" "$NEG_SPN"
	expect_out_has CLOSED
	run -t 20 inc "$PY" "$NEG_PROBE" memfd "$name" "$NEG_SPN"
	expect_out_has CLOSED
	# fds sent with a message that is refused (an empty one, too) are
	# closed: 100 of them leave proxywrap's fd count as it was
	pid=$(cat ppid)
	before=$(ls "/proc/$pid/fd" | wc -l)
	run -t 20 inc "$PY" "$NEG_PROBE" flood "$name" "$NEG_SPN" 50
	expect_out_has "SENT 50"
	after=$(ls "/proc/$pid/fd" | wc -l)
	[ "$after" -le $((before + 2)) ] ||
	    fail "proxywrap held $before fds before the flood, $after after"
	wait "$NEG_BG" 2>/dev/null || true	# its sleep 8 ends it
	NEG_BG=
	# the session is over: so is its socket
	run -t 20 inc "$PY" "$NEG_PROBE" nofd "$name" "$NEG_SPN"
	expect_fail
}

# An https:// proxy: the CONNECT inside proxywrap's TLS relay carries the
# token as on http:// (stunnel in front of the Negotiate squid).
tcase negotiate_https
tc_negotiate_https() {
	local m
	command -v stunnel4 >/dev/null || fail "no stunnel4 (tests/deps.sh installs it)"
	neg_world
	neg_kinit
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$P4" \
	    -addext "subjectAltName=IP:$P4" -keyout st.key -out st.crt \
	    >/dev/null 2>&1 || fail "openssl req failed"
	cat st.crt st.key >st.pem
	cat >st.conf <<-EOC
	foreground = yes
	pid =
	[https]
	accept = $P4:8444
	connect = $P4:$NEG_PORT
	cert = $CD/st.pem
	EOC
	ip netns exec "$NSP" stunnel4 st.conf >st.log 2>&1 </dev/null &
	NEG_BG=$!
	env_wait_port "$NSP" "$P4" 8444 10 || fail "stunnel did not start"
	conf ks.conf <<-EOF
	proxy k https://$P4:8444 ca=$CD/st.crt auth=negotiate spn=$NEG_SPN
	via k $W4
	EOF
	m=$(mark)
	run -t 30 pw -c ks.conf "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "STATUS HTTP/1.1 200"
	world_saw "$m" "$PW4"
	neg_saw_user
}

# What a token costs: one session's first connect (the service ticket
# from the KDC, then the token), and the median of 20 more (each a
# process of its own: a control-socket round trip and a token from the
# cached ticket), against Basic on the test env's squid, and a token
# alone from the control socket.  Reported; the
# bound only catches a token that waits for a timeout.
tcase negotiate_cost
tc_negotiate_cost() {
	local gh=$PW_INTEG_DIR/group_help.py first neg basic tok
	neg_world
	neg_kinit
	conf b.conf <<-EOF
	proxy sq $U_SQUID
	via sq $W4
	EOF
	cat >cost.sh <<-EOF
	"$PY" "$gh" time $W4 80 1 >first
	for i in \$(seq 1 20); do "$PY" "$gh" time $W4 80 1; done
	EOF
	run -t 60 pw -c k.conf sh cost.sh
	expect_rc 0
	first=$(cut -d' ' -f1 first)
	neg=$(sort -n out | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	run -t 60 pw -c k.conf sh -c "'$PY' '$NEG_PROBE' time \$('$PY' '$NEG_PROBE' name) $NEG_SPN 50"
	expect_rc 0
	tok=$(cat out)
	run -t 60 pw -c b.conf sh cost.sh
	expect_rc 0
	basic=$(sort -n out | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	say "connect through squid: Negotiate first $first us, median of 20 $neg us; Basic median of 20 $basic us; a token alone (control socket and GSSAPI) median of 50 $tok us"
	[ "$neg" -lt 500000 ] || fail "a Negotiate connect takes $neg us"
}
