# prog_env.sh - servers for the real-program matrix (t_programs.sh), in
# the world namespace, each started the first time a case needs it
# (prog_need NAME), so a PW_ONLY run starts only what it uses and the
# servers cost nothing until a program case runs.  Cases run one after
# another, so "first" needs no lock; env_teardown ends them all with the
# namespaces.
#
# They listen on a second world address, WP4 (198.18.1.20), on the ports
# their programs use by default.  WS4 (198.18.1.21) :80 and :22 is a
# destination the proxy cannot reach: its connects there neither complete
# nor fail (programs/stall.py), to time a program's own connect timeout
# against.  (A silent address, where no host answers ARP, is not enough:
# once the neighbour entry has failed, the next connects fail at once.)
#
#   nginx     WP4:80, WP4:443 (TLS, $PT/tls.crt): /apt/ a flat apt
#             repository, /git/ a bare repository as dumb http;
#             access log $T/log/prog-access.log (the world's format)
#   sshd      WP4:22, root by key $PT/id_ed25519, sftp, log sshd-prog.out
#   redis     WP4:6379          postgres  WP4:5432 (trust)
#   mariadb   WP4:3306 (user pw, no password)
#   mosquitto WP4:1883 (anonymous), log mosquitto.log
#   ftp       WP4:21, passive 60000-60009 (pyftpdlib), log ftp.out
#   dns       WP4:53 (dnsmasq, log-queries), log prog-dns.log
#   peer      WP4:43 (whois): answers "peer ADDRESS-IT-CAME-FROM"
#   nginx's /m-* answer "prog ADDR:PORT PATH" (marks, as the world's);
#   mariadb's general log is $T/log/mariadb-general.log

WP4=198.18.1.20
WS4=198.18.1.21
# T is set in the case processes (run.sh sources this before setup)
PT=${T:-/nonexistent}/prog
export WP4 WS4 PT

prog_say() { printf '# prog: %s\n' "$*" >&2; }

prog_net() {
	[ -e "$PT/net.up" ] && return 0
	mkdir -p "$PT"
	ip -n "$NSW" addr add "$WP4/24" dev eth0 || return 1
	ip -n "$NSW" addr add "$WS4/24" dev eth0 || return 1
	touch "$PT/net.up"
}

# Start in NSW, in a session of its own: the case's time limit kills
# its process group, and the server must outlive the case.
prog_start() {
	local name=$1
	shift
	setsid ip netns exec "$NSW" "$@" >"$T/log/$name.out" 2>&1 </dev/null &
}

prog_certs() {
	[ -e "$PT/tls.crt" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$WP4" \
	    -addext "subjectAltName=IP:$WP4" \
	    -keyout "$PT/tls.key" -out "$PT/tls.crt" >/dev/null 2>&1
}

# A flat repository with one tiny package, as apt-get update wants it:
# Packages, Packages.gz and an unsigned Release (the source line says
# trusted=yes).
prog_apt_repo() {
	local d=$PT/www/apt b=$PT/pkg
	mkdir -p "$d" "$b/DEBIAN"
	cat >"$b/DEBIAN/control" <<EOF
Package: pw-hello
Version: 1.0
Architecture: all
Maintainer: proxywrap tests <pw@example.invalid>
Description: a package of the proxywrap test mirror
EOF
	dpkg-deb -Zgzip --build "$b" "$d/pw-hello_1.0_all.deb" >/dev/null &&
	(cd "$d" && dpkg-scanpackages -m . >Packages 2>/dev/null &&
	    gzip -9kf Packages &&
	    apt-ftparchive -o APT::FTPArchive::Release::Suite=pw \
		release . >Release)
}

prog_git_repo() {
	local w=$PT/git-work
	mkdir -p "$PT/www/git"
	git init -q -b main "$w" &&
	echo "proxywrap git payload" >"$w/README" &&
	git -C "$w" add README &&
	git -C "$w" -c user.name=pw -c user.email=pw@example.invalid \
	    commit -qm "first" &&
	git clone -q --bare "$w" "$PT/www/git/r.git" &&
	git -C "$PT/www/git/r.git" update-server-info
}

prog_nginx() {
	local d=$PT/nginx
	prog_certs || return 1
	prog_apt_repo || { prog_say "apt repository failed"; return 1; }
	prog_git_repo || { prog_say "git repository failed"; return 1; }
	mkdir -p "$d/tmp"
	env_nginx_head "$d" "$T/log/prog-access.log" >"$d/nginx.conf"
	cat >>"$d/nginx.conf" <<EOF
	server {
		listen $WP4:80;
		listen $WP4:443 ssl;
		ssl_certificate $PT/tls.crt;
		ssl_certificate_key $PT/tls.key;
		default_type application/octet-stream;
		root $PT/www;
		location /m- {
			default_type text/plain;
			return 200 "prog \$server_addr:\$server_port \$uri\n";
		}
	}
}
EOF
	prog_start nginx-prog nginx -e "$d/error.log" -p "$d" -c "$d/nginx.conf"
	env_wait_port "$NSW" "$WP4" 80 10 && env_wait_port "$NSW" "$WP4" 443 5
}

