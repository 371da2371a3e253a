# t_programs.sh - the real-program matrix: programs from Debian packages,
# unmodified, through the real proxies (dante, tinyproxy, squid,
# microsocks), against real servers in the world (prog_env.sh starts them
# on first use).  Every case shows where the bytes arrived (the server saw
# the proxy host, 198.18.1.1, as the source) and that the same command
# without the shim does not get there (the client has no route to the
# world, so anything that arrived came through the proxy).
#
# Timeout cases aim the program's own connect timeout (1 s) at WS4, where
# the proxy's connect stays in progress (prog_env.sh): the program must
# give up on its own timer, in well under 2 s.

. "$PW_INTEG_DIR/prog_env.sh"
PD=$PW_INTEG_DIR/programs

# Not yet enabled: cases that fail for a reason outside the test (none
# now).  They are not registered, so they neither run nor count;
# PW_PROGRAMS_PENDING=1 registers them too.
#
# Before the readiness work (main at 24a2c65) sixteen of these cases
# failed, and were kept here:
#   redis_cli, ab, ruby_socket_tcp, ruby_net_http, perl_io_socket: the
#     second connect() after POLLOUT gave EALREADY ("Operation already
#     in progress"); perl_io_socket passed now and then (a race with the
#     proxy's reply)
#   ruby_connect_timeout, perl_connect_timeout: the same EALREADY at
#     once, not a timeout after 1 s
#   python_connect_timeout, python_asyncio_timeout, java_connect_timeout,
#   ssh_connect_timeout, curl_connect_timeout: the 1 s timeout was not
#     kept; the proxy's "host unreachable" (or 503) came after 3.1 s
#   node_net_liveness, node_fetch_liveness: the event loop stalled
#     3071 ms (fetch's 1 s abort fired at 3128 ms)
#   setpriv_nobody, apt_get_update_rules: the process that dropped
#     privileges could not read the mode-600 rule file ("t.conf: cannot
#     read: Permission denied") and failed closed
# bench/programs.sh runs them all under proxychains4 as well.
PROG_PENDING=""

pcase() {
	case " $(echo $PROG_PENDING) " in
	*" $1 "*) [ "${PW_PROGRAMS_PENDING:-0}" = 1 ] || return 0 ;;
	esac
	tcase "$@"
}

SSHO="-F /dev/null -i $PT/id_ed25519 -o UserKnownHostsFile=/dev/null
-o StrictHostKeyChecking=no -o BatchMode=yes -o LogLevel=ERROR"
SSHO=$(echo $SSHO)

# no_route WANT CMD...: CMD without the shim fails and does not get WANT.
no_route() {
	local want=$1
	shift
	run -t 20 inc "$@"
	if [ "$RC" = 0 ] || { [ -n "$want" ] && grep -qF -- "$want" out; }; then
		show
		fail "without the shim, $1 got through (exit $RC)"
	fi
}

# no_route_http CMD-WITH-@M@...: as no_route for a request of a fresh
# mark (@M@ in the arguments): it fails and no server saw the mark.
no_route_http() {
	local m a
	local -a args=()
	m=$(mark)
	for a in "$@"; do
		args+=("${a//@M@/$m}")
	done
	no_route "$m" "${args[@]}"
	nobody_saw "$m"
}

# in_ms LO HI: the program's "MS n" line is within [LO, HI].
in_ms() {
	local ms
	ms=$(sed -n 's/^MS \([0-9]*\)$/\1/p' out | head -n 1)
	if [ -z "$ms" ] || [ "$ms" -lt "$1" ] || [ "$ms" -gt "$2" ]; then
		show
		fail "took ${ms:-?} ms, wanted $1-$2"
	fi
}

# wall CMD...: run, and print "MS n" (wall time) into out.
wall() {
	local t0
	t0=$(date +%s%N)
	run "$@"
	echo "MS $((($(date +%s%N) - t0) / 1000000))" >>out
}

http_get() {
	printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$1"
}

### Key-value, SQL, messaging

pcase prog_redis_cli
tc_prog_redis_cli() {
	prog_need redis
	no_route "" redis-cli -h "$WP4" ping
	run pw -p "$U_DANTE" redis-cli -h "$WP4" set pw-key "v-$$"
	expect_rc 0
	expect_out_has OK
	run pw -p "$U_DANTE" redis-cli -h "$WP4" get pw-key
	expect_out_has "v-$$"
	run pw -p "$U_DANTE" redis-cli -h "$WP4" client list
	expect_rc 0
	expect_out_re "addr=198\.18\.1\.1:[0-9]+ laddr=$WP4:6379 "
	expect_out_lacks "addr=$C4:"
}

