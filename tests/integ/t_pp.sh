# t_pp.sh - PROXY protocol headers (rule option proxy_protocol=v1|v2)
# checked by real receivers: nginx with `listen ... proxy_protocol` and
# HAProxy with `accept-proxy`, each logging the client the header names
# next to the peer it really saw.
#
# The client namespace has no route to the world, so receivers for
# `direct` rules listen in the proxy namespace (198.18.0.1 /
# 2001:db8::1, ports 8081 nginx and 8082 haproxy); receivers behind
# dante and tinyproxy listen in the world (ports 8080 nginx and 81
# haproxy: tinyproxy allows CONNECT to those).  Every case starts its own
# instances with configs in its directory and stops them on exit.
#
# Evidence: nginx logs "$proxy_protocol_addr:$proxy_protocol_port
# $remote_addr ...", so a header sent after a proxy's handshake shows the
# client (198.18.0.2) first and the proxy (198.18.1.1) second; HAProxy
# logs %ci:%cp (from the header) and the AUTHORITY TLV (fc_pp_authority).

PP_NGX_W=8080
PP_HAP_W=81
PP_NGX_L=8081
PP_HAP_L=8082

# pp_nginx NS NAME PORT ADDR...: nginx with proxy_protocol on ADDR:PORT.
pp_nginx() {
	local ns=$1 name=$2 port=$3 a listen=""
	shift 3
	for a in "$@"; do
		listen="$listen		listen $a:$port proxy_protocol;
"
	done
	mkdir -p "$CD/$name/tmp"
	cat >"$CD/$name/nginx.conf" <<EOF
worker_processes 1;
pid $CD/$name/nginx.pid;
error_log $CD/$name/error.log;
daemon off;
user root;
events { worker_connections 64; }
http {
	log_format pp '\$proxy_protocol_addr:\$proxy_protocol_port \$remote_addr "\$request" \$status';
	access_log $CD/$name/access.log pp;
	client_body_temp_path $CD/$name/tmp;
	proxy_temp_path $CD/$name/tmp;
	fastcgi_temp_path $CD/$name/tmp;
	uwsgi_temp_path $CD/$name/tmp;
	scgi_temp_path $CD/$name/tmp;
	server {
$listen		default_type text/plain;
		location / { return 200 "pp-nginx \$proxy_protocol_addr \$uri\n"; }
	}
}
EOF
	ip netns exec "$ns" nginx -e "$CD/$name/error.log" -p "$CD/$name" \
	    -c "$CD/$name/nginx.conf" >"$CD/$name/out" 2>&1 </dev/null &
	echo $! >>"$CD/pids"
}

# pp_haproxy NS NAME PORT ADDR...: HAProxy with accept-proxy on ADDR:PORT,
# answering every request itself.
pp_haproxy() {
	local ns=$1 name=$2 port=$3 a bind=""
	shift 3
	for a in "$@"; do
		bind="$bind	bind $a:$port accept-proxy
"
	done
	mkdir -p "$CD/$name"
	cat >"$CD/$name/haproxy.cfg" <<EOF
global
	log stdout format raw local0
defaults
	mode http
	log global
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend pp
$bind	log-format "%ci:%cp auth=%[fc_pp_authority] %HM %HU %ST"
	http-request return status 200 content-type text/plain string "pp-haproxy"
EOF
	ip netns exec "$ns" haproxy -db -f "$CD/$name/haproxy.cfg" \
	    >"$CD/$name/access.log" 2>&1 </dev/null &
	echo $! >>"$CD/pids"
}

pp_stop() {
	local p
	[ -f "$CD/pids" ] || return 0
	for p in $(cat "$CD/pids"); do
		kill "$p" 2>/dev/null || true
	done
	rm -f "$CD/pids"
}

# pp_up: the four receivers, once they listen.
pp_up() {
	trap pp_stop EXIT
	pp_nginx "$NSW" ngx-w "$PP_NGX_W" "$W4" "[$W6]"
	pp_haproxy "$NSW" hap-w "$PP_HAP_W" "$W4" "[$W6]"
	pp_nginx "$NSP" ngx-l "$PP_NGX_L" "$P4" "[$P6]"
	pp_haproxy "$NSP" hap-l "$PP_HAP_L" "$P4" "[$P6]"
	env_wait_port "$NSW" "$W4" "$PP_NGX_W" 10 || fail "nginx (world)"
	env_wait_port "$NSW" "[$W6]" "$PP_HAP_W" 10 || fail "haproxy (world)"
	env_wait_port "$NSP" "$P4" "$PP_NGX_L" 10 || fail "nginx (local)"
	env_wait_port "$NSP" "[$P6]" "$PP_HAP_L" 10 || fail "haproxy (local)"
}

