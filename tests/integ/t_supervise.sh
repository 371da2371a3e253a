# t_supervise.sh - the supervisor (issue 15): a seccomp user-notification
# filter decides what the shim cannot see.  Real static C and Go programs
# connect to the local nginx (198.18.0.1:8080): a block rule gets EACCES
# with the shim's log line (plus pid and exe) and an audit event, and the
# server sees nothing; a direct rule connects; io_uring_setup gets ENOSYS,
# a raw socket EPERM under strict.  The escape matrix (t_escape.sh) runs
# its kernel-only cases under the same supervisor.

SUP_SRC=$TOP/tests/bin/supclient.c
SUP_GO_SRC=$TOP/tests/go/supgo.go

# sup_build: the static client, once per run, as $SUPC.
sup_build() {
	static_bin supclient
	SUPC=$SBIN
}

# sup_m32_build s|d: the client built 32-bit (gcc -m32, static or
# dynamic) as $T/sup/supclient-32K, and a copy named supclient-32K-libc
# that calls libc's functions (glibc's socketcall(2)).
sup_m32_build() {
	local b=$T/sup/supclient-32$1 st=
	mkdir -p "$T/sup"
	[ -x "$b-libc" ] && return 0
	[ "$1" = s ] && st=-static
	gcc -m32 $st -D_GNU_SOURCE -O1 -o "$b.tmp" "$SUP_SRC" -lpthread \
	    >"$T/sup/cc32.log" 2>&1 ||
	    fail "gcc -m32 $st failed (tests/deps.sh installs gcc-multilib): $(tail -n 1 "$T/sup/cc32.log")"
	file -L "$b.tmp" | grep -q 'ELF 32-bit' || fail "not a 32-bit build: $(file -L "$b.tmp")"
	cp "$b.tmp" "$b-libc"
	mv "$b.tmp" "$b"
}

# sup_go CGO: the Go client, static (0) or dynamic (1), as $SUPGO.
sup_go() {
	local kind=static
	[ "$1" = 1 ] && kind=dynamic
	SUPGO=$T/sup/supgo-$kind
	mkdir -p "$T/sup"
	[ -x "$SUPGO" ] && return 0
	command -v go >/dev/null 2>&1 ||
	    { printf '# SKIP: no go (tests/deps.sh installs golang-go)\n' >&2; exit 77; }
	# std lib only, no module download: nothing leaves the host
	HOME=$T/sup GOCACHE=$T/sup/gocache GOPATH=$T/sup/gopath GOFLAGS= \
	    GOPROXY=off CGO_ENABLED=$1 go build -o "$SUPGO.tmp" "$SUP_GO_SRC" \
	    >"$T/sup/go-$kind.log" 2>&1 ||
	    fail "go build ($kind): $(tail -n 2 "$T/sup/go-$kind.log")"
	mv "$SUPGO.tmp" "$SUPGO"
}

# sup_audit EVENT ACTION ADDR: the audit log has such an event, from a
# supervised program (its exe is ours).
sup_audit() {
	if ! grep -E "\"event\":\"$1\"" "$CD/audit.log" |
	    grep -E "\"addr\":\"$3\"" | grep -qE "\"action\":\"$2\""; then
		show
		say "audit log: $(head -c 800 "$CD/audit.log")"
		fail "no $1 event (action $2) for $3 in the audit log"
	fi
}

# sup_as_kernel PROG ARG...: under --strict PROG prints what it prints
# without proxywrap (the kernel's answers).
sup_as_kernel() {
	local want
	run inc "$@"
	want=$(cat out)
	run pw --strict "$@"
	[ "$(cat out)" = "$want" ] ||
	    { show; fail "$*: '$(cat out)', the kernel says '$want'"; }
}

# sup_blocked PROG...: refused by a block rule, logged, audited, unseen.
sup_blocked() {
	local m
	m=$(mark)
	: >"$CD/audit.log"
	conf b.conf <<-EOC
	block $P4:8080
	EOC
	run pw --log "$CD/audit.log" -c b.conf "$@" "$m"
	expect_rc 0
	expect_err_re "^proxywrap: blocked 198\.18\.0\.1:8080 \(.*b\.conf:1 block 198\.18\.0\.1:8080\) \[supervised: pid [0-9]+ /"
	sup_audit block block "$P4"
	nobody_saw "$m"
}

# sup_direct PROG...: under --strict a direct rule connects, audited.
sup_direct() {
	local m
	m=$(mark)
	: >"$CD/audit.log"
	conf d.conf <<-EOC
	direct $P4:8080
	EOC
	run pw --strict --log "$CD/audit.log" -c d.conf "$@" "$m"
	expect_rc 0
	expect_out_re 'status=HTTP/1.1 200'
	local_saw "$m" "$C4"
	sup_audit connect direct "$P4"
}

tcase sup_static_block smoke
tc_sup_static_block() {
	sup_build
	# auto (the default) supervises the static program
	sup_blocked "$SUPC" get "$P4" 8080
	expect_out_has "rc=-1 errno=EACCES"
}

tcase sup_static_direct
tc_sup_static_direct() {
	sup_build
	sup_direct "$SUPC" get "$P4" 8080
	expect_out_has "rc=0 errno=0"
	# getpeername of a socket not routed: the kernel's own answer (what
	# sup_via expects of a routed one: the same lengths)
	expect_out_has "peer=$P4:8080 len=16"
	expect_out_has "peer_short len=16 byte2=0x1f byte3=0xab"
	# non-blocking: EINPROGRESS as the kernel gives it, then connected
	sup_direct "$SUPC" nbget "$P4" 8080
	expect_out_has "rc=-1 errno=EINPROGRESS"
	expect_out_has "so_error=0"
}

