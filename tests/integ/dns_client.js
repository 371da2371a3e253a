// Name-resolution client for t_dns.sh, run with node under the shim.
// Usage: node dns_client.js NAME PORT PATH [RESOLVE4NAME]
// dns.lookup(NAME) (all families), then http.get http://NAME:PORT/PATH;
// with RESOLVE4NAME, also dns.resolve4 (node's own c-ares) for it first.
'use strict';
const dns = require('dns');
const http = require('http');
const [name, port, path, r4] = process.argv.slice(2);

function lookupAndGet() {
	dns.lookup(name, { all: true }, (err, addrs) => {
		if (err) {
			console.log('LOOKUPERR ' + err.code);
			process.exit(4);
		}
		for (const a of addrs)
			console.log('LOOKUP ' + a.family + ' ' + a.address);
		const req = http.get({ host: name, port: +port, path: path,
			timeout: 15000 }, (res) => {
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => {
				console.log('STATUS ' + res.statusCode);
				process.stdout.write(body);
			});
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', (e) => {
			console.log('HTTPERR ' + e.message);
			process.exit(5);
		});
	});
}

if (r4) {
	dns.resolve4(r4, (err, addrs) => {
		if (err) {
			console.log('RESOLVE4ERR ' + err.code);
			process.exit(6);
		}
		console.log('RESOLVE4 ' + addrs.join(','));
		lookupAndGet();
	});
} else {
	lookupAndGet();
}