pcase prog_psql
tc_prog_psql() {
	prog_need postgres
	no_route "" psql "host=$WP4 user=postgres dbname=postgres connect_timeout=3" -Atc 'select 1'
	run pw -p "$U_MS" psql "host=$WP4 user=postgres dbname=postgres connect_timeout=5" \
	    -Atc 'select inet_client_addr()'
	expect_rc 0
	if ! grep -qx "$PW4" out; then
		show
		fail "postgres did not see the connection from $PW4"
	fi
}

pcase prog_pg_isready
tc_prog_pg_isready() {
	local n re="connection received: host=198\.18\.1\.1 "
	prog_need postgres
	no_route "accepting" pg_isready -h "$WP4" -t 3
	n=$(log_count "$T/log/postgres.out" "$re")
	run pw -p "$U_DANTE" pg_isready -h "$WP4" -t 5
	expect_rc 0
	expect_out_has "accepting connections"
	log_grew "$T/log/postgres.out" "$re" "$n" "postgres did not log pg_isready from $PW4"
}

pcase prog_mariadb
tc_prog_mariadb() {
	local q='select host from information_schema.processlist where id=connection_id()'
	prog_need mariadb
	no_route "" mariadb --no-defaults -h "$WP4" -u pw --connect-timeout=3 -e 'select 1'
	run pw -p "$U_DANTE_USER" mariadb --no-defaults -h "$WP4" -u pw \
	    --connect-timeout=5 -N -B -e "$q"
	expect_rc 0
	expect_out_re "^198\.18\.1\.1:[0-9]+$"
}

pcase prog_mariadb_admin
tc_prog_mariadb_admin() {
	prog_need mariadb
	no_route "" mariadb-admin --no-defaults -h "$WP4" -u pw --connect-timeout=3 ping
	run pw -p "$U_MS" mariadb-admin --no-defaults -h "$WP4" -u pw \
	    --connect-timeout=5 processlist
	expect_rc 0
	expect_out_re "\| 198\.18\.1\.1:[0-9]+ +\|"
	expect_out_lacks "$C4"
}

pcase prog_pg_dump
tc_prog_pg_dump() {
	local n re="connection received: host=198\.18\.1\.1 "
	prog_need postgres
	no_route "" pg_dump -h "$WP4" -U postgres -s postgres
	n=$(log_count "$T/log/postgres.out" "$re")
	run pw -p "$U_MS" pg_dump -h "$WP4" -U postgres -s postgres
	expect_rc 0
	expect_out_has "PostgreSQL database dump complete"
	log_grew "$T/log/postgres.out" "$re" "$n" "postgres did not log pg_dump from $PW4"
}

pcase prog_mariadb_dump
tc_prog_mariadb_dump() {
	local n re="Connect[[:space:]]+pw@198\.18\.1\.1 on"
	prog_need mariadb
	no_route "" mariadb-dump --no-defaults -h "$WP4" -u pw --no-data mysql db
	n=$(log_count "$T/log/mariadb-general.log" "$re")
	run pw -p "$U_DANTE" mariadb-dump --no-defaults -h "$WP4" -u pw \
	    --no-data mysql db
	expect_rc 0
	expect_out_has "Dump completed"
	log_grew "$T/log/mariadb-general.log" "$re" "$n" "mariadb did not log mariadb-dump from $PW4"
	if grep -qE "pw@$C4 " "$T/log/mariadb-general.log"; then
		fail "mariadb saw the client's own address"
	fi
}

# mosquitto_sub (through dante) waits for one message that
# mosquitto_pub (through microsocks) sends; the broker logged both
# clients from the proxy host.
pcase prog_mosquitto
tc_prog_mosquitto() {
	local topic=pw/$$ i sub log=$T/log/mosquitto.log
	prog_need mosquitto
	no_route "" mosquitto_pub -h "$WP4" -t "$topic" -m x
	pw -p "$U_DANTE" mosquitto_sub -h "$WP4" -i "pw-sub-$$" -t "$topic" \
	    -C 1 -W 15 >sub.out 2>sub.err &
	sub=$!
	for i in $(seq 1 100); do
		grep -q "SUBSCRIBE from pw-sub-$$" "$log" && break
		sleep 0.1
	done
	run pw -p "$U_MS" mosquitto_pub -h "$WP4" -i "pw-pub-$$" -t "$topic" -m "hello-$$"
	expect_rc 0
	wait "$sub" || true
	if ! grep -qx "hello-$$" sub.out; then
		say "sub: $(cat sub.out sub.err)"
		fail "mosquitto_sub did not get the message"
	fi
	grep -q "New client connected from 198\.18\.1\.1:[0-9]* as pw-sub-$$" \
	    "$log" || fail "the broker did not see pw-sub from $PW4"
	grep -q "New client connected from 198\.18\.1\.1:[0-9]* as pw-pub-$$" \
	    "$log" || fail "the broker did not see pw-pub from $PW4"
}

