# t_audit.sh - the JSON audit log, --summary, UDP in strict mode and
# --from-env against curl's own NO_PROXY decisions.

AUDIT_CHECK=$PW_INTEG_DIR/audit_check.py

# 16 processes x 20 connections each through dante, plus blocked ones:
# every line is JSON, every connect appears exactly once.
tcase audit_json_load smoke
tc_audit_json_load() {
	conf t.conf <<-EOC
	proxy d $U_DANTE
	block $W4:81
	via d *
	EOC
	cat >load.py <<-'EOP'
	import socket, sys
	host, tag = sys.argv[1], sys.argv[2]
	for i in range(20):
	    s = socket.create_connection((host, 80), timeout=10)
	    s.sendall(("GET /m-%s-%d HTTP/1.0\r\n\r\n" % (tag, i)).encode())
	    while s.recv(4096):
	        pass
	    s.close()
	try:
	    socket.create_connection((host, 81), timeout=5)
	except OSError as e:
	    print("ERRNO", e.errno)
	EOP
	run -t 60 pw --log "$CD/audit.log" -c t.conf sh -c \
	    "for i in \$(seq 16); do $PY load.py $W4 $CASE-\$\$-\$i & done; wait"
	expect_rc 0
	$PY "$AUDIT_CHECK" load "$CD/audit.log" 320 16 || fail "audit log check"
	# human lines stay on stderr, the file holds JSON only
	expect_err_re "proxywrap: blocked $W4:81"
}

# --summary: destinations per action, blocked attempts with the program.
tcase audit_summary
tc_audit_summary() {
	local m
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	direct $P4:8080
	block $W4:81
	via tiny *
	EOC
	m=$(mark)
	run pw --summary -c t.conf sh -c "curl -sS -m 10 http://$W4$m >/dev/null; \
	    curl -sS -m 10 http://$P4:8080$m >/dev/null; \
	    curl -sS -m 5 http://$W4:81/ ; exit 0"
	expect_rc 0
	world_saw "$m" "$PW4"
	expect_err_re "proxywrap: summary: 2 connections, 1 blocked"
	expect_err_re "^  direct +1 destination +1 connection"
	expect_err_re "^  via tiny +1 destination +1 connection"
	expect_err_re "^  $W4:81 tcp  by /usr/bin/curl"
	ls /dev/shm/proxywrap-log-* >/dev/null 2>&1 &&
	    fail "--summary left its temporary log behind" || true
}

# A UDP listener in the proxy namespace (reached directly) that records what arrives.
udp_listen() {
	ip netns exec "$NSP" timeout 20 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9999))
f = open(sys.argv[2], "a", buffering=1)
while True:
    d, a = s.recvfrom(2048)
    f.write(d.decode(errors="replace") + "\n")
' "$P4" "$CD/udp.seen" &
	UDP_PID=$!
	sleep 0.5
}

udp_send() {
	cat >udp.py <<-'EOP'
	import errno, socket, sys
	host, tag = sys.argv[1], sys.argv[2]
	def report(what, f):
	    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    try:
	        f(s)
	        print(what, "SENT")
	    except OSError as e:
	        print(what, errno.errorcode[e.errno])
	report("sendto", lambda s: s.sendto(("%s-sendto" % tag).encode(), (host, 9999)))
	report("sendmsg", lambda s: s.sendmsg([("%s-sendmsg" % tag).encode()], [], 0, (host, 9999)))
	report("connect", lambda s: (s.connect((host, 9999)), s.send(("%s-connect" % tag).encode())))
	EOP
	run pw "$@" "$PY" udp.py "$P4" "$CASE"
}

