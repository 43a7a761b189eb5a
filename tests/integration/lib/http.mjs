// HTTP helpers for the tests: one request over HTTP/1.1 or HTTP/2 (prior
// knowledge), curl as a child process, and raw TCP exchanges for the cases no
// well-behaved client can send.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * One request. opts: method, path, headers, body (string|Buffer),
 * httpVersion "1.1" (default) or "2", timeoutMs.
 * Resolves { status, headers (lower-case names), body: Buffer, text(), json() }.
 */
export function request(baseUrl, opts = {}) {
	return (opts.httpVersion === "2" ? request2 : request1)(baseUrl, opts);
}

function result(status, headers, body) {
	return {
		status,
		headers,
		body,
		text: () => body.toString("utf8"),
		json: () => JSON.parse(body.toString("utf8")),
	};
}

function request1(baseUrl, { method = "GET", path = "/", headers = {}, body, timeoutMs = 10000 }) {
	return new Promise((ok, fail) => {
		const url = new URL(path, baseUrl);
		let answered = false;
		// A server may answer before it read the whole body (413) and close: the
		// answer counts even when writing the rest of the body then fails.
		const req = http.request(url, { method, headers, agent: false }, (res) => {
			answered = true;
			const chunks = [];
			const done = () => ok(result(res.statusCode, res.headers, Buffer.concat(chunks)));
			res.on("data", (c) => chunks.push(c));
			res.on("end", done);
			res.on("close", done);
			res.on("error", done);
		});
		req.setTimeout(timeoutMs, () => req.destroy(new Error(`HTTP/1.1 ${method} ${path}: no answer in ${timeoutMs} ms`)));
		req.on("error", (e) => {
			if (!answered) fail(e);
		});
		req.end(body);
	});
}

function request2(baseUrl, { method = "GET", path = "/", headers = {}, body, timeoutMs = 10000 }) {
	return new Promise((ok, fail) => {
		const session = http2.connect(baseUrl);
		let status = 0;
		let resHeaders = {};
		const chunks = [];
		session.on("error", (e) => {
			if (status) ok(result(status, resHeaders, Buffer.concat(chunks)));
			else fail(e);
		});
		const req = session.request({ ":method": method, ":path": path, ...headers });
		const timer = setTimeout(() => {
			session.destroy();
			fail(new Error(`HTTP/2 ${method} ${path}: no answer in ${timeoutMs} ms`));
		}, timeoutMs);
		req.on("response", (h) => {
			status = h[":status"];
			resHeaders = Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(":")));
		});
		req.on("data", (c) => chunks.push(c));
		req.on("end", () => {
			clearTimeout(timer);
			session.close();
			ok(result(status, resHeaders, Buffer.concat(chunks)));
		});
		req.on("error", (e) => {
			clearTimeout(timer);
			session.destroy();
			// an answer followed by a reset (e.g. 413 before the whole body) counts
			if (status) ok(result(status, resHeaders, Buffer.concat(chunks)));
			else fail(e);
		});
		req.on("close", () => {
			clearTimeout(timer);
			session.close();
			if (status) ok(result(status, resHeaders, Buffer.concat(chunks)));
			else fail(new Error(`HTTP/2 ${method} ${path}: stream closed without an answer (code ${req.rstCode})`));
		});
		req.end(body);
	});
}

/**
 * Runs curl (-sS) against the server. args: curl's arguments besides the
 * ones that capture the answer. Resolves { status, httpVersion, headers,
 * body, exitCode, stderr }.
 */