# --strict without a rule for it: refused, and the line says why.
tcase sup_static_strict
tc_sup_static_strict() {
	local m
	sup_build
	m=$(mark)
	: >"$CD/audit.log"
	run pw --strict --log "$CD/audit.log" "$SUPC" get "$P4" 8080 "$m"
	expect_rc 0
	expect_out_has "rc=-1 errno=EACCES"
	expect_err_re "blocked 198\.18\.0\.1:8080 \(no rule matched, strict; add: direct 198\.18\.0\.1:8080\) \[supervised: pid [0-9]+ $SUPC\]"
	sup_audit block block "$P4"
	nobody_saw "$m"
	# and UDP: sendto and sendmsg with a name, to the local echo
	run pw --strict --log "$CD/audit.log" "$SUPC" udp "$P4" 7007 "sup-$m"
	expect_out_has "rc=-1 errno=EACCES"
	expect_err_re "blocked udp 198\.18\.0\.1:7007 \(no rule matched, strict; add: direct 198\.18\.0\.1:7007\)"
	run pw --strict --log "$CD/audit.log" "$SUPC" sendmsg "$P4" 7007 "sup-$m"
	expect_out_has "rc=-1 errno=EACCES"
	sleep 0.2
	if grep -qF "sup-$m" "$T/log/udp-echo-local.log"; then
		fail "the UDP echo saw a refused datagram"
	fi
}

tcase sup_go_static
tc_sup_go_static() {
	sup_go 0
	sup_blocked "$SUPGO" "$P4:8080"
	expect_out_has "dial errno=13"
	sup_direct "$SUPGO" "$P4:8080"
}

# A dynamically linked Go program loads the shim but calls the kernel
# itself: auto supervises it (its Go build-id note says what it is).
tcase sup_go_dynamic
tc_sup_go_dynamic() {
	sup_go 1
	readelf -l "$SUPGO" | grep -q 'Requesting program interpreter' ||
	    fail "the cgo build is not dynamically linked"
	sup_blocked "$SUPGO" "$P4:8080"
	expect_out_has "dial errno=13"
	sup_direct "$SUPGO" "$P4:8080"
}

# --supervise=off: today's behaviour (the static program runs unwrapped,
# strict mode refuses it).
tcase sup_off
tc_sup_off() {
	local m
	sup_build
	m=$(mark)
	conf b.conf <<-EOC
	block $P4:8080
	EOC
	run pw --supervise=off -c b.conf "$SUPC" get "$P4" 8080 "$m"
	expect_out_has "rc=0 errno=0"
	expect_err_re "exec of $SUPC: statically linked: the shim cannot follow it"
	local_saw "$m" "$C4"
	run pw --strict --supervise=off "$SUPC" get "$P4" 8080 "$m"
	expect_rc 126
	run pw --supervise=sometimes true
	expect_rc 2
	expect_err_re "--supervise: auto, all or off"
}

tcase sup_uring_raw
tc_sup_uring_raw() {
	sup_build
	: >"$CD/audit.log"
	run pw --strict --log "$CD/audit.log" "$SUPC" uring
	expect_out_has "rc=-1 errno=ENOSYS"
	expect_err_re "refused io_uring_setup \(ENOSYS\): .* \[supervised: pid [0-9]+ $SUPC\]"
	grep -q '"event":"block".*"rule":{"at":null,"text":"io_uring_setup"}' "$CD/audit.log" ||
	    { show; fail "no audit event for io_uring_setup"; }
	run pw --strict "$SUPC" raw
	expect_out_has "rc=-1 errno=EPERM"
	expect_err_re "refused raw socket \(EPERM\): strict mode"
	run pw --strict "$SUPC" packet
	expect_out_has "rc=-1 errno=EPERM"
	expect_err_re "refused packet socket \(EPERM\)"
	# not strict: allowed, with a warning (what it writes is not routed)
	run pw --supervise=all "$SUPC" raw
	expect_out_re "^rc=[0-9]+ errno=0$"
	expect_err_re "allowed raw socket: what it writes is not routed"
}

# What a hostile program passes gets the kernel's own answer: the same
# output with and without the supervisor.
tcase sup_hostile
tc_sup_hostile() {
	local how want
	sup_build
	for how in efault badlen unix; do
		run inc "$SUPC" "$how"
		want=$(cat out)
		run pw --strict "$SUPC" "$how"
		expect_out_has "$want"
	done
	run pw --strict "$SUPC" efault
	expect_out_has "rc=-1 errno=EFAULT"
	run pw --strict "$SUPC" badlen
	expect_out_has "rc=-1 errno=EINVAL"
}

# A blocking connect to a host that never answers (an address of the
# client's own subnet without a host: ARP fails after some seconds) does
# not hold up the other calls of the tree.
tcase sup_slow
tc_sup_slow() {
	sup_build
	conf s.conf <<-EOC
	direct 198.18.0.77
	EOC
	run -t 40 pw --supervise=all -c s.conf "$SUPC" slow 198.18.0.77 80 200
	expect_out_re "^meanwhile connects=200 failed=0 "
	expect_out_re "^slow rc=-1 errno=(EHOSTUNREACH|ETIMEDOUT) after [0-9]{4,} ms"
	# the loopback connects were done while the slow one waited
	head -n 1 out | grep -q '^meanwhile' || { show; fail "the loopback connects waited for the slow one"; }
}

