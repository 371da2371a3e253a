# lib.sh - helpers for the integration cases (bash).  Sourced by run.sh
# and by each case's process.  A case is a function tc_NAME, declared with
#   tcase NAME [smoke]
# It runs in its own directory ($CD, the cwd), under a time limit; it fails
# by calling fail (or any assertion below), which exits the case.
#
# Running things in the client namespace:
#   inc CMD...          plain, no shim
#   pw ARGS...          build/proxywrap ARGS...
#   shim CONF CMD...    LD_PRELOAD=libshim.so SHIM_CONFIG=CONF CMD...
#   run WHATEVER...     any of the above, capturing: $RC, files out/err
#
# Where did traffic arrive:
#   world_saw MARK FROM     the world's nginx logged a request for MARK from FROM
#   local_saw MARK FROM     the local server (198.18.0.1:8080) did
#   nobody_saw MARK         neither did

CASES=()
declare -A CASE_FILE CASE_SMOKE

tcase() {
	CASES+=("$1")
	CASE_FILE[$1]=${BASH_SOURCE[1]}
	if [ "${2:-}" = smoke ]; then
		CASE_SMOKE[$1]=1
	fi
}

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
PYC=$PW_INTEG_DIR/pyclient.py

# static_bin NAME: tests/bin/NAME.c built static, once per run, as $SBIN:
# a program only the supervisor sees (the shim cannot load into it).  The
# case is skipped where gcc cannot link statically.
static_bin() {
	SBIN=$T/static/$1
	mkdir -p "$T/static"
	[ -x "$SBIN" ] && return 0
	gcc -D_GNU_SOURCE -O1 -static -o "$SBIN.tmp$BASHPID" "$TOP/tests/bin/$1.c" \
	    -lpthread >"$T/static/cc-$1.log" 2>&1 ||
	    { printf '# SKIP: gcc -static failed: %s\n' "$(tail -n 1 "$T/static/cc-$1.log")" >&2; exit 77; }
	mv "$SBIN.tmp$BASHPID" "$SBIN"
}

# need_prog NAME: skip the case when NAME cannot run under this setup.
need_prog() {
	case " ${PW_BROKEN_PROGS:-} " in
	*" $1 "*)
		printf "# SKIP: %s hangs with the sanitizer runtime preloaded\n" "$1" >&2
		exit 77 ;;
	esac
}

say() { printf '# %s\n' "$*" >&2; }

fail() {
	say "FAIL: $*"
	exit 1
}

# The shim's library list for a bare LD_PRELOAD run.
shim_preload() {
	if [ -n "${PW_PRELOAD_EXTRA:-}" ]; then
		printf '%s %s' "$PW_PRELOAD_EXTRA" "$PW_LIB"
	else
		printf '%s' "$PW_LIB"
	fi
}

inc() {
	ip netns exec "$NSC" "$@"
}

# proxywrap loads the libshim.so next to it; run.sh arranges for that to
# be $PW_LIB (PW_TOOL_RUN).
pw() {
	if [ -n "${PW_PRELOAD_EXTRA:-}" ]; then
		ip netns exec "$NSC" env LD_PRELOAD="$PW_PRELOAD_EXTRA" \
		    "$PW_TOOL_RUN" "$@"
	else
		ip netns exec "$NSC" "$PW_TOOL_RUN" "$@"
	fi
}

shim() {
	local conf=$1
	shift
	ip netns exec "$NSC" env LD_PRELOAD="$(shim_preload)" \
	    SHIM_CONFIG="$conf" "$@"
}

# shim_env VAR=VAL... -- CMD...: bare preload with arbitrary settings.
shim_env() {
	local -a vars=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	shift
	ip netns exec "$NSC" env LD_PRELOAD="$(shim_preload)" "${vars[@]}" "$@"
}

export -f shim_preload inc pw shim shim_env

# run [-t SECS] CMD...: run with a time limit; $RC, out, err.
run() {
	local secs=30
	if [ "$1" = -t ]; then
		secs=$2
		shift 2
	fi
	printf '$ %s\n' "$*" >>cmds
	set +e
	if declare -F "$1" >/dev/null; then
		# our helpers (inc, pw, shim...): exported to the child bash
		timeout -k 2 "$secs" bash -c '"$@"' run "$@" >out 2>err </dev/null
	else
		timeout -k 2 "$secs" "$@" >out 2>err </dev/null
	fi
	RC=$?
	set -e
	if [ "$RC" = 124 ]; then
		say "timed out after ${secs}s: $*"
	fi
	return 0
}