prog_sshd() {
	local d=$PT/ssh
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" >/dev/null &&
	ssh-keygen -q -t ed25519 -N '' -f "$PT/id_ed25519" >/dev/null ||
	    return 1
	cp "$PT/id_ed25519.pub" "$d/authorized_keys"
	chmod 600 "$d/authorized_keys"
	mkdir -p /run/sshd
	cat >"$d/sshd_config" <<EOF
ListenAddress $WP4:22
HostKey $d/host_key
PidFile $d/sshd.pid
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AuthorizedKeysFile $d/authorized_keys
StrictModes no
Subsystem sftp internal-sftp
LogLevel INFO
EOF
	prog_start sshd-prog /usr/sbin/sshd -D -e -f "$d/sshd_config"
	env_wait_port "$NSW" "$WP4" 22 10
}

prog_redis() {
	mkdir -p "$PT/redis"
	prog_start redis redis-server --bind "$WP4" --port 6379 \
	    --protected-mode no --save '' --appendonly no --dir "$PT/redis"
	env_wait_port "$NSW" "$WP4" 6379 10
}

prog_postgres() {
	local d=$PT/pg bin=/usr/lib/postgresql/15/bin
	[ -x "$bin/postgres" ] || bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
	mkdir -p "$d"
	chown postgres:postgres "$d"
	setpriv --reuid=postgres --regid=postgres --clear-groups \
	    "$bin/initdb" -N -A trust -U postgres -D "$d/data" \
	    >"$T/log/initdb.out" 2>&1 || { prog_say "initdb failed"; return 1; }
	echo "host all all 198.18.0.0/15 trust" >>"$d/data/pg_hba.conf"
	prog_start postgres setpriv --reuid=postgres --regid=postgres \
	    --clear-groups "$bin/postgres" -D "$d/data" \
	    -c listen_addresses="$WP4" -c unix_socket_directories="$d" \
	    -c fsync=off -c log_connections=on
	env_wait_port "$NSW" "$WP4" 5432 20
}

prog_mariadb() {
	local d=$PT/mariadb
	mkdir -p "$d"
	mariadb-install-db --no-defaults --datadir="$d/data" --user=root \
	    --auth-root-authentication-method=normal --skip-test-db \
	    >"$T/log/mariadb-install.out" 2>&1 ||
	    { prog_say "mariadb-install-db failed"; return 1; }
	# a user that may log in from anywhere, without a password
	cat >"$d/init.sql" <<EOF
CREATE USER IF NOT EXISTS 'pw'@'%';
GRANT ALL ON *.* TO 'pw'@'%';
EOF
	prog_start mariadb mariadbd --no-defaults --datadir="$d/data" \
	    --user=root --bind-address="$WP4" --port=3306 \
	    --socket="$d/sock" --pid-file="$d/pid" --init-file="$d/init.sql" \
	    --skip-name-resolve --innodb-buffer-pool-size=8M \
	    --general-log --general-log-file="$T/log/mariadb-general.log"
	env_wait_port "$NSW" "$WP4" 3306 30
}