tcase audit_udp_strict smoke
tc_audit_udp_strict() {
	local w
	: >"$CD/udp.seen"
	udp_listen
	udp_send --strict --log "$CD/audit.log"
	expect_rc 0
	for w in sendto sendmsg connect; do
		expect_out_has "$w EACCES"
	done
	expect_err_re "blocked udp $P4:9999 \(no rule matched, strict; add: direct $P4:9999\)"
	# via an HTTP proxy, which cannot carry UDP: refused, never direct
	conf v.conf <<-EOC
	proxy h $U_TINY
	via h $P4
	EOC
	udp_send -c v.conf --log "$CD/audit.log"
	expect_out_has "sendto EACCES"
	expect_err_re "an HTTP CONNECT proxy cannot carry UDP"
	sleep 0.3
	[ -s "$CD/udp.seen" ] && fail "datagrams arrived: $(cat "$CD/udp.seen")"
	$PY "$AUDIT_CHECK" udp "$CD/audit.log" || fail "audit log check"
	# a direct rule lets them through (the listener works)
	conf d.conf <<-EOC
	direct $P4:9999
	EOC
	udp_send --strict -c d.conf
	expect_out_has "sendto SENT"
	expect_out_has "connect SENT"
	sleep 0.3
	grep -q "$CASE-sendto" "$CD/udp.seen" || fail "direct datagram lost"
	kill "$UDP_PID" 2>/dev/null || true
}

# --from-env decides NO_PROXY as curl does: each case runs curl against
# a recording proxy (absolute-form request line = went through it) and
# compares with proxywrap --from-env --explain.
tcase audit_from_env_vs_curl
tc_audit_from_env_vs_curl() {
	need_prog curl
	local np host via_curl via_pw bad=0 n=0
	inc timeout 60 "$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 3129)); s.listen(16)
f = open(sys.argv[1], "a", buffering=1)
while True:
    c, _ = s.accept(); c.settimeout(5)
    try:
        f.write(c.recv(4096).split(b"\r\n")[0].decode(errors="replace") + "\n")
        c.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    except OSError:
        pass
    c.close()
' "$CD/proxy.seen" &
	local ppid=$!
	sleep 0.5
	while IFS='|' read -r np host; do
		[ -n "$host" ] || continue
		n=$((n + 1))
		: >"$CD/proxy.seen"
		inc env -i PATH="$PATH" http_proxy=http://127.0.0.1:3129 \
		    NO_PROXY="$np" curl -s -o /dev/null -m 3 \
		    --resolve "$host:80:$P4" "http://$host/" || true
		sleep 0.1
		if grep -qF "GET http://$host/" "$CD/proxy.seen"; then
			via_curl=via
		else
			via_curl=direct
		fi
		via_pw=$(inc env -i PATH="$PATH" \
		    http_proxy=http://127.0.0.1:3129 NO_PROXY="$np" \
		    "$PW_TOOL_RUN" --from-env --explain "$host:80" |
		    head -n 1 | awk '{print $2}')
		say "NO_PROXY='$np' $host: curl $via_curl, proxywrap $via_pw"
		[ "$via_curl" = "$via_pw" ] || bad=$((bad + 1))
	done <<-'EOT'
	example.test|example.test
	example.test|www.example.test
	.example.test|example.test
	.example.test|a.b.example.test
	example.test|wwwexample.test
	EXAMPLE.test|www.Example.TEST
	*.example.test|a.example.test
	example.test:80|example.test
	test|a.example.test
	*|a.test
	*,a.test|b.test
	a.test, b.test|x.b.test
	a.test;b.test|a.test
	198.18.0.0/16|198.18.0.1
	198.18.0.1|198.18.0.1
	198.18.0.2|198.18.0.1
	198.18.0.0/0|198.18.0.1
	198.18.0.0/33|198.18.0.1
	198.18.0.0/16|name.test
	EOT
	# uppercase HTTP_PROXY: curl ignores it, so does --from-env
	: >"$CD/proxy.seen"
	inc env -i PATH="$PATH" HTTP_PROXY=http://127.0.0.1:3129 curl -s \
	    -o /dev/null -m 3 --resolve "up.test:80:$P4" http://up.test/ || true
	sleep 0.1
	grep -qF "GET http://up.test/" "$CD/proxy.seen" && via_curl=via ||
	    via_curl=direct
	via_pw=$(inc env -i PATH="$PATH" HTTP_PROXY=http://127.0.0.1:3129 \
	    "$PW_TOOL_RUN" --from-env --explain up.test:80 | head -n 1 |
	    awk '{print $2}')
	say "HTTP_PROXY only: curl $via_curl, proxywrap $via_pw"
	[ "$via_curl" = "$via_pw" ] || bad=$((bad + 1))
	kill "$ppid" 2>/dev/null || true
	[ "$bad" = 0 ] || fail "$bad of $((n + 1)) cases differ from curl"
}