show() {
	say "command: $(tail -n 1 cmds)"
	say "exit: $RC"
	if [ -s out ]; then
		say "stdout:"
		head -c 1500 out | head -n 8 | sed 's/^/#     /' >&2
	fi
	if [ -s err ]; then
		say "stderr:"
		head -c 1500 err | head -n 8 | sed 's/^/#     /' >&2
	fi
}

expect_rc() {
	local want=$1
	if [ "$RC" != "$want" ]; then
		show
		fail "exit status $RC, wanted $want"
	fi
}

expect_fail() {
	if [ "$RC" = 0 ]; then
		show
		fail "command succeeded, wanted a failure"
	fi
}

# expect_out_has FIXED-STRING
expect_out_has() {
	if ! grep -qF -- "$1" out; then
		show
		fail "stdout lacks: $1"
	fi
}

expect_out_re() {
	if ! grep -qE -- "$1" out; then
		show
		fail "stdout does not match: $1"
	fi
}

expect_err_re() {
	if ! grep -qE -- "$1" err; then
		show
		fail "stderr does not match: $1"
	fi
}

expect_err_lacks() {
	if grep -qF -- "$1" err; then
		show
		fail "stderr contains: $1"
	fi
}

expect_out_lacks() {
	if grep -qF -- "$1" out; then
		show
		fail "stdout contains: $1"
	fi
}

# A unique path for this case's request (called as $(mark): the counter
# lives in a file).
mark() {
	local n=0
	[ -f .marks ] && n=$(cat .marks)
	n=$((n + 1))
	echo "$n" >.marks
	printf '/m-%s-%s-%s' "$CASE" "$$" "$n"
}

# Server logs are written when a request completes; allow a moment.
_saw() {
	local log=$1 mark=$2 from=$3 i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if grep -F " \"GET $mark " "$log" 2>/dev/null | grep -q "^$from "; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

world_saw() {
	if ! _saw "$T/log/world-access.log" "$1" "$2"; then
		show
		say "world log for $1: $(grep -F "$1" "$T/log/world-access.log" | head -n 3)"
		fail "the world did not see $1 from $2"
	fi
}

local_saw() {
	if ! _saw "$T/log/local-access.log" "$1" "$2"; then
		show
		say "local log for $1: $(grep -F "$1" "$T/log/local-access.log" | head -n 3)"
		fail "the local server did not see $1 from $2"
	fi
}

# flip_link A B LINK SECS: in the background, LINK swapped between A and
# B (a new link renamed over it) for SECS seconds; its pid in FLIP_PID.
flip_link() {
	"$PY" -c '
import os, sys, time
a, b, link, secs = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
end = time.time() + secs
while time.time() < end:
    for t in (a, b):
        os.symlink(t, link + ".new")
        os.replace(link + ".new", link)
' "$1" "$2" "$3" "$4" &
	FLIP_PID=$!
}

nobody_saw() {
	local hit
	sleep 0.2
	hit=$(grep -hF "$1" "$T/log/world-access.log" "$T/log/local-access.log" 2>/dev/null || true)
	if [ -n "$hit" ]; then
		show
		say "seen: $hit"
		fail "a server saw $1 but should not have"
	fi
}

# conf NAME: write stdin to NAME in the case directory.
conf() {
	cat >"$1"
}

# Lines in err that mention proxywrap.
err_lines() {
	grep -c 'proxywrap' err || true
}

# errno names from pyclient.py: "ERRNO NAME".
expect_errno() {
	if ! grep -qx "ERRNO $1" out; then
		show
		fail "wanted errno $1"
	fi
}

# URLs of the test proxies.
U_DANTE=socks5://$P4:1080
U_DANTE6="socks5://[$P6]:1080"
U_DANTE_USER=socks5://$PW_USER:$PW_USER_PASS@$P4:1081
U_TINY=http://$P4:8888
U_SQUID=http://$SQUID_USER:$SQUID_PASS@$P4:3128
U_MS=socks5://$MS_USER:$MS_PASS@$P4:1082

# How many connections to HOST:PORT a proxy has logged so far.
# NAME: dante dante_user tiny squid ms
pcount() {
	local name=$1 host=$2 port=$3 re
	case $name in
	dante | dante_user)
		re="tcp/connect \\[: .* ${host//./\\.}\\.$port\$"
		[ "$name" = dante ] && f=$T/log/danted-open.log ||
		    f=$T/log/danted-user.log
		grep -cE -- "$re" "$f" || true ;;
	tiny)
		[[ $host == *:* ]] && host="[$host]"
		grep -cF -- "CONNECT $host:$port HTTP" "$T/tinyproxy/tinyproxy.log" || true ;;
	squid)
		[[ $host == *:* ]] && host="[$host]"
		grep -cF -- "CONNECT $host:$port " "$T/squid/access.log" || true ;;
	ms)
		grep -cF -- "connected to $host:$port" "$T/log/microsocks.out" || true ;;
	esac
}

