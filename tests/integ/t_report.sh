# t_report.sh - what a CI job gets out of a session: --learn writes the
# rules for exactly what the job used and --strict -c runs it unchanged
# under them (anything new refused with the rule to add), the markdown
# summary parsed and checked, and the audit events in syslog.

REPORT_MD=$PW_INTEG_DIR/report_md.py

# A dumb-HTTP git repository served on $P4 (the client reaches it direct)
# by a static file server bound to port 0; its port in GIT_PORT, its pid
# in GIT_PID.
rep_git_server() {
	local i
	mkdir -p srv
	git init -q --bare srv/repo.git
	git init -q work
	echo "learned $CASE" >work/README
	git -C work add README
	git -C work -c user.name=t -c user.email=t@t commit -qm one
	git -C work push -q "$CD/srv/repo.git" HEAD:refs/heads/main
	git -C srv/repo.git symbolic-ref HEAD refs/heads/main
	git -C srv/repo.git update-server-info
	: >git.port
	ip netns exec "$NSP" timeout 120 "$PY" -c '
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler,
                      directory=sys.argv[2])
s = http.server.ThreadingHTTPServer((sys.argv[1], 0), h)
open(sys.argv[3], "w").write("%d\n" % s.server_address[1])
s.serve_forever()
' "$P4" "$CD/srv" "$CD/git.port" >git.log 2>&1 &
	GIT_PID=$!
	for i in $(seq 50); do
		GIT_PORT=$(cat git.port)
		[ -n "$GIT_PORT" ] && return 0
		sleep 0.1
	done
	fail "the git server did not start"
}

# The job: curl by name through a proxy and by LAN address, git over
# HTTP, python by name; a blocked attempt that it survives.
rep_job() {
	cat >job.sh <<-'EOJ'
	set -e
	m=$1 port=$2
	curl -sS -m 10 -o /dev/null "http://www.world.test$m-curl"
	curl -sS -m 10 -o /dev/null "http://198.18.0.1:8080$m-lan"
	rm -rf clone
	git clone -q "http://git.local.test:$port/repo.git" clone
	grep -q learned clone/README
	python3 -c 'import sys, urllib.request
	urllib.request.urlopen("http://py.local.test:8080" + sys.argv[1] + "-py",
	                       timeout=10).read()' "$m"
	curl -sS -m 5 -o /dev/null http://198.18.1.3/ 2>/dev/null || true
	EOJ
}

