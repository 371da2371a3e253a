# t_https_peer.sh - getpeername of an https proxy's tunnel in every
# process that holds it.  The program's socket is connected to proxywrap's
# relay on loopback; the process whose connect made the tunnel knows the
# destination, and so must one that got the socket by exec (no record of
# it survives), fork, SCM_RIGHTS, or a static program the supervisor
# watches.  tests/bin/peerpass prints getpeername in the process that
# connected and in the one it hands the socket to (with a whole buffer,
# an 8-byte one, getsockopt(SO_PEERNAME) of 8 and 128 bytes; after the
# server has closed, and after both sides have): each line must be the
# kernel's own answer for a direct connection to the destination, which
# the same program run without proxywrap prints (where it can connect
# direct: in the proxy host's namespace).

PEERPASS=$TOP/${PW_BUILD:-build}/bin/peerpass

# hpeer_up PORT: stunnel on PORT (its CA in ca.crt) in front of the
# shared tinyproxy, stopped when the case ends however it ends, and t.conf
# sending the world through it.
hpeer_up() {
	https_certs
	https_stunnel good.pem "$1"
	trap https_stop EXIT
	conf t.conf <<-EOC
	proxy tls https://$P4:$1 ca=$CD/ca.crt
	via tls $W4:80
	EOC
}

# hpeer_lines FILE: the getpeername lines.
hpeer_lines() {
	grep -E '^[a-z]+( eof| closed)? peer=' "$1" | sort
}

# hpeer_with MARK ARG...: the arguments, @M replaced by MARK.
hpeer_with() {
	local m=$1 a
	shift
	HPEER_ARGS=()
	for a in "$@"; do
		HPEER_ARGS+=("${a//@M/$m}")
	done
}

# hpeer_check WANT CMD...: CMD (@M: the request's path) prints WANT
# (ADDR:PORT len=N) in every process, just as when it connects direct;
# the request arrives through the proxy host.  The direct run comes
# first (from the proxy host's namespace: the client's has no route to
# the world), then the run under proxywrap.  HPEER_PW: proxywrap's options before CMD.
hpeer_check() {
	local want=$1 m n host
	shift
	# what the proxy is asked for: the address, a v4-mapped one unmapped
	host=${want%:*}
	host=${host#[}
	host=${host%]}
	host=${host#::ffff:}
	m=$(mark)
	hpeer_with "$m" "$@"
	run ip netns exec "$NSP" "${HPEER_ARGS[@]}"
	expect_rc 0
	hpeer_lines out >direct.txt
	[ "$(wc -l <direct.txt)" -ge 4 ] || { show; fail "peerpass direct printed $(cat out)"; }
	grep -qF "peer=$want " direct.txt || { show; fail "direct: not $want: $(cat direct.txt)"; }
	n=$(hpeer_count "$host")
	m=$(mark)
	hpeer_with "$m" "$@"
	# shellcheck disable=SC2086
	run pw ${HPEER_PW:-} -c t.conf "${HPEER_ARGS[@]}"
	expect_rc 0
	hpeer_lines out >via.txt
	if ! cmp -s direct.txt via.txt; then
		show
		say "direct: $(tr '\n' '|' <direct.txt)"
		say "via:    $(tr '\n' '|' <via.txt)"
		fail "getpeername through the https proxy is not the kernel's direct answer"
	fi
	grep -qF "peer=$want " via.txt || { show; fail "not $want"; }
	expect_out_re 'status=HTTP/1.[01] 200'
	world_saw "$m" "${HPEER_FROM:-$PW4}"
	for m in $(seq 1 30); do
		[ "$(hpeer_count "$host")" -gt "$n" ] && return 0
		sleep 0.1
	done
	fail "proxy ${HPEER_PROXY:-tiny} did not log a tunnel to $host:80"
}

# hpeer_count HOST: the tunnels to HOST:80 the proxy logged.
hpeer_count() {
	case ${HPEER_PROXY:-tiny} in
	apache)
		grep -cF -e "CONNECT [$1]:80 " -e "CONNECT $1:80 " \
		    "$CD/apache/access.log" 2>/dev/null || true ;;
	*)
		pcount "${HPEER_PROXY:-tiny}" "$1" 80 ;;
	esac
}

