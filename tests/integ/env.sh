# env.sh - the integration test world: three network namespaces, real
# proxies, real servers.  Sourced by run.sh (bash).
#
#   NSC (client)            NSP (proxy host)                 NSW (world)
#   198.18.0.2/24  ------  198.18.0.1/24 | 198.18.1.1/24  ------  198.18.1.2/24
#   2001:db8:0::2/64       2001:db8:0::1 | 2001:db8:1::1          198.18.1.3/24
#   no default route       ip_forward off                         2001:db8:1::2/64
#
# NSP runs: danted :1080 (no auth, v4+v6) and :1081 (username), tinyproxy
# :8888, squid :3128 (basic auth), microsocks :1082 (auth) and :1083 (no
# auth, connects out from 198.18.1.4 so the world can tell it), nginx
# 198.18.0.1:8080 (the "local" server the client reaches directly),
# dnsmasq 198.18.0.1:53 (local names).
# NSP also runs a UDP echo on 198.18.0.1:7007 (reached direct).
# NSW runs: nginx :80/:443 on every address, sshd :22, a socat banner
# service :2222, dnsmasq 198.18.1.2:53 and [2001:db8:1::2]:53 (world
# names), a UDP echo on 198.18.1.2:7007 and [2001:db8:1::2]:7007.
# The UDP echoes log "FROM addr port payload" for every datagram to
# $T/log/udp-echo-{local,world}.log.
# resolv.conf: NSC uses 198.18.0.1, NSP and NSW use 198.18.1.2
# (/etc/netns/NAME/resolv.conf), so no query ever leaves the sandbox.
#
# Only 198.18.0.0/15 and 2001:db8::/32 addresses appear here.

PW_NS_PREFIX=pwi
NSC=${PW_NS_PREFIX}$$c
NSP=${PW_NS_PREFIX}$$p
NSW=${PW_NS_PREFIX}$$w

C4=198.18.0.2
P4=198.18.0.1
PW4=198.18.1.1
W4=198.18.1.2
WB4=198.18.1.3
PWM4=198.18.1.4
C6=2001:db8::2
P6=2001:db8::1
PW6=2001:db8:1::1
W6=2001:db8:1::2

PW_USER=pwtest
PW_USER_PASS=pwtest-Secr3t
SQUID_USER=squser
SQUID_PASS=sq-Pa55word
MS_USER=msuser
MS_PASS=ms-Pa55word

export NSC NSP NSW C4 P4 PW4 PWM4 W4 WB4 C6 P6 PW6 W6
export PW_USER PW_USER_PASS SQUID_USER SQUID_PASS MS_USER MS_PASS

env_say() { printf '# %s\n' "$*" >&2; }

# Delete namespaces left by runs whose process is gone.
env_clean_stale() {
	local ns pid
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		case $ns in
		"$PW_NS_PREFIX"[0-9]*[cpwf]) ;;
		*) continue ;;
		esac
		pid=${ns#"$PW_NS_PREFIX"}
		pid=${pid%?}
		if [ "$pid" != "$$" ] && kill -0 "$pid" 2>/dev/null; then
			continue
		fi
		env_say "removing stale namespace $ns"
		env_kill_ns "$ns"
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
}

# Kill every process in a namespace; bounded.
env_kill_ns() {
	local ns=$1 i pids
	pids=$(ip netns pids "$ns" 2>/dev/null)
	[ -n "$pids" ] || return 0
	kill $pids 2>/dev/null
	for i in $(seq 1 30); do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] || return 0
		sleep 0.1
	done
	kill -9 $pids 2>/dev/null
	sleep 0.1
}

env_teardown() {
	local ns
	for ns in "$NSC" "$NSP" "$NSW" "${NSC%c}f"; do
		env_kill_ns "$ns"
	done
	for ns in "$NSC" "$NSP" "$NSW" "${NSC%c}f"; do
		ip netns del "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
}

# Wait (bounded) until something listens on ADDR:PORT (tcp) in NS.
env_wait_port() {
	local ns=$1 addr=$2 port=$3 secs=${4:-10} i n
	n=$((secs * 10))
	for i in $(seq 1 "$n"); do
		if ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null |
		    grep -qF "$addr:$port"; then
			return 0
		fi
		sleep 0.1
	done
	env_say "timeout: nothing listens on $addr:$port in $ns after ${secs}s"
	return 1
}

