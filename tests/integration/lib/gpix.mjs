// Helpers for the engine, streaming and wire tests: sample bytes, digests,
// image headers (PNG/JPEG magic and dimensions), google.protobuf.Value
// builders for FilterStep params, every connect-node transport, message
// envelopes (Connect streaming, gRPC, gRPC-Web, gRPC-Web-text), store
// inspection and hand-built bad images.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { ImageService } from "../gen/gpix/v1/image_service_pb.js";
import { request } from "./http.mjs";
import { repoRoot } from "./server.mjs";

export const SAMPLE_IDS = [
	"sample-astronaut", "sample-chelsea", "sample-coffee", "sample-ladybird", "sample-rocket", "sample-storm",
];

/** Bytes of a file in data/samples. */
export function sampleBytes(name) {
	return readFileSync(join(repoRoot, "data/samples", name));
}

export function sha256hex(buf) {
	return createHash("sha256").update(buf).digest("hex");
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------ image headers

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function isPng(buf) {
	return Buffer.from(buf).subarray(0, 8).equals(PNG_MAGIC);
}

export function isJpeg(buf) {
	const b = Buffer.from(buf);
	return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/**
 * Format and dimensions read from the header: { format: "png"|"jpeg",
 * width, height }, or undefined when the bytes are neither.
 */
export function imageInfo(bytes) {
	const b = Buffer.from(bytes);
	if (isPng(b) && b.length >= 24 && b.toString("latin1", 12, 16) === "IHDR") {
		return { format: "png", width: b.readUInt32BE(16), height: b.readUInt32BE(20), colorType: b[25] };
	}
	if (isJpeg(b)) {
		let off = 2;
		while (off + 4 <= b.length) {
			if (b[off] !== 0xff) return undefined;
			const marker = b[off + 1];
			if (marker === 0xff) { off++; continue; }
			const len = b.readUInt16BE(off + 2);
			// SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
			if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
				return { format: "jpeg", height: b.readUInt16BE(off + 5), width: b.readUInt16BE(off + 7) };
			}
			off += 2 + len;
		}
	}
	return undefined;
}

// ------------------------------------------------------ bad images, by hand

function pngChunk(type, data) {
	const len = Buffer.alloc(4);
	len.writeUInt32BE(data.length);
	const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
	const crc = Buffer.alloc(4);
	crc.writeUInt32BE(zlib.crc32(td) >>> 0);
	return Buffer.concat([len, td, crc]);
}

/**
 * A well-formed PNG whose IHDR (valid CRC) claims width x height RGB pixels,
 * with a tiny IDAT: a decoder that trusts the header before checking a pixel
 * limit would try to allocate width*height*3 bytes.
 */
export function pngClaiming(width, height) {
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(width, 0);
	ihdr.writeUInt32BE(height, 4);
	ihdr[8] = 8; // bit depth
	ihdr[9] = 2; // RGB
	return Buffer.concat([
		PNG_MAGIC,
		pngChunk("IHDR", ihdr),
		pngChunk("IDAT", zlib.deflateSync(Buffer.alloc(64))),
		pngChunk("IEND", Buffer.alloc(0)),
	]);
}

// ------------------------------------------------ google.protobuf.Value params

/** A google.protobuf.Value init for @bufbuild/protobuf v2 from a plain JS value. */
export function value(v) {
	if (typeof v === "number") return { kind: { case: "numberValue", value: v } };
	if (typeof v === "string") return { kind: { case: "stringValue", value: v } };
	if (typeof v === "boolean") return { kind: { case: "boolValue", value: v } };
	if (v === null) return { kind: { case: "nullValue", value: 0 } };
	throw new Error(`value(): unsupported ${typeof v}`);
}

/** A FilterStep init: step("blur", { sigma: 3 }). */
export function step(name, params = {}) {
	return { name, params: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, value(v)])) };
}

/** A FilterStep's params back to plain JS values. */
export function plainParams(filterStep) {
	return Object.fromEntries(Object.entries(filterStep.params ?? {}).map(([k, v]) => [k, v.kind?.value]));
}