tcase report_learn_strict
tc_report_learn_strict() {
	local m1 m2 m3
	rep_git_server
	rep_job
	conf l.conf <<-EOC
	proxy tiny $U_TINY
	via tiny .world.test
	block $WB4
	strict on
	EOC
	m1=$(mark)
	run -t 90 pw --learn learned.conf --summary=sum.md \
	    --summary-format markdown -c l.conf sh job.sh "$m1" "$GIT_PORT"
	expect_rc 0
	world_saw "$m1-curl" "$PW4"
	local_saw "$m1-lan" "$C4"
	local_saw "$m1-py" "$C4"
	expect_err_re "proxywrap: --learn: the rules for what ran are in learned.conf"
	# the rule file's block rule held; strict on did not
	expect_err_re "blocked $WB4:80 \(.*l.conf:3 block $WB4\)"
	say "learned: $(grep -v '^#' learned.conf | tr '\n' '|')"
	grep -qx "strict on" learned.conf || fail "no strict on"
	grep -qx "proxy tiny $U_TINY" learned.conf || fail "proxy not copied"
	grep -qx "via tiny www.world.test:80" learned.conf ||
	    fail "no via rule for the proxied name"
	grep -qx "direct 198.18.0.1:8080" learned.conf || fail "no LAN rule"
	grep -qx "direct git.local.test:$GIT_PORT" learned.conf ||
	    fail "no rule for git's name"
	grep -qx "direct py.local.test:8080" learned.conf ||
	    fail "no rule for python's name"
	# exactly those: nothing widened, nothing extra, each with its users
	[ "$(grep -cvE '^(#|$|strict on$|proxy tiny )' learned.conf)" = 4 ] ||
	    fail "more rules than destinations: $(cat learned.conf)"
	grep -qE '^#.*/curl 1x$' learned.conf || fail "no comment naming curl"
	grep -qE '^#.*git-remote-http [0-9]+x' learned.conf ||
	    fail "no comment naming git"
	grep -qE '^#.*python3[.0-9]* 1x$' learned.conf ||
	    fail "no comment naming python"
	grep -qE "^#   $WB4:80 by .*/curl \(.*l.conf:3 block $WB4\)" \
	    learned.conf || fail "the refusal is not recorded"
	[ "$(stat -c %a learned.conf)" = 600 ] || fail "learned.conf not 0600"
	$PY "$REPORT_MD" sum.md "www.world.test:80/tcp=via tiny,1,0,recv" \
	    "198.18.0.1:8080/tcp=direct,1,0" "py.local.test:8080/tcp=direct,1,0" \
	    "$WB4:80/tcp=block,0,1" "blocked:$WB4:80 tcp=/usr/bin/curl,1" ||
	    fail "the markdown summary: $(cat sum.md)"
	grep -qE "^\| git\.local\.test:$GIT_PORT/tcp \| direct \| [1-9]" sum.md ||
	    fail "no git row: $(cat sum.md)"
	run pw --check -c learned.conf
	expect_rc 0

	# the same job, unchanged, under the learned rules
	m2=$(mark)
	run -t 90 pw --strict -c learned.conf sh job.sh "$m2" "$GIT_PORT"
	expect_rc 0
	world_saw "$m2-curl" "$PW4"
	local_saw "$m2-lan" "$C4"
	local_saw "$m2-py" "$C4"
	expect_err_re "blocked $WB4:80 \(no rule matched, strict; add: direct $WB4:80\)"

	# a fourth name: refused, and the line says which rule to add
	m3=$(mark)
	run pw --strict -c learned.conf curl -sS -m 5 "http://new.local.test:8080$m3"
	expect_fail
	expect_err_re "^proxywrap: blocked name new\.local\.test \(strict: no rule matched; add: direct new\.local\.test:8080\)$"
	nobody_saw "$m3"
	kill "$GIT_PID" 2>/dev/null || true
	wait "$GIT_PID" 2>/dev/null || true
}

# The summary's TLS column, from the close events, through a proxy: a
# handshake that succeeds, https to a plain HTTP port (not TLS, twice);
# the text form says the same.
tcase report_summary_tls
tc_report_summary_tls() {
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	via tiny *
	EOC
	cat >tls.sh <<-EOJ
	curl -sS -m 10 -k -o /dev/null https://www.world.test/
	curl -sS -m 10 -k https://www.world.test:80/ 2>/dev/null
	curl -sS -m 10 -k https://www.world.test:80/ 2>/dev/null
	exit 0
	EOJ
	run -t 60 pw --summary=sum.md --summary-format markdown -c t.conf sh tls.sh
	expect_rc 0
	$PY "$REPORT_MD" sum.md "www.world.test:443/tcp=via tiny,1,0,recv,tls:1 ok" \
	    "www.world.test:80/tcp=via tiny,2,0,tls:0 ok, 2 failed: not-tls 2x" ||
	    fail "the markdown summary: $(cat sum.md)"
	run -t 60 pw --summary -c t.conf sh tls.sh
	expect_rc 0
	expect_err_re "^proxywrap: summary: 3 connections, 0 blocked, 0 errors$"
	expect_err_re "^  www\.world\.test:80/tcp +via tiny +2 +0 +0 .* 0 ok, 2 failed: not-tls 2x$"
}

# --learn with --strict is a contradiction, said before anything runs.
tcase report_learn_args
tc_report_learn_args() {
	run pw --learn x.conf --strict true
	expect_rc 2
	expect_err_re "--learn and --strict"
	[ ! -e x.conf ] || fail "x.conf written"
	run pw --summary-format html true
	expect_rc 2
}