### Scripting languages

pcase prog_ruby_socket_tcp
tc_prog_ruby_socket_tcp() {
	local m
	m=$(mark)
	no_route_http ruby -rsocket -e 'Socket.tcp(ARGV[0], 80, connect_timeout: 3)' "$W4" @M@
	run pw -p "$U_TINY" ruby -rsocket -e '
		s = Socket.tcp(ARGV[0], 80, connect_timeout: 5)
		s.write("GET #{ARGV[1]} HTTP/1.0\r\nHost: #{ARGV[0]}\r\n\r\n")
		puts s.read' "$W4" "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_ruby_connect_timeout
tc_prog_ruby_connect_timeout() {
	prog_need stall
	run pw -p "$U_DANTE" ruby -rsocket -e '
		t = Process.clock_gettime(Process::CLOCK_MONOTONIC)
		begin
			Socket.tcp(ARGV[0], 80, connect_timeout: 1)
			puts "CONNECTED"
		rescue => e
			puts "RAISED #{e.class}"
		end
		puts "MS #{((Process.clock_gettime(Process::CLOCK_MONOTONIC) - t) * 1000).to_i}"
	' "$WS4"
	expect_out_has "RAISED Errno::ETIMEDOUT"
	in_ms 900 1900
}

pcase prog_ruby_net_http
tc_prog_ruby_net_http() {
	local m
	m=$(mark)
	no_route_http ruby -rnet/http -e 'Net::HTTP.start(ARGV[0], 80, open_timeout: 3) { |h| h.get(ARGV[1]) }' "$W4" @M@
	run pw -p "$U_SQUID" ruby -rnet/http -e '
		Net::HTTP.start(ARGV[0], 80, open_timeout: 5) { |h|
			r = h.get(ARGV[1]); puts "STATUS #{r.code}"; puts r.body }' "$W4" "$m"
	expect_rc 0
	expect_out_has "STATUS 200"
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_perl_io_socket
tc_prog_perl_io_socket() {
	local m
	m=$(mark)
	no_route_http perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => 80, Timeout => 3) or die "$@\n"' "$W4" @M@
	run pw -p "$U_MS" perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => 80,
		    Proto => "tcp", Timeout => 5) or die "ERR $@\n";
		print $s "GET $ARGV[1] HTTP/1.0\r\nHost: $ARGV[0]\r\n\r\n";
		print while <$s>;' "$W4" "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_perl_connect_timeout
tc_prog_perl_connect_timeout() {
	prog_need stall
	run pw -p "$U_DANTE" perl -MIO::Socket::INET -MTime::HiRes=time -e '
		my $t = time;
		my $s = IO::Socket::INET->new(PeerAddr => $ARGV[0], PeerPort => 80,
		    Proto => "tcp", Timeout => 1);
		print $s ? "CONNECTED\n" : "FAILED $@\n";
		printf "MS %d\n", (time - $t) * 1000;' "$WS4"
	expect_out_re "^FAILED .*timeout"
	in_ms 900 1900
}

pcase prog_perl_http_tiny
tc_prog_perl_http_tiny() {
	local m
	m=$(mark)
	no_route_http perl -MHTTP::Tiny -e 'exit(HTTP::Tiny->new(timeout => 3)->get($ARGV[0])->{success} ? 0 : 1)' "http://$W4@M@"
	run pw -p "$U_TINY" perl -MHTTP::Tiny -e '
		my $r = HTTP::Tiny->new(timeout => 5)->get($ARGV[0]);
		print "STATUS $r->{status}\n$r->{content}";
		exit($r->{success} ? 0 : 1);' "http://$W4$m"
	expect_rc 0
	expect_out_has "STATUS 200"
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_python_create_connection
tc_prog_python_create_connection() {
	local m
	m=$(mark)
	no_route_http "$PY" -c 'import socket,sys; socket.create_connection((sys.argv[1], 80), timeout=3)' "$W4" @M@
	run pw -p "$U_DANTE" "$PY" -c '
import socket, sys
h, m = sys.argv[1], sys.argv[2]
s = socket.create_connection((h, 80), timeout=5)
s.sendall(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (m, h)).encode())
b = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    b += d
print(b.decode())' "$W4" "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_python_connect_timeout
tc_prog_python_connect_timeout() {
	prog_need stall
	run pw -p "$U_DANTE" "$PY" -c '
import socket, sys, time
t = time.monotonic()
try:
    socket.create_connection((sys.argv[1], 80), timeout=1)
    print("CONNECTED")
except socket.timeout:
    print("TIMEOUT")
except OSError as e:
    print("ERROR", e.errno)
print("MS", int((time.monotonic() - t) * 1000))' "$WS4"
	expect_out_has TIMEOUT
	in_ms 900 1900
}

pcase prog_python_asyncio
tc_prog_python_asyncio() {
	local m
	m=$(mark)
	no_route_http "$PY" -c 'import asyncio,sys; asyncio.run(asyncio.wait_for(asyncio.open_connection(sys.argv[1], 80), 3))' "$W4" @M@
	run pw -p "$U_SQUID" "$PY" -c '
import asyncio, sys
async def main(h, m):
    r, w = await asyncio.wait_for(asyncio.open_connection(h, 80), 5)
    w.write(("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (m, h)).encode())
    print((await r.read()).decode())
    w.close()
asyncio.run(main(*sys.argv[1:3]))' "$W4" "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

# wait_for(open_connection, 1) toward a destination squid cannot reach.
pcase prog_python_asyncio_timeout
tc_prog_python_asyncio_timeout() {
	prog_need stall
	run pw -p "$U_SQUID" "$PY" -c '
import asyncio, sys, time
async def main(x):
    t = time.monotonic()
    try:
        await asyncio.wait_for(asyncio.open_connection(x, 80), 1)
        print("CONNECTED")
    except asyncio.TimeoutError:
        print("TIMEOUT")
    except OSError as e:
        print("ERROR", e.errno)
    print("MS", int((time.monotonic() - t) * 1000))
asyncio.run(main(sys.argv[1]))' "$WS4"
	expect_out_has TIMEOUT
	in_ms 900 1900
}

# node: the event loop keeps turning (10 ms timer, largest gap under
# 250 ms) while five connects through the proxy stay pending.
pcase prog_node_net_liveness
tc_prog_node_net_liveness() {
	local m gap
	prog_need stall
	m=$(mark)
	no_route_http node "$PD/node_live.js" net "$W4" @M@ "$WS4"
	run pw -p "$U_DANTE" node "$PD/node_live.js" net "$W4" "$m" "$WS4"
	expect_rc 0
	expect_out_has "BODY world $W4:80 $m"
	world_saw "$m" "$PW4"
	gap=$(sed -n 's/^GAP //p' out)
	[ -n "$gap" ] && [ "$gap" -lt 250 ] || { show; fail "event loop stalled ${gap:-?} ms"; }
}

pcase prog_node_fetch_liveness
tc_prog_node_fetch_liveness() {
	local m gap ms
	prog_need stall
	m=$(mark)
	run pw -p "$U_MS" node "$PD/node_live.js" fetch "$W4" "$m" "$WS4"
	expect_rc 0
	expect_out_has "BODY world $W4:80 $m"
	world_saw "$m" "$PW4"
	gap=$(sed -n 's/^GAP //p' out)
	[ -n "$gap" ] && [ "$gap" -lt 250 ] || { show; fail "event loop stalled ${gap:-?} ms"; }
	ms=$(sed -n 's/^ABORT \([0-9]*\) .*/\1/p' out)
	[ -n "$ms" ] && [ "$ms" -ge 900 ] && [ "$ms" -le 1450 ] ||
	    { show; fail "the 1 s fetch timeout fired at ${ms:-?} ms"; }
	no_route_http node "$PD/node_live.js" fetch "$W4" @M@ "$WS4"
}

pcase prog_java_httpclient
tc_prog_java_httpclient() {
	local m
	m=$(mark)
	run -t 50 pw -p "$U_TINY" java "$PD/JHttp.java" "http://$W4$m"
	expect_rc 0
	expect_out_has "STATUS 200"
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
	no_route_http java "$PD/JHttp.java" "http://$W4@M@"
}

pcase prog_java_socket
tc_prog_java_socket() {
	local m
	m=$(mark)
	run -t 50 pw -p "$U_DANTE_USER" java "$PD/JSock.java" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	expect_out_has "PEER $W4 80"
	world_saw "$m" "$PW4"
	no_route_http java "$PD/JSock.java" get "$W4" 80 @M@
}

pcase prog_java_connect_timeout
tc_prog_java_connect_timeout() {
	prog_need stall
	run -t 50 pw -p "$U_DANTE" java "$PD/JSock.java" timeout "$WS4" 80 1000
	expect_out_has "THROWN SocketTimeoutException"
	in_ms 900 1900
}

. "$PW_INTEG_DIR/prog_cases.sh"