export async function curl(args, { timeoutMs = 15000, input } = {}) {
	const dir = mkdtempSync(join(tmpdir(), "gpix-curl-"));
	try {
		const hdr = join(dir, "headers");
		const out = join(dir, "body");
		let bodyFileArgs = [];
		if (input !== undefined) {
			writeFileSync(join(dir, "input"), input);
			bodyFileArgs = ["--data-binary", `@${join(dir, "input")}`];
		}
		const full = [
			"-sS", "--max-time", String(Math.ceil(timeoutMs / 1000)),
			"-D", hdr, "-o", out, "-w", "%{http_code} %{http_version}",
			...bodyFileArgs, ...args,
		];
		const { code, stdout, stderr } = await run("curl", full, timeoutMs + 5000);
		const [status, httpVersion] = stdout.trim().split(" ");
		let headers = {};
		let body = Buffer.alloc(0);
		try {
			headers = parseHeaderBlock(readFileSync(hdr, "latin1"));
			body = readFileSync(out);
		} catch {
			// no answer: status stays "000"
		}
		return { ...result(Number(status), headers, body), httpVersion, exitCode: code, stderr };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

function run(cmd, args, timeoutMs) {
	return new Promise((ok, fail) => {
		const p = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		p.stdout.on("data", (d) => (stdout += d));
		p.stderr.on("data", (d) => (stderr += d));
		const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
		p.on("error", fail);
		p.on("close", (code) => {
			clearTimeout(timer);
			ok({ code, stdout, stderr });
		});
	});
}

/** Headers of the LAST response in a curl -D dump (after any 100 Continue). */
function parseHeaderBlock(text) {
	const blocks = text.split(/\r?\n\r?\n/).filter((b) => b.trim());
	const last = blocks.at(-1) ?? "";
	const headers = {};
	for (const line of last.split(/\r?\n/).slice(1)) {
		const i = line.indexOf(":");
		if (i <= 0) continue;
		const k = line.slice(0, i).trim().toLowerCase();
		const v = line.slice(i + 1).trim();
		headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
	}
	return headers;
}

/**
 * Raw TCP: connect, write `chunks` (Buffers/strings, written in order), then
 * either end the write side (`end: true`), destroy the socket (`destroy:
 * true`), or keep it open, and collect what comes back until the server
 * closes or `timeoutMs` passes.
 * Resolves { data: Buffer, closed: boolean (server closed or reset),
 * timedOut: boolean, error }.
 */
export function rawExchange(port, chunks, { timeoutMs = 3000, end = false, destroy = false, until } = {}) {
	return new Promise((ok) => {
		const sock = net.connect({ port, host: "127.0.0.1" });
		const got = [];
		let done = false;
		const finish = (closed, timedOut, error) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			sock.destroy();
			ok({ data: Buffer.concat(got), closed, timedOut, error });
		};
		const timer = setTimeout(() => finish(false, true), timeoutMs);
		sock.on("connect", () => {
			for (const c of chunks) sock.write(c);
			if (destroy) {
				// give the bytes a moment to leave, then drop the connection
				setTimeout(() => finish(false, false), 50);
			} else if (end) {
				sock.end();
			}
		});
		sock.on("data", (d) => {
			got.push(d);
			if (until && until(Buffer.concat(got))) finish(false, false);
		});
		sock.on("end", () => finish(true, false));
		sock.on("error", (e) => finish(true, false, e));
		sock.on("close", () => finish(true, false));
	});
}

/** Parses the HTTP/1.x responses in `buf`: [{ status, reason, headers, body }]. */
export function parseHttp1Responses(buf) {
	const out = [];
	let rest = buf.toString("latin1");
	while (rest.startsWith("HTTP/1.")) {
		const headEnd = rest.indexOf("\r\n\r\n");
		if (headEnd < 0) break;
		const lines = rest.slice(0, headEnd).split("\r\n");
		const m = /^HTTP\/1\.[01] (\d{3})\s*(.*)$/.exec(lines[0]);
		if (!m) break;
		const headers = {};
		for (const l of lines.slice(1)) {
			const i = l.indexOf(":");
			if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
		}
		rest = rest.slice(headEnd + 4);
		let body = "";
		if (headers["content-length"] !== undefined) {
			const n = Number(headers["content-length"]);
			body = rest.slice(0, n);
			rest = rest.slice(n);
		} else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
			for (;;) {
				const crlf = rest.indexOf("\r\n");
				if (crlf < 0) break;
				const n = parseInt(rest.slice(0, crlf), 16);
				rest = rest.slice(crlf + 2);
				if (!(n > 0)) {
					const endTrailers = rest.indexOf("\r\n");
					rest = endTrailers >= 0 ? rest.slice(endTrailers + 2) : "";
					break;
				}
				body += rest.slice(0, n);
				rest = rest.slice(n + 2);
			}
		} else {
			body = rest;
			rest = "";
		}
		out.push({ status: Number(m[1]), reason: m[2], headers, body });
	}
	return out;
}

// ---------------------------------------------------------------- HTTP/2 frames

export const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
export const H2 = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 };
export const H2_FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 };
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, FRAME_SIZE_ERROR: 6, COMPRESSION_ERROR: 9 };

/** One HTTP/2 frame. */
export function h2Frame(type, flags, streamId, payload = Buffer.alloc(0), declaredLength) {
	const head = Buffer.alloc(9);
	const len = declaredLength ?? payload.length;
	head.writeUIntBE(len, 0, 3);
	head.writeUInt8(type, 3);
	head.writeUInt8(flags, 4);
	head.writeUInt32BE(streamId & 0x7fffffff, 5);
	return Buffer.concat([head, payload]);
}

/** HPACK (no Huffman, no indexing) for a request's header list. */
export function hpackRequest({ method = "GET", path = "/", authority = "127.0.0.1", extra = [] } = {}) {
	const parts = [];
	const str = (s) => {
		const b = Buffer.from(s, "latin1");
		if (b.length >= 127) throw new Error("hpackRequest: keep strings under 127 bytes");
		return Buffer.concat([Buffer.from([b.length]), b]);
	};
	// literal without indexing, indexed name (4-bit prefix: static table < 15)
	const withName = (index, value) => Buffer.concat([Buffer.from([index]), str(value)]);
	parts.push(withName(2, method)); // :method
	parts.push(withName(6, "http")); // :scheme
	parts.push(withName(4, path)); // :path
	parts.push(withName(1, authority)); // :authority
	for (const [k, v] of extra) parts.push(Buffer.concat([Buffer.from([0]), str(k), str(v)]));
	return Buffer.concat(parts);
}

/** Splits the complete frames in `buf`: [{ type, flags, streamId, payload }]. */
export function parseH2Frames(buf) {
	const frames = [];
	let off = 0;
	while (off + 9 <= buf.length) {
		const len = buf.readUIntBE(off, 3);
		if (off + 9 + len > buf.length) break;
		frames.push({
			type: buf.readUInt8(off + 3),
			flags: buf.readUInt8(off + 4),
			streamId: buf.readUInt32BE(off + 5) & 0x7fffffff,
			payload: buf.subarray(off + 9, off + 9 + len),
		});
		off += 9 + len;
	}
	return frames;
}

/** The GOAWAY frame in `frames`, decoded, or undefined. */
export function findGoaway(frames) {
	const f = frames.find((x) => x.type === H2.GOAWAY);
	if (!f || f.payload.length < 8) return undefined;
	return {
		lastStreamId: f.payload.readUInt32BE(0) & 0x7fffffff,
		errorCode: f.payload.readUInt32BE(4),
		debug: f.payload.subarray(8).toString("utf8"),
	};
}
