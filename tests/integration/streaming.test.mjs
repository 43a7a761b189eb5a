// Streaming RPCs with independent clients: connect-node's Connect, gRPC and
// gRPC-Web transports (HTTP/1.1 and HTTP/2, binary and JSON).
//   Process (server stream): real progress, "N% complete", result and timing
//   Upload (client stream): 64 KiB chunks with size and sha256; a wrong
//     digest or size is refused and stores nothing; a client that aborts
//     mid-upload leaves nothing, not even a temp file
//   Tune (bidi, HTTP/2): latest-wins previews, preview size, filters appended
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ImageFormat, ImageSource, UploadRequestSchema } from "./lib/connect.mjs";
import {
	allTransports, envelope, imageInfo, isJpeg, listAllIds, plainParams, pushable, sampleBytes, serviceClient, sha256hex, sleep,
	step, stopServer, tempFilesIn, uploadChunks,
} from "./lib/gpix.mjs";
import { startServer } from "./lib/server.mjs";

let server;
before(async () => {
	server = await startServer();
});
after(async () => {
	const { code, signal, killed } = await stopServer(server);
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

async function rejectsWith(promise, code, messageRe) {
	let err;
	try {
		await promise;
	} catch (e) {
		err = e;
	}
	assert.ok(err instanceof ConnectError, `expected ConnectError ${Code[code]}, got ${err ?? "success"}`);
	assert.equal(err.code, code, `code ${Code[err.code]}: ${err.rawMessage}`);
	if (messageRe) assert.match(err.rawMessage, messageRe);
	return err;
}

const CHELSEA = sampleBytes("chelsea.png");
const CHELSEA_SHA = sha256hex(CHELSEA);
// chelsea.png is four 64 KiB chunks, rocket.jpg two: every upload is a real stream.
const ROCKET = sampleBytes("rocket.jpg"); // 112525 bytes: two chunks
const newIds = (before, now) => now.filter((id) => !before.includes(id));

for (const t of allTransports(null)) {
	describe(t.name, () => {
		let client;
		before(() => {
			const made = allTransports(server.baseUrl).find((x) => x.name === t.name);
			client = serviceClient(made.make());
		});

		test("Process: ≥ 10 messages, percent never decreases, status \"N% complete\", the last has the result and timing", async () => {
			const msgs = [];
			for await (const m of client.process({
				imageId: "sample-chelsea",
				filters: [step("blur", { sigma: 3 })],
				output: { format: ImageFormat.PNG },
			})) {
				msgs.push(m);
			}
			assert.ok(msgs.length >= 10, `${msgs.length} messages`);
			let prev = -1;
			for (const m of msgs) {
				assert.ok(m.percent >= prev, `percent went from ${prev} to ${m.percent}`);
				assert.ok(m.percent >= 0 && m.percent <= 100);
				assert.equal(m.status, `${m.percent}% complete`);
				assert.ok(m.stage, "stage is named");
				prev = m.percent;
			}
			const last = msgs.at(-1);
			assert.equal(last.percent, 100);
			assert.match(last.resultImageId, /\S/, "the last message names the result");
			assert.ok(last.timing && last.timing.totalMs > 0, "the last message has the timing");
			assert.ok(last.timing.filterMs > 0);
			for (const m of msgs.slice(0, -1)) assert.equal(m.resultImageId, "", "only the last carries the result");
			assert.ok(msgs.some((m) => m.stage === "blur"), "progress through the filter");
			const im = await client.getImage({ imageId: last.resultImageId });
			assert.equal(im.source, ImageSource.RESULT);
			assert.equal(im.format, ImageFormat.PNG);
			assert.deepEqual([im.width, im.height], [451, 300]);
		});

		test("Upload in 64 KiB chunks with size_bytes and sha256: stored, and the stored bytes are the sent ones", async () => {
			const res = await client.upload(uploadChunks(CHELSEA, {
				filename: "stream.png", contentType: "image/png", sizeBytes: BigInt(CHELSEA.length), sha256: CHELSEA_SHA,
			}));
			assert.match(res.imageId, /\S/);
			assert.equal(res.image.id, res.imageId);
			assert.equal(res.image.sha256, CHELSEA_SHA);
			assert.equal(res.image.sizeBytes, BigInt(CHELSEA.length));
			assert.equal(res.image.name, "stream.png");
			assert.equal(res.image.source, ImageSource.UPLOAD);
			assert.deepEqual([res.image.width, res.image.height], [451, 300]);
			assert.ok((await listAllIds(server.baseUrl)).includes(res.imageId));
		});

		test("Upload with a wrong sha256 is invalid_argument and stores nothing", async () => {
			const before = await listAllIds(server.baseUrl);
			const tmpBefore = tempFilesIn(server.storeDir); // an aborted HTTP/2 upload may have left some (todo below)
			await rejectsWith(client.upload(uploadChunks(ROCKET, {
				filename: "bad.jpg", sizeBytes: BigInt(ROCKET.length), sha256: "0".repeat(64),
			})), Code.InvalidArgument, /sha256/);
			assert.deepEqual(newIds(before, await listAllIds(server.baseUrl)), []);
			assert.deepEqual(newIds(tmpBefore, tempFilesIn(server.storeDir)), [], "no temp file left");
		});

		test("Upload with a wrong size_bytes is invalid_argument and stores nothing", async () => {
			const before = await listAllIds(server.baseUrl);
			await rejectsWith(client.upload(uploadChunks(ROCKET, {
				filename: "bad.jpg", sizeBytes: BigInt(ROCKET.length + 1), sha256: sha256hex(ROCKET),
			})), Code.InvalidArgument);
			assert.deepEqual(newIds(before, await listAllIds(server.baseUrl)), []);
		});

		const abortTodo = t.h2
			? {}
			: {};
		test("Upload aborted by the client mid-stream: nothing stored, no temp file left", abortTodo, async () => {
			const before = await listAllIds(server.baseUrl);
			const tmpBefore = tempFilesIn(server.storeDir);
			const started = server.countLog(/Upload started/);
			const ac = new AbortController();
			async function* slow() {
				yield { chunk: CHELSEA.subarray(0, 65536), filename: "aborted.png", sizeBytes: BigInt(CHELSEA.length) };
				yield { chunk: CHELSEA.subarray(65536, 131072) };
				await new Promise(() => {}); // the rest never comes
			}
			const call = client.upload(slow(), { signal: ac.signal });
			await server.waitForLogCount(/Upload started/, started + 1); // the server has begun storing it
			await sleep(100);
			ac.abort();
			await rejectsWith(call, Code.Canceled);
			// the server notices the reset or closed connection and cleans up
			let left = [];
			for (let i = 0; i < 20; i++) {
				await sleep(50);
				left = newIds(tmpBefore, tempFilesIn(server.storeDir));
				if (left.length === 0) break;
			}
			assert.deepEqual(left, [], "temp files of the aborted upload");
			assert.deepEqual(newIds(before, await listAllIds(server.baseUrl)), []);
			// and the next upload on the same client works
			const res = await client.upload(uploadChunks(ROCKET, { filename: "after-abort.jpg" }));
			assert.equal(res.image.sha256, sha256hex(ROCKET));
		});

		if (!t.h2) return; // bidi streaming needs HTTP/2

		test("Tune: 20 fast parameter changes give ≤ 20 previews, newest seq last, JPEG at previewWidth", async () => {
			async function* changes() {
				yield { imageId: "sample-chelsea", filters: [step("blur", { sigma: 1 })], previewWidth: 160, seq: 1 };
				for (let seq = 2; seq <= 20; seq++) yield { parameter: "blur.sigma", value: seq / 2, seq };
			}
			const out = [];
			for await (const r of client.tune(changes())) out.push(r);
			assert.ok(out.length >= 1 && out.length <= 20, `${out.length} previews`);
			assert.equal(out.at(-1).seq, 20, "the last preview reflects the newest request");
			for (let i = 1; i < out.length; i++) assert.ok(out[i].seq > out[i - 1].seq, `seqs ${out.map((r) => r.seq)}`);
			for (const r of out) {
				assert.equal(r.contentType, "image/jpeg");
				assert.ok(isJpeg(r.previewChunk), "a whole JPEG per response");
				const info = imageInfo(r.previewChunk);
				assert.deepEqual([info.width, info.height], [r.width, r.height]);
				assert.equal(r.width, 160);
				assert.ok(Math.abs(r.height - (300 * 160) / 451) <= 1, `height ${r.height}`);
				assert.ok(r.timing, "timing is set");
			}
			const blur = out.at(-1).filters.find((f) => f.name === "blur");
			assert.equal(plainParams(blur).sigma, 10, "the effective pipeline has the last sigma");
		});

		test("Tune: preview dimensions follow previewWidth; a parameter of a filter not in the pipeline appends it", async () => {
			const q = pushable();
			const it = client.tune(q)[Symbol.asyncIterator]();
			try {
				q.push({ imageId: "sample-chelsea", filters: [step("grayscale")], previewWidth: 200, seq: 1 });
				let r = (await it.next()).value;
				assert.deepEqual([r.seq, r.width], [1, 200]);
				assert.deepEqual(imageInfo(r.previewChunk).width, 200);
				assert.deepEqual(r.filters.map((f) => f.name), ["grayscale"]);

				q.push({ previewWidth: 100, seq: 2 });
				r = (await it.next()).value;
				assert.deepEqual([r.seq, r.width], [2, 100]);
				assert.ok(Math.abs(r.height - (300 * 100) / 451) <= 1, `height ${r.height}`);
				assert.deepEqual(imageInfo(r.previewChunk).width, 100);

				q.push({ parameter: "sharpen.amount", value: 2, seq: 3 });
				r = (await it.next()).value;
				assert.equal(r.seq, 3);
				assert.deepEqual(r.filters.map((f) => f.name), ["grayscale", "sharpen"], "sharpen appended");
				assert.equal(plainParams(r.filters[1]).amount, 2);
				assert.equal(r.width, 100, "the preview width stays");

				q.push({ filters: [step("invert")], seq: 4 });
				r = (await it.next()).value;
				assert.equal(r.seq, 4);
				assert.deepEqual(r.filters.map((f) => f.name), ["invert"], "a non-empty filters replaces the pipeline");
			} finally {
				q.end();
				for (;;) if ((await it.next()).done) break;
			}
		});

		test("Tune: an unknown parameter is invalid_argument", async () => {
			async function* bad() {
				yield { imageId: "sample-chelsea", filters: [step("blur")], seq: 1, previewWidth: 64 };
				yield { parameter: "blur.radius", value: 3, seq: 2 };
			}
			await rejectsWith((async () => {
				for await (const _ of client.tune(bad()));
			})(), Code.InvalidArgument, /radius/);
		});
	});
}

describe("Upload canceled over HTTP/2 after a whole image (raw RST_STREAM)", () => {
	// The contract: the file is stored only if the whole stream arrives. A
	// stream the client resets (RST_STREAM CANCEL) did not arrive, even when
	// the bytes so far happen to decode.
	for (const [name, contentType] of [["gRPC", "application/grpc"], ["Connect", "application/connect+proto"]]) {
		test(`${name}: the reset upload is not stored`, {}, async () => {
			const before = await listAllIds(server.baseUrl);
			const started = server.countLog(/Upload started/);
			const msg = toBinary(UploadRequestSchema, create(UploadRequestSchema, { filename: "reset.png", chunk: CHELSEA }));
			const session = http2.connect(server.baseUrl);
			try {
				const req = session.request({
					":method": "POST", ":path": "/gpix.v1.ImageService/Upload", "content-type": contentType, te: "trailers",
				}, { endStream: false });
				req.on("error", () => {});
				req.write(envelope(0, msg));
				await server.waitForLogCount(/Upload started/, started + 1);
				await sleep(100);
				req.close(http2.constants.NGHTTP2_CANCEL);
				await sleep(500);
			} finally {
				session.destroy();
			}
			assert.deepEqual(newIds(before, await listAllIds(server.baseUrl)), [], "the canceled upload was stored");
		});
	}
});