# The shim's own connects under --strict (whole tree supervised): through
# dante, and direct, each audited once (the supervisor leaves the events
# of a program with the shim to the shim).
tcase sup_shim_tree
tc_sup_shim_tree() {
	local m n
	m=$(mark)
	: >"$CD/audit.log"
	conf t.conf <<-EOC
	proxy d $U_DANTE
	direct $P4:8080
	via d *
	EOC
	run pw --strict --log "$CD/audit.log" -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_rc 0
	world_saw "$m" "$PW4"
	m=$(mark)
	run pw --strict --log "$CD/audit.log" -c t.conf curl -sS -m 10 "http://$P4:8080$m"
	expect_rc 0
	local_saw "$m" "$C4"
	n=$(grep -c "\"event\":\"connect\".*\"addr\":\"$P4\",\"port\":8080" "$CD/audit.log" || true)
	[ "$n" = 1 ] || { say "$(cat "$CD/audit.log")"; fail "$n connect events for the direct one, wanted 1"; }
}

# sup_via NAME HOW: under --strict the static client's connect (HOW: get
# blocking, nbget non-blocking) to the world's nginx goes through proxy
# NAME by a via rule: 0 at once also when non-blocking (the handshake is
# done inside the call), getpeername says the destination, the shim's log
# line and audit event, the world sees it from the proxy, and the first
# bytes are the request's.
sup_via() {
	local m n
	m=$(mark)
	: >"$CD/audit.log"
	conf v.conf <<-EOC
	proxy p $(proxy_url "$1")
	via p $W4:80
	EOC
	n=$(pcount "$1" "$W4" 80)
	run pw --strict -v --log "$CD/audit.log" -c v.conf "$SUPC" "$2" "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "rc=0 errno=0"
	# getpeername says the destination, not the proxy
	expect_out_has "peer=$W4:80 len=16"
	expect_out_has "peer_short len=16 byte2=0x00 byte3=0xab"
	expect_out_re 'status=HTTP/1.1 200'
	expect_err_re "^proxywrap: via p \(.*:[0-9]+\): 198\.18\.1\.2:80 in [0-9]+ ms \(.*v\.conf:2 via p 198\.18\.1\.2:80\) \[supervised: pid [0-9]+ $SUPC\]"
	world_saw "$m" "$PW4"
	proxy_saw "$1" "$W4" 80 "$n"
	sup_audit connect via "$W4"
}

tcase sup_via_socks
tc_sup_via_socks() {
	sup_build
	sup_via dante get
	sup_via dante nbget
	# a second connect on the tunnel: the kernel's EISCONN, and the
	# tunnel still carries the request
	sup_via dante twice
	expect_out_has "rc=-1 errno=EISCONN"
}

tcase sup_via_http
tc_sup_via_http() {
	sup_build
	sup_via tiny get
	sup_via tiny nbget
}

# Remote DNS: a name a program with the shim resolved in the session (a
# fake address) and the static client connects to goes to the proxy as
# the name (socks5h, HTTP CONNECT).
tcase sup_via_names
tc_sup_via_names() {
	local m u
	sup_build
	for u in "socks5h://$P4:1080" "$U_TINY"; do
		m=$(mark)
		conf n.conf <<-EOC
		proxy p $u
		via p .world.test
		EOC
		run pw --strict -v -c n.conf sh -c "a=\$(getent ahostsv4 www.world.test | head -n 1 | cut -d' ' -f1); echo addr=\$a; exec '$SUPC' get \$a 80 $m"
		expect_rc 0
		expect_out_has "rc=0 errno=0"
		expect_out_re 'status=HTTP/1.1 200'
		expect_err_re "^proxywrap: via p \(.*\): www\.world\.test:80 in [0-9]+ ms \(.*n\.conf:2 via p \.world\.test\) \[supervised: pid [0-9]+ $SUPC\]"
		world_saw "$m" "$PW4"
	done
}

# A proxy that refuses (nothing listens at its port): the shim's errno and
# failure line, and nothing reaches the world.
tcase sup_via_refused
tc_sup_via_refused() {
	local m
	sup_build
	m=$(mark)
	conf r.conf <<-EOC
	proxy p socks5://$P4:3997
	via p $W4:80
	EOC
	: >"$CD/audit.log"
	run pw --strict --log "$CD/audit.log" -c r.conf "$SUPC" get "$W4" 80 "$m"
	expect_rc 0
	expect_out_has "rc=-1 errno=ECONNREFUSED"
	sup_audit proxy-error via "$W4"
	expect_err_re "^proxywrap: failed 198\.18\.1\.2:80: proxy p \(socks5://198\.18\.0\.1:3997\) unreachable: Connection refused \(.*r\.conf:2 via p 198\.18\.1\.2:80\) \[supervised: pid [0-9]+ $SUPC\]"
	nobody_saw "$m"
}