env_wait_udp() {
	local ns=$1 addr=$2 port=$3 secs=${4:-10} i n
	n=$((secs * 10))
	for i in $(seq 1 "$n"); do
		if ip netns exec "$ns" ss -Hlun "sport = :$port" 2>/dev/null |
		    grep -qF "$addr:$port"; then
			return 0
		fi
		sleep 0.1
	done
	env_say "timeout: nothing listens on udp $addr:$port in $ns"
	return 1
}

# Start a daemon in the background in NS; stdout/stderr to $T/log/NAME.out.
env_start() {
	local ns=$1 name=$2
	shift 2
	ip netns exec "$ns" "$@" >"$T/log/$name.out" 2>&1 </dev/null &
}

env_net() {
	local ns
	for ns in "$NSC" "$NSP" "$NSW"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		mkdir -p "/etc/netns/$ns"
	done
	printf 'nameserver %s\n' "$P4" >"/etc/netns/$NSC/resolv.conf"
	printf 'nameserver %s\n' "$W4" >"/etc/netns/$NSP/resolv.conf"
	printf 'nameserver %s\n' "$W4" >"/etc/netns/$NSW/resolv.conf"

	ip -n "$NSC" link add eth0 type veth peer name c0 netns "$NSP" || return 1
	ip -n "$NSW" link add eth0 type veth peer name w0 netns "$NSP" || return 1

	ip netns exec "$NSP" sysctl -qw net.ipv4.ip_forward=0 \
	    net.ipv6.conf.all.forwarding=0 >/dev/null
	ip netns exec "$NSC" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
	    net.ipv6.conf.default.accept_ra=0 >/dev/null 2>&1

	ip -n "$NSC" addr add "$C4/24" dev eth0
	ip -n "$NSC" addr add "$C6/64" dev eth0 nodad
	ip -n "$NSC" link set eth0 up

	ip -n "$NSP" addr add "$P4/24" dev c0
	ip -n "$NSP" addr add "$P6/64" dev c0 nodad
	ip -n "$NSP" addr add "$PW4/24" dev w0
	ip -n "$NSP" addr add "$PW6/64" dev w0 nodad
	ip -n "$NSP" addr add "$PWM4/24" dev w0
	ip -n "$NSP" link set c0 up
	ip -n "$NSP" link set w0 up

	ip -n "$NSW" addr add "$W4/24" dev eth0
	ip -n "$NSW" addr add "$WB4/24" dev eth0
	ip -n "$NSW" addr add "$W6/64" dev eth0 nodad
	ip -n "$NSW" link set eth0 up
}

env_certs() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$W4" \
	    -addext "subjectAltName=IP:$W4,IP:$WB4,IP:$W6" \
	    -keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1 &&
	ssh-keygen -q -t ed25519 -N '' -f "$T/ssh_host_ed25519_key" >/dev/null
}

# env_nginx_head DIR ACCESSLOG: the start of an nginx.conf that keeps
# everything in DIR (which has a tmp/) and logs each request's source,
# address, port, request and status to ACCESSLOG; the caller writes its
# server blocks and the closing brace.
env_nginx_head() {
	local d=$1
	cat <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log;
daemon off;
user root;
events { worker_connections 256; }
http {
	log_format pw '\$remote_addr \$server_addr \$server_port "\$request" \$status';
	access_log $2 pw;
	client_body_temp_path $d/tmp;
	proxy_temp_path $d/tmp;
	fastcgi_temp_path $d/tmp;
	uwsgi_temp_path $d/tmp;
	scgi_temp_path $d/tmp;
EOF
}

env_nginx_world() {
	local d=$T/nginx-w
	mkdir -p "$d/tmp"
	env_nginx_head "$d" "$T/log/world-access.log" >"$d/nginx.conf"
	cat >>"$d/nginx.conf" <<EOF
	server {
		listen $W4:80;
		listen $WB4:80;
		listen [$W6]:80;
		listen $W4:443 ssl;
		listen [$W6]:443 ssl;
		ssl_certificate $T/tls.crt;
		ssl_certificate_key $T/tls.key;
		default_type text/plain;
		location / { return 200 "world \$server_addr:\$server_port \$uri\n"; }
	}
}
EOF
	env_start "$NSW" nginx-w nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf"
}

