// The reference gRPC client, @grpc/grpc-js, with the service loaded from
// proto/gpix/v1/image_service.proto by @grpc/proto-loader: all four call
// kinds, deadlines, gzip compression and metadata.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import pngjs from "pngjs";
import { imageInfo, isJpeg, listAllIds, sampleBytes, sha256hex, stopServer } from "./lib/gpix.mjs";
import { repoRoot, startServer } from "./lib/server.mjs";

const { PNG } = pngjs;

const definition = protoLoader.loadSync("gpix/v1/image_service.proto", {
	includeDirs: [join(repoRoot, "proto"), "/usr/include"],
	longs: String,
	enums: String,
	defaults: true,
	oneofs: true,
});
const { ImageService } = grpc.loadPackageDefinition(definition).gpix.v1;

let server;
let client;
before(async () => {
	server = await startServer();
	client = new ImageService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});
after(async () => {
	client?.close();
	const { code, signal, killed } = await stopServer(server);
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

/** A unary call as a promise of { res, headers (Metadata), status }. */
function unary(c, method, req, { metadata = new grpc.Metadata(), options = {} } = {}) {
	return new Promise((ok, fail) => {
		let headers;
		let status;
		let res;
		let err;
		let n = 0;
		const done = () => {
			if (++n < 2) return;
			if (err) {
				err.headers = headers;
				fail(err);
			} else ok({ res, headers, status });
		};
		const call = c[method](req, metadata, options, (e, r) => {
			err = e;
			res = r;
			done();
		});
		call.on("metadata", (m) => {
			headers = m;
		});
		call.on("status", (s) => {
			status = s;
			done();
		});
	});
}

function serverStream(call) {
	return new Promise((ok, fail) => {
		const msgs = [];
		let headers;
		call.on("metadata", (m) => {
			headers = m;
		});
		call.on("data", (m) => msgs.push(m));
		call.on("error", (e) => fail(Object.assign(e, { msgs })));
		call.on("end", () => ok({ msgs, headers }));
	});
}

/** A PNG of pixels that gzip squeezes (a smooth gradient, stored uncompressed). */
function compressiblePng(width = 600, height = 400) {
	const png = new PNG({ width, height });
	for (let y = 0; y < height; y++) {
		for (let x = 0; x < width; x++) {
			const i = (y * width + x) * 4;
			png.data[i] = x & 0xff;
			png.data[i + 1] = y & 0xff;
			png.data[i + 2] = 128;
			png.data[i + 3] = 255;
		}
	}
	return PNG.sync.write(png, { deflateLevel: 0, colorType: 2 });
}

describe("the four call kinds", () => {
	test("unary GetVersion", async () => {
		const { res, status } = await unary(client, "getVersion", {});
		assert.equal(res.version, "v0.1.0");
		assert.equal(res.apiVersion, "gpix.v1");
		assert.ok(Number(res.startedAt.seconds) > 0);
		assert.equal(status.code, grpc.status.OK);
	});

	test("server streaming Process: progress up to 100 and the saved result", async () => {
		const { msgs } = await serverStream(client.process({
			imageId: "sample-chelsea",
			filters: [{ name: "blur", params: { sigma: { numberValue: 3 } } }],
		}));
		assert.ok(msgs.length >= 10, `${msgs.length} messages`);
		let prev = -1;
		for (const m of msgs) {
			assert.ok(m.percent >= prev);
			assert.equal(m.status, `${m.percent}% complete`);
			prev = m.percent;
		}
		const last = msgs.at(-1);
		assert.equal(last.percent, 100);
		assert.ok(last.resultImageId);
		assert.ok(last.timing.totalMs > 0);
		const { res } = await unary(client, "getImage", { imageId: last.resultImageId });
		assert.equal(res.source, "IMAGE_SOURCE_RESULT");
	});

	test("client streaming Upload in 64 KiB chunks", async () => {
		const data = sampleBytes("chelsea.png");
		const sha = sha256hex(data);
		const res = await new Promise((ok, fail) => {
			const call = client.upload((e, r) => (e ? fail(e) : ok(r)));
			for (let off = 0; off < data.length; off += 65536) {
				const chunk = data.subarray(off, off + 65536);
				call.write(off === 0
					? { chunk, filename: "grpc-js.png", contentType: "image/png", sizeBytes: String(data.length), sha256: sha }
					: { chunk });
			}
			call.end();
		});
		assert.equal(res.image.sha256, sha);
		assert.equal(res.image.sizeBytes, String(data.length));
		assert.equal(res.image.name, "grpc-js.png");
		assert.equal(res.image.source, "IMAGE_SOURCE_UPLOAD");
	});

	test("client streaming Upload with a wrong sha256: INVALID_ARGUMENT, nothing stored", async () => {
		const before = await listAllIds(server.baseUrl);
		const data = sampleBytes("rocket.jpg");
		const err = await new Promise((ok) => {
			const call = client.upload((e) => ok(e));
			call.write({ chunk: data.subarray(0, 65536), sha256: "f".repeat(64) });
			call.write({ chunk: data.subarray(65536) });
			call.end();
		});
		assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
		assert.match(err.details, /sha256/);
		assert.deepEqual(await listAllIds(server.baseUrl), before);
	});

	test("bidi Tune: a preview per request when paced, latest-wins when not", async () => {
		const call = client.tune();
		const got = [];
		const ended = new Promise((ok, fail) => {
			call.on("data", (r) => got.push(r));
			call.on("error", fail);
			call.on("end", ok);
		});
		const waitFor = async (n) => {
			for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setTimeout(r, 10));
			assert.ok(got.length >= n, `${got.length} previews, expected ${n}`);
		};
		call.write({ imageId: "sample-chelsea", filters: [{ name: "blur" }], previewWidth: 120, seq: 1 });
		await waitFor(1);
		call.write({ parameter: "sharpen.amount", value: 2, previewWidth: 64, seq: 2 });
		await waitFor(2);
		for (let seq = 3; seq <= 22; seq++) call.write({ parameter: "blur.sigma", value: seq, seq });
		call.end();
		await ended;
		assert.deepEqual([got[0].seq, got[0].width], [1, 120]);
		assert.deepEqual([got[1].seq, got[1].width], [2, 64]);
		assert.deepEqual(got[1].filters.map((f) => f.name), ["blur", "sharpen"]);
		assert.ok(got.length <= 22);
		assert.equal(got.at(-1).seq, 22);
		assert.equal(got.at(-1).filters[0].params.sigma.numberValue, 22);
		for (const r of got) {
			assert.ok(isJpeg(r.previewChunk));
			assert.equal(imageInfo(r.previewChunk).width, r.width);
		}
	});
});

describe("deadlines", () => {
	test("a 1 ms deadline on Process: DEADLINE_EXCEEDED", async () => {
		const err = await serverStream(client.process(
			{ imageId: "sample-ladybird", filters: [{ name: "blur", params: { sigma: { numberValue: 8 } } }] },
			{ deadline: Date.now() + 1 },
		)).then(() => undefined, (e) => e);
		assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED, `got ${err?.code} ${err?.details}`);
	});

	test("a 1 ms deadline on ProcessImage of a big image: DEADLINE_EXCEEDED", async () => {
		const err = await unary(client, "processImage", {
			imageId: "sample-ladybird",
			filters: [{ name: "resize", params: { width: { numberValue: 3840 } } }, { name: "blur", params: { sigma: { numberValue: 8 } } }],
		}, { options: { deadline: Date.now() + 1 } }).then(() => undefined, (e) => e);
		assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED);
	});

	test("a generous deadline does not get in the way", async () => {
		const { res } = await unary(client, "processImage", {
			imageId: "sample-chelsea", filters: [{ name: "invert" }],
		}, { options: { deadline: Date.now() + 20000 } });
		assert.ok(res.imageData.length > 0);
	});
});