# An IPv6-only socket and an IPv4 proxy: the engine puts an IPv4 socket
# in its place, which the supervisor installs in the program at the same
# fd number; the program's reads and writes then go through the tunnel.
tcase sup_via_refit
tc_sup_via_refit() {
	local m
	sup_build
	m=$(mark)
	conf f.conf <<-EOC
	proxy p $U_DANTE
	via p *
	EOC
	run pw --strict -v -c f.conf "$SUPC" v6get "$W6" 80 "$m"
	expect_rc 0
	expect_out_has "rc=0 errno=0"
	expect_out_has "peer=$W6:80 len=28"
	expect_out_re 'status=HTTP/1.1 200'
	expect_err_re "via p \(.*\): \[$W6\]:80 in [0-9]+ ms"
	world_saw "$m" "$PW6"
	# an IPv6 address on an IPv4 socket: the kernel's answer, no tunnel
	m=$(mark)
	run inc "$SUPC" famx "$W6" 80 "$m"
	expect_out_has "rc=-1 errno=EAFNOSUPPORT"
	run pw --strict -c f.conf "$SUPC" famx "$W6" 80 "$m"
	expect_out_has "rc=-1 errno=EAFNOSUPPORT"
	# a v4-mapped address on an IPv6-only socket: the same
	run inc "$SUPC" v6get "::ffff:$W4" 80 "$m"
	expect_out_has "rc=-1 errno=ENETUNREACH"
	run pw --strict -c f.conf "$SUPC" v6get "::ffff:$W4" 80 "$m"
	expect_out_has "rc=-1 errno=ENETUNREACH"
	nobody_saw "$m"
}

# A proxy that never answers holds only the connect waiting for it: the
# rest of the tree's calls are answered meanwhile, and the waiting one
# gets the shim's ETIMEDOUT and line at connect_timeout.  A second connect
# on a tunnelled socket is the kernel's EISCONN.
tcase sup_via_slow
tc_sup_via_slow() {
	sup_build
	badproxy silent 18172
	conf s.conf <<-EOC
	connect_timeout 2s
	proxy p socks5://127.0.0.1:18172
	via p $W4:80
	EOC
	run -t 40 pw --strict -c s.conf "$SUPC" slow "$W4" 80 200
	kill "$BADPID" 2>/dev/null || true
	expect_out_re "^meanwhile connects=200 failed=0 "
	expect_out_re "^slow rc=-1 errno=ETIMEDOUT after [0-9]{4,} ms"
	head -n 1 out | grep -q '^meanwhile' || { show; fail "the other connects waited for the slow proxy"; }
	expect_err_re "failed 198\.18\.1\.2:80: proxy p \(socks5://127\.0\.0\.1:18172\): no reply within 2000 ms \(.*s\.conf:3 via p 198\.18\.1\.2:80\) \[supervised: pid [0-9]+ $SUPC\]"
}

# The cost of a supervised via connect against the same through the
# shim: 200 connects through dante each (printed; bounded loosely).
tcase sup_via_cost
tc_sup_via_cost() {
	local sup shim dyn=$TOP/${PW_BUILD:-build}/bin/supclient
	sup_build
	conf c.conf <<-EOC
	proxy p $U_DANTE
	via p $W4:80
	EOC
	shim=$(sup_us pw -q --supervise=off -c c.conf "$dyn" pbench "$W4" 80 200 libc)
	sup=$(sup_us pw -q --strict -c c.conf "$SUPC" pbench "$W4" 80 200)
	say "us per via connect through dante: shim $shim, supervised $sup"
	awk -v a="$shim" -v b="$sup" 'BEGIN { exit !(b - a < 5000) }' ||
	    fail "a supervised via connect costs over 5 ms more than the shim's"
}

# The static Go client (its own calls, a non-blocking connect) through
# both proxies.
tcase sup_via_go
tc_sup_via_go() {
	local m u
	sup_go 0
	for u in "$U_DANTE" "$U_TINY"; do
		m=$(mark)
		conf g.conf <<-EOC
		proxy p $u
		via p $W4:80
		EOC
		run pw --strict -c g.conf "$SUPGO" "$W4:80" "$m"
		expect_rc 0
		expect_out_has "peer=$W4:80"
		expect_out_re 'status=HTTP/1.1 200'
		world_saw "$m" "$PW4"
	done
}

# sup_us CMD...: the microseconds per connect CMD's bench printed.
sup_us() {
	run "$@"
	expect_out_re "failed=0"
	sed -n 's/.*us_per_connect=\([0-9.]*\).*/\1/p' out
}

# The cost of a supervised connect: 2000 loopback connects, plain and
# supervised (the raw call: what a static program pays), and through the
# shim with and without the supervisor (connect(), dynamic build).
# Printed; bounded loosely so that a slow machine passes.
tcase sup_cost
tc_sup_cost() {
	local plain sup shim shimsup dyn=$TOP/${PW_BUILD:-build}/bin/supclient
	sup_build
	plain=$(sup_us inc "$SUPC" bench 2000)
	sup=$(sup_us pw --supervise=all "$SUPC" bench 2000)
	shim=$(sup_us pw --supervise=off "$dyn" bench 2000 libc)
	shimsup=$(sup_us pw --supervise=all "$dyn" bench 2000 libc)
	say "us per connect: plain $plain, supervised $sup; shim $shim, shim supervised $shimsup"
	awk -v p="$plain" -v s="$sup" 'BEGIN { exit !(s - p < 1000) }' ||
	    fail "a supervised connect costs over 1 ms more"
}