env_nginx_local() {
	local d=$T/nginx-l
	mkdir -p "$d/tmp"
	env_nginx_head "$d" "$T/log/local-access.log" >"$d/nginx.conf"
	cat >>"$d/nginx.conf" <<EOF
	server {
		listen $P4:8080;
		listen [$P6]:8080;
		default_type text/plain;
		location / { return 200 "local \$server_addr:\$server_port \$uri\n"; }
	}
}
EOF
	env_start "$NSP" nginx-l nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf"
}

env_sshd() {
	mkdir -p /run/sshd
	cat >"$T/sshd_config" <<EOF
ListenAddress $W4:22
ListenAddress [$W6]:22
HostKey $T/ssh_host_ed25519_key
PidFile $T/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AuthorizedKeysFile none
LogLevel INFO
EOF
	env_start "$NSW" sshd /usr/sbin/sshd -D -e -f "$T/sshd_config"
}

# A server that speaks first: a banner line, then it echoes.
env_banner() {
	cat >"$T/banner.sh" <<'EOF'
#!/bin/sh
printf 'PWBANNER-0123456789 hello\r\n'
exec cat
EOF
	chmod 755 "$T/banner.sh"
	env_start "$NSW" banner socat "TCP4-LISTEN:2222,bind=$W4,reuseaddr,fork" \
	    "EXEC:$T/banner.sh"
}

# UDP, as dante 1.4.2 does it (found with udp_client.py native and by
# hand; no "protocol:" line is needed, tcp and udp are the default):
#  - without "udpassociate" the request gets REP 2 (not allowed);
#  - without "udpreply" the association is granted and datagrams go
#    out, but every reply is dropped without a word;
#  - the request's DST.ADDR:DST.PORT may be 0.0.0.0:0 (dante then takes
#    the source of the first datagram and drops any other port later),
#    or the socket's own address and port, which must then be exact:
#    another port is dropped ("expected udp packet from clientaddress");
#  - the relay's family follows the request's ATYP, not the control
#    connection's: ATYP 1 gives 198.18.0.1, ATYP 4 gives 2001:db8::1;
#  - the first association of a fresh danted takes about 1 s (it starts
#    its i/o process), later ones about 1 ms;
#  - closing the control connection ends the association at once.
env_dante() {
	local name=$1 port=$2 method=$3
	cat >"$T/$name.conf" <<EOF
logoutput: $T/log/$name.log
internal: $P4 port = $port
internal: $P6 port = $port
external: $PW4
external: $PW6
socksmethod: $method
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 198.18.0.0/15 to: 198.18.0.0/15
	log: error
}
client pass {
	from: 2001:db8::/32 to: 2001:db8::/32
	log: error
}
socks pass {
	from: 198.18.0.0/15 to: 198.18.0.0/15
	command: connect udpassociate udpreply
	log: connect error
}
socks pass {
	from: 2001:db8::/32 to: 2001:db8::/32
	command: connect udpassociate udpreply
	log: connect error
}
socks pass {
	from: 198.18.0.0/15 to: 2001:db8::/32
	command: connect udpassociate udpreply
	log: connect error
}
socks pass {
	from: 2001:db8::/32 to: 198.18.0.0/15
	command: connect udpassociate udpreply
	log: connect error
}
EOF
	env_start "$NSP" "$name" danted -f "$T/$name.conf" -p "$T/$name.pid" -N 1
}

env_udp_echo() {
	env_start "$NSP" udp-echo-l "$PY" "$PW_INTEG_DIR/udp_echo.py" \
	    "$T/log/udp-echo-local.log" "$P4" 7007
	env_start "$NSW" udp-echo-w "$PY" "$PW_INTEG_DIR/udp_echo.py" \
	    "$T/log/udp-echo-world.log" "$W4" 7007 "$W6" 7007
}

