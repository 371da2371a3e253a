# bench/lib.sh - sourced by the benches (bash): a run's temp dir and its
# daemons, and dante's configuration for the benches that relay through it
# on loopback.

# bench_tmp NAME: $T, the run's temp dir (mode 755: the proxies run as
# nobody), and $pids, the daemons started for it; bench_reap ends them.
bench_tmp() {
	T=$(mktemp -d "/tmp/$1.XXXXXX") || exit 1
	chmod 755 "$T"
	pids=()
}

# bench_reap: every daemon of the run ends, within 5 s or killed; those
# that went into the background by themselves by their pid files in $T.
bench_reap() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null ||
		    kill -9 "$p" 2>/dev/null
	done
	for p in "$T"/*.pid; do
		[ -s "$p" ] && kill "$(cat "$p")" 2>/dev/null
	done
	return 0
}

# bench_wait_port HOST PORT: returns once HOST:PORT takes a connection;
# the bench ends with a line if that does not happen within 10 s.
bench_wait_port() {
	local i
	for i in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('$1', $2), 0.2)" \
		    2>/dev/null && return 0
		sleep 0.1
	done
	echo "bench: $1:$2 did not come up" >&2
	exit 1
}

# bench_dante_conf FILE LOG PORT [METHOD [EXTERNAL [udp]]] writes dante's
# configuration: on 127.0.0.1:PORT, authentication METHOD (default none),
# connecting out from EXTERNAL (default 127.0.0.4, so the server can tell
# its connections) to 127.0.0.2 only; with udp, UDP ASSOCIATE too.
bench_dante_conf() {
	local cmd=connect reply=
	if [ "${6:-}" = udp ]; then
		cmd="connect udpassociate"
		reply="socks pass {
	from: 127.0.0.2/32 to: 127.0.0.0/8
	command: udpreply
	log: error
}"
	fi
	cat >"$1" <<EOC
logoutput: $2
internal: 127.0.0.1 port = $3
external: ${5:-127.0.0.4}
socksmethod: ${4:-none}
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 127.0.0.0/8 to: 0.0.0.0/0
	log: error
}
socks pass {
	from: 127.0.0.0/8 to: 127.0.0.2/32
	command: $cmd
	log: error
}
${reply}
EOC
}