# A direct rule by name under --strict: the shim decides curl's connect by
# the name it looked up; the supervisor, which sees the address, looks the
# rule's names up itself and decides the same.
tcase sup_direct_name
tc_sup_direct_name() {
	local m
	need_prog curl
	conf t.conf <<-EOC
	direct web.local.test
	EOC
	m=$(mark)
	run pw --strict -c t.conf curl -4 -sS -m 10 "http://web.local.test:8080$m"
	expect_rc 0
	local_saw "$m" "$C4"
	# a name the rule does not give: still refused
	m=$(mark)
	run pw --strict -c t.conf curl -sS -m 10 "http://$W4$m"
	expect_fail
	nobody_saw "$m"
}

# The address changes under the call (another thread keeps writing the
# local server's address into the sockaddr that holds a loopback one):
# without the supervisor some connects reach the server; under it, what
# it checked is what it connects, so none does and the rest are refused.
tcase sup_race
tc_sup_race() {
	local m
	sup_build
	m=$(mark)
	run -t 30 inc "$SUPC" race "$P4" 8080 "$m" 5000
	expect_out_re "^race connects=5000 loopback=[0-9]+ other=[1-9][0-9]* eacces=0$"
	m=$(mark)
	run -t 30 pw --strict -q "$SUPC" race "$P4" 8080 "$m" 2000
	expect_out_re "^race connects=2000 loopback=[0-9]+ other=0 eacces=[1-9][0-9]*$"
	nobody_saw "$m"
}

# 500 threads connect at the same moment: every one is answered.
tcase sup_threads
tc_sup_threads() {
	sup_build
	run -t 30 pw --strict "$SUPC" threads 500
	expect_out_re "^threads=500 connected=500 "
}

# The same for a sendmsg without a name on a connected UDP socket (to a
# socket of its own at the client's address, which a direct rule allows):
# a name written into the header under the call sends to the local UDP
# echo without the supervisor, never under it.
tcase sup_msgrace
tc_sup_msgrace() {
	local m
	sup_build
	m=$(mark)
	run inc "$SUPC" udp "$P4" 7007 "plain$m"
	expect_out_re "^rc=[1-9][0-9]* errno=0$"
	# the first datagram resolves the neighbour: the race's then arrive
	run -t 30 inc "$SUPC" msgrace "$P4" 7007 "base$m" 20000 "$C4"
	expect_out_re "^msgrace sends=20000 "
	sleep 0.3
	grep -qF "base$m" "$T/log/udp-echo-local.log" ||
	    fail "without the supervisor no datagram went to the echo (the race does not work)"
	m=$(mark)
	conf c.conf <<-EOC
	direct $C4
	EOC
	run -t 30 pw --strict -q -c c.conf "$SUPC" msgrace "$P4" 7007 "sup$m" 3000 "$C4"
	expect_out_re "^msgrace sends=3000 ok=[1-9][0-9]* eacces=[1-9][0-9]*$"
	sleep 0.3
	if grep -qF "sup$m" "$T/log/udp-echo-local.log"; then
		fail "under the supervisor a datagram reached the echo"
	fi
}

# A real Go tool from Debian: etcdctl (a dynamically linked Go binary: the
# shim loads, Go's own system calls do not go through it) puts and gets a
# key in an etcd server in the world namespace through dante, under
# --strict.  Every connect is the supervisor's: the log lines carry the
# tag, and the proxy is the only way there.
tcase sup_go_etcdctl
tc_sup_go_etcdctl() {
	local pid
	command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1 ||
	    fail "etcd or etcdctl missing (tests/deps.sh installs etcd-server and etcd-client)"
	mkdir -p "$T/etcd"
	setsid ip netns exec "$NSW" etcd --name pw --data-dir "$T/etcd/data" \
	    --listen-client-urls "http://$W4:2379" \
	    --advertise-client-urls "http://$W4:2379" \
	    --listen-peer-urls http://127.0.0.1:2380 \
	    --initial-advertise-peer-urls http://127.0.0.1:2380 \
	    --initial-cluster pw=http://127.0.0.1:2380 \
	    >"$T/etcd/out" 2>&1 </dev/null &
	pid=$!
	env_wait_port "$NSW" "$W4" 2379 20 ||
	    { kill "$pid" 2>/dev/null || true; fail "etcd did not start: $(tail -n 3 "$T/etcd/out")"; }
	conf e.conf <<-EOC
	proxy p $U_DANTE
	via p $W4:2379
	EOC
	run -t 60 pw --strict -v -c e.conf etcdctl --dial-timeout=10s \
	    --endpoints="http://$W4:2379" put pwkey pwvalue
	expect_rc 0
	expect_out_has "OK"
	expect_err_re "^proxywrap: via p \(.*\): $W4:2379 in [0-9]+ ms .*\[supervised: pid [0-9]+ .*etcdctl\]"
	run -t 60 pw --strict -c e.conf etcdctl --dial-timeout=10s \
	    --endpoints="http://$W4:2379" get pwkey
	expect_rc 0
	expect_out_has "pwvalue"
	# and without the supervisor the same tool under --strict is refused
	# at exec: the shim cannot follow it
	run -t 60 pw --strict --supervise=off -c e.conf etcdctl \
	    --dial-timeout=3s --endpoints="http://$W4:2379" get pwkey
	expect_rc 126
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# Another Go tool from Debian: rclone copies a directory from an HTTP
# backend (nginx with autoindex on port 8081, in the world namespace)
# through dante (the test's tinyproxy allows CONNECT to a few ports only),
# under --strict; the files arrive whole, every connect is the
# supervisor's.
tcase sup_go_rclone
tc_sup_go_rclone() {
	local d=$T/rcl pid
	command -v rclone >/dev/null 2>&1 ||
	    fail "rclone missing (tests/deps.sh installs it)"
	mkdir -p "$d/tmp" "$d/www/sub" "$d/got"
	head -c 300000 /dev/urandom >"$d/www/blob"
	echo "pw rclone" >"$d/www/sub/note.txt"
	env_nginx_head "$d" "$d/access.log" >"$d/nginx.conf"
	cat >>"$d/nginx.conf" <<-EON
	server {
		listen $W4:8081;
		root $d/www;
		autoindex on;
	}
	}
	EON
	setsid ip netns exec "$NSW" nginx -e "$d/error.log" -p "$d" \
	    -c "$d/nginx.conf" >"$d/nginx.out" 2>&1 </dev/null &
	pid=$!
	env_wait_port "$NSW" "$W4" 8081 10 ||
	    { kill "$pid" 2>/dev/null || true; fail "nginx on 8081 did not start"; }
	conf r.conf <<-EOC
	proxy p $U_DANTE
	via p $W4:8081
	EOC
	run -t 60 pw --strict -v -c r.conf env HOME="$d" rclone copy \
	    --contimeout 10s --http-url "http://$W4:8081/" :http: "$d/got"
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	expect_rc 0
	expect_err_re "^proxywrap: via p \(.*\): $W4:8081 in [0-9]+ ms .*\[supervised: pid [0-9]+ .*rclone\]"
	cmp -s "$d/www/blob" "$d/got/blob" || fail "blob differs after rclone copy"
	cmp -s "$d/www/sub/note.txt" "$d/got/sub/note.txt" ||
	    fail "sub/note.txt differs after rclone copy"
}

