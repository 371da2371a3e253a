# t_session.sh - the session owns the policy: programs that drop their
# privileges keep their rules, nothing in the tree changes or silences
# them, log lines reach proxywrap's stderr whatever the program did with
# its own, and nothing of a session outlives it.

# A root-owned mode-600 rule file; curl and python3 run as nobody (as
# apt's methods run as _apt): the rules still apply, the bytes arrive
# through the proxy and nowhere else.
tcase session_privdrop smoke
tc_session_privdrop() {
	need_prog curl
	local m1 m2 m3 m4 m5 drop="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	block $W4:81
	via tiny *
	EOC
	chmod 600 t.conf
	m1=$(mark)
	m2=$(mark)
	m3=$(mark)
	m4=$(mark)
	m5=$(mark)
	# dup2 over every fd above stdio, then close-on-exec on all of them
	# (apt marks every fd so before it execs a method), then exec
	cat >clobber.py <<-'EOP'
	import os, sys
	null = os.open("/dev/null", os.O_RDONLY)
	for n in range(3, 1200):
	    if n != null:
	        os.dup2(null, n)
	for n in range(3, 4096):
	    try:
	        os.set_inheritable(n, False)
	    except OSError:
	        pass
	os.execvp(sys.argv[1], sys.argv[1:])
	EOP
	run pw -c t.conf sh -c "$drop curl -sS -m 10 http://$W4$m1 >/dev/null; \
	    $drop $PY -c 'import sys, urllib.request; \
urllib.request.urlopen(\"http://$W4$m2\", timeout=10).read()'; \
	    $drop curl -sS -m 10 http://$W4:81$m3; \
	    $PY -c 'import ctypes, os, sys; ctypes.CDLL(None).closefrom(3); \
os.execvp(\"setpriv\", sys.argv[1:])' --reuid=nobody --regid=nogroup --clear-groups \
	        curl -sS -m 10 -o /dev/null http://$W4$m4; \
	    $PY $CD/clobber.py setpriv --reuid=nobody --regid=nogroup --clear-groups \
	        curl -sS -m 10 -o /dev/null http://$W4$m5; exit 0"
	expect_rc 0
	world_saw "$m1" "$PW4"
	world_saw "$m2" "$PW4"
	# glibc's closefrom (as sshd calls it) left the session's fds
	world_saw "$m4" "$PW4"
	# dup2 onto the session's fds moved them, exec kept them
	world_saw "$m5" "$PW4"
	expect_err_re "proxywrap: blocked $W4:81 \(.*t\.conf:2 block $W4:81\)"
	expect_err_lacks "configuration unusable"
	nobody_saw "$m3"
	[ "$(grep -cF "$m1" "$T/log/world-access.log")" = 1 ] ||
	    fail "$m1 arrived more than once"
}

# A child that rewrites the SHIM_* settings changes nothing: still routed,
# still blocked, with a log line and an audit event every time.
tcase session_env_fixed smoke
tc_session_env_fixed() {
	need_prog curl
	local m1 m2 m3 m4 n
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	block $W4:81
	via tiny $W4:80
	EOC
	m1=$(mark)
	m2=$(mark)
	m3=$(mark)
	m4=$(mark)
	run pw --strict --log "$CD/audit.log" -c t.conf sh -c "\
	    SHIM_STRICT=0 SHIM_CONFIG=/dev/null curl -sS -m 5 http://$W4:81$m1; \
	    SHIM_CONFIG= curl -sS -m 10 http://$W4$m2 >/dev/null; \
	    SHIM_LOG=/dev/null SHIM_VERBOSE=0 curl -sS -m 5 http://$W4:81$m3; \
	    SHIM_STRICT=0 SHIM_PROXY= curl -sS -m 5 http://$W4:8080$m4; exit 0"
	expect_rc 0
	world_saw "$m2" "$PW4"
	nobody_saw "$m1"
	nobody_saw "$m3"
	nobody_saw "$m4"
	n=$(grep -c "proxywrap: blocked $W4:81 " err || true)
	[ "$n" = 2 ] || { show; fail "$n log lines for the 2 blocked :81, wanted 2"; }
	expect_err_re "proxywrap: blocked $W4:8080 .*strict"
	n=$(grep -c '"event":"block"' audit.log || true)
	[ "$n" = 3 ] || { show; fail "$n block events in the audit log, wanted 3"; }
}

