// tests/bench/ws-previews.mjs — live previews over the WebSocket (GET /ws):
// N clients (Node's global WebSocket) each drag a slider at the same time.
//
//   node tests/bench/ws-previews.mjs --url ws://127.0.0.1:8080/ws \
//        [--clients 1] [--width 1280] [--duration 5] [--interval 5] \
//        [--image sample-storm] [--pipeline blur|gray-blur] [--pid GPIXD_PID]
//
// Each client opens /ws and sends
//   {"type":"tune","seq":1,"imageId":IMAGE,"filters":[PIPELINE],"previewWidth":W}
// and waits for that preview (the server decodes and scales the source once
// into the session; not counted). When every client is ready, all of them
// send {"type":"tune","seq":n,"parameter":"blur.sigma","value":x} every
// --interval ms for --duration s without waiting (x cycles 1.5 … 2.5, so the
// kernel stays the size of σ=2). The server answers each rendered preview
// with a text "preview" (seq, timing, …) and then the binary JPEG; stale
// requests are skipped (latest wins).
//
// latency = send of the seq a preview names → its binary message received.
// lag = newest seq sent at that moment − the preview's seq.
// previews/s per client = previews received in the window / window.
// One timer drives every client (one tick sends one change per client).
// Prints one JSON line: totals, per-client medians, latency percentiles over
// all previews, the median server timing fields, the client's own CPU use
// (this process shares the machine with gpixd) and, with --pid, gpixd's CPU
// over the window (/proc/PID/stat) in total and per preview received.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
	options: {
		url: { type: "string", default: "ws://127.0.0.1:8080/ws" },
		clients: { type: "string", default: "1" },
		width: { type: "string", default: "1280" },
		duration: { type: "string", default: "5" },
		interval: { type: "string", default: "5" },
		image: { type: "string", default: "sample-storm" },
		pipeline: { type: "string", default: "blur" },
		pid: { type: "string", default: "" },
	},
});
const nclients = Number(opt.clients);
const width = Number(opt.width);
const blur = { name: "blur", params: { sigma: 2 } };
const filters = opt.pipeline === "gray-blur" ? [{ name: "grayscale" }, blur] : [blur];
const sigma = (i) => +(1.5 + (i % 11) / 10).toFixed(1);

function pct(v, p) {
	if (!v.length) return null;
	const s = Float64Array.from(v).sort();
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
const r2 = (x) => (x == null ? null : +x.toFixed(2));
// CPU time (ms) of the server process --pid so far (utime + stime).
const TCK = 100; // USER_HZ on Linux
function serverCpuMs() {
	if (!opt.pid) return null;
	try {
		const f = readFileSync(`/proc/${opt.pid}/stat`, "utf8");
		const v = f.slice(f.lastIndexOf(")") + 2).split(" ");
		return ((Number(v[11]) + Number(v[12])) * 1000) / TCK;
	} catch {
		return null;
	}
}

let windowStart = 0;
let windowEnd = Infinity;
const lat = [];
const lags = [];
const timings = { queueMs: [], decodeMs: [], filterMs: [], encodeMs: [], totalMs: [] };
let errors = 0;
let bytes = 0;
let shape = "";

function client(id) {
	const c = { id, seq: 0, sentAt: new Map(), pending: null, count: 0, newest: 0, ready: null, drained: null };
	const ws = new WebSocket(opt.url);
	ws.binaryType = "arraybuffer";
	c.ws = ws;
	let readyResolve;
	let drainResolve;
	c.ready = new Promise((res, rej) => {
		readyResolve = res;
		ws.addEventListener("error", () => rej(new Error(`client ${id}: WebSocket error`)));
	});
	c.drained = new Promise((res) => (drainResolve = res));
	c.send = (msg) => {
		c.seq++;
		c.sentAt.set(c.seq, performance.now());
		ws.send(JSON.stringify({ type: "tune", seq: c.seq, ...msg }));
	};
	ws.addEventListener("open", () => c.send({ imageId: opt.image, filters, previewWidth: width }));
	ws.addEventListener("message", (ev) => {
		const now = performance.now();
		if (typeof ev.data === "string") {
			const m = JSON.parse(ev.data);
			if (m.type === "preview") c.pending = m;
			else if (m.type === "error") {
				errors++;
				if (errors <= 5) console.error(`client ${id}: error`, ev.data);
			}
			return;
		}
		const m = c.pending;
		c.pending = null;
		if (!m) return;
		c.newest = m.seq;
		if (m.seq === 1) return readyResolve();
		if (now >= windowStart && now < windowEnd) {
			lat.push(now - c.sentAt.get(m.seq));
			lags.push(c.seq - m.seq);
			c.count++;
			bytes += ev.data.byteLength;
			shape = `${m.width}x${m.height}`;
			for (const k of Object.keys(timings)) timings[k].push(m.timing?.[k] ?? 0);
		}
		if (c.final && m.seq === c.seq) drainResolve();
	});
	return c;
}

const clients = [];
for (let i = 0; i < nclients; i++) clients.push(client(i));
await Promise.all(clients.map((c) => c.ready));

const cpu0 = process.cpuUsage();
const srv0 = serverCpuMs();
windowStart = performance.now();
windowEnd = windowStart + Number(opt.duration) * 1000;
let tick = 0;
await new Promise((resolve) => {
	const timer = setInterval(() => {
		const now = performance.now();
		const v = sigma(tick++);
		for (const c of clients) c.send({ parameter: "blur.sigma", value: v });
		if (now >= windowEnd) {
			// That last change's preview comes after the window: not counted,
			// but waited for so every session ends clean.
			for (const c of clients) c.final = true;
			clearInterval(timer);
			resolve();
		}
	}, Number(opt.interval));
});
const cpu = process.cpuUsage(cpu0);
const srv1 = serverCpuMs();
const windowMs = performance.now() - windowStart;
await Promise.race([Promise.all(clients.map((c) => c.drained)), new Promise((r) => setTimeout(r, 10000))]);
for (const c of clients) c.ws.close(1000);

const secs = (windowEnd - windowStart) / 1000;
const per = clients.map((c) => c.count / secs);
const med = {};
for (const [k, v] of Object.entries(timings)) med[k] = r2(pct(v, 50));
console.log(
	JSON.stringify({
		clients: nclients,
		width,
		pipeline: opt.pipeline,
		preview: shape,
		seconds: secs,
		sentPerClientPerSec: r2(tick / secs),
		previews: lat.length,
		previewsPerSec: r2(lat.length / secs),
		perClientP50: r2(pct(per, 50)),
		perClientMin: r2(Math.min(...per)),
		p50: r2(pct(lat, 50)),
		p95: r2(pct(lat, 95)),
		p99: r2(pct(lat, 99)),
		lagP50: pct(lags, 50),
		lagP95: pct(lags, 95),
		kbPerPreview: r2(bytes / 1024 / Math.max(1, lat.length)),
		errors,
		clientCpuPct: r2(((cpu.user + cpu.system) / 1e3 / windowMs) * 100),
		serverCpuPct: srv0 == null ? null : r2(((srv1 - srv0) / windowMs) * 100),
		serverCpuMsPerPreview: srv0 == null || !lat.length ? null : r2((srv1 - srv0) / lat.length),
		timing: med,
	}),
);
process.exit(0);
