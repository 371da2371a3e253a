# t_chains.sh - two-hop chains, every mix of dante (d), microsocks (m, no
# auth; it connects out from 198.18.1.4, so the world can tell it from the
# others) and tinyproxy (t, HTTP CONNECT), plus the authenticating
# microsocks (a) next to dante.  dante and tinyproxy refuse a connection
# to themselves (a loop), so dante's second hop is the other dante (u,
# user/password) and tinyproxy is never both.  Each hop decides SOCKS5
# pipelining for itself, from what the session knows of that hop's
# proxy: dante takes greeting, auth and request in one write, microsocks
# drops what follows the greeting, tinyproxy is HTTP.
#
# chain_X_Y_blk: three blocking connections in a row, the third in a
# second process of the same session.  chain_X_Y_nb: three non-blocking
# ones in a fresh session (nothing to learn, so nothing is tried), then
# in another session one blocking connection (which learns) and three
# non-blocking ones after it.  Every connection must reach the world from
# the last hop's address; the one that learns within CHAIN_LEARN_MS, every
# other within CHAIN_MAX_MS, with connect_timeout (6 s) far above both,
# so that a hang fails instead of passing slowly.  The pipelining log
# lines (-vv) must name the right proxy, once per session: a probation
# always logs one, so a stall repeated on a learned proxy shows there
# even when a loaded host blurs the times.

CHAIN_CLIENT=$PW_INTEG_DIR/chain_client.py
CHAIN_MAX_MS=1000
# a probation waits 4 method round trips, at least 250 ms: on a loaded
# host (2 cores, many test runs) one took 1.75 s
CHAIN_LEARN_MS=3000

chain_url() {
	case $1 in
	d) echo "$U_DANTE" ;;
	u) echo "$U_DANTE_USER" ;;
	m) echo "socks5://$P4:1083" ;;
	a) echo "$U_MS" ;;
	t) echo "$U_TINY" ;;
	esac
}

# What the proxy's log says about connections to HOST:PORT so far.
chain_count() {
	local p=$1 host=$2 port=$3
	case $p in
	d) pcount dante "$host" "$port" ;;
	u) pcount dante_user "$host" "$port" ;;
	a) pcount ms "$host" "$port" ;;
	t) pcount tiny "$host" "$port" ;;
	m) grep -cF -- "connected to $host:$port" \
	    "$T/log/microsocks-open.out" || true ;;
	esac
}

# The port a hop listens on, as the hop before it connects to it.
chain_port() {
	case $1 in
	d) echo 1080 ;; u) echo 1081 ;; a) echo 1082 ;; m) echo 1083 ;;
	t) echo 8888 ;;
	esac
}

chain_conf() {
	conf t.conf <<-EOC
	proxy d $(chain_url d)
	proxy u $(chain_url u)
	proxy m $(chain_url m)
	proxy a $(chain_url a)
	proxy t $(chain_url t)
	via $1>$2 *
	connect_timeout 6s
	EOC
	chmod 600 t.conf
}

# chain_times N [K]: out has N "CONN" lines, each 200, the first K
# (default 1) within CHAIN_LEARN_MS, the others within CHAIN_MAX_MS.
chain_times() {
	local n line ms i=0 max
	n=$(grep -c '^CONN ' out || true)
	if [ "$n" != "$1" ]; then
		show
		fail "expected $1 connections, got $n"
	fi
	while read -r line; do
		i=$((i + 1))
		max=$CHAIN_MAX_MS
		[ "$i" -le "${2:-1}" ] && max=$CHAIN_LEARN_MS
		ms=$(echo "$line" | awk '{print $4}')
		if ! echo "$line" | grep -qE '^CONN [0-9]+ [bn] [0-9]+ HTTP/1\.[01] 200'; then
			show
			fail "connection failed: $line"
		fi
		if [ "$ms" -gt "$max" ]; then
			show
			fail "connection $i took ${ms} ms (bound $max): $line"
		fi
	done < <(grep '^CONN ' out)
	say "times: $(awk '/^CONN /{printf "%s%s:%sms", s, $3, $4; s=" "}' out)"
}

# chain_lines H0 H1 LEARNED: the pipelining lines of one session.  With
# LEARNED=1 a blocking connection ran: each microsocks of the chain fell
# back exactly once, each dante took it exactly once, nothing else was
# named.
# With 0: no proxy was tried at all.
chain_lines() {
	local h0=$1 h1=$2 learned=$3 p want got
	for p in d u m a t; do
		want=0
		if [ "$learned" = 1 ] && [ "$p" = "$h0" -o "$p" = "$h1" ]; then
			case $p in m | a) want=1 ;; esac
		fi
		got=$(grep -cE "proxy $p \(.*\): pipelined SOCKS5 handshake" err || true)
		if [ "$got" != "$want" ]; then
			show
			grep -E "pipelined" err | sed 's/^/#   /' >&2
			fail "proxy $p: $got fallback lines, wanted $want"
		fi
		want=0
		if [ "$learned" = 1 ] && [ "$p" = "$h0" -o "$p" = "$h1" ]; then
			case $p in d | u) want=1 ;; esac
		fi
		got=$(grep -cE "proxy $p \(.*\) takes a pipelined SOCKS5" err || true)
		if [ "$got" != "$want" ]; then
			show
			grep -E "pipelined" err | sed 's/^/#   /' >&2
			fail "proxy $p: $got 'takes a pipelined' lines, wanted $want"
		fi
	done
	expect_err_lacks "$MS_PASS"
	expect_err_lacks "$PW_USER_PASS"
}

