// tests/bench/wire-upload.mjs — time the Upload RPC (client streaming) with
// connect-node: 64 KiB chunks (UploadRequest.chunk), Connect protocol with
// the binary (proto) codec, over HTTP/2 (prior knowledge) or HTTP/1.1.
//
//   node tests/bench/wire-upload.mjs --url http://127.0.0.1:8080 --file BIG.png \
//        [--http 2|1.1] [--runs 3] [--chunk 65536]
//
// The file is read and hashed once, before any timing; the first message
// carries filename, size_bytes and sha256 (so the server checks them, as the
// gpix CLI does). Per run it prints one JSON line:
//   {"mode":"connect-h2","bytes":N,"ms":total,"sendMs":..,"tailMs":..,"mbps":..}
// ms: call start → UploadResponse received. sendMs: call start → the
// transport asked for the message after the last chunk (every byte handed
// to the socket; HTTP/2 flow control keeps that within one window of what
// the server has read). tailMs = ms - sendMs: mostly the server's work after
// the last byte — sha256, full decode validation, fsync, rename — plus the
// reply. mbps: bytes / ms, in MB/s (10^6 bytes).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ImageService, UploadRequestSchema } from "../integration/gen/gpix/v1/image_service_pb.js";

const { values: opt } = parseArgs({
	options: {
		url: { type: "string", default: "http://127.0.0.1:8080" },
		file: { type: "string" },
		http: { type: "string", default: "2" },
		runs: { type: "string", default: "3" },
		chunk: { type: "string", default: "65536" },
	},
});
if (!opt.file) {
	console.error("usage: wire-upload.mjs --url URL --file FILE [--http 2|1.1] [--runs N]");
	process.exit(2);
}
const data = readFileSync(opt.file);
const sha256 = createHash("sha256").update(data).digest("hex");
const chunk = Number(opt.chunk);
const name = basename(opt.file);
const mode = opt.http === "2" ? "connect-h2" : "connect-h1";

async function once() {
	// A fresh transport (and connection) per run, as a CLI would have.
	const transport = createConnectTransport({ baseUrl: opt.url, httpVersion: opt.http, useBinaryFormat: true });
	const client = createClient(ImageService, transport);
	let sentAt = 0;
	const t0 = performance.now();
	async function* chunks() {
		for (let off = 0; off < data.length; off += chunk) {
			const piece = data.subarray(off, Math.min(off + chunk, data.length));
			yield off === 0
				? create(UploadRequestSchema, { chunk: piece, filename: name, contentType: "image/png", sizeBytes: BigInt(data.length), sha256 })
				: create(UploadRequestSchema, { chunk: piece });
		}
		sentAt = performance.now();
	}
	const res = await client.upload(chunks());
	const t1 = performance.now();
	if (!res.imageId) throw new Error("no imageId in the UploadResponse");
	// Keep the store small: the uploads are not needed afterwards.
	await client.deleteImage({ imageId: res.imageId }).catch(() => {});
	const ms = t1 - t0;
	const sendMs = sentAt ? sentAt - t0 : ms;
	return { mode, bytes: data.length, ms: +ms.toFixed(1), sendMs: +sendMs.toFixed(1), tailMs: +(ms - sendMs).toFixed(1), mbps: +(data.length / 1e3 / ms).toFixed(2), imageId: res.imageId };
}

for (let i = 0; i < Number(opt.runs); i++) {
	console.log(JSON.stringify(await once()));
}