# proxy_saw NAME HOST PORT BEFORE: the proxy logged a new connection.
proxy_saw() {
	local i n
	for i in $(seq 1 30); do
		n=$(pcount "$1" "$2" "$3")
		[ "$n" -gt "$4" ] && return 0
		sleep 0.1
	done
	show
	fail "proxy $1 did not log a connection to $2:$3 (count $n)"
}

proxy_url() {
	case $1 in
	dante) echo "$U_DANTE" ;;
	dante_user) echo "$U_DANTE_USER" ;;
	tiny) echo "$U_TINY" ;;
	squid) echo "$U_SQUID" ;;
	ms) echo "$U_MS" ;;
	esac
}

# badproxy MODE PORT: start the misbehaving proxy in the client namespace
# (on 127.0.0.1), wait until it listens; its pid in BADPID.
badproxy() {
	local i
	rm -f "count-$1"
	inc "$PY" "$PW_INTEG_DIR/badproxy.py" "$1" "$2" "count-$1" 40 \
	    </dev/null >/dev/null 2>&1 &
	BADPID=$!
	for i in $(seq 1 50); do
		[ -s "count-$1" ] && return 0
		sleep 0.1
	done
	fail "badproxy $1 did not start"
}

# --- https proxies (t_https*.sh, t_programs_https.sh) ---

# https_certs: ca.crt, ca2.crt, good.pem, expired.pem, wrongname.pem in $CD.
https_certs() {
	local c
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pw-test-ca \
	    -keyout ca.key -out ca.crt >/dev/null 2>&1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=pw-other-ca \
	    -keyout ca2.key -out ca2.crt >/dev/null 2>&1
	for c in good expired wrongname; do
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$c" \
		    -keyout "$c.key" -out "$c.csr" >/dev/null 2>&1
	done
	printf 'subjectAltName=IP:%s,DNS:proxy.test\n' "$P4" >good.ext
	printf 'subjectAltName=DNS:other.test\n' >wrongname.ext
	openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	    -days 2 -extfile good.ext -out good.crt >/dev/null 2>&1
	openssl x509 -req -in wrongname.csr -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 2 -extfile wrongname.ext \
	    -out wrongname.crt >/dev/null 2>&1
	# expired: a minimal `openssl ca` can date it in the past
	mkdir -p ca.db
	: >ca.db/index.txt
	echo 01 >ca.db/serial
	cat >ca.cnf <<-EOC
	[ca]
	default_ca = d
	[d]
	database = $CD/ca.db/index.txt
	serial = $CD/ca.db/serial
	new_certs_dir = $CD/ca.db
	default_md = sha256
	policy = p
	copy_extensions = none
	[p]
	commonName = supplied
	[x]
	subjectAltName = IP:$P4,DNS:proxy.test
	EOC
	openssl ca -batch -config ca.cnf -cert ca.crt -keyfile ca.key \
	    -startdate 20200101000000Z -enddate 20200102000000Z \
	    -extensions x -in expired.csr -out expired.crt >/dev/null 2>&1
	for c in good expired wrongname; do
		[ -s "$c.crt" ] || fail "could not make the $c certificate"
		cat "$c.crt" "$c.key" >"$c.pem"
	done
}

