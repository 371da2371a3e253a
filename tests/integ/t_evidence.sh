# t_evidence.sh - every tunnel's "close" event in the audit log: bytes
# each way from the kernel's counters, how it ended, and the passive TLS
# look (SNI, ALPN, outcome), through dante and tinyproxy; the SNI against
# the routed name, logged, and refused under sni_must_match on.

EVID_CHECK=$PW_INTEG_DIR/evid_check.py
BIG=$((64 * 1024 * 1024))

# A test CA and a server certificate for tls.world.test and
# other.world.test (the world's dnsmasq gives every *.world.test $W4).
evi_pki() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 \
	    -subj "/CN=proxywrap evidence test CA" \
	    -keyout ca.key -out ca.crt >/dev/null 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -subj /CN=tls.world.test \
	    -keyout srv.key -out srv.csr >/dev/null 2>&1 &&
	printf 'subjectAltName=DNS:tls.world.test,DNS:other.world.test\n' \
	    >srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile srv.ext -out srv.crt \
	    >/dev/null 2>&1 || fail "test CA setup"
}

# This case's servers in the world: nginx with a TLSv1.3-only vhost on
# $W4:8080, a TLSv1.2-only one on $WB4:443, a plain one serving a 64 MiB
# file on $WB4:81, and a
# server on $WB4:2222 that accepts and never answers.  Gone with the case.
evi_servers() {
	local d=$CD/ngx
	evi_pki
	mkdir -p "$d/tmp" "$CD/www"
	truncate -s "$BIG" "$CD/www/big"
	env_nginx_head "$d" "$CD/access.log" >"$d/nginx.conf"
	cat >>"$d/nginx.conf" <<-EOF
	server {
		listen $W4:8080 ssl;
		ssl_certificate $CD/srv.crt;
		ssl_certificate_key $CD/srv.key;
		ssl_protocols TLSv1.3;
		default_type text/plain;
		location / { return 200 "tls \$ssl_server_name \$uri\n"; }
	}
	server {
		listen $WB4:443 ssl;
		ssl_certificate $CD/srv.crt;
		ssl_certificate_key $CD/srv.key;
		ssl_protocols TLSv1.2;
		default_type text/plain;
		location / { return 200 "tls12 \$uri\n"; }
	}
	server {
		listen $WB4:81;
		root $CD/www;
	}
	}
	EOF
	ip netns exec "$NSW" nginx -e "$d/error.log" -p "$d" \
	    -c "$d/nginx.conf" >"$d/out" 2>&1 </dev/null &
	NGX_PID=$!
	ip netns exec "$NSW" timeout 50 "$PY" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 2222))
s.listen(16)
held = []
while True:
    held.append(s.accept()[0])
' "$WB4" >/dev/null 2>&1 </dev/null &
	SILENT_PID=$!
	trap 'kill $NGX_PID $SILENT_PID 2>/dev/null || true' EXIT
	env_wait_port "$NSW" "$W4" 8080 10 &&
	env_wait_port "$NSW" "$WB4" 81 10 &&
	env_wait_port "$NSW" "$WB4" 443 10 &&
	env_wait_port "$NSW" "$WB4" 2222 10 || fail "evidence servers"
}

# evi_close PATTERN: the one close event matching PATTERN (a regex over
# evid_check.py's line), in $EV; fails when there is none or several.
evi_close() {
	local n
	$PY "$EVID_CHECK" "$CD/audit.log" >closes || fail "audit log not JSON"
	n=$(grep -cE -- "$1" closes || true)
	if [ "$n" != 1 ]; then
		say "close events:"
		sed 's/^/#   /' closes >&2
		fail "$n close events match $1, wanted 1"
	fi
	EV=$(grep -E -- "$1" closes)
}