# The human log goes to proxywrap's stderr: a program that sends its own
# to /dev/null, closes it, or writes it to a file of its own neither loses
# the refusal line nor gets it mixed into its file.
tcase session_log_reaches_user smoke
tc_session_log_reaches_user() {
	need_prog curl
	local n
	conf t.conf <<-EOC
	block $W4:81
	direct *
	EOC
	run pw -c t.conf sh -c "\
	    curl -sS -m 5 http://$W4:81/null 2>/dev/null; \
	    curl -sS -m 5 http://$W4:81/closed 2>&-; \
	    $PY -c 'import os, socket
os.close(2)
try:
    socket.create_connection((\"$W4\", 81), timeout=5)
except OSError as e:
    print(\"ERRNO\", e.errno)'; \
	    curl -sS -m 5 http://$W4:81/own 2>own.err; exit 0"
	expect_rc 0
	expect_out_has "ERRNO 13"
	n=$(grep -c "proxywrap: blocked $W4:81 " err || true)
	[ "$n" = 4 ] || { show; fail "$n refusal lines on proxywrap's stderr, wanted 4"; }
	if grep -q proxywrap own.err; then
		fail "the program's own stderr file got a proxywrap line"
	fi
	grep -q "curl: (7)" own.err || fail "curl's own message is not in its file"
}

# kill -9 of proxywrap (and then of its command) leaves nothing of the
# session behind: no fake-address table, no --summary log, no --from-env
# rule file.  A private tmpfs on /dev/shm (where named files went) and a
# TMPDIR of its own keep other runs' files out of the count.
tcase session_kill9_leaves_nothing
tc_session_kill9_leaves_nothing() {
	need_prog curl
	mkdir tmp
	cat >scenario.sh <<-EOS
	set -u
	mount -t tmpfs none /dev/shm || exit 3
	export TMPDIR=$CD/tmp
	http_proxy=$U_TINY ip netns exec "$NSC" "$PW_TOOL_RUN" --from-env \
	    --summary sh -c 'curl -sS -m 5 -o /dev/null http://name.example.test/ 2>/dev/null; \
	    echo \$\$ >"$CD/ready.tmp"; mv "$CD/ready.tmp" "$CD/ready"; exec sleep 20' &
	pw=\$!
	for i in \$(seq 100); do [ -e "$CD/ready" ] && break; sleep 0.1; done
	[ -e "$CD/ready" ] || exit 4
	ls -A /dev/shm "$CD/tmp" >"$CD/during"
	kill -9 \$pw
	wait \$pw 2>/dev/null
	kill -9 "\$(cat "$CD/ready")"
	sleep 0.3
	ls -A /dev/shm "$CD/tmp" >"$CD/after"
	EOS
	run -t 40 unshare -m --propagation private bash scenario.sh
	expect_rc 0
	if grep -v ':$' after | grep -q .; then
		say "left behind: $(tr '\n' ' ' <after)"
		fail "the session left files behind"
	fi
	if grep -v ':$' during | grep -q .; then
		say "named files: $(tr '\n' ' ' <during)"
		fail "the session made named files"
	fi
}

# --summary with nothing logged prints zeros, not a read error (the --log
# file, opened once by proxywrap, exists from the start).
tcase session_summary_empty
tc_session_summary_empty() {
	conf t.conf <<-EOC
	direct *
	EOC
	run pw --summary --log "$CD/none.log" -c t.conf true
	expect_rc 0
	expect_err_re "proxywrap: summary: 0 connections, 0 blocked, 0 errors"
	expect_err_lacks "cannot read"
}

# apt-get update through proxywrap: apt's http method drops to _apt and
# must still read its rules.  A tiny flat repository (apt-ftparchive) is
# served in the world by a small Python server that logs who asked; every
# request must come from the proxy.
tcase session_apt_update
tc_session_apt_update() {
	# apt's methods hang at start with the sanitizer runtime, as curl does
	[ -z "${PW_PRELOAD_EXTRA:-}" ] ||
	    { printf '# SKIP: apt under the sanitizer runtime\n' >&2; exit 77; }
	command -v apt-ftparchive >/dev/null ||
	    { printf '# SKIP: no apt-ftparchive\n' >&2; exit 77; }
	id _apt >/dev/null 2>&1 || { printf '# SKIP: no _apt user\n' >&2; exit 77; }
	local srv
	mkdir -p repo lists/partial cache/archives/partial
	# one stanza, so that apt fetches the index (an empty one it skips)
	printf 'Package: pwtest\nVersion: 1.0\nArchitecture: all\nFilename: ./pwtest_1.0_all.deb\nSize: 1\nMD5sum: 68b329da9893e34099c7d8ad5cb9c940\nDescription: t\n\n' >repo/Packages
	(cd repo && gzip -9k Packages && apt-ftparchive release . >Release) ||
	    fail "apt-ftparchive"
	ip netns exec "$NSW" timeout 40 "$PY" -c '
import http.server, sys, os
os.chdir(sys.argv[2])
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *a):
        with open(sys.argv[3], "a") as f:
            f.write("%s %s\n" % (self.client_address[0], self.requestline))
http.server.ThreadingHTTPServer((sys.argv[1], 8089), H).serve_forever()
' "$W4" "$CD/repo" "$CD/served" 2>/dev/null &
	srv=$!
	sleep 0.5
	echo "deb [trusted=yes] http://$W4:8089/ ./" >s.list
	conf t.conf <<-EOC
	proxy d $U_DANTE
	via d *
	EOC
	chmod 600 t.conf
	run -t 50 pw -c t.conf apt-get update -o Dir::Etc::sourcelist="$CD/s.list" \
	    -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$CD/lists" \
	    -o Dir::Cache="$CD/cache" -o APT::Get::List-Cleanup=0 \
	    -o Acquire::Retries=0 -o Acquire::http::Timeout=10
	kill "$srv" 2>/dev/null || true
	wait "$srv" 2>/dev/null || true
	expect_rc 0
	expect_err_lacks "configuration unusable"
	grep -q "GET /./Release" served || { show; fail "the repository saw no request"; }
	if grep -v "^$PW4 " served | grep -q .; then
		say "served: $(tr '\n' ' ' <served)"
		fail "a request reached the repository from elsewhere than the proxy"
	fi
	ls lists/ | grep -q "_Packages" || { show; fail "no Packages list fetched"; }
}

# A static top-level command refused by proxywrap itself is in the audit
# log, as an exec refused inside the tree is.
tcase session_static_refused_audited
tc_session_static_refused_audited() {
	gcc -static -O1 -o stclient "$TOP/tests/bin/pwclient.c" -lpthread 2>gcc.err ||
	    { printf '# SKIP: gcc -static failed\n' >&2; exit 77; }
	# without the supervisor (under it, the program runs: t_supervise.sh)
	run pw --strict --supervise=off --log "$CD/audit.log" -p "$U_DANTE" "$CD/stclient" get "$P4" 8080 /x
	expect_rc 126
	expect_err_re "refused exec of $CD/stclient: statically linked"
	grep -q "\"event\":\"exec-refused\".*\"path\":\"$CD/stclient\".*\"outcome\":\"EACCES\"" audit.log ||
	    { say "audit: $(cat audit.log 2>/dev/null)"; fail "no exec-refused event"; }
}

# A proxywrap inside the tree cannot start a looser session: its command
# runs under the policy already in force.
tcase session_nested_keeps_outer
tc_session_nested_keeps_outer() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	block $W4:81
	direct *
	EOC
	conf open.conf <<-EOC
	direct *
	EOC
	m=$(mark)
	run pw -c t.conf "$PW_TOOL_RUN" -c open.conf curl -sS -m 5 http://$W4:81$m
	expect_fail
	expect_err_re "already inside a proxywrap session"
	expect_err_re "proxywrap: blocked $W4:81 "
	nobody_saw "$m"
}

# After the session's fds moved out of the program's way, the next program
# is told where they are now (SHIM_SESSION_FD follows them; a child that
# drops or rewrites the variable gets it back as it is).
tcase session_hint_follows_fds
tc_session_hint_follows_fds() {
	cat >clobber.py <<-'EOP'
	import os, sys
	null = os.open("/dev/null", os.O_RDONLY)
	for n in range(3, 1200):
	    if n != null:
	        os.dup2(null, n)
	os.execvp(sys.argv[1], sys.argv[1:])
	EOP
	cat >where.py <<-'EOP'
	import os
	v = os.environ.get("SHIM_SESSION_FD", "")
	fds = [int(x) for x in v.split(",") if x]
	print("hint", v)
	print("policy", os.readlink("/proc/self/fd/%d" % fds[0]) if fds else "none")
	EOP
	conf t.conf <<-EOC
	direct *
	EOC
	run pw -c t.conf $PY clobber.py sh -c "SHIM_SESSION_FD=7 $PY where.py; \
	    env -u SHIM_SESSION_FD $PY where.py"
	expect_rc 0
	n=$(grep -c "^policy /memfd:proxywrap-policy" out || true)
	[ "$n" = 2 ] || { show; fail "the hint did not name the moved policy fd"; }
}

# The same without curl (which hangs under the sanitizer runtime), so the
# sanitizer smoke run covers the session: python as nobody through the
# proxy from a mode-600 file, a refusal with stderr gone and SHIM_* set.
tcase session_python smoke
tc_session_python() {
	local m1 m2 n drop="setpriv --reuid=nobody --regid=nogroup --clear-groups"
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	block $W4:81
	via tiny *
	EOC
	chmod 600 t.conf
	m1=$(mark)
	m2=$(mark)
	run pw --log "$CD/audit.log" -c t.conf sh -c "$drop $PY -c 'import urllib.request; \
urllib.request.urlopen(\"http://$W4$m1\", timeout=10).read()'; \
	    SHIM_STRICT=0 SHIM_CONFIG=/dev/null SHIM_LOG=/dev/null SHIM_VERBOSE=0 \
	    $drop $PY -c 'import socket; socket.create_connection((\"$W4\", 81), timeout=5)' 2>/dev/null; \
	    exit 0"
	expect_rc 0
	world_saw "$m1" "$PW4"
	n=$(grep -c "proxywrap: blocked $W4:81 " err || true)
	[ "$n" = 1 ] || { show; fail "$n refusal lines, wanted 1"; }
	grep -q '"event":"block"' audit.log || fail "no block event in the audit log"
}
