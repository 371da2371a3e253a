# t_programs_https.sh - the real-program matrix (t_programs.sh,
# prog_cases.sh) through an https:// proxy: each case runs again as
# https_prog_NAME with every proxy URL it uses (socks5, http, with or
# without a password) swapped for https://$P4:8490, stunnel in front of a
# tinyproxy of its own.  The case's own checks still say where the bytes
# arrived (the server saw the proxy host); on top, that tinyproxy logged
# more CONNECTs: it listens on loopback in the proxy namespace, so only
# stunnel reaches it.
#
# The proxy's CA comes to the relay through SSL_CERT_FILE (the default
# store): a -p URL has no room for ca=, and the cases' own rule files
# name the proxy by URL alone.  The programs' TLS checks name their CA
# themselves (--cacert, GIT_SSL_CAINFO, ...), so the variable changes
# nothing for them.
#
# The second tinyproxy allows CONNECT to any port (the matrix's servers
# listen on 6379, 5432, 3306, 1883, 21, 60000-60009, 53, 43), which the
# shared one does not.
#
# Every case of the matrix is TCP with no check bound to SOCKS (no UDP,
# no socks5h name check, no test of the SOCKS password itself), so none
# is left out for being SOCKS-only.  Left out for a failure, not the
# relay's... but one:
#   ncat: it shuts its write side at the end of stdin, and tinyproxy
#     closes both ways at the first FIN, so the answer is lost in a race
#     (through plain http:// tinyproxy or squid it fails the same way,
#     without TLS; prog_ncat goes through dante, which keeps half-close).
#     https_prog_ncat goes through Apache httpd instead (mod_ssl and
#     mod_proxy_connect, https://$P4:8491): its tunnel forwards a
#     half-close (2.4.47 on), a FIN or close_notify as a shutdown of its
#     write side toward the other end.

HPS_PORT=8490
HPS_CASES="
redis_cli psql pg_isready mariadb mariadb_admin pg_dump mariadb_dump
mosquitto ruby_socket_tcp ruby_connect_timeout ruby_net_http
perl_io_socket perl_connect_timeout perl_http_tiny
python_create_connection python_connect_timeout python_asyncio
python_asyncio_timeout node_net_liveness node_fetch_liveness
java_httpclient java_socket java_connect_timeout
ssh ssh_connect_timeout scp sftp rsync git_ssh git_https wget_https
openssl_s_client curl_connect_timeout curl_https whois ab
setpriv_nobody apt_get_update apt_get_update_rules lftp_passive tnftp
socat_connect_timeout nc telnet dig_tcp host_tcp nslookup_vc
"
HPA_PORT=8491

# In a case's process only (run.sh sources just this file there): the
# bodies reused.  In run.sh itself they are sourced on
# their own, and a second time would register their cases twice.
if [ -n "${CASE:-}" ] && ! declare -F tc_prog_nc >/dev/null; then
	. "$PW_INTEG_DIR/t_programs.sh"
fi

# hps_up: certificates, tinyproxy on 127.0.0.1:8889 and stunnel on
# $P4:$HPS_PORT in the proxy namespace, the first time a case needs them;
# they outlive the case (in a session of their own) and end with the
# namespaces.
hps_up() {
	local d=$T/hps
	[ -e "$d/up" ] && return 0
	mkdir -p "$d"
	(cd "$d" && CD=$d https_certs) || fail "could not make the certificates"
	chown nobody:nogroup "$d"
	cat >"$d/tinyproxy.conf" <<-EOF
	User nobody
	Group nogroup
	Port 8889
	Listen 127.0.0.1
	Bind $PW4
	Timeout 30
	LogFile "$d/tinyproxy.log"
	LogLevel Connect
	PidFile "$d/tinyproxy.pid"
	MaxClients 64
	Allow 127.0.0.1
	EOF
	cat >"$d/stunnel.conf" <<-EOF
	foreground = yes
	pid =
	debug = 4
	[https]
	accept = $P4:$HPS_PORT
	connect = 127.0.0.1:8889
	cert = $d/good.pem
	EOF
	setsid ip netns exec "$NSP" tinyproxy -d -c "$d/tinyproxy.conf" \
	    >"$T/log/hps-tinyproxy.out" 2>&1 </dev/null &
	setsid ip netns exec "$NSP" stunnel4 "$d/stunnel.conf" \
	    >"$T/log/hps-stunnel.out" 2>&1 </dev/null &
	env_wait_port "$NSP" 127.0.0.1 8889 10 || fail "tinyproxy (https) did not start"
	env_wait_port "$NSP" "$P4" "$HPS_PORT" 10 || fail "stunnel did not start"
	touch "$d/up"
}

# hpa_up: Apache httpd on $P4:$HPA_PORT (https_apache, the certificates
# of hps_up); it too outlives the case.
hpa_up() {
	hps_up
	[ -e "$T/hpa/up" ] && return 0
	https_apache "$T/hpa" "$T/hps" "$HPA_PORT"
	touch "$T/hpa/up"
}

hpa_connects() {
	grep -c 'CONNECT ' "$T/hpa/access.log" 2>/dev/null || true
}

# https_prog_ncat: the case through Apache, which keeps half-close.
tcase https_prog_ncat
tc_https_prog_ncat() {
	local n
	hpa_up
	U_DANTE_USER=https://$P4:$HPA_PORT
	export SSL_CERT_FILE=$T/hps/ca.crt
	n=$(hpa_connects)
	tc_prog_ncat
	[ "$(hpa_connects)" -gt "$n" ] || fail "apache logged no CONNECT"
}

hps_connects() {
	grep -c 'CONNECT ' "$T/hps/tinyproxy.log" 2>/dev/null || true
}

# hps_run NAME: the case prog_NAME through the https proxy.
hps_run() {
	local n
	hps_up
	U_DANTE=https://$P4:$HPS_PORT
	U_DANTE_USER=$U_DANTE U_TINY=$U_DANTE U_SQUID=$U_DANTE U_MS=$U_DANTE
	export SSL_CERT_FILE=$T/hps/ca.crt
	n=$(hps_connects)
	"tc_prog_$1"
	[ "$(hps_connects)" -gt "$n" ] ||
	    fail "the https proxy's tinyproxy logged no CONNECT"
}

for _c in $HPS_CASES; do
	tcase "https_prog_$_c"
	eval "tc_https_prog_$_c() { hps_run $_c; }"
done
unset _c

# What https_prog_ncat needs of Apache, byte for byte: a server that
# reads to EOF before it answers gets the client's FIN through the
# tunnel (relay, TLS, Apache) and its answer arrives whole.
tcase https_apache_halfclose
tc_https_apache_halfclose() {
	local spid
	hpa_up
	export SSL_CERT_FILE=$T/hps/ca.crt
	ip netns exec "$NSW" "$PY" "$PW_INTEG_DIR/halfclose.py" server "$W4" 7182 \
	    </dev/null >hc.log 2>&1 &
	spid=$!
	env_wait_port "$NSW" "$W4" 7182 10 || fail "halfclose server did not start"
	run pw -p "https://$P4:$HPA_PORT" "$PY" "$PW_INTEG_DIR/halfclose.py" \
	    client "$W4" 7182 4194304
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	expect_rc 0
	expect_out_has "HALFCLOSE ok 4194304"
	grep -q "CONNECT $W4:7182 " "$T/hpa/access.log" ||
	    fail "apache logged no CONNECT to $W4:7182"
}