# pp_saw LOG MARK REGEX: LOG has a line for MARK matching REGEX (bounded).
pp_saw() {
	local log=$CD/$1/access.log i
	for i in $(seq 1 20); do
		if grep -F -- "$2" "$log" 2>/dev/null | grep -qE -- "$3"; then
			return 0
		fi
		sleep 0.1
	done
	show
	say "$1 log: $(tail -n 3 "$log" 2>/dev/null)"
	fail "$1 did not log $2 matching $3"
}

re() { printf '%s' "$1" | sed 's/[.[\]]/\\&/g'; }

# pp_case VERSION HOW FAMILY RECEIVER: curl under a rule with
# proxy_protocol=VERSION, HOW direct|dante|tiny, FAMILY 4|6, RECEIVER
# nginx|haproxy; the receiver must log the client's address from the header.
pp_case() {
	need_prog curl
	local ver=$1 how=$2 fam=$3 rcv=$4 host port url m src peer log
	local rule
	pp_up
	case $how in
	direct)
		[ "$fam" = 4 ] && host=$P4 || host=$P6
		[ "$rcv" = nginx ] && port=$PP_NGX_L || port=$PP_HAP_L
		[ "$rcv" = nginx ] && log=ngx-l || log=hap-l
		[ "$fam" = 4 ] && src=$C4 || src=$C6
		peer=$src
		rule="direct proxy_protocol=$ver"
		;;
	dante | tiny)
		[ "$fam" = 4 ] && host=$W4 || host=$W6
		[ "$rcv" = nginx ] && port=$PP_NGX_W || port=$PP_HAP_W
		[ "$rcv" = nginx ] && log=ngx-w || log=hap-w
		if [ "$how" = dante ] && [ "$fam" = 6 ]; then
			url=$U_DANTE6
			src=$C6
		else
			url=$(proxy_url "$how")
			src=$C4
		fi
		[ "$fam" = 4 ] && peer=$PW4 || peer=$PW6
		rule="via up proxy_protocol=$ver"
		;;
	esac
	conf t.conf <<-EOC
	${url:+proxy up $url}
	$rule 198.18.0.0/15 2001:db8::/32
	EOC
	m=$(mark)
	[ "$fam" = 6 ] && url="http://[$host]:$port$m" || url="http://$host:$port$m"
	run pw -v -c t.conf curl -sS -m 10 "$url"
	expect_rc 0
	expect_out_has "pp-$rcv"
	if [ "$rcv" = nginx ]; then
		# the header's client, then the peer nginx really saw
		pp_saw "$log" "$m" "^$(re "$src"):[0-9]+ $(re "$peer") "
	else
		pp_saw "$log" "$m" "^$(re "$src"):[0-9]+ auth=- GET $m 200"
	fi
}

tcase pp_v1_direct_nginx_4 smoke
tc_pp_v1_direct_nginx_4() { pp_case v1 direct 4 nginx; }
tcase pp_v2_direct_nginx_4
tc_pp_v2_direct_nginx_4() { pp_case v2 direct 4 nginx; }
tcase pp_v1_direct_haproxy_6
tc_pp_v1_direct_haproxy_6() { pp_case v1 direct 6 haproxy; }
tcase pp_v2_direct_haproxy_6
tc_pp_v2_direct_haproxy_6() { pp_case v2 direct 6 haproxy; }
tcase pp_v2_direct_nginx_6
tc_pp_v2_direct_nginx_6() { pp_case v2 direct 6 nginx; }
tcase pp_v1_dante_nginx_4 smoke
tc_pp_v1_dante_nginx_4() { pp_case v1 dante 4 nginx; }
tcase pp_v2_dante_haproxy_4
tc_pp_v2_dante_haproxy_4() { pp_case v2 dante 4 haproxy; }
tcase pp_v1_dante_haproxy_6
tc_pp_v1_dante_haproxy_6() { pp_case v1 dante 6 haproxy; }
tcase pp_v2_dante_nginx_6
tc_pp_v2_dante_nginx_6() { pp_case v2 dante 6 nginx; }
tcase pp_v1_tiny_haproxy_4
tc_pp_v1_tiny_haproxy_4() { pp_case v1 tiny 4 haproxy; }
tcase pp_v2_tiny_nginx_4 smoke
tc_pp_v2_tiny_nginx_4() { pp_case v2 tiny 4 nginx; }