# https_stunnel CERT PORT [BACKEND]: stunnel on $P4:PORT in front of
# tinyproxy (or BACKEND, ADDR:PORT); its pid in STPID.  ST_DEBUG: its log
# level (default 4; info logs each handshake); ST_OPT: one more line for
# the service ("sslVersionMax = TLSv1.2").
https_stunnel() {
	cat >"st-$2.conf" <<-EOC
	foreground = yes
	pid =
	debug = ${ST_DEBUG:-4}
	[https]
	accept = $P4:$2
	connect = ${3:-$P4:8888}
	cert = $CD/$1
	${ST_OPT:-}
	EOC
	ip netns exec "$NSP" stunnel4 "st-$2.conf" >"st-$2.log" 2>&1 </dev/null &
	STPID=$!
	env_wait_port "$NSP" "$P4" "$2" 10 || fail "stunnel did not start"
}

https_stop() {
	kill "$STPID" 2>/dev/null || true
	wait "$STPID" 2>/dev/null || true
}

# https_nghttpx PORT [OPTION...]: nghttpx as an HTTP/2 forward proxy with
# TLS on $P4:PORT (good.crt), tinyproxy behind it; its pid in NGPID.
https_nghttpx() {
	ip netns exec "$NSP" nghttpx --http2-proxy --workers=1 "${@:2}" \
	    --frontend="$P4,$1" --backend="$P4,8888" \
	    --accesslog-file="$CD/ng-access.log" --errorlog-file="$CD/ng-error.log" \
	    --no-ocsp "$CD/good.key" "$CD/good.crt" </dev/null >ng.out 2>&1 &
	NGPID=$!
	env_wait_port "$NSP" "$P4" "$1" 10 || { cat ng.out ng-error.log >&2; fail "nghttpx did not start"; }
}

https_nghttpx_stop() {
	kill "$NGPID" 2>/dev/null || true
	wait "$NGPID" 2>/dev/null || true
}

# https_apache DIR CERTS PORT: Apache httpd on $P4:PORT, TLS itself
# (mod_ssl, CERTS/good.crt), a forward proxy for CONNECT to ports 80 and
# 7182 (a halfclose.py server) with mod_proxy_connect, which keeps
# half-close (a FIN or close_notify from one side is a shutdown of its
# write side toward the other); its files in DIR, its pid in AHPID.
https_apache() {
	local d=$1 m=/usr/lib/apache2/modules
	[ -x /usr/sbin/apache2 ] || fail "apache2 is not installed (tests/deps.sh)"
	mkdir -p "$d"
	cat >"$d/httpd.conf" <<-EOF
	ServerRoot $d
	PidFile $d/httpd.pid
	Mutex file:$d
	ServerName proxy.test
	Listen $P4:$3
	User nobody
	Group nogroup
	LoadModule mpm_event_module $m/mod_mpm_event.so
	LoadModule authz_core_module $m/mod_authz_core.so
	LoadModule socache_shmcb_module $m/mod_socache_shmcb.so
	LoadModule ssl_module $m/mod_ssl.so
	LoadModule proxy_module $m/mod_proxy.so
	LoadModule proxy_connect_module $m/mod_proxy_connect.so
	ErrorLog $d/error.log
	LogFormat "%h %r %>s" pw
	CustomLog $d/access.log pw
	SSLEngine on
	SSLCertificateFile $2/good.crt
	SSLCertificateKeyFile $2/good.key
	ProxyRequests On
	AllowCONNECT 80 7182
	<Proxy "*">
	Require all granted
	</Proxy>
	EOF
	setsid ip netns exec "$NSP" /usr/sbin/apache2 -f "$d/httpd.conf" \
	    -DFOREGROUND >"$d/apache.out" 2>&1 </dev/null &
	AHPID=$!
	env_wait_port "$NSP" "$P4" "$3" 10 ||
	    fail "apache did not start: $(cat "$d/apache.out" "$d/error.log" 2>/dev/null)"
}
https_apache_stop() {
	kill "$AHPID" 2>/dev/null || true
	wait "$AHPID" 2>/dev/null || true
}
