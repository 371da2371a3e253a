# prog_cases.sh - the real-program matrix, part two (sourced by
# t_programs.sh, whose helpers it uses): ssh and what runs over it, git,
# TLS and HTTP tools, FTP, raw TCP tools, DNS over TCP, apt, and a
# program that drops privileges.

SSH_ACC="Accepted publickey for root from 198\.18\.1\.1 port"

# ssh_saw BEFORE: sshd accepted a new login from the proxy host.
ssh_saw() {
	log_grew "$T/log/sshd-prog.out" "$SSH_ACC" "$1" "sshd did not accept a login from $PW4"
	if grep -q "from $C4 port" "$T/log/sshd-prog.out"; then
		fail "sshd saw the client's own address"
	fi
}

### ssh and friends

pcase prog_ssh
tc_prog_ssh() {
	prog_need sshd
	# shellcheck disable=SC2086
	no_route "SSHCONN" ssh $SSHO -o ConnectTimeout=3 "root@$WP4" 'echo SSHCONN'
	# shellcheck disable=SC2086
	run pw -p "$U_TINY" ssh $SSHO -o ConnectTimeout=10 "root@$WP4" \
	    'echo "SSHCONN $SSH_CONNECTION"'
	expect_rc 0
	expect_out_re "^SSHCONN 198\.18\.1\.1 [0-9]+ $WP4 22$"
}

pcase prog_ssh_connect_timeout
tc_prog_ssh_connect_timeout() {
	prog_need stall
	prog_need sshd
	# shellcheck disable=SC2086
	wall pw -p "$U_DANTE" ssh $SSHO -o ConnectTimeout=1 "root@$WS4" true
	expect_fail
	expect_err_re "timed out"
	in_ms 900 1900
}

pcase prog_scp
tc_prog_scp() {
	local n
	prog_need sshd ftp
	n=$(log_count "$T/log/sshd-prog.out" "$SSH_ACC")
	# shellcheck disable=SC2086
	no_route "" scp $SSHO "root@$WP4:$PT/ftp/hello.txt" nr.txt
	# shellcheck disable=SC2086
	run pw -p "$U_SQUID" scp $SSHO "root@$WP4:$PT/ftp/hello.txt" got.txt
	expect_rc 0
	grep -qx "proxywrap ftp payload" got.txt || fail "scp did not fetch the file"
	ssh_saw "$n"
}

pcase prog_sftp
tc_prog_sftp() {
	local n
	prog_need sshd ftp
	n=$(log_count "$T/log/sshd-prog.out" "$SSH_ACC")
	echo "get $PT/ftp/hello.txt got.txt" >batch
	# shellcheck disable=SC2086
	no_route "" sftp $SSHO -b batch "root@$WP4"
	# shellcheck disable=SC2086
	run pw -p "$U_DANTE_USER" sftp $SSHO -b batch "root@$WP4"
	expect_rc 0
	grep -qx "proxywrap ftp payload" got.txt || fail "sftp did not fetch the file"
	ssh_saw "$n"
}

pcase prog_rsync
tc_prog_rsync() {
	local n
	prog_need sshd ftp
	n=$(log_count "$T/log/sshd-prog.out" "$SSH_ACC")
	no_route "" rsync -e "ssh $SSHO" "root@$WP4:$PT/ftp/hello.txt" nr.txt
	run pw -p "$U_DANTE" rsync -e "ssh $SSHO" "root@$WP4:$PT/ftp/hello.txt" got.txt
	expect_rc 0
	grep -qx "proxywrap ftp payload" got.txt || fail "rsync did not fetch the file"
	ssh_saw "$n"
}

### git

pcase prog_git_ssh
tc_prog_git_ssh() {
	local n
	prog_need sshd nginx
	n=$(log_count "$T/log/sshd-prog.out" "$SSH_ACC")
	export HOME=$CD GIT_CONFIG_NOSYSTEM=1 GIT_SSH_COMMAND="ssh $SSHO"
	no_route "" git clone -q "ssh://root@$WP4$PT/www/git/r.git" nr
	run pw -p "$U_MS" git clone -q "ssh://root@$WP4$PT/www/git/r.git" c
	expect_rc 0
	grep -qx "proxywrap git payload" c/README || fail "git over ssh did not clone"
	ssh_saw "$n"
}

# dumb http over TLS: the bare repository as static files from nginx.
pcase prog_git_https
tc_prog_git_https() {
	local n re="^198\.18\.1\.1 $WP4 443 \"GET /git/r\.git/info/refs"
	prog_need nginx
	export HOME=$CD GIT_CONFIG_NOSYSTEM=1 GIT_SSL_CAINFO=$PT/tls.crt
	no_route "" git clone -q "https://$WP4/git/r.git" nr
	n=$(log_count "$T/log/prog-access.log" "$re")
	run pw -p "$U_SQUID" git clone -q "https://$WP4/git/r.git" c
	expect_rc 0
	grep -qx "proxywrap git payload" c/README || fail "git over https did not clone"
	log_grew "$T/log/prog-access.log" "$re" "$n" "nginx did not serve the clone to $PW4"
}

