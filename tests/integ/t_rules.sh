# t_rules.sh - direct, block, strict, ports, loopback: each decision is
# proved by where the request arrived (or that nothing arrived).

tcase direct_rule smoke
tc_direct_rule() {
	need_prog curl
	local m n
	conf t.conf <<-EOC
	proxy d $U_DANTE
	direct 198.18.0.0/24
	via d *
	EOC
	m=$(mark)
	n=$(pcount dante "$P4" 8080)
	run pw -c t.conf curl -sS -m 10 "http://$P4:8080$m"
	expect_rc 0
	expect_out_has "local $P4:8080 $m"
	# From the client's own address: not through dante (198.18.1.1).
	local_saw "$m" "$C4"
	[ "$(pcount dante "$P4" 8080)" = "$n" ] || fail "dante carried a direct connection"
	# And the rest still goes through dante.
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
}

tcase block_rule smoke
tc_block_rule() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	proxy d $U_DANTE
	# the blocked target
	block 198.18.1.3
	via d *
	EOC
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$WB4$m"
	expect_rc 7
	expect_err_re "proxywrap: blocked 198\.18\.1\.3:80 \(([^ ]*/)?t\.conf:3 block 198\.18\.1\.3"
	[ "$(grep -c 'proxywrap: blocked' err)" = 1 ] || { show; fail "wanted one log line per blocked connect"; }
	nobody_saw "$m"
	# The errno the application sees.
	run pw -c t.conf "$PY" "$PYC" connect "$WB4" 80
	expect_rc 3
	expect_errno EACCES
	# Bare preload: the same decision.
	run shim t.conf "$PY" "$PYC" connect "$WB4" 80
	expect_rc 3
	expect_errno EACCES
	expect_err_re "blocked 198\.18\.1\.3:80 \(([^ ]*/)?t\.conf:3 block"
	# Other addresses of the world still go through.
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
}

tcase block_cidr_port_range
tc_block_cidr_port_range() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	proxy d $U_DANTE
	block 198.18.1.0/24:2000-3000
	via d 198.18.1.2:80 198.18.1.2:22
	EOC
	run pw -c t.conf "$PY" "$PYC" banner "$W4" 2222
	expect_rc 3
	expect_errno EACCES
	expect_err_re "blocked 198\.18\.1\.2:2222 \(([^ ]*/)?t\.conf:2 block"
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
}

tcase block_v6
tc_block_v6() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	proxy d $U_DANTE
	block [2001:db8:1::2]:80
	via d *
	EOC
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 -g "http://[$W6]$m"
	expect_rc 7
	expect_err_re "blocked \[?2001:db8:1::2\]?:80 \(([^ ]*/)?t\.conf:2 block"
	nobody_saw "$m"
}

tcase strict_flag
tc_strict_flag() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	proxy d $U_DANTE
	via d 198.18.1.2
	EOC
	# Unmatched and directly reachable: blocked under --strict.
	m=$(mark)
	run pw --strict -c t.conf curl -sS -m 10 "http://$P4:8080$m"
	expect_rc 7
	expect_err_re "proxywrap: blocked 198\.18\.0\.1:8080"
	nobody_saw "$m"
	# Without --strict an unmatched destination goes direct.
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$P4:8080$m"
	expect_rc 0
	local_saw "$m" "$C4"
	# Matched destinations are unaffected by strictness.
	m=$(mark)
	run pw --strict -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
}

tcase strict_on_in_file
tc_strict_on_in_file() {
	need_prog curl
	local m
	conf t.conf <<-EOC
	proxy d $U_DANTE
	via d 198.18.1.2
	strict on
	EOC
	m=$(mark)
	run pw -c t.conf curl -sS -m 10 "http://$P4:8080$m"
	expect_rc 7
	expect_err_re "proxywrap: blocked 198\.18\.0\.1:8080"
	nobody_saw "$m"
}

# A loopback server in the client namespace (stopped when the case ends).
loop_server() {
	# ip netns exec execs: $! is socat itself.
	ip netns exec "$NSC" socat "TCP4-LISTEN:9000,bind=127.0.0.1,reuseaddr,fork" \
	    SYSTEM:"echo LOOPBACK-OK" >/dev/null 2>&1 &
	LOOP_PID=$!
	trap 'kill $LOOP_PID 2>/dev/null || true' EXIT
	local i
	for i in $(seq 1 50); do
		inc ss -Hltn "sport = :9000" | grep -q 127.0.0.1 && return 0
		sleep 0.1
	done
	fail "loopback server did not start"
}

tcase loopback_direct_under_star
tc_loopback_direct_under_star() {
	loop_server
	conf t.conf <<-EOC
	proxy d $U_DANTE
	via d *
	strict on
	EOC
	run pw -c t.conf socat -T 5 - TCP4:127.0.0.1:9000
	expect_rc 0
	expect_out_has LOOPBACK-OK
}

tcase loopback_named_rule
tc_loopback_named_rule() {
	loop_server
	conf t.conf <<-EOC
	proxy d $U_DANTE
	block 127.0.0.0/8:9000
	via d *
	EOC
	run pw -c t.conf "$PY" "$PYC" connect 127.0.0.1 9000
	expect_rc 3
	expect_errno EACCES
	expect_err_re "blocked 127\.0\.0\.1:9000 \(([^ ]*/)?t\.conf:2 block"
}