# evi_field NAME: NAME's value in $EV.
evi_field() {
	printf '%s\n' "$EV" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

evi_expect() {
	local k=$1 want=$2 got
	got=$(evi_field "$k")
	[ "$got" = "$want" ] || fail "close event: $k=$got, wanted $want ($EV)"
}

# 64 MiB down through each kind of proxy: the close event counts it, from
# TCP_INFO alone, within 1% (the response's head is the rest).
tcase evidence_bytes
tc_evidence_bytes() {
	local px down up
	need_prog curl
	evi_servers
	for px in "socks5h://$P4:1080" "$U_TINY"; do
		conf t.conf <<-EOC
		proxy p $px
		via p *
		EOC
		: >"$CD/audit.log"
		run -t 60 pw --log "$CD/audit.log" -c t.conf curl -sS -m 50 \
		    -o /dev/null -w '%{size_download}\n' "http://$WB4:81/big"
		expect_rc 0
		expect_out_has "$BIG"
		evi_close "port=81 "
		down=$(evi_field bytes_down)
		up=$(evi_field bytes_up)
		[ "$down" -ge "$BIG" ] && [ "$down" -le $((BIG + BIG / 100)) ] ||
		    fail "$px: bytes_down $down, wanted 64 MiB +- 1%"
		# the request only: the proxy's handshake is not counted
		[ "$up" -gt 40 ] && [ "$up" -lt 200 ] ||
		    fail "$px: bytes_up $up for one GET"
		evi_expect tls none
		evi_expect proxy p
		evi_expect rule "$CD/t.conf:2"
		case $(evi_field end) in
		program-close | peer-fin) ;;
		*) fail "$px: end $(evi_field end)" ;;
		esac
	done
}

# Exact counts (a 27-byte banner, then 1000 bytes echoed), and the ways a
# tunnel ends that are not close(): dup2 over it, and the process exiting
# with it open.
tcase evidence_ends smoke
tc_evidence_ends() {
	conf t.conf <<-EOC
	proxy p socks5h://$P4:1080
	via p *
	EOC
	: >"$CD/audit.log"
	run pw --log "$CD/audit.log" -c t.conf "$PY" -c '
import os, socket, sys
s = socket.create_connection((sys.argv[1], 2222), timeout=10)
b = b""
while not b.endswith(b"\n"):
    b += s.recv(100)
s.sendall(b"x" * 1000)
got = 0
while got < 1000:
    got += len(s.recv(2000))
s.close()
d = socket.create_connection((sys.argv[1], 2222), timeout=10)
d.recv(100)
null = os.open("/dev/null", os.O_RDONLY)
os.dup2(null, d.fileno())
print("banner", len(b), "echoed", got)
' "$W4"
	expect_rc 0
	expect_out_has "banner 27 echoed 1000"
	$PY "$EVID_CHECK" "$CD/audit.log" >closes
	[ "$(grep -c "port=2222 " closes)" = 2 ] ||
	    fail "wanted two close events: $(cat closes)"
	EV=$(grep "port=2222 " closes | head -n 1)
	evi_expect bytes_up 1000
	evi_expect bytes_down 1027
	evi_expect end program-close
	evi_expect tls none
	[ "$(evi_field first_byte_ms)" != - ] || fail "no first_byte_ms: $EV"
	EV=$(grep "port=2222 " closes | tail -n 1)
	evi_expect bytes_down 27
	evi_expect end program-close
	# after a failover on the same socket (a dead member first): the
	# counts are the last connection's, its handshake taken off
	conf g.conf <<-EOC
	proxy dead socks5h://$P4:1999
	proxy p socks5h://$P4:1080
	group g dead p mode=failover
	via g *
	EOC
	: >"$CD/audit.log"
	run pw --log "$CD/audit.log" -c g.conf "$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 2222), timeout=10)
b = b""
while not b.endswith(b"\n"):
    b += s.recv(100)
s.sendall(b"y" * 500)
got = 0
while got < 500:
    got += len(s.recv(2000))
s.close()
print("echoed", got)
' "$W4"
	expect_rc 0
	expect_out_has "echoed 500"
	evi_close "port=2222 "
	evi_expect bytes_up 500
	evi_expect bytes_down 527
	evi_expect proxy p
	# bash leaves fd 3 open at exit: the exit walk writes its event
	: >"$CD/audit.log"
	run pw --log "$CD/audit.log" -c t.conf bash -c \
	    "exec 3<>/dev/tcp/$W4/2222; read -r l <&3; echo \"\$l\"; exit 0"
	expect_rc 0
	expect_out_has PWBANNER
	evi_close "port=2222 "
	evi_expect end process-exit
	evi_expect bytes_down 27
}