# `log syslog SOCKET`: a local rsyslogd with its own socket writes what it
# receives to a file; every event of the audit log arrives there, from
# every process, as RFC 5424 (user facility, MSGID the event, the JSON as
# the message).  Then the socket gone: one warning per process, and the
# programs run as before.
tcase report_syslog
tc_report_syslog() {
	local i rs m
	command -v rsyslogd >/dev/null || fail "rsyslogd missing (tests/deps.sh)"
	cat >rs.conf <<-EOC
	global(workDirectory="$CD")
	module(load="imuxsock" SysSock.Use="off")
	input(type="imuxsock" Socket="$CD/log.sock" UseSpecialParser="off" ParseHostname="on")
	template(name="raw" type="string" string="%pri% %protocol-version% %app-name% %procid% %msgid% %msg%\n")
	*.* action(type="omfile" file="$CD/syslog.out" template="raw")
	EOC
	timeout 60 rsyslogd -n -f "$CD/rs.conf" -i "$CD/rs.pid" >rs.log 2>&1 &
	rs=$!
	for i in $(seq 50); do
		[ -S log.sock ] && break
		sleep 0.1
	done
	[ -S log.sock ] || fail "rsyslogd did not make its socket: $(cat rs.log)"
	conf s.conf <<-EOC
	log syslog $CD/log.sock
	proxy tiny $U_TINY
	via tiny .world.test
	block $WB4
	EOC
	m=$(mark)
	run pw -c s.conf --log "$CD/audit.log" sh -c "curl -sS -m 10 -o /dev/null http://www.world.test$m; \
	    curl -sS -m 10 -o /dev/null http://$P4:8080$m; \
	    curl -sS -m 5 http://$WB4/ 2>/dev/null; exit 0"
	expect_rc 0
	world_saw "$m" "$PW4"
	for i in $(seq 50); do
		[ "$(wc -l <syslog.out 2>/dev/null || echo 0)" -ge \
		    "$(wc -l <audit.log)" ] && break
		sleep 0.1
	done
	$PY - "$CD/audit.log" "$CD/syslog.out" <<-'EOP' || fail "syslog: $(head -c 2000 syslog.out)"
	import json, sys
	audit = [json.loads(l) for l in open(sys.argv[1])]
	got = []
	for l in open(sys.argv[2]):
	    pri, ver, app, pid, msgid, msg = l.rstrip("\n").split(" ", 5)
	    ev = json.loads(msg)
	    assert ver == "1" and app == "proxywrap", l
	    assert msgid == ev["event"] and int(pid) == ev["pid"], l
	    want = 12 if ev["event"] in ("block", "proxy-error") else 14
	    assert int(pri) == want, l
	    got.append(ev)
	key = lambda e: (e["time"], e["pid"], e["event"])
	assert sorted(map(key, got)) == sorted(map(key, audit)), (got, audit)
	assert {"connect", "block", "close"} <= {e["event"] for e in got}, got
	assert len({e["pid"] for e in got}) >= 3, got
	print("ok: %d events" % len(got))
	EOP
	# what proxywrap and its supervisor write themselves, without --log:
	# a static program refused before it runs, and one run supervised
	gcc -static -O1 -o stclient "$TOP/tests/bin/pwclient.c" -lpthread 2>gcc.err ||
	    fail "gcc -static: $(cat gcc.err)"
	run pw --strict --supervise=off -c s.conf "$CD/stclient" get "$P4" 8080 /x
	expect_rc 126
	run pw --strict -c s.conf "$CD/stclient" get "$P4" 8080 "$m-st"
	expect_out_has "ERRNO EACCES"
	expect_err_re "blocked $P4:8080 \(no rule matched, strict; add: direct $P4:8080\) \[supervised"
	for i in $(seq 50); do
		grep -q ' block {.*"exe":"[^"]*stclient"' syslog.out && break
		sleep 0.1
	done
	grep -q "^12 1 proxywrap [0-9]* exec-refused {.*\"path\":\"$CD/stclient\"" syslog.out ||
	    fail "no exec-refused in syslog: $(tail -n 3 syslog.out)"
	grep -q '^12 1 proxywrap [0-9]* block {.*"exe":"[^"]*stclient".*"port":8080' syslog.out ||
	    fail "no supervised block in syslog: $(tail -n 3 syslog.out)"
	kill "$rs" 2>/dev/null || true
	wait "$rs" 2>/dev/null || true
	# no socket: the job runs, each process says so once
	rm -f log.sock
	run pw -c s.conf sh -c "curl -sS -m 10 -o /dev/null http://$P4:8080$m-2; \
	    curl -sS -m 10 -o /dev/null http://$P4:8080$m-3"
	expect_rc 0
	local_saw "$m-3" "$C4"
	[ "$(grep -c "log syslog: cannot send to $CD/log.sock" err)" = 2 ] ||
	    { show; fail "want one warning from each curl"; }
}