// ----------------------------------------------------------------- transports

/**
 * Every connect-node transport: Connect (HTTP/1.1, HTTP/2; JSON, binary),
 * gRPC (HTTP/2; proto, JSON) and gRPC-Web (HTTP/1.1, HTTP/2; proto, JSON).
 * h2: whether it runs over HTTP/2 (bidi streaming needs it).
 */
export function allTransports(baseUrl) {
	const out = [];
	for (const httpVersion of ["1.1", "2"]) {
		for (const useBinaryFormat of [false, true]) {
			const fmt = useBinaryFormat ? "proto" : "JSON";
			out.push({
				name: `Connect ${fmt} HTTP/${httpVersion}`,
				h2: httpVersion === "2",
				make: () => createConnectTransport({ baseUrl, httpVersion, useBinaryFormat }),
			});
			out.push({
				name: `gRPC-Web ${fmt} HTTP/${httpVersion}`,
				h2: httpVersion === "2",
				make: () => createGrpcWebTransport({ baseUrl, httpVersion, useBinaryFormat }),
			});
			if (httpVersion === "2") {
				out.push({
					name: `gRPC ${fmt} HTTP/2`,
					h2: true,
					make: () => createGrpcTransport({ baseUrl, useBinaryFormat }),
				});
			}
		}
	}
	return out;
}

/** The four plain Connect unary variants (POST; JSON/proto; HTTP/1.1 and 2). */
export function connectUnaryVariants() {
	const out = [];
	for (const httpVersion of ["1.1", "2"]) {
		for (const useBinaryFormat of [false, true]) {
			out.push({ httpVersion, useBinaryFormat, name: `Connect ${useBinaryFormat ? "proto" : "JSON"} HTTP/${httpVersion}` });
		}
	}
	return out;
}

export function serviceClient(transport) {
	return createClient(ImageService, transport);
}

// ------------------------------------------------------------------ store

/** Every image id the server lists (all sources), following page tokens. */
export async function listAllIds(baseUrl) {
	const ids = [];
	let token = "";
	for (let i = 0; i < 1000; i++) {
		const qs = new URLSearchParams({ page_size: "100" });
		if (token) qs.set("page_token", token);
		const res = await request(baseUrl, { path: `/v1/images?${qs}` });
		if (res.status !== 200) throw new Error(`GET /v1/images: ${res.status} ${res.text()}`);
		const body = res.json();
		for (const im of body.images ?? []) ids.push(im.id);
		token = body.nextPageToken ?? "";
		if (!token) return ids;
	}
	throw new Error("listAllIds: pagination never ended");
}

/** Names under `dir` (recursively) that start with ".tmp-": partial uploads. */
export function tempFilesIn(dir) {
	const found = [];
	for (const e of readdirSync(dir, { withFileTypes: true })) {
		if (e.name.startsWith(".tmp-")) found.push(join(dir, e.name));
		if (e.isDirectory()) found.push(...tempFilesIn(join(dir, e.name)));
	}
	return found;
}

/** Files directly in the store directory (not the sidecars' temp files). */
export function storeFiles(dir) {
	return readdirSync(dir).sort();
}

/** POST /v1/images with a raw body; resolves the response. */
export function uploadRaw(baseUrl, bytes, { contentType = "image/png", name, httpVersion } = {}) {
	const q = name ? `?name=${encodeURIComponent(name)}` : "";
	return request(baseUrl, {
		method: "POST",
		path: `/v1/images${q}`,
		headers: { "content-type": contentType },
		body: bytes,
		httpVersion,
	});
}

/** GetVersion answers: the server is alive and serving. */
export async function assertAlive(baseUrl) {
	const res = await request(baseUrl, {
		method: "POST",
		path: "/gpix.v1.ImageService/GetVersion",
		headers: { "content-type": "application/json" },
		body: "{}",
	});
	if (res.status !== 200 || res.json().version !== "v0.1.0") {
		throw new Error(`GetVersion after the bad request: ${res.status} ${res.text()}`);
	}
}