# TLS outcomes through dante and tinyproxy, all by names the proxy
# resolves: a handshake that goes on, the origin's alert, an answer that
# is not TLS, and no answer at all.
tcase evidence_tls
tc_evidence_tls() {
	local px
	need_prog curl
	evi_servers
	for px in "socks5h://$P4:1080" "$U_TINY"; do
		conf t.conf <<-EOC
		proxy p $px
		via p *
		EOC
		: >"$CD/audit.log"
		run pw --log "$CD/audit.log" -c t.conf curl -sS -m 10 \
		    --cacert ca.crt https://tls.world.test:8080/ok
		expect_rc 0
		expect_out_has "tls tls.world.test /ok"
		evi_close "port=8080 name=tls.world.test "
		evi_expect tls established
		evi_expect sni tls.world.test
		case $(evi_field alpn) in
		*http/1.1*) ;;
		*) fail "$px: alpn $(evi_field alpn)" ;;
		esac
		# the hello in a TCP Fast Open sendto (connect and data in one
		# call, which the shim splits): seen all the same
		if curl --help all 2>/dev/null | grep -q tcp-fastopen; then
			: >"$CD/audit.log"
			run pw --log "$CD/audit.log" -c t.conf curl -sS -m 10 \
			    --tcp-fastopen --cacert ca.crt \
			    https://tls.world.test:8080/tfo
			expect_rc 0
			evi_close "port=8080 name=tls.world.test "
			evi_expect tls established
			evi_expect sni tls.world.test
		fi
		# a TLS 1.2 hello to a TLSv1.3-only server: its fatal alert
		: >"$CD/audit.log"
		run pw --log "$CD/audit.log" -c t.conf openssl s_client -tls1_2 \
		    -connect tls.world.test:8080 -servername tls.world.test
		expect_fail
		evi_close "port=8080 name=tls.world.test "
		evi_expect tls alert
		evi_expect alert protocol_version
		evi_expect level fatal
		evi_expect sender peer
		# TLS 1.2 shows the certificate in the clear: curl, not trusting
		# the test CA, says so in a plaintext alert of its own
		: >"$CD/audit.log"
		run pw --log "$CD/audit.log" -c t.conf curl -sS -m 10 \
		    "https://$WB4/"
		[ "$RC" = 60 ] || { show; fail "curl exit $RC, wanted 60"; }
		evi_close "port=443 "
		evi_expect tls alert
		evi_expect alert unknown_ca
		evi_expect sender program
		evi_expect level fatal
		# https to a plain HTTP server: its 400 is not TLS
		: >"$CD/audit.log"
		run pw --log "$CD/audit.log" -c t.conf curl -sS -m 10 -k \
		    https://www.world.test:80/
		expect_fail
		evi_close "port=80 name=www.world.test "
		evi_expect tls not-tls
		evi_expect sni www.world.test
		# a server that never answers: curl's own timeout ends it
		: >"$CD/audit.log"
		run pw --log "$CD/audit.log" -c t.conf curl -sS -m 2 -k \
		    "https://$WB4:2222/"
		[ "$RC" = 28 ] || { show; fail "curl exit $RC, wanted 28"; }
		evi_close "port=2222 "
		evi_expect tls no-reply
		evi_expect bytes_down 0
	done
}

# The program names another server in its ClientHello than the one the
# rules routed (curl --connect-to): logged with the close event marked;
# under sni_must_match on, refused before the hello leaves.
tcase evidence_sni
tc_evidence_sni() {
	local m
	need_prog curl
	evi_servers
	conf t.conf <<-EOC
	proxy p $U_TINY
	via p .world.test
	EOC
	m=$(mark)
	: >"$CD/audit.log"
	run pw --log "$CD/audit.log" -c t.conf curl -sS -m 10 --cacert ca.crt \
	    --connect-to tls.world.test:8080:other.world.test:8080 \
	    "https://tls.world.test:8080$m"
	expect_rc 0
	expect_out_has "tls tls.world.test $m"
	expect_err_re "tls to other.world.test:8080: TLS server name 'tls.world.test' is not the routed name \(.*/t.conf:2 via p .world.test\)"
	evi_close "port=8080 name=other.world.test "
	evi_expect mismatch true
	evi_expect sni tls.world.test
	evi_expect tls established
	$PY "$EVID_CHECK" "$CD/audit.log" sni-mismatch | grep -q "outcome=ok" ||
	    fail "no sni-mismatch event"
	# the same seen in a TCP Fast Open sendto: a captured openssl hello
	# naming www.example.org, sent to tls.world.test
	: >"$CD/audit.log"
	run pw --log "$CD/audit.log" -c t.conf "$PY" -c '
import socket, sys
hello = open(sys.argv[1], "rb").read()
s = socket.socket()
s.sendto(hello, socket.MSG_FASTOPEN, ("tls.world.test", 8080))
print("reply", s.recv(6)[:1] == b"\x16")
s.close()
' "$TOP/tests/fuzz/corpus/tlspeek/hello-openssl-alpn"
	expect_rc 0
	expect_out_has "reply True"
	evi_close "port=8080 name=tls.world.test "
	evi_expect mismatch true
	evi_expect sni www.example.org
	evi_expect tls established
	# strict: refused, nothing reaches the server; the right name passes
	conf s.conf <<-EOC
	proxy p $U_TINY
	via p .world.test
	strict on
	sni_must_match on
	EOC
	m=$(mark)
	: >"$CD/audit.log"
	run pw --log "$CD/audit.log" -c s.conf curl -sS -m 10 --cacert ca.crt \
	    --connect-to tls.world.test:8080:other.world.test:8080 \
	    "https://tls.world.test:8080$m"
	expect_fail
	expect_err_re "closed other.world.test:8080: TLS server name 'tls.world.test' is not the routed name \(sni_must_match on\)"
	expect_err_re "Connection reset by peer"
	grep -qF "$m" "$CD/access.log" 2>/dev/null &&
	    fail "the server saw the refused request"
	evi_close "port=8080 name=other.world.test "
	evi_expect end refused
	evi_expect mismatch true
	$PY "$EVID_CHECK" "$CD/audit.log" sni-mismatch |
	    grep -q "outcome=ECONNRESET" || fail "no refusal event"
	m=$(mark)
	run pw -c s.conf curl -sS -m 10 --cacert ca.crt \
	    "https://TLS.world.test.:8080$m"
	expect_rc 0
	expect_out_re "tls (tls|TLS).world.test.? $m"
	expect_err_lacks "not the routed name"
}