### TLS and HTTP tools

pcase prog_wget_https
tc_prog_wget_https() {
	local m
	m=$(mark)
	no_route_http wget -q -T 3 -t 1 -O - --ca-certificate="$T/tls.crt" "https://$W4@M@"
	run pw -p "$U_SQUID" wget -q -T 10 -t 1 -O - --ca-certificate="$T/tls.crt" "https://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:443 $m"
	world_saw "$m" "$PW4"
}

pcase prog_openssl_s_client
tc_prog_openssl_s_client() {
	local m
	m=$(mark)
	http_get "$W4" "$m" >req
	no_route "" openssl s_client -quiet -connect "$W4:443"
	run pw -p "$U_MS" sh -c "openssl s_client -quiet -verify_return_error \
	    -CAfile '$T/tls.crt' -connect '$W4:443' <req"
	expect_rc 0
	expect_out_has "world $W4:443 $m"
	world_saw "$m" "$PW4"
}

pcase prog_curl_connect_timeout
tc_prog_curl_connect_timeout() {
	prog_need stall
	need_prog curl
	wall pw -p "$U_DANTE" curl -sS --connect-timeout 1 "http://$WS4/"
	expect_rc 28
	in_ms 900 1900
}

pcase prog_curl_https
tc_prog_curl_https() {
	local m
	need_prog curl
	prog_need nginx
	m=$(mark)
	no_route_http curl -sS -m 3 --cacert "$PT/tls.crt" "https://$WP4@M@"
	run pw -p "$U_TINY" curl -sS -m 10 --cacert "$PT/tls.crt" "https://$WP4$m"
	expect_rc 0
	expect_out_has "prog $WP4:443 $m"
	prog_saw "$m" "$PW4"
}

pcase prog_whois
tc_prog_whois() {
	prog_need peer
	no_route "peer" whois -h "$WP4" pw-query
	run pw -p "$U_DANTE_USER" whois -h "$WP4" pw-query
	expect_rc 0
	if ! grep -qx "peer $PW4" out; then
		show
		fail "the whois server did not see $PW4"
	fi
}

# ab: concurrent non-blocking connects (APR's poll loop).
pcase prog_ab
tc_prog_ab() {
	local m n
	m=$(mark)
	no_route_http ab -q -s 3 -n 1 "http://$W4@M@"
	run pw -p "$U_TINY" ab -q -s 10 -n 4 -c 2 "http://$W4$m"
	expect_rc 0
	expect_out_re "^Complete requests: +4$"
	expect_out_re "^Failed requests: +0$"
	sleep 0.3
	n=$(grep -cF " \"GET $m HTTP" "$T/log/world-access.log" || true)
	[ "$n" = 4 ] || fail "the world saw $n requests for $m, wanted 4"
	if grep -F " \"GET $m HTTP" "$T/log/world-access.log" | grep -qv "^$PW4 "; then
		fail "a request for $m came from elsewhere than $PW4"
	fi
}