describe("compression: grpc.default_compression_algorithm gzip", () => {
	let gz;
	before(() => {
		gz = new ImageService(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), {
			"grpc.default_compression_algorithm": 2, // gzip
			"grpc.default_compression_level": 2, // high
		});
	});
	after(() => gz.close());

	test("gzip-compressed requests are understood; the wire carries fewer bytes than the message", async () => {
		const png = compressiblePng();
		const rid = `grpc-gzip-${Date.now()}`;
		const md = new grpc.Metadata();
		md.set("x-request-id", rid);
		const { res } = await unary(gz, "processImage", {
			imageData: png, filters: [{ name: "invert" }], output: { format: "IMAGE_FORMAT_PNG" },
		}, { metadata: md });
		assert.equal(res.width, 600);
		assert.equal(res.height, 400);
		const decoded = PNG.sync.read(res.imageData);
		assert.deepEqual([decoded.data[0], decoded.data[1], decoded.data[2]], [255, 255, 127], "pixel (0,0) inverted");
		// the server logs the bytes it read off the wire for this request
		const line = await server.waitForLog(new RegExp(`request_id=${rid}`));
		const bytesIn = Number(/bytes_in=(\d+)/.exec(line)?.[1]);
		assert.ok(bytesIn > 0 && bytesIn < png.length / 4, `bytes_in=${bytesIn} for a ${png.length}-byte image`);
	});

	test("all four call kinds work compressed", async () => {
		assert.equal((await unary(gz, "getVersion", {})).res.version, "v0.1.0");
		const { msgs } = await serverStream(gz.process({ imageId: "sample-chelsea", filters: [{ name: "invert" }] }));
		assert.equal(msgs.at(-1).percent, 100);
		const data = sampleBytes("chelsea.png");
		const up = await new Promise((ok, fail) => {
			const call = gz.upload((e, r) => (e ? fail(e) : ok(r)));
			for (let off = 0; off < data.length; off += 65536) call.write({ chunk: data.subarray(off, off + 65536) });
			call.end();
		});
		assert.equal(up.image.sha256, sha256hex(data));
		const tune = gz.tune();
		const previews = serverStream(tune);
		tune.write({ imageId: "sample-chelsea", filters: [{ name: "grayscale" }], previewWidth: 80, seq: 7 });
		tune.end();
		const { msgs: p } = await previews;
		assert.equal(p.at(-1).seq, 7);
		assert.equal(p.at(-1).width, 80);
	});
});

