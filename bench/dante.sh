# bench/dante.sh - sourced by the benches that relay through dante on
# loopback: bench_dante_conf FILE LOG PORT writes its configuration, dante
# on 127.0.0.1:PORT with no authentication, connecting out from 127.0.0.4
# (so the server can tell its connections) to 127.0.0.2 only.
bench_dante_conf() {
	cat >"$1" <<EOC
logoutput: $2
internal: 127.0.0.1 port = $3
external: 127.0.0.4
socksmethod: none
clientmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 127.0.0.0/8 to: 0.0.0.0/0
	log: error
}
socks pass {
	from: 127.0.0.0/8 to: 127.0.0.2/32
	command: connect
	log: error
}
EOC
}