# 32-bit programs, static and dynamic (the 64-bit shim cannot load into
# either), by the raw i386 calls and by glibc's socketcall(2), whose
# arguments are 32-bit words in the program's memory: a block rule
# refuses (EACCES, the line, the audit event, nothing seen), a direct one
# connects under --strict, a via one goes through dante (getpeername the
# destination), UDP sends with a name are refused under --strict (sendto,
# sendmsg, sendmmsg: 32-bit headers), two fds pass over AF_UNIX (32-bit
# control messages).
tcase sup_m32
tc_sup_m32() {
	local k v m how msg
	for k in s d; do
		sup_m32_build "$k"
		for v in "" -libc; do
			SUPC=$T/sup/supclient-32$k$v
			say "$SUPC"
			sup_blocked "$SUPC" get "$P4" 8080
			expect_out_has "rc=-1 errno=EACCES"
			sup_direct "$SUPC" get "$P4" 8080
			expect_out_has "peer=$P4:8080 len=16"
			sup_via dante get
			sup_via dante nbget
			m=$(mark)
			for how in udp sendmsg sendmmsg; do
				run pw --strict "$SUPC" "$how" "$P4" 7007 "sup32-$m"
				expect_out_has "rc=-1 errno=EACCES"
				expect_err_re "blocked udp 198\.18\.0\.1:7007 \(no rule matched, strict"
			done
			run pw --strict "$SUPC" scmfd
			expect_out_has "scm data=scm fds=2 via=ok"
		done
	done
	# a direct UDP sendmmsg: both sent, each msg_len written back
	conf u.conf <<-EOC
	direct $P4:7007
	EOC
	msg="sup32-$m"
	run pw --strict -c u.conf "$SUPC" sendmmsg "$P4" 7007 "$msg"
	expect_out_has "rc=2 errno=0"
	expect_out_has "msg_len=${#msg},${#msg}"
	sleep 0.3
	[ "$(grep -cF "sup32-$m" "$T/log/udp-echo-local.log")" = 2 ] ||
	    fail "the UDP echo did not see the two direct datagrams (only them)"
}

# sup_setuid_ids: $T/sup/id-nobody (id, setuid to nobody) and id-plain.
sup_setuid_ids() {
	mkdir -p "$T/sup"
	cp /usr/bin/id "$T/sup/id-plain"
	cp /usr/bin/id "$T/sup/id-nobody.tmp"
	chown nobody "$T/sup/id-nobody.tmp"
	chmod 4755 "$T/sup/id-nobody.tmp"
	mv "$T/sup/id-nobody.tmp" "$T/sup/id-nobody"
	[ "$(inc "$T/sup/id-nobody" -u)" = 65534 ] ||
	    fail "the setuid copy of id does not run as nobody (nosuid?)"
}

# exec is the supervisor's: a program without the shim (static, 64- and
# 32-bit) that execs with the raw call, or with execveat of an O_PATH fd
# (fexecve), is judged as the shim judges: a setuid program is refused
# under --strict (EACCES, the line tagged with the caller, an audit
# event), a static one runs supervised with its line.
tcase sup_exec
tc_sup_exec() {
	local b how
	sup_build
	sup_m32_build s
	sup_setuid_ids
	for b in "$SUPC" "$T/sup/supclient-32s"; do
		for how in exec fexec; do
			: >"$CD/audit.log"
			run pw --strict --log "$CD/audit.log" "$b" "$how" "$T/sup/id-nobody" -u
			expect_out_has "rc=-1 errno=EACCES"
			expect_err_re "^proxywrap: refused exec of $T/sup/id-nobody: setuid: the shim cannot follow it \(strict mode; allow with allow_exec [^)]*\) \[supervised: pid [0-9]+ $b\]"
			grep -q "\"event\":\"exec-refused\".*\"path\":\"$T/sup/id-nobody\"" "$CD/audit.log" ||
			    { say "$(cat "$CD/audit.log")"; fail "no exec-refused event"; }
			run pw --strict -v "$b" "$how" "$SUPC" raw
			expect_out_has "rc=-1 errno=EPERM"
			expect_err_re "^proxywrap: supervised exec of $SUPC: statically linked: the shim cannot follow it, the supervisor does \[supervised: pid [0-9]+ $b\]"
			run pw --strict "$b" "$how" "$T/sup/id-plain" -u
			expect_out_re "^0$"
		done
	done
}

