// node_live.js MODE HOST PATH STUCK - node's event loop keeps running while
// connects through the proxy are pending.  A 10 ms interval timer records
// its largest gap; five connects to STUCK (a destination the proxy cannot
// reach: they stay pending for seconds) run alongside one request to
// HOST PATH.  MODE net: net.connect and a hand-written GET; MODE fetch:
// fetch(), and one fetch to STUCK aborted after 1 s (its own timeout).
// Prints BODY ..., GAP ms, and for fetch ABORT ms; exits after 1.5 s,
// while the stuck connects are still pending: 0 if HOST answered, else 3.
"use strict";
const net = require("net");
const [mode, host, path, stuck] = process.argv.slice(2);
const t0 = Date.now();
let last = t0, gap = 0, got = false;
const iv = setInterval(() => {
	const n = Date.now();
	if (n - last > gap)
		gap = n - last;
	last = n;
}, 10);
const pend = [];
for (let i = 0; i < 5; i++) {
	const p = net.connect({host: stuck, port: 80});
	p.on("error", (e) => console.log("STUCKERR", e.code));
	pend.push(p);
}
if (mode === "net") {
	const s = net.connect({host: host, port: 80}, () =>
	    s.write(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`));
	let b = "";
	s.on("data", (d) => b += d);
	s.on("error", (e) => console.log("ERR", e.code));
	s.on("close", () => {
		const body = b.split("\r\n\r\n")[1];
		got = body !== undefined;
		console.log("BODY", got ? body.trim() : "(none)");
	});
} else {
	fetch(`http://${host}${path}`).then((r) => r.text())
	    .then((t) => { got = true; console.log("BODY", t.trim()); })
	    .catch((e) => console.log("ERR", e.cause ? e.cause.code : e.name));
	fetch(`http://${stuck}/`, {signal: AbortSignal.timeout(1000)})
	    .then(() => console.log("STUCK ANSWERED"))
	    .catch((e) => console.log("ABORT", Date.now() - t0, e.name));
}
setTimeout(() => {
	const n = Date.now();
	if (n - last > gap)
		gap = n - last;
	console.log("GAP", gap);
	clearInterval(iv);
	pend.forEach((p) => p.destroy());
	process.exit(got ? 0 : 3);
}, 1500);