# The peek reads what the program sends and receives, and under
# sni_must_match before it sends: bad pointers and odd flags on a fresh
# tunnel still get the kernel's answers (EFAULT, MSG_PEEK's bytes again),
# and the bytes arrive untouched.
tcase evidence_fidelity smoke
tc_evidence_fidelity() {
	local c
	cat >odd.py <<-'EOP'
	import ctypes, errno, socket, sys
	libc = ctypes.CDLL(None, use_errno=True)
	class iovec(ctypes.Structure):
	    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
	class msghdr(ctypes.Structure):
	    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint),
	                ("iov", ctypes.c_void_p), ("iovlen", ctypes.c_size_t),
	                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
	                ("flags", ctypes.c_int)]
	def say(what, r):
	    e = ctypes.get_errno()
	    print(what, r, errno.errorcode.get(e, e) if r < 0 else "")
	    ctypes.set_errno(0)
	s = socket.create_connection((sys.argv[1], 2222), timeout=10)
	s.settimeout(None)	# blocking: the banner may not be there yet
	fd = s.fileno()
	buf = ctypes.create_string_buffer(64)
	say("recv-peek", libc.recv(fd, buf, 9, socket.MSG_PEEK))
	print("peeked", buf.raw[:9])
	say("write-null", libc.write(fd, None, 10))
	say("writev-badvec", libc.writev(fd, ctypes.c_void_p(8), 1))
	bad = iovec(ctypes.c_void_p(16), 10)
	say("writev-badbase", libc.writev(fd, ctypes.byref(bad), 1))
	m = msghdr(None, 0, ctypes.addressof(bad), 1, None, 0, 0)
	say("sendmsg-badbase", libc.sendmsg(fd, ctypes.byref(m), 0))
	say("read", libc.read(fd, buf, 27))
	print("banner", buf.raw[:27])
	say("send-empty", libc.send(fd, b"", 0, 0))
	say("write", libc.write(fd, b"\x16\x03\x01hello", 8))
	got = b""
	while len(got) < 8:
	    got += s.recv(64)
	print("echo", got)
	EOP
	cat >want <<-'EOW'
	recv-peek 9 
	peeked b'PWBANNER-'
	write-null -1 EFAULT
	writev-badvec -1 EFAULT
	writev-badbase -1 EFAULT
	sendmsg-badbase -1 EFAULT
	read 27 
	banner b'PWBANNER-0123456789 hello\r\n'
	send-empty 0 
	write 8 
	echo b'\x16\x03\x01hello'
	EOW
	for c in off on; do
		conf t.conf <<-EOC
		proxy p socks5h://$P4:1080
		via p *
		sni_must_match $c
		EOC
		: >"$CD/audit.log"
		run pw --log "$CD/audit.log" -c t.conf "$PY" odd.py "$W4"
		expect_rc 0
		diff want out >diff.out || { show; cat diff.out >&2;
		    fail "sni_must_match $c: answers differ"; }
		evi_close "port=2222 "
		# a TLS record header that never becomes a hello: no TLS
		evi_expect tls none
		evi_expect bytes_up 8
		evi_expect bytes_down 35
	done
}