# A symlink flipped between a setuid program and a plain one while a
# shell execs it 300 times: the check before the exec is raced (without
# the supervisor, some runs of the shim's check pass the plain file and
# the kernel runs the setuid one, as nobody).  Supervised, the outcome
# does not depend on the check: each run is refused (the check saw the
# setuid file) or runs, and whatever the kernel ran gained nothing (no
# run is nobody's), under the filter.
tcase sup_exec_race
tc_sup_exec_race() {
	local sw n0 nn nr
	sup_setuid_ids
	ln -sfn "$T/sup/id-plain" "$CD/idflip"
	flip_link "$T/sup/id-plain" "$T/sup/id-nobody" "$CD/idflip" 20
	sw=$FLIP_PID
	run -t 30 pw -q --strict --supervise=off sh -c "for i in \$(seq 300); do '$CD/idflip' -u 2>/dev/null || echo refused; done"
	say "without the supervisor: $(sort out | uniq -c | tr '\n' ' ')"
	run -t 30 pw -q --strict sh -c "for i in \$(seq 300); do '$CD/idflip' -u 2>/dev/null || echo refused; done"
	kill "$sw" 2>/dev/null || true
	wait "$sw" 2>/dev/null || true
	n0=$(grep -cx 0 out || true)
	nn=$(grep -cx 65534 out || true)
	nr=$(grep -cx refused out || true)
	say "supervised: ran $n0, refused $nr, as nobody $nn"
	[ "$nn" = 0 ] || fail "$nn runs gained the setuid user under the supervisor"
	[ "$n0" -gt 0 ] && [ "$nr" -gt 0 ] ||
	    fail "the flip did not show both files (ran $n0, refused $nr)"
	[ $((n0 + nr)) = 300 ] || { show; fail "runs missing: $((n0 + nr)) of 300"; }
}

# The fd changes under the call: another thread keeps switching the fd
# of a sendmsg between a connected TCP socket (to a loopback listener)
# with no name in the header and an unconnected UDP socket with the local
# UDP echo's address in it (dup2, and a write to the header).  Without
# the supervisor datagrams reach the echo; under it every send is made on
# the socket it checked with the header as read, so none does (a check
# followed by a CONTINUE would let the kernel find the UDP socket and the
# name): those it saw as UDP with a name are refused, those it saw as TCP
# go to the listener.
tcase sup_fdswap
tc_sup_fdswap() {
	local m
	sup_build
	m=$(mark)
	run inc "$SUPC" udp "$P4" 7007 "plain$m"
	expect_out_re "^rc=[1-9][0-9]* errno=0$"
	# long enough for both threads to run at once on a loaded machine
	run -t 60 inc "$SUPC" fdswap "$P4" 7007 "base$m" 200000
	expect_out_re "^fdswap sends=200000 "
	sleep 0.3
	grep -qF "base$m" "$T/log/udp-echo-local.log" ||
	    fail "without the supervisor no datagram went to the echo (the race does not work)"
	run -t 60 pw --strict -q "$SUPC" fdswap "$P4" 7007 "sup$m" 3000
	expect_out_re "^fdswap sends=3000 ok=[1-9][0-9]* eacces=[1-9][0-9]* other=[0-9]+$"
	sleep 0.3
	if grep -qF "sup$m" "$T/log/udp-echo-local.log"; then
		fail "under the supervisor a datagram reached the echo"
	fi
}

# AF_UNIX credentials of a send the supervisor makes (as root, as the
# tests run): what the receiver sees (SO_PASSCRED) and what is refused
# are the kernel's for the program, not for root proxywrap: its own
# credentials sent explicitly or none (the kernel attaches the sender's),
# root's claimed, each also after the program dropped to nobody (then a
# claim of root's is EPERM, and no claim shows nobody, not root).
tcase sup_unixcred
tc_sup_unixcred() {
	local how drop
	sup_build
	for drop in "" drop; do
		for how in own none forge; do
			sup_as_kernel "$SUPC" unixcred "$how" $drop
		done
	done
	run pw --strict "$SUPC" unixcred forge drop
	expect_out_has "rc=-1 errno=EPERM"
	run pw --strict "$SUPC" unixcred none drop
	expect_out_has "cred uid=65534 gid=65534 own_pid=1"
}