env_tinyproxy() {
	mkdir -p "$T/tinyproxy"
	chown nobody:nogroup "$T/tinyproxy"
	cat >"$T/tinyproxy/tinyproxy.conf" <<EOF
User nobody
Group nogroup
Port 8888
Listen $P4
Bind $PW4
Timeout 30
LogFile "$T/tinyproxy/tinyproxy.log"
LogLevel Connect
PidFile "$T/tinyproxy/tinyproxy.pid"
MaxClients 64
Allow 198.18.0.0/15
Allow 2001:db8::/32
ConnectPort 80
ConnectPort 443
ConnectPort 22
ConnectPort 2222
ConnectPort 8080
ConnectPort 81
ConnectPort 1080
ConnectPort 1082
ConnectPort 1083
ConnectPort 8888
EOF
	env_start "$NSP" tinyproxy tinyproxy -d -c "$T/tinyproxy/tinyproxy.conf"
}

# env_squid_head DIR ADDR:PORT NAME: the start of a squid.conf that keeps
# everything in DIR (pid, logs, no cache) and runs as the proxy user; the
# caller appends its own ACLs and rules.
env_squid_head() {
	local d=$1
	cat <<EOF
http_port $2
visible_hostname $3
pid_filename $d/squid.pid
cache_log $d/cache.log
access_log stdio:$d/access.log squid
cache_store_log none
cache deny all
cache_mem 4 MB
coredump_dir $d
cache_effective_user proxy
shutdown_lifetime 1 second
EOF
}

env_squid() {
	local d=$T/squid
	mkdir -p "$d"
	htpasswd -bc "$d/htpasswd" "$SQUID_USER" "$SQUID_PASS" >/dev/null 2>&1
	chown -R proxy:proxy "$d"
	chmod 644 "$d/htpasswd"
	{ env_squid_head "$d" "$P4:3128" pwproxy; cat <<EOF; } >"$d/squid.conf"
dns_nameservers $W4
tcp_outgoing_address $PW4
auth_param basic program /usr/lib/squid/basic_ncsa_auth $d/htpasswd
auth_param basic children 2 startup=1 idle=1
auth_param basic realm proxywrap-test
acl authed proxy_auth REQUIRED
acl pw_ports port 80 443 22 2222 81 8080
acl CONNECT method CONNECT
http_access deny CONNECT !pw_ports
http_access allow authed
http_access deny all
EOF
	env_start "$NSP" squid squid -N -f "$d/squid.conf"
}

env_microsocks() {
	env_start "$NSP" microsocks microsocks -i "$P4" -p 1082 -b "$PW4" \
	    -u "$MS_USER" -P "$MS_PASS"
	env_start "$NSP" microsocks-open microsocks -i "$P4" -p 1083 \
	    -b "$PWM4"
}

# Resolvers for the coming DNS tests: local names on the proxy host for the
# client, world names in the world for the proxies.  No upstreams.
env_dnsmasq() {
	cat >"$T/dnsmasq-local.conf" <<EOF
listen-address=$P4
bind-interfaces
no-resolv
no-hosts
port=53
pid-file=$T/dnsmasq-local.pid
host-record=web.local.test,$P4,$P6
address=/local.test/$P4
EOF
	cat >"$T/dnsmasq-world.conf" <<EOF
listen-address=$W4
listen-address=$W6
bind-interfaces
no-resolv
no-hosts
port=53
pid-file=$T/dnsmasq-world.pid
host-record=www.world.test,$W4,$W6
host-record=blocked.world.test,$WB4
address=/world.test/$W4
EOF
	env_start "$NSP" dnsmasq-l dnsmasq -k -C "$T/dnsmasq-local.conf" --user=root
	env_start "$NSW" dnsmasq-w dnsmasq -k -C "$T/dnsmasq-world.conf" --user=root
}

# The escape matrix's "forbidden" host (t_escape.sh): its own namespace
# behind a second link of the client's, eth1.  Every address reaches it
# (table 100, for packets from the client's link only, makes all of them
# local; its sockets are IP_TRANSPARENT, so they answer from any address),
# and forbidden.py logs each packet it receives to $T/log/forbidden.log.
# The client's eth1 gets no address and no route here: t_escape.sh adds
# them ($NSF_C4, $NSF_C6, default routes v4 and v6) for each of its cases
# and removes them after, so other cases see the client as before (a
# destination without a route is unreachable; a host without IPv4 has
# none).
NSF_C4=198.18.2.2
NSF_F4=198.18.2.1
NSF_C6=2001:db8:2::2
NSF_F6=2001:db8:2::1
export NSF_C4 NSF_F4 NSF_C6 NSF_F6