# chain_arrived H0 H1 MARK-PATH...: each path reached the world from the
# last hop's address; hop 0 carried to hop 1 and hop 1 to the world at
# least once per path (counted from BEFORE0 and BEFORE1).
chain_arrived() {
	local h0=$1 h1=$2 b0=$3 b1=$4 src=$PW4 p n
	shift 4
	[ "$h1" = m ] && src=$PWM4
	for p in "$@"; do
		world_saw "$p" "$src"
	done
	n=$(chain_count "$h0" "$P4" "$(chain_port "$h1")")
	if [ $((n - b0)) -lt $# ]; then
		show
		fail "hop 0 ($h0) logged $((n - b0)) connections to hop 1 ($h1), wanted $#"
	fi
	n=$(chain_count "$h1" "$W4" 80)
	if [ $((n - b1)) -lt $# ]; then
		show
		fail "hop 1 ($h1) logged $((n - b1)) connections to $W4:80, wanted $#"
	fi
}

chain_blk() {
	local h0=$1 h1=$2 m b0 b1
	chain_conf "$h0" "$h1"
	m=$(mark)
	b0=$(chain_count "$h0" "$P4" "$(chain_port "$h1")")
	b1=$(chain_count "$h1" "$W4" 80)
	run -t 50 pw -vv -c t.conf sh -c \
	    "$PY $CHAIN_CLIENT $W4 80 $m-a b b && $PY $CHAIN_CLIENT $W4 80 $m-b b"
	chain_times 3
	expect_rc 0
	chain_arrived "$h0" "$h1" "$b0" "$b1" "$m-a-1" "$m-a-2" "$m-b-1"
	chain_lines "$h0" "$h1" 1
}

chain_nb() {
	local h0=$1 h1=$2 m b0 b1
	chain_conf "$h0" "$h1"
	m=$(mark)
	b0=$(chain_count "$h0" "$P4" "$(chain_port "$h1")")
	b1=$(chain_count "$h1" "$W4" 80)
	run -t 50 pw -vv -c t.conf "$PY" "$CHAIN_CLIENT" "$W4" 80 "$m-a" n n n
	chain_times 3 0
	expect_rc 0
	chain_arrived "$h0" "$h1" "$b0" "$b1" "$m-a-1" "$m-a-2" "$m-a-3"
	chain_lines "$h0" "$h1" 0
	# learned by a blocking connection, used by the non-blocking ones
	m=$(mark)
	b0=$(chain_count "$h0" "$P4" "$(chain_port "$h1")")
	b1=$(chain_count "$h1" "$W4" 80)
	run -t 50 pw -vv -c t.conf sh -c \
	    "$PY $CHAIN_CLIENT $W4 80 $m-a b && $PY $CHAIN_CLIENT $W4 80 $m-b n n n"
	chain_times 4
	expect_rc 0
	chain_arrived "$h0" "$h1" "$b0" "$b1" "$m-a-1" "$m-b-1" "$m-b-2" \
	    "$m-b-3"
	chain_lines "$h0" "$h1" 1
}

for _pair in d_u d_m d_t m_d m_m m_t t_d t_m d_a a_d; do
	for _k in blk nb; do
		tcase "chain_${_pair}_$_k"
		eval "tc_chain_${_pair}_$_k() { chain_$_k ${_pair%_*} ${_pair#*_}; }"
	done
done
unset _pair _k

# Two proxies whose host:port hash to the same byte of the session's
# pipelining table (pipe_key in src/shim/tunnel_socks5.c: FNV-1a over
# host, port high byte, port low byte; slot = hash % 256, a tag from the
# hash's top bits).  dante (given by a name that resolves to it) says yes, microsocks
# no, then each again: the second round must neither trust the other's
# answer (a pipelined handshake microsocks drops waits for
# connect_timeout) nor forget its own (a probation on every connection).
tcase chain_pipe_slot_shared
tc_chain_pipe_slot_shared() {
	local name m
	name=$("$PY" - <<-'EOP'
	def h(host, port):
	    x = 2166136261
	    for c in host.encode() + bytes([port >> 8, port & 0xff]):
	        x = ((x ^ c) * 16777619) & 0xffffffff
	    return x
	ms = h("198.18.0.1", 1083)
	for i in range(100000):
	    x = h("p%d.local.test" % i, 1080)
	    if x % 256 == ms % 256 and (x >> 26) != (ms >> 26):
	        print("p%d.local.test" % i)
	        break
	EOP
	)
	[ -n "$name" ] || fail "no colliding name found"
	conf t.conf <<-EOC
	proxy d socks5://$name:1080
	proxy m socks5://$P4:1083
	via m $WB4
	via d $W4
	connect_timeout 6s
	EOC
	m=$(mark)
	run -t 50 pw -vv -c t.conf sh -c \
	    "$PY $CHAIN_CLIENT $W4 80 $m-a b && $PY $CHAIN_CLIENT $WB4 80 $m-b b && $PY $CHAIN_CLIENT $W4 80 $m-c b && $PY $CHAIN_CLIENT $WB4 80 $m-d b"
	chain_times 4 2
	expect_rc 0
	world_saw "$m-a-1" "$PW4"
	world_saw "$m-b-1" "$PWM4"
	world_saw "$m-c-1" "$PW4"
	world_saw "$m-d-1" "$PWM4"
	if [ "$(grep -cE "proxy m \(.*\): pipelined SOCKS5 handshake got no answer" err)" != 1 ] ||
	    [ "$(grep -cE "proxy d \(.*\) takes a pipelined" err)" != 1 ]; then
		show
		fail "wanted one fallback line for m and one 'takes' line for d"
	fi
}
