// bench/nodegap.js HOST PORT N: node's event loop while N connections are
// in flight.  A 10 ms interval timer runs; N net.connect() calls are issued
// in one synchronous burst; each connection sends "GET /0" and reads to
// the end.  Prints, as key=value:
//   burst_ms  how long the N net.connect() calls took, with the connect()
//             system calls node makes for them on its next tick (the loop
//             saw that as a stall too: no timer can fire inside it)
//   gap_ms    the largest interval between two timer ticks from then
//             until the last connection closed, and at least WINDOW ms
//             (300; the first interval counts from the end of the burst);
//             10 ms is a loop that never stalled
//   gap_at_ms when that interval ended, counted from the end of the burst
//   ticks     how many ticks fell in that window
//   total_ms  from the start of the burst until the last close
//   ok, fail  connections that got the page, and the others
// Exits after 60 s whatever happens (bounded).
'use strict';
const net = require('net');

const [host, portArg, nArg] = process.argv.slice(2);
const port = Number(portArg), n = Number(nArg);
const now = () => Number(process.hrtime.bigint()) / 1e6;	// ms

let ticks = [], open = n, ok = 0, fail = 0, burstEnd = 0;
const iv = setInterval(() => { ticks.push(now()); }, 10);
const guard = setTimeout(() => finish(), 60000);

function finish() {
	const end = now();
	clearInterval(iv);
	clearTimeout(guard);
	let gap = 0, at = 0, prev = burstEnd, k = 0;
	for (const t of ticks.concat([end])) {
		if (t < burstEnd)
			continue;
		if (t - prev > gap) {
			gap = t - prev;
			at = t - burstEnd;
		}
		prev = t;
		k++;
	}
	console.log(`burst_ms=${(burstEnd - t0).toFixed(2)} ` +
	    `gap_ms=${gap.toFixed(1)} gap_at_ms=${at.toFixed(0)} ticks=${k - 1} ` +
	    `total_ms=${(end - t0).toFixed(0)} ok=${ok} fail=${fail}`);
	process.exit(0);
}

// The same window for every case, so a fast one (direct) shows the loop's
// own jitter on this host over as many ticks.
const WINDOW = 300;
function done(good) {
	if (good) ok++; else fail++;
	if (--open > 0)
		return;
	const left = burstEnd + WINDOW - now();
	if (left > 0)
		setTimeout(finish, left);
	else
		finish();
}

// Let the timer run for a while first, so the loop is warm.
let t0 = 0;
setTimeout(() => {
	t0 = now();
	for (let i = 0; i < n; i++) {
		const s = net.connect({ host, port });
		let got = '', settled = false;
		const end = (good) => { if (!settled) { settled = true; done(good); } };
		s.on('connect', () => s.write('GET /0 HTTP/1.0\r\n\r\n'));
		s.on('data', (d) => { got += d; });
		s.on('end', () => end(got.endsWith('hello\n')));
		s.on('error', () => end(false));
		s.on('close', () => end(got.endsWith('hello\n')));
	}
	// net.connect() to an address makes its connect() call on the next
	// tick: this one runs after those.
	process.nextTick(() => { burstEnd = now(); });
}, 200);