# A program that drops privileges keeps its rules: the rule file is
# root's and mode 600, nobody cannot read it.
pcase prog_setpriv_nobody
tc_prog_setpriv_nobody() {
	local m
	need_prog curl
	m=$(mark)
	conf t.conf <<-EOC
	proxy sq $U_SQUID
	via sq *
	EOC
	chmod 600 t.conf
	run setpriv --reuid=nobody --regid=nogroup --clear-groups cat t.conf
	expect_fail
	no_route_http setpriv --reuid=nobody --regid=nogroup --clear-groups curl -sS -m 3 "http://$W4@M@"
	run pw -c t.conf setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

# apt-get update from a mirror on the world's nginx, with its own lists
# and cache (the host's apt state is not touched).  apt's http method
# runs as _apt.  apt_update PW-OPTION...: through these options.
apt_update() {
	local n re="^198\.18\.1\.1 $WP4 80 \"GET /apt/.*Packages"
	local -a o
	prog_need nginx
	echo "deb [trusted=yes] http://$WP4/apt ./" >sources.list
	mkdir -p lists/partial cache/archives/partial parts
	o=(-o Dir::Etc::sourcelist="$CD/sources.list" -o Dir::Etc::sourceparts="$CD/parts"
	    -o Dir::State::lists="$CD/lists" -o Dir::Cache="$CD/cache"
	    -o Dir::State::status=/dev/null -o Debug::NoLocking=1
	    -o Acquire::Retries=0 -o Acquire::http::Timeout=5
	    -o Acquire::http::Proxy=DIRECT)
	no_route "" apt-get "${o[@]}" -o Acquire::http::Timeout=3 update
	n=$(log_count "$T/log/prog-access.log" "$re")
	run -t 40 pw "$@" apt-get "${o[@]}" update
	expect_rc 0
	expect_err_lacks "Failed to fetch"
	log_grew "$T/log/prog-access.log" "$re" "$n" "the mirror did not serve Packages to $PW4"
	run apt-cache "${o[@]}" policy pw-hello
	expect_out_re "Candidate: 1\.0$"
}

pcase prog_apt_get_update
tc_prog_apt_get_update() { apt_update -p "$U_TINY"; }

# The same with a rule file only root can read.
pcase prog_apt_get_update_rules
tc_prog_apt_get_update_rules() {
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	via tiny *
	EOC
	chmod 600 t.conf
	apt_update -c t.conf
}

### FTP, raw TCP

# lftp in passive mode: the control and the data connection both go
# through dante; pyftpdlib logs the transfer with the peer's address.
pcase prog_lftp_passive
tc_prog_lftp_passive() {
	local n re="198\.18\.1\.1:[0-9]+-\[anonymous\] RETR .*hello\.txt completed=1"
	local cmd="set ftp:passive-mode true; set ftp:ssl-allow false; set net:max-retries 1; set net:timeout 10; open ftp://$WP4; cat hello.txt"
	prog_need ftp
	no_route "payload" lftp -c "set net:max-retries 1; set net:timeout 3; open ftp://$WP4; cat hello.txt"
	n=$(log_count "$T/log/ftp.out" "$re")
	run pw -p "$U_DANTE" lftp -c "$cmd"
	expect_rc 0
	expect_out_has "proxywrap ftp payload"
	log_grew "$T/log/ftp.out" "$re" "$n" "the FTP server did not serve $PW4"
}

# tnftp fetching an ftp:// URL (passive), through microsocks.
pcase prog_tnftp
tc_prog_tnftp() {
	local n re="198\.18\.1\.1:[0-9]+-\[anonymous\] RETR .*hello\.txt completed=1"
	prog_need ftp
	no_route "" tnftp -p -o nr.txt "ftp://$WP4/hello.txt"
	n=$(log_count "$T/log/ftp.out" "$re")
	run pw -p "$U_MS" tnftp -p -o got.txt "ftp://$WP4/hello.txt"
	expect_rc 0
	grep -qx "proxywrap ftp payload" got.txt || { show; fail "tnftp did not fetch the file"; }
	log_grew "$T/log/ftp.out" "$re" "$n" "the FTP server did not serve $PW4"
}

pcase prog_socat_connect_timeout
tc_prog_socat_connect_timeout() {
	local m
	m=$(mark)
	http_get "$W4" "$m" >req
	no_route "" socat -T 3 - "TCP:$W4:80,connect-timeout=3"
	run pw -p "$U_TINY" sh -c "socat -t 5 -T 10 - 'TCP:$W4:80,connect-timeout=5,shut-none' <req"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_nc
tc_prog_nc() {
	local m
	m=$(mark)
	http_get "$W4" "$m" >req
	no_route "" nc -w 3 "$W4" 80
	run pw -p "$U_DANTE" sh -c "nc -w 5 '$W4' 80 <req"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_ncat
tc_prog_ncat() {
	local m
	m=$(mark)
	http_get "$W4" "$m" >req
	no_route "" ncat -w 3 "$W4" 80
	run pw -p "$U_DANTE_USER" sh -c "ncat -w 5 '$W4' 80 <req"
	expect_rc 0
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

pcase prog_telnet
tc_prog_telnet() {
	local m
	m=$(mark)
	# telnet sends a line end as CR LF itself
	printf 'GET %s HTTP/1.0\nHost: %s\n\n' "$m" "$W4" >req
	no_route "Connected" telnet "$W4" 80
	run pw -p "$U_SQUID" sh -c "(cat req; sleep 1) | telnet '$W4' 80"
	expect_out_has "Connected to $W4"
	expect_out_has "world $W4:80 $m"
	world_saw "$m" "$PW4"
}

### DNS over TCP

# dns_saw NAME BEFORE: the resolver logged a query for NAME from the proxy.
dns_saw() {
	log_grew "$T/log/prog-dns.log" "query\[A\] $1 from 198\.18\.1\.1$" "$2" \
	    "the resolver did not see $1 from $PW4"
}

pcase prog_dig_tcp
tc_prog_dig_tcp() {
	local q=d-$$.prog.test
	prog_need dns
	no_route "" dig +tcp +tries=1 +time=2 +short "@$WP4" "$q"
	run pw -p "$U_DANTE" dig +tcp +tries=1 +time=5 +short "@$WP4" "$q"
	expect_rc 0
	grep -qx "$WP4" out || { show; fail "dig +tcp got no answer"; }
	dns_saw "$q" 0
}

pcase prog_host_tcp
tc_prog_host_tcp() {
	local q=h-$$.prog.test
	prog_need dns
	no_route "has address" host -T -W 2 "$q" "$WP4"
	run pw -p "$U_MS" host -T -W 5 -t A "$q" "$WP4"
	expect_rc 0
	expect_out_has "$q has address $WP4"
	dns_saw "$q" 0
}

pcase prog_nslookup_vc
tc_prog_nslookup_vc() {
	local q=n-$$.prog.test
	prog_need dns
	no_route "Address: $WP4" nslookup -vc -query=A -timeout=2 -retry=1 "$q" "$WP4"
	run pw -p "$U_DANTE_USER" nslookup -vc -query=A -timeout=5 -retry=1 "$q" "$WP4"
	expect_rc 0
	expect_out_has "Address: $WP4"
	dns_saw "$q" 0
}
