# t_readiness.sh - the readiness contract: a pending tunnel looks to the
# program exactly like a kernel TCP connect in progress.  The same C
# program (tests/bin/readiness.c) runs once against the kernel (a direct
# connect to a server in the proxy namespace) and once through the shim,
# for a reachable, a refused, an unreachable (timeout) and a slow
# destination; the step-by-step outputs must be identical.

RDY=$TOP/${PW_BUILD:-build}/bin/readiness

# rdy_diff NAME: compare out of the direct run (saved as NAME.kernel)
# with out of the shim run.
rdy_kernel() {
	[ -x "$RDY" ] || fail "no $RDY (make testbins)"
	run -t 20 inc "$RDY" "$@"
	expect_rc 0
	cp out kernel.out
	cp err kernel.err
}

rdy_shim() {
	run -t 20 "$@"
	expect_rc 0
	if ! diff -u kernel.out out >diff.out; then
		say "kernel (-) and shim (+) differ:"
		sed 's/^/#   /' diff.out >&2
		say "stderr of the shim run:"
		sed 's/^/#   /' err >&2
		fail "the shim's answers are not the kernel's"
	fi
}

tcase readiness_ok smoke
tc_readiness_ok() {
	local name
	rdy_kernel ok "$P4" 8080
	expect_out_has "end answer: HTTP/1.1"
	for name in dante tiny squid; do
		rdy_shim pw -p "$(proxy_url "$name")" "$RDY" ok "$W4" 80
	done
}

tcase readiness_refused smoke
tc_readiness_refused() {
	rdy_kernel refused "$P4" 9
	expect_out_has "end SO_ERROR: ECONNREFUSED"
	rdy_shim pw -p "$U_DANTE" "$RDY" refused "$W4" 9
}

# slowaccept_start NS ADDR PORT HOLD_MS: a server with a full accept
# queue (slowaccept.py) in NS, for HOLD_MS (-1: for good); its pid joins
# SLOW_PIDS, for slowaccept_stop.
SLOW_PIDS=()
slowaccept_start() {
	local i out=slow-$1-$3.out
	ip netns exec "$1" "$PY" "$PW_INTEG_DIR/slowaccept.py" "$2" "$3" 20 \
	    "$4" >"$out" 2>&1 &
	SLOW_PIDS+=($!)
	for i in $(seq 1 50); do
		grep -q ready "$out" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "slowaccept on $2:$3 did not start"
}

slowaccept_stop() {
	kill "${SLOW_PIDS[@]}" 2>/dev/null || true
	wait "${SLOW_PIDS[@]}" 2>/dev/null || true
	SLOW_PIDS=()
}

# A connect that never completes: the kernel's own (a full accept queue
# in the proxy namespace) and the proxy's (one in the world, on a port
# tinyproxy may CONNECT to); the program's own 1 s timeout must end the
# wait.
tcase readiness_timeout
tc_readiness_timeout() {
	slowaccept_start "$NSP" "$P4" 8098 -1
	slowaccept_start "$NSW" "$WB4" 81 -1
	rdy_kernel timeout "$P4" 8098
	expect_out_has "pending poll on time: yes"
	expect_out_has "pending connect again: -1 EALREADY"
	rdy_shim pw -p "$U_DANTE" "$RDY" timeout "$WB4" 81
	rdy_shim pw -p "$U_TINY" "$RDY" timeout "$WB4" 81
	slowaccept_stop
}

# The kernel's slow connect: a server whose accept queue is full drops the
# first SYN (slowaccept.py).  The shim's: a SOCKS5 proxy that takes 1 s per
# reply (badproxy.py slow), which then answers HTTP itself.
tcase readiness_slow
tc_readiness_slow() {
	slowaccept_start "$NSP" "$P4" 8099 600
	rdy_kernel slow "$P4" 8099
	expect_out_has "end answer: HTTP/1.0"
	badproxy slow 18087
	rdy_shim pw -p socks5://127.0.0.1:18087 "$RDY" slow "$W4" 80
	kill "$BADPID" 2>/dev/null
	slowaccept_stop
}

# A copy of a socket whose handshake is under way (os.dup, as a program
# handing the socket on does) waits for that handshake and then carries
# the bytes; closing the original first leaves the copy ECONNABORTED.
tcase readiness_dup_pending
tc_readiness_dup_pending() {
	badproxy slow 18088
	run -t 20 pw -p socks5://127.0.0.1:18088 "$PY" -c '
import errno, os, socket, sys
s = socket.socket(); s.setblocking(False)
s.connect_ex((sys.argv[1], 80))
c = socket.socket(fileno=os.dup(s.fileno())); c.setblocking(True)
c.settimeout(10)
c.sendall(b"GET / HTTP/1.0\r\n\r\n")
print("copy got", c.recv(64).split(b"\r\n")[0].decode())
t = socket.socket(); t.setblocking(False)
t.connect_ex((sys.argv[1], 80))
u = socket.socket(fileno=os.dup(t.fileno())); t.close()
try:
    u.setblocking(True); u.sendall(b"x"); print("no error")
except OSError as e:
    print("copy of a closed original:", errno.errorcode[e.errno])
' "$W4"
	kill "$BADPID" 2>/dev/null || true
	expect_rc 0
	expect_out_has "copy got HTTP/1.0 200 OK"
	expect_out_has "copy of a closed original: ECONNABORTED"
}

# A thread that waited in poll on a pending tunnel has its own eventfd,
# the library's; once the thread ends, that fd number is the program's
# again (closing a file put there must work).
tcase readiness_waiter_fd_freed
tc_readiness_waiter_fd_freed() {
	badproxy slow 18089
	run -t 20 pw -p socks5://127.0.0.1:18089 "$PY" -c '
import fcntl, os, select, socket, sys, threading, time
def eventfds():
    found = set()
    for n in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + n) == "anon_inode:[eventfd]":
                found.add(int(n))
        except OSError:
            pass    # the fd of the listing itself
    return found
s = socket.socket(); s.setblocking(False)
s.connect_ex((sys.argv[1], 80))
before = eventfds()
seen = []
def waiter():
    p = select.poll(); p.register(s, select.POLLOUT); p.poll(100)
    seen.extend(eventfds() - before)
t = threading.Thread(target=waiter); t.start(); t.join()
print("waiter eventfds:", len(seen))
# join() returns when Python is done with the thread; the thread-exit
# destructors that give the eventfd back run just after: up to 2 s
for _ in range(200):
    if not (eventfds() & set(seen)):
        break
    time.sleep(0.01)
f = os.open("/dev/null", os.O_RDONLY)
for n in seen:
    got = fcntl.fcntl(f, fcntl.F_DUPFD, n)
    os.close(got)
    print("closed the old number" if got == n else "got another number")
' "$W4"
	kill "$BADPID" 2>/dev/null || true
	expect_rc 0
	expect_out_has "waiter eventfds: 1"
	expect_out_has "closed the old number"
}