# A session's rules are compiled once, by proxywrap, and shared: each
# process maps the image read-only from the session's policy, so 200,000
# rules add well under 5 MB of private memory to a Python that connects
# (compiling them itself cost it about 60 MB), and the log line still
# names file:line and the rule.
tcase rules_shared_image
tc_rules_shared_image() {
	local m base anon n=200000
	"$PY" - "$n" "$U_DANTE" >big.conf <<-'EOP'
	import sys
	n = int(sys.argv[1])
	print("proxy d " + sys.argv[2])
	for i in range(n):
	    k = i % 3
	    if k == 0:
	        print("block host%d.example.com" % i)
	    elif k == 1:
	        print("via d .zone%d.example.org" % i)
	    else:
	        print("block 10.%d.%d.0/24" % ((i >> 8) & 255, i & 255))
	print("block 198.18.1.3")
	print("via d *")
	EOP
	cat >m.py <<-'EOP'
	import socket, sys
	s = socket.socket()
	s.settimeout(5)
	try:
	    s.connect((sys.argv[1], 80))
	    print("connected")
	except OSError as e:
	    print("refused", e.errno)
	s.close()
	if sys.argv[2] != "-":
	    s = socket.create_connection((sys.argv[2], 80), timeout=10)
	    s.sendall(b"GET %s HTTP/1.0\r\nHost: w\r\n\r\n" % sys.argv[3].encode())
	    s.recv(100)
	    s.close()
	f = {}
	for line in open("/proc/self/status"):
	    k, _, v = line.partition(":")
	    f[k] = v.split()[0] if v.split() else ""
	shared = any(" r--s " in l and "proxywrap-policy" in l
	             for l in open("/proc/self/maps"))
	print("anon", f["RssAnon"], "shmem", f["RssShmem"], "shared", shared)
	EOP
	# the bare python cannot reach the world (only the proxies can)
	run inc "$PY" m.py "$WB4" - -
	expect_rc 0
	base=$(awk '$1 == "anon" { print $2 }' out)
	[ -n "$base" ] || { show; fail "no RssAnon from a bare python"; }
	m=$(mark)
	run -t 60 pw -c big.conf "$PY" m.py "$WB4" "$W4" "$m"
	expect_rc 0
	expect_out_has "refused 13"
	expect_out_has "shared True"
	expect_err_re "proxywrap: blocked 198\.18\.1\.3:80 \(([^ ]*/)?big\.conf:$((n + 2)) block 198\.18\.1\.3\)"
	world_saw "$m" "$PW4"
	anon=$(awk '$1 == "anon" { print $2 }' out)
	say "RssAnon: bare python $base kB, under proxywrap with $n rules $anon kB"
	[ "$((anon - base))" -lt 5120 ] ||
	    fail "a wrapped python holds $((anon - base)) kB more private memory"
}

# The image is checked before a process matches on it: a program in the
# tree copies the session's policy into a sealed memfd of its own, with
# the image's version changed, and execs a client that believes it (the
# hint names the copy; a raw execve, since the library's exec would name
# the session's own fds again).  That client blocks everything but
# loopback with one log line; an unchanged copy routes as the session
# does (the control: the copy itself is not what fails).
tcase rules_image_damaged smoke
tc_rules_image_damaged() {
	local m
	cat >forge.py <<-'EOP'
	import ctypes, fcntl, os, struct, sys
	nr = {"x86_64": 59, "aarch64": 221}.get(os.uname().machine)
	if nr is None:
	    sys.exit("SKIP: no execve number for " + os.uname().machine)
	hint = os.environ["SHIM_SESSION_FD"].split(",")
	b = bytearray(os.pread(int(hint[0]), 64 << 20, 0))
	hdr_size = struct.unpack_from("<I", b, 12)[0]
	off, n = struct.unpack_from("<QQ", b, hdr_size - 16)
	if n == 0 or b[off:off + 7] != b"pwRULES":
	    sys.exit("no image in the policy")
	if sys.argv[1] == "damage":
	    b[off + 8] ^= 0x55
	fd = os.memfd_create("forged", os.MFD_ALLOW_SEALING)
	os.write(fd, b)
	fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_SEAL |
	            fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE)
	os.set_inheritable(fd, True)
	os.environ["SHIM_SESSION_FD"] = ",".join([str(fd)] + hint[1:])
	args = [a.encode() for a in sys.argv[2:]]
	env = [("%s=%s" % kv).encode() for kv in os.environ.items()]
	argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
	envp = (ctypes.c_char_p * (len(env) + 1))(*env, None)
	libc = ctypes.CDLL(None, use_errno=True)
	libc.syscall(ctypes.c_long(nr), args[0], argv, envp)
	sys.exit("execve: errno %d" % ctypes.get_errno())
	EOP
	conf t.conf <<-EOC
	proxy tiny $U_TINY
	block $WB4
	via tiny *
	EOC
	m=$(mark)
	run pw -c t.conf "$PY" forge.py copy "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 0
	world_saw "$m" "$PW4"
	m=$(mark)
	run pw -c t.conf "$PY" forge.py damage "$PY" "$PYC" get "$W4" 80 "$m"
	expect_rc 3
	expect_errno EACCES
	expect_err_re "proxywrap: the session's compiled rules do not check out"
	expect_err_re "proxywrap: blocked 198\.18\.1\.2:80 \(configuration unusable\)"
	nobody_saw "$m"
}