# v2 names the host the application asked for in an AUTHORITY TLV: a
# name routed via socks5h reaches connect() as a fake address, and
# HAProxy logs the name from the header.
tcase pp_v2_authority_socks5h
tc_pp_v2_authority_socks5h() {
	need_prog curl
	local m
	pp_up
	conf t.conf <<-EOC
	proxy up socks5h://$P4:1080
	via up proxy_protocol=v2 .world.test
	EOC
	m=$(mark)
	run pw -v -c t.conf curl -sS -m 10 "http://www.world.test:$PP_HAP_W$m"
	expect_rc 0
	expect_out_has "pp-haproxy"
	pp_saw hap-w "$m" "^$(re "$C4"):[0-9]+ auth=www\.world\.test GET $m 200"
}

# pp_source replaces the source: a receiver that trusts the header from
# this sender believes it, which is what pp_source exists to test.
tcase pp_source_fixed
tc_pp_source_fixed() {
	need_prog curl
	local m
	pp_up
	conf t.conf <<-EOC
	direct proxy_protocol=v1 pp_source=198.18.77.7:4242 $P4:$PP_NGX_L
	direct proxy_protocol=v2 pp_source=[2001:db8:77::7]:4343 $P4:$PP_HAP_L
	EOC
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$P4:$PP_NGX_L$m"
	expect_rc 0
	pp_saw ngx-l "$m" "^198\.18\.77\.7:4242 $(re "$C4") "
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$P4:$PP_HAP_L$m"
	expect_rc 0
	pp_saw hap-l "$m" "^2001:db8:77::7:4343 auth=- GET $m 200"
}

# A receiver that does not expect the header reads it as the start of the
# application protocol: nginx without proxy_protocol answers 400 Bad
# Request to the line (v1) or the binary signature (v2), and the request
# behind it never counts as one.
pp_garbage() {
	need_prog curl
	local ver=$1 m
	conf t.conf <<-EOC
	proxy d $U_DANTE
	direct proxy_protocol=$ver $P4:8080
	via d proxy_protocol=$ver $W4:80
	EOC
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 -o /dev/null -w '%{http_code}\n' \
	    "http://$P4:8080$m"
	expect_out_has 400
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 -o /dev/null -w '%{http_code}\n' \
	    "http://$W4$m"
	expect_out_has 400
	nobody_saw "$m"
}

tcase pp_v1_plain_receiver_400
tc_pp_v1_plain_receiver_400() { pp_garbage v1; }
tcase pp_v2_plain_receiver_400
tc_pp_v2_plain_receiver_400() { pp_garbage v2; }

# A non-blocking socket that writes at once: the header still goes first
# (the helper holds the socket until it is written).
tcase pp_nonblocking_write_at_once
tc_pp_nonblocking_write_at_once() {
	local m
	pp_up
	conf t.conf <<-EOC
	proxy d $U_DANTE
	direct proxy_protocol=v2 $P4:$PP_NGX_L
	via d proxy_protocol=v1 $W4:$PP_NGX_W
	EOC
	cat >nb.py <<-'EOP'
	import select, socket, sys
	host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
	s.setblocking(False)
	try:
	    s.connect((host, port))
	except BlockingIOError:
	    pass
	# no wait for writability: the shim must keep the header first
	req = ("GET %s HTTP/1.0\r\n\r\n" % path).encode()
	while req:
	    try:
	        req = req[s.send(req):]
	    except BlockingIOError:
	        select.select([], [s], [], 10)
	data = b""
	while True:
	    select.select([s], [], [], 10)
	    try:
	        b = s.recv(4096)
	    except BlockingIOError:
	        continue
	    if not b:
	        break
	    data += b
	sys.stdout.write(data.decode(errors="replace"))
	EOP
	m=$(mark)
	run pw -c t.conf $PY nb.py "$P4" "$PP_NGX_L" "$m"
	expect_rc 0
	expect_out_has "pp-nginx $C4 $m"
	pp_saw ngx-l "$m" "^$(re "$C4"):[0-9]+ $(re "$C4") "
	m=$(mark)
	run pw -c t.conf $PY nb.py "$W4" "$PP_NGX_W" "$m"
	expect_rc 0
	expect_out_has "pp-nginx $C4 $m"
	pp_saw ngx-w "$m" "^$(re "$C4"):[0-9]+ $(re "$PW4") "
}