// ------------------------------------------------------------- envelopes

/** One enveloped message: flags byte, 4-byte big-endian length, payload. */
export function envelope(flags, payload, declaredLength) {
	const p = Buffer.from(payload);
	const head = Buffer.alloc(5);
	head[0] = flags;
	head.writeUInt32BE(declaredLength ?? p.length, 1);
	return Buffer.concat([head, p]);
}

/**
 * Splits a body into envelopes: [{ flags, data }]; `rest` holds bytes of an
 * incomplete trailing envelope (there should be none).
 */
export function parseEnvelopes(buf) {
	const b = Buffer.from(buf);
	const out = [];
	let off = 0;
	while (off + 5 <= b.length) {
		const len = b.readUInt32BE(off + 1);
		if (off + 5 + len > b.length) break;
		out.push({ flags: b[off], data: b.subarray(off + 5, off + 5 + len) });
		off += 5 + len;
	}
	out.rest = b.subarray(off);
	return out;
}

/**
 * Decodes a grpc-web-text body: base64 that may be several padded chunks
 * one after the other (each message and the trailers frame may be encoded
 * on its own).
 */
export function decodeGrpcWebText(text) {
	const parts = String(text).replace(/\s+/g, "").match(/[A-Za-z0-9+/]*={0,2}/g) ?? [];
	return Buffer.concat(parts.filter(Boolean).map((p) => Buffer.from(p, "base64")));
}

/** "grpc-status:0\r\ngrpc-message:..." (a gRPC-Web trailers frame) → object. */
export function parseTrailerBlock(buf) {
	const out = {};
	for (const line of Buffer.from(buf).toString("latin1").split("\r\n")) {
		const i = line.indexOf(":");
		if (i > 0) out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
	}
	return out;
}

// ------------------------------------------------------------- server stop

/**
 * SIGTERM and wait for the exit like server.stop(), without leaving a timer
 * behind: server.stop() races the exit against a 10 s sleep that is never
 * cleared, which keeps the test process alive 10 s after the last test.
 * Resolves { code, signal, killed }.
 */
export async function stopServer(server, timeoutMs = 10000) {
	let killed = false;
	if (server.running) {
		server.proc.kill("SIGTERM");
		let timer;
		const timedOut = new Promise((ok) => {
			timer = setTimeout(() => ok(true), timeoutMs);
		});
		const late = await Promise.race([server.exited.then(() => false), timedOut]);
		clearTimeout(timer);
		if (late) {
			killed = true;
			server.proc.kill("SIGKILL");
			await server.exited;
		}
	}
	const res = await server.stop(); // only removes the temp store now
	return { code: res.code, signal: res.signal, killed };
}

// ------------------------------------------------------- request streams

/**
 * An AsyncIterable the test feeds by hand, for client and bidi streams:
 *   const q = pushable(); const it = client.tune(q)[Symbol.asyncIterator]();
 *   q.push(msg); await it.next(); ... q.end();
 */
export function pushable() {
	const items = [];
	let waiting;
	let ended = false;
	const wake = () => {
		if (waiting) {
			const w = waiting;
			waiting = undefined;
			w();
		}
	};
	return {
		push(item) {
			items.push(item);
			wake();
		},
		end() {
			ended = true;
			wake();
		},
		async *[Symbol.asyncIterator]() {
			for (;;) {
				if (items.length) {
					yield items.shift();
				} else if (ended) {
					return;
				} else {
					await new Promise((r) => {
						waiting = r;
					});
				}
			}
		},
	};
}

/** Upload request messages: `bytes` in 64 KiB chunks, `meta` on the first. */
export async function* uploadChunks(bytes, meta = {}, chunkSize = 65536) {
	if (bytes.length === 0) {
		yield { chunk: new Uint8Array(0), ...meta };
		return;
	}
	for (let off = 0; off < bytes.length; off += chunkSize) {
		yield { chunk: bytes.subarray(off, off + chunkSize), ...(off === 0 ? meta : {}) };
	}
}