env_forbidden() {
	local nsf=${NSC%c}f
	ip netns add "$nsf" || return 1
	ip -n "$nsf" link set lo up
	ip -n "$NSC" link add eth1 type veth peer name f0 netns "$nsf" || return 1
	ip netns exec "$nsf" sysctl -qw net.ipv6.conf.all.accept_ra=0 \
	    net.ipv6.conf.default.accept_ra=0 >/dev/null 2>&1
	ip -n "$NSC" link set eth1 up
	ip -n "$nsf" addr add "$NSF_F4/24" dev f0
	ip -n "$nsf" addr add "$NSF_F6/64" dev f0 nodad
	ip -n "$nsf" link set f0 up
	ip -n "$nsf" rule add iif f0 lookup 100 pref 10 &&
	ip -n "$nsf" -6 rule add iif f0 lookup 100 pref 10 &&
	ip -n "$nsf" route add local 0.0.0.0/0 dev lo table 100 &&
	ip -n "$nsf" -6 route add local ::/0 dev lo table 100 &&
	ip -n "$nsf" route add 198.18.0.0/15 via "$NSF_C4" &&
	ip -n "$nsf" -6 route add 2001:db8::/32 via "$NSF_C6" || return 1
	: >"$T/log/forbidden.log"
	env_start "$nsf" forbidden "$PY" "$PW_INTEG_DIR/forbidden.py" \
	    "$T/log/forbidden.log" f0
}

env_user() {
	if ! id "$PW_USER" >/dev/null 2>&1; then
		useradd -M -d /nonexistent -s /usr/sbin/nologin "$PW_USER" ||
		    return 1
	fi
	printf '%s:%s\n' "$PW_USER" "$PW_USER_PASS" | chpasswd
}

env_setup() {
	T=$(mktemp -d /tmp/pwinteg.XXXXXX) || return 1
	chmod 755 "$T"
	mkdir -p "$T/log" "$T/conf" "$T/out"
	chmod 777 "$T/log"
	export T
	env_clean_stale
	env_net || { env_say "network setup failed"; return 1; }
	env_user || { env_say "cannot create user $PW_USER"; return 1; }
	env_certs || { env_say "cert/key generation failed"; return 1; }
	# squid first: it is the slowest to come up.
	env_squid
	env_dante danted-open 1080 none
	env_dante danted-user 1081 username
	env_tinyproxy
	env_microsocks
	env_nginx_local
	env_nginx_world
	env_sshd
	env_banner
	env_dnsmasq
	env_udp_echo
	env_forbidden || { env_say "forbidden host setup failed"; return 1; }

	local ok=0
	env_wait_port "$NSP" "$P4" 1080 10 || ok=1
	env_wait_port "$NSP" "[$P6]" 1080 5 || ok=1
	env_wait_port "$NSP" "$P4" 1081 10 || ok=1
	env_wait_port "$NSP" "$P4" 1082 10 || ok=1
	env_wait_port "$NSP" "$P4" 1083 10 || ok=1
	env_wait_port "$NSP" "$P4" 8888 10 || ok=1
	env_wait_port "$NSP" "$P4" 8080 10 || ok=1
	env_wait_port "$NSW" "$W4" 80 10 || ok=1
	env_wait_port "$NSW" "[$W6]" 80 5 || ok=1
	env_wait_port "$NSW" "$W4" 443 5 || ok=1
	env_wait_port "$NSW" "$W4" 22 10 || ok=1
	env_wait_port "$NSW" "$W4" 2222 10 || ok=1
	env_wait_udp "$NSP" "$P4" 53 10 || ok=1
	env_wait_udp "$NSW" "$W4" 53 10 || ok=1
	env_wait_udp "$NSW" "[$W6]" 53 10 || ok=1
	env_wait_udp "$NSP" "$P4" 7007 10 || ok=1
	env_wait_udp "$NSW" "[$W6]" 7007 10 || ok=1
	env_wait_port "$NSP" "$P4" 3128 40 || ok=1
	env_wait_port "${NSC%c}f" "*" 80 10 || ok=1
	if [ $ok != 0 ]; then
		local f
		for f in "$T"/log/*.out "$T"/squid/cache.log; do
			[ -s "$f" ] || continue
			env_say "--- $f"
			tail -n 5 "$f" | sed 's/^/#   /' >&2
		done
	fi
	return $ok
}