prog_mosquitto() {
	cat >"$PT/mosquitto.conf" <<EOF
listener 1883 $WP4
allow_anonymous true
persistence false
log_dest file $T/log/mosquitto.log
log_type all
connection_messages true
user root
EOF
	prog_start mosquitto mosquitto -c "$PT/mosquitto.conf"
	env_wait_port "$NSW" "$WP4" 1883 10
}

prog_ftp() {
	mkdir -p "$PT/ftp"
	echo "proxywrap ftp payload" >"$PT/ftp/hello.txt"
	prog_start ftp /usr/bin/python3 -m pyftpdlib -i "$WP4" -p 21 \
	    -d "$PT/ftp" -r 60000-60009
	env_wait_port "$NSW" "$WP4" 21 10
}

prog_dns() {
	cat >"$PT/dnsmasq.conf" <<EOF
listen-address=$WP4
bind-interfaces
no-resolv
no-hosts
port=53
pid-file=$PT/dnsmasq.pid
address=/prog.test/$WP4
log-queries
log-facility=$T/log/prog-dns.log
EOF
	prog_start dnsmasq-prog dnsmasq -k -C "$PT/dnsmasq.conf" --user=root
	env_wait_port "$NSW" "$WP4" 53 10
}

# whois WP4:43: answers a query line with the address it came from.
prog_peer() {
	# read the query first: closing with it unread would reset the
	# connection, and the answer could be lost on the way
	printf '#!/bin/sh\nread q\nprintf "peer %%s\\n" "$SOCAT_PEERADDR"\n' >"$PT/peer.sh"
	chmod 755 "$PT/peer.sh"
	prog_start peer socat "TCP4-LISTEN:43,bind=$WP4,reuseaddr,fork" \
	    "EXEC:$PT/peer.sh"
	env_wait_port "$NSW" "$WP4" 43 10
}

prog_stall() {
	prog_start stall /usr/bin/python3 "$PW_INTEG_DIR/programs/stall.py" \
	    "$WS4" 80 22
	env_wait_port "$NSW" "$WS4" 80 10 && env_wait_port "$NSW" "$WS4" 22 5
}

# prog_need NAME...: each server up (started now if it is not).
prog_need() {
	local name
	prog_net || fail "cannot add $WP4 to the world"
	for name in "$@"; do
		[ -e "$PT/$name.up" ] && continue
		if ! "prog_$name"; then
			tail -n 5 "$T/log/"*"$name"*.out 2>/dev/null | sed 's/^/#   /' >&2
			fail "server $name did not come up"
		fi
		touch "$PT/$name.up"
	done
}

# log_count FILE ERE: lines of FILE matching ERE.
log_count() {
	grep -cE -- "$2" "$1" 2>/dev/null || true
}

# log_grew FILE ERE BEFORE WHAT: FILE has more lines matching ERE than
# BEFORE (waits a moment: servers log when they are done).
log_grew() {
	local f=$1 re=$2 before=$3 what=$4 i n=0
	for i in $(seq 1 30); do
		n=$(log_count "$f" "$re")
		[ "$n" -gt "$before" ] && return 0
		sleep 0.1
	done
	show
	say "$f: $(tail -n 3 "$f" 2>/dev/null)"
	fail "$what (no new line matching $re)"
}

prog_saw() {
	if ! _saw "$T/log/prog-access.log" "$1" "$2"; then
		show
		fail "the program server did not see $1 from $2"
	fi
}
