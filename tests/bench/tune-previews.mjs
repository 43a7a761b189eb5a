// tests/bench/tune-previews.mjs — previews per second from the Tune bidi RPC
// for one client: connect-node, Connect protocol, binary codec, HTTP/2.
//
//   node tests/bench/tune-previews.mjs --url http://127.0.0.1:8080 \
//        [--image sample-storm] [--width 1280] [--mode seq|drag] [--n 100] \
//        [--duration 5] [--interval 5] [--pipeline blur|gray-blur] [--http 2|1.1] [--pid GPIXD_PID]
//
// First message: image, pipeline (blur σ=2, or grayscale + blur σ=2) and
// previewWidth; its preview (which decodes and scales the source once into
// the session's cache) is waited for and not counted. Then:
//   seq:  N times: send {seq, parameter: "blur.sigma", value}, wait for the
//         preview with that seq. previews/s = N / elapsed; latency = send →
//         that preview received.
//   drag: send a change every --interval ms for --duration s without
//         waiting (a slider being dragged). Each preview names the newest
//         seq it reflects; latency = that seq's send → preview received;
//         lag = newest seq sent at that moment − the preview's seq.
// The value cycles 1.5, 1.6 … 2.5 so the kernel stays the size of σ=2.
// Prints one JSON line with the results, the median server timing fields,
// this client's CPU use and, with --pid, gpixd's CPU over the same time
// (/proc/PID/stat) in total and per preview.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ImageService, TuneRequestSchema } from "../integration/gen/gpix/v1/image_service_pb.js";

const { values: opt } = parseArgs({
	options: {
		url: { type: "string", default: "http://127.0.0.1:8080" },
		image: { type: "string", default: "sample-storm" },
		width: { type: "string", default: "1280" },
		mode: { type: "string", default: "seq" },
		n: { type: "string", default: "100" },
		duration: { type: "string", default: "5" },
		interval: { type: "string", default: "5" },
		pipeline: { type: "string", default: "blur" },
		pid: { type: "string", default: "" },
		http: { type: "string", default: "2" },
	},
});
const width = Number(opt.width);
const sigma = (i) => 1.5 + (i % 11) / 10;
const blur = { name: "blur", params: { sigma: { kind: { case: "numberValue", value: 2 } } } };
const filters = opt.pipeline === "gray-blur" ? [{ name: "grayscale", params: {} }, blur] : [blur];

function pct(v, p) {
	if (!v.length) return null;
	const s = [...v].sort((a, b) => a - b);
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

// A push-driven request stream.
function pushable() {
	const items = [];
	let wake;
	let ended = false;
	return {
		push(x) {
			items.push(x);
			wake?.();
		},
		end() {
			ended = true;
			wake?.();
		},
		async *[Symbol.asyncIterator]() {
			for (;;) {
				if (items.length) yield items.shift();
				else if (ended) return;
				else await new Promise((r) => (wake = r)), (wake = undefined);
			}
		},
	};
}

const transport = createConnectTransport({ baseUrl: opt.url, httpVersion: opt.http, useBinaryFormat: true });
const client = createClient(ImageService, transport);
const req = pushable();
const responses = client.tune(req)[Symbol.asyncIterator]();
const sentAt = new Map();
let lastSent = 0;
function send(seq, fields) {
	sentAt.set(seq, performance.now());
	lastSent = seq;
	req.push(create(TuneRequestSchema, { seq, ...fields }));
}
async function next() {
	const r = await responses.next();
	if (r.done) throw new Error("Tune stream ended early");
	return r.value;
}

const timings = { queueMs: [], decodeMs: [], filterMs: [], encodeMs: [], totalMs: [] };
const lat = [];
const lags = [];
let bytes = 0;
let shape = "";
function record(r, now) {
	lat.push(now - sentAt.get(r.seq));
	lags.push(lastSent - r.seq);
	bytes += r.previewChunk.length;
	shape = `${r.width}x${r.height}`;
	for (const k of Object.keys(timings)) timings[k].push(r.timing?.[k] ?? 0);
}

// Warm-up: the first preview decodes the source.
send(1, { imageId: opt.image, filters, previewWidth: width });
for (let r = await next(); r.seq !== 1; r = await next());

let seq = 1;
let count = 0;
let elapsed;
const cpu0 = process.cpuUsage();
const srv0 = serverCpuMs();
const t0 = performance.now();
if (opt.mode === "seq") {
	const n = Number(opt.n);
	for (let i = 0; i < n; i++) {
		seq++;
		send(seq, { parameter: "blur.sigma", value: sigma(i) });
		let r;
		do r = await next();
		while (r.seq !== seq);
		record(r, performance.now());
		count++;
	}
	elapsed = performance.now() - t0;
} else {
	// The reader runs beside the sender. When the window closes the sender
	// sends one last change; its preview (not counted) ends the loop.
	const until = t0 + Number(opt.duration) * 1000;
	let i = 0;
	let newest = 1; // newest seq a preview reflected
	let done = false;
	const timer = setInterval(() => {
		seq++;
		send(seq, { parameter: "blur.sigma", value: sigma(i++) });
		if (performance.now() >= until) {
			clearInterval(timer);
			done = true;
		}
	}, Number(opt.interval));
	while (!done || newest < seq) {
		const r = await next();
		newest = r.seq;
		const now = performance.now();
		if (r.seq > 1 && now < until) {
			record(r, now);
			count++;
		}
	}
	elapsed = until - t0;
}
const cpu = process.cpuUsage(cpu0);
const srv1 = serverCpuMs();
const wallMs = performance.now() - t0;
req.end();
// Drain so the server ends the call cleanly.
for (;;) {
	const r = await responses.next().catch(() => ({ done: true }));
	if (r.done) break;
}

const med = {};
for (const [k, v] of Object.entries(timings)) med[k] = r2(pct(v, 50));
console.log(
	JSON.stringify({
		mode: opt.mode,
		pipeline: opt.pipeline,
		width,
		preview: shape,
		previews: count,
		sent: seq - 1,
		seconds: r2(elapsed / 1000),
		previewsPerSec: r2((count * 1000) / elapsed),
		p50: r2(pct(lat, 50)),
		p95: r2(pct(lat, 95)),
		lagP50: pct(lags, 50),
		lagP95: pct(lags, 95),
		kbPerPreview: r2(bytes / 1024 / Math.max(1, count)),
		clientCpuPct: r2(((cpu.user + cpu.system) / 1e3 / wallMs) * 100),
		serverCpuPct: srv0 == null ? null : r2(((srv1 - srv0) / wallMs) * 100),
		serverCpuMsPerPreview: srv0 == null || !count ? null : r2((srv1 - srv0) / count),
		timing: med,
	}),
);