describe("metadata", () => {
	test("x-request-id is echoed in the response metadata (unary and streaming) and logged", async () => {
		const md = new grpc.Metadata();
		md.set("x-request-id", "grpc-js-rid-1");
		const { headers } = await unary(client, "getVersion", {}, { metadata: md });
		assert.deepEqual(headers.get("x-request-id"), ["grpc-js-rid-1"]);
		await server.waitForLog(/grpc-js-rid-1/);

		const md2 = new grpc.Metadata();
		md2.set("x-request-id", "grpc-js-rid-2");
		const { headers: h2 } = await serverStream(client.process({ imageId: "sample-chelsea", filters: [{ name: "invert" }] }, md2));
		assert.deepEqual(h2.get("x-request-id"), ["grpc-js-rid-2"]);
	});

	test("without x-request-id the server makes one up", async () => {
		const { headers } = await unary(client, "getVersion", {});
		const [rid] = headers.get("x-request-id");
		assert.match(String(rid), /^\S{8,}$/);
	});

	test("errors carry the code and a message in the status", async () => {
		const err = await unary(client, "getImage", { imageId: "no-such-image" }).then(() => undefined, (e) => e);
		assert.equal(err?.code, grpc.status.NOT_FOUND);
		assert.match(err.details, /no-such-image/);
		const perm = await unary(client, "deleteImage", { imageId: "sample-chelsea" }).then(() => undefined, (e) => e);
		assert.equal(perm?.code, grpc.status.PERMISSION_DENIED);
	});
});