# --explain shows the exact header, and the log says one was sent.
tcase pp_explain_and_log
tc_pp_explain_and_log() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	direct proxy_protocol=v1 pp_source=198.18.77.7:4242 $P4:$PP_NGX_L
	direct proxy_protocol=v2 $P4:$PP_HAP_L
	EOC
	run pw -c t.conf --explain "$P4:$PP_NGX_L"
	expect_rc 0
	expect_out_has "header: PROXY TCP4 198.18.77.7 $P4 4242 $PP_NGX_L\\r\\n"
	run pw -c t.conf --explain "$P4:$PP_HAP_L"
	expect_rc 0
	expect_out_has "0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a 21 11 00 0c"
	expect_out_has "00 00 00 00 c6 12 00 01 00 00 1f 92"
	pp_up
	m=$(mark)
	run pw -v --log audit.json -c t.conf curl -sS -m 10 "http://$P4:$PP_NGX_L$m"
	expect_rc 0
	expect_err_re "proxy_protocol v1 sent to $(re "$P4"):$PP_NGX_L"
	# the audit log records that a header was sent, and which version
	if ! "$PY" -c '
import json, sys
ev = [json.loads(l) for l in open("audit.json")]
sys.exit(0 if any(e.get("event") == "connect" and
                  e.get("proxy_protocol") == 1 for e in ev) else 1)'; then
		show
		fail "no connect event with proxy_protocol 1 in the audit log"
	fi
}

# v1 cannot carry a name: a rule that would need one is refused at load.
tcase pp_v1_name_refused_at_load
tc_pp_v1_name_refused_at_load() {
	conf t.conf <<-EOC
	proxy up socks5h://$P4:1080
	via up proxy_protocol=v1 .world.test
	EOC
	run pw -c t.conf --check
	expect_rc 2
	expect_err_re "t\.conf:2: proxy_protocol=v1 needs addresses"
}

# A static program (the supervisor's, not the shim's) under a direct rule
# with proxy_protocol under --strict: the supervisor connects and writes
# the header before the call returns (also for a non-blocking connect,
# which then gets 0), with the shim's line tagged with the program; the
# receivers log the client from the header (v1 to nginx over IPv4, v2 to
# HAProxy over IPv6).
tcase pp_supervised_direct
tc_pp_supervised_direct() {
	local b=$T/pp/supclient-static m how
	mkdir -p "$T/pp"
	if [ ! -x "$b" ]; then
		gcc -D_GNU_SOURCE -O1 -static -o "$b.tmp" "$TOP/tests/bin/supclient.c" \
		    -lpthread >"$T/pp/cc.log" 2>&1 || fail "gcc -static: $(tail -n 1 "$T/pp/cc.log")"
		mv "$b.tmp" "$b"
	fi
	pp_up
	conf v1.conf <<-EOC
	direct proxy_protocol=v1 198.18.0.0/15
	EOC
	conf v2.conf <<-EOC
	direct proxy_protocol=v2 2001:db8::/32
	EOC
	for how in get nbget; do
		m=$(mark)
		run pw --strict -v -c v1.conf "$b" "$how" "$P4" "$PP_NGX_L" "$m"
		expect_rc 0
		expect_out_has "rc=0 errno=0"
		expect_out_re 'status=HTTP/1\.[01] 200'
		expect_err_re "^proxywrap: proxy_protocol v1 sent to 198\.18\.0\.1:$PP_NGX_L \([0-9]+ bytes, .*v1\.conf:1 direct proxy_protocol=v1 198\.18\.0\.0/15\) \[supervised: pid [0-9]+ $b\]"
		pp_saw ngx-l "$m" "^$(re "$C4"):[0-9]+ $(re "$C4") "
		m=$(mark)
		run pw --strict -v -c v2.conf "$b" "$how" "$P6" "$PP_HAP_L" "$m"
		expect_rc 0
		expect_out_has "rc=0 errno=0"
		expect_out_re 'status=HTTP/1\.[01] 200'
		expect_err_re "proxy_protocol v2 sent to \[$(re "$P6")\]:$PP_HAP_L .*\[supervised: pid [0-9]+ $b\]"
		pp_saw hap-l "$m" "^$(re "$C6"):[0-9]+ auth=- GET $m 200"
	done
}