# A kernel without user notification or pidfd_getfd (made so by
# PROXYWRAP_KERNEL_PROBE=fail): proxywrap says so once, with what strict
# mode does, and behaves as before the supervisor: strict refuses the
# static command (126) and, inside the tree, the shim refuses its exec;
# without strict it runs unrouted with the shim's warning (a block rule
# does not reach it).
tcase sup_oldkernel
tc_sup_oldkernel() {
	local m re='^proxywrap: this kernel has no seccomp user notification or pidfd_getfd \(Linux 5\.9\): the supervisor is off, only the shim routes'
	sup_build
	export PROXYWRAP_KERNEL_PROBE=fail
	m=$(mark)
	run pw --strict "$SUPC" get "$P4" 8080 "$m"
	expect_rc 126
	expect_err_re "$re \(strict mode refuses the programs it cannot follow\)$"
	expect_err_re "refused exec of $SUPC: statically linked: the shim cannot follow it \(strict mode"
	[ "$(grep -c "this kernel has no" err)" = 1 ] || { show; fail "the kernel line is not said once"; }
	run pw --strict sh -c "'$SUPC' get $P4 8080 $m; echo rc=\$?"
	expect_out_has "rc=126"
	expect_err_re "$re \(strict mode"
	expect_err_re "refused exec of $SUPC: statically linked"
	[ "$(grep -c "this kernel has no" err)" = 1 ] || { show; fail "the kernel line is not said once"; }
	nobody_saw "$m"
	conf b.conf <<-EOC
	block $P4:8080
	EOC
	run pw -c b.conf "$SUPC" get "$P4" 8080 "$m"
	expect_rc 0
	expect_out_has "rc=0 errno=0"
	expect_err_re "$re \(the programs it cannot follow run unrouted\)$"
	expect_err_re "exec of $SUPC: statically linked: the shim cannot follow it$"
	[ "$(grep -c "this kernel has no" err)" = 1 ] || { show; fail "the kernel line is not said once"; }
	local_saw "$m" "$C4"
	run pw -q --strict "$SUPC" get "$P4" 8080 "$m"
	expect_rc 126
	if grep -q "this kernel has no" err; then
		fail "-q still says the kernel line"
	fi
	unset PROXYWRAP_KERNEL_PROBE
	# without the hook the same kernel supervises
	run pw --strict "$SUPC" get "$P4" 8080 "$m"
	expect_out_has "rc=-1 errno=EACCES"
}

# A refitted socket keeps its epoll registrations: an IPv6-only socket
# registered with epoll before its connect (as libuv and Java's NIO do)
# goes through dante's IPv4 address, the engine puts an IPv4 socket at its
# fd, and the program's epoll set then holds that one, with its events
# and data, under the same number (MOD and DEL find it).  Go registers
# after connect has returned: its IPv6-only dial ("tcp6") through the
# same proxy works as well.
tcase sup_via_epoll
tc_sup_via_epoll() {
	local m
	sup_build
	sup_go 0
	conf f.conf <<-EOC
	proxy p $U_DANTE
	via p *
	EOC
	m=$(mark)
	run pw --strict -v -c f.conf "$SUPC" epv6get "$W6" 80 "$m"
	expect_rc 0
	expect_out_has "rc=0 errno=0"
	expect_out_has "epoll n=1 out=1 data=0xabc"
	expect_out_has "mod rc=0"
	expect_out_has "epoll in n=1"
	expect_out_re 'status=HTTP/1.1 200'
	expect_out_has "del rc=0"
	expect_err_re "via p \(.*\): \[$W6\]:80 in [0-9]+ ms"
	world_saw "$m" "$PW6"
	m=$(mark)
	run pw --strict -v -c f.conf "$SUPGO" "[$W6]:80" "$m" tcp6
	expect_rc 0
	expect_out_has "peer=[$W6]:80"
	expect_out_re 'status=HTTP/1.1 200'
	expect_err_re "via p \(.*\): \[$W6\]:80 in [0-9]+ ms"
	world_saw "$m" "$PW6"
}

# AF_UNIX names relative to the program's cwd (not proxywrap's), which
# the supervisor's own connect and sends would look up from its own: a
# static program (64- and 32-bit, raw calls and socketcall) in another
# directory connects and sends to its sockets by relative names, and a
# name that is not there is the kernel's ENOENT.
tcase sup_unix_path
tc_sup_unix_path() {
	local b want
	sup_build
	sup_m32_build s
	mkdir -p "$T/sup/udir"
	want=$'rc=0 errno=0\nrc=1 errno=0\nrc=1 errno=0\nrc=-1 errno=ENOENT'
	for b in "$SUPC" "$T/sup/supclient-32s" "$T/sup/supclient-32s-libc"; do
		run inc "$b" unixrel "$T/sup/udir"
		[ "$(cat out)" = "$want" ] || { show; fail "the test itself: $(cat out)"; }
		run pw --strict "$b" unixrel "$T/sup/udir"
		[ "$(cat out)" = "$want" ] || { show; fail "under the supervisor: $(cat out)"; }
	done
}

# What the supervisor does for a program that dropped root (proxywrap
# runs as root, as the tests do) is done with the program's user and
# groups: a local server reads nobody, not root, from its connect
# (SO_PEERCRED), a socket only root may use refuses it (EACCES), and a
# 32-bit program's raw socket (made by the supervisor for socketcall) is
# EPERM; each as the kernel answers the program itself.
tcase sup_dropped
tc_sup_dropped() {
	local b d
	sup_build
	sup_m32_build s
	mkdir -p "$T/sup/pd"
	chmod 755 "$T/sup/pd"
	for b in "$SUPC" "$T/sup/supclient-32s-libc"; do
		for d in "" drop; do
			sup_as_kernel "$b" unixpeer "$T/sup/pd" $d
		done
		run pw --strict "$b" unixpeer "$T/sup/pd" drop
		expect_out_has "peer uid=65534 gid=65534"
		expect_out_re "^rc=-1 errno=EACCES$"
		run pw --supervise=all env SUPCLIENT_DROP=1 "$b" raw
		expect_out_has "rc=-1 errno=EPERM"
	done
}