# The program execs itself: the new image has no record of the socket.
tcase https_peer_exec smoke
tc_https_peer_exec() {
	hpeer_up 8461
	hpeer_check "$W4:80 len=16" "$PEERPASS" exec "$W4" 80 @M
}

# The same from an AF_INET6 socket, to a v4-mapped address: the kernel's
# 28 bytes.
tcase https_peer_exec_v6
tc_https_peer_exec_v6() {
	hpeer_up 8462
	hpeer_check "[::ffff:$W4]:80 len=28" "$PEERPASS" exec \
	    "::ffff:$W4" 80 @M
}

tcase https_peer_fork
tc_https_peer_fork() {
	hpeer_up 8463
	hpeer_check "$W4:80 len=16" "$PEERPASS" fork "$W4" 80 @M
}

# A process forked before the connect gets the socket over an AF_UNIX
# pair.
tcase https_peer_scm
tc_https_peer_scm() {
	hpeer_up 8464
	hpeer_check "$W4:80 len=16" "$PEERPASS" scm "$W4" 80 @M
}

# Under the supervisor: a dynamic program connects (the shim's tunnel)
# and execs a static one, whose getpeername the supervisor answers; and a
# static program connects (the supervisor's tunnel) and execs a dynamic
# one, whose shim asks.  The supervisor answers SO_PEERNAME too (the
# one getsockopt it traps).
tcase https_peer_static
tc_https_peer_static() {
	static_bin peerpass
	hpeer_up 8465
	HPEER_PW=--supervise=all hpeer_check "$W4:80 len=16" \
	    "$PEERPASS" exec "$W4" 80 @M "$SBIN"
	HPEER_PW=--supervise=all hpeer_check "$W4:80 len=16" \
	    "$SBIN" exec "$W4" 80 @M "$PEERPASS"
}

# The process that connects through an http:// or socks5 proxy answers
# from its own record, in the same form, and with the kernel's ENOTCONN
# once the connection is closed both ways; so does the supervisor for a
# static one.
tcase https_peer_plain_proxies
tc_https_peer_plain_proxies() {
	static_bin peerpass
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	via tiny $W4:80
	EOC
	hpeer_check "$W4:80 len=16" "$PEERPASS" fork "$W4" 80 @M
	conf t.conf <<-EOC
	proxy dante $U_DANTE
	via dante $W4:80
	EOC
	HPEER_PROXY=dante hpeer_check "$W4:80 len=16" "$PEERPASS" fork "$W4" 80 @M
	HPEER_PW=--supervise=all HPEER_PROXY=dante hpeer_check "$W4:80 len=16" \
	    "$SBIN" fork "$W4" 80 @M
}

# With http2=on the tunnel is one stream of the relay's shared
# connection to nghttpx (in front of the shared tinyproxy): the relay
# knows its destination all the same.
tcase https_peer_h2
tc_https_peer_h2() {
	https_certs
	https_nghttpx 8466
	trap https_nghttpx_stop EXIT
	conf t.conf <<-EOC
	proxy ng https://$P4:8466 ca=$CD/ca.crt http2=on
	via ng $W4:80
	EOC
	HPEER_PW="--log $CD/audit.log" hpeer_check "$W4:80 len=16" \
	    "$PEERPASS" exec "$W4" 80 @M
	HPEER_PW="--log $CD/audit.log" hpeer_check "$W4:80 len=16" \
	    "$PEERPASS" scm "$W4" 80 @M
	[ "$(grep -c '"proxy_h2":{"stream":' audit.log)" -ge 2 ] ||
	    fail "the tunnels were not HTTP/2 streams: $(head -c 400 audit.log)"
}

# An IPv6 destination, through Apache (tinyproxy and squid reach the
# world from $PW4 only).
tcase https_peer_v6dest
tc_https_peer_v6dest() {
	https_certs
	https_apache "$CD/apache" "$CD" 8467
	trap https_apache_stop EXIT
	conf t.conf <<-EOC
	proxy ap https://$P4:8467 ca=$CD/ca.crt
	via ap [$W6]:80
	EOC
	HPEER_PROXY=apache HPEER_FROM=$PW6 hpeer_check "[$W6]:80 len=28" \
	    "$PEERPASS" exec "$W6" 80 @M
	HPEER_PROXY=apache HPEER_FROM=$PW6 hpeer_check "[$W6]:80 len=28" \
	    "$PEERPASS" scm "$W6" 80 @M
}
