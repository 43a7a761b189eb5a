// Bad input to the engine, over the RPCs (Connect, gRPC) and the plain-HTTP
// routes: empty, non-image, truncated and over-the-pixel-limit images;
// unknown and path-like ids; unknown filters and parameters, out-of-range
// and wrongly typed values; a 1 ms deadline; a full job queue. After each:
// nothing new or partial in the store (ListImages, no .tmp-* files) and the
// server still answers GetVersion.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ProcessImageRequestSchema, imageClient } from "./lib/connect.mjs";
import {
	assertAlive, envelope, listAllIds, parseEnvelopes, pngClaiming, sampleBytes, serviceClient, step, stopServer,
	tempFilesIn, uploadRaw,
} from "./lib/gpix.mjs";
import { grpcMessage, grpcStatus, h2Request } from "./lib/h2raw.mjs";
import { curl, request } from "./lib/http.mjs";
import { startServer } from "./lib/server.mjs";

let server;
let scratch;
before(async () => {
	server = await startServer();
	scratch = mkdtempSync(join(tmpdir(), "gpix-badinput-"));
});
after(async () => {
	rmSync(scratch, { recursive: true, force: true });
	const { code, signal, killed } = await stopServer(server);
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

// Every test in this file is a bad request: none may add an image or leave a
// temp file, and the server must still answer.
let idsBefore;
beforeEach(async () => {
	idsBefore = (await listAllIds(server.baseUrl)).sort();
});
afterEach(async () => {
	await assertAlive(server.baseUrl);
	assert.deepEqual((await listAllIds(server.baseUrl)).sort(), idsBefore, "the bad request changed the image list");
	assert.deepEqual(tempFilesIn(server.storeDir), [], "partial files in the store");
});

const h2Client = () => imageClient(server.baseUrl, { httpVersion: "2", useBinaryFormat: true });
const jsonClient = () => imageClient(server.baseUrl, { httpVersion: "1.1" });

async function rejectsWith(promise, code, messageRe) {
	let err;
	try {
		await promise;
	} catch (e) {
		err = e;
	}
	assert.ok(err instanceof ConnectError, `expected a ConnectError ${Code[code]}, got ${err ?? "success"}`);
	assert.equal(err.code, code, `code ${Code[err.code]}: ${err.rawMessage}`);
	if (messageRe) assert.match(err.rawMessage, messageRe);
	return err;
}

async function* chunksOf(bytes, meta = {}) {
	if (bytes.length === 0) {
		yield { chunk: new Uint8Array(0), ...meta };
		return;
	}
	for (let off = 0; off < bytes.length; off += 65536) {
		yield { chunk: bytes.subarray(off, off + 65536), ...(off === 0 ? meta : {}) };
	}
}

const TEXT = Buffer.from("These are my holiday notes, not a picture.\n".repeat(20));
const truncatedJpeg = () => sampleBytes("rocket.jpg").subarray(0, 50000);
const truncatedPng = () => sampleBytes("chelsea.png").subarray(0, 100000);
const HUGE = pngClaiming(100000, 100000);

const corrupt = [
	{ name: "a zero-byte file", bytes: () => Buffer.alloc(0), file: "empty.jpg", type: "image/jpeg", re: /empty/i },
	{ name: "a text file named .jpg", bytes: () => TEXT, file: "notes.jpg", type: "image/jpeg", re: /JPEG|PNG|image/i },
	{ name: "a truncated JPEG", bytes: truncatedJpeg, file: "cut.jpg", type: "image/jpeg", re: /truncated|JPEG/i },
	{ name: "a truncated PNG", bytes: truncatedPng, file: "cut.png", type: "image/png", re: /truncated|PNG/i },
];

describe("corrupt images are invalid_argument (400) everywhere", () => {
	for (const c of corrupt) {
		test(`${c.name}: Upload RPC`, async () => {
			await rejectsWith(h2Client().upload(chunksOf(c.bytes(), { filename: c.file, contentType: c.type })), Code.InvalidArgument, c.re);
		});

		test(`${c.name}: POST /v1/images raw and multipart (curl -F)`, async () => {
			const raw = await uploadRaw(server.baseUrl, c.bytes(), { contentType: c.type, name: c.file });
			assert.equal(raw.status, 400, raw.text());
			assert.equal(raw.json().code, "invalid_argument");
			assert.match(raw.json().message, c.re);
			const path = join(scratch, c.file);
			writeFileSync(path, c.bytes());
			const mp = await curl(["-F", `file=@${path}`, `${server.baseUrl}/v1/images`]);
			assert.equal(mp.status, 400, mp.text());
			assert.equal(mp.json().code, "invalid_argument");
		});

		test(`${c.name}: ProcessImage inline bytes and raw POST /v1/process`, async () => {
			if (c.bytes().length > 0) {
				await rejectsWith(
					jsonClient().processImage({ source: { case: "imageData", value: c.bytes() }, filters: [step("invert")] }),
					Code.InvalidArgument, c.re,
				);
			}
			const raw = await request(server.baseUrl, {
				method: "POST", path: "/v1/process?filters=invert", headers: { "content-type": c.type }, body: c.bytes(),
			});
			assert.equal(raw.status, 400, raw.text());
			assert.equal(raw.json().code, "invalid_argument");
		});
	}
});

describe("a PNG header claiming 100000x100000 is refused from the header, quickly", () => {
	const quick = 2000; // ms: no 30 GB allocation, no decoding attempt

	test("Upload RPC: resource_exhausted", async () => {
		const t0 = Date.now();
		await rejectsWith(h2Client().upload(chunksOf(HUGE, { filename: "huge.png" })), Code.ResourceExhausted, /pixel|limit/i);
		assert.ok(Date.now() - t0 < quick, `took ${Date.now() - t0} ms`);
	});

	test("ProcessImage inline: resource_exhausted (429 over Connect)", async () => {
		const t0 = Date.now();
		const res = await request(server.baseUrl, {
			method: "POST", path: "/gpix.v1.ImageService/ProcessImage", headers: { "content-type": "application/json" },
			body: JSON.stringify({ imageData: HUGE.toString("base64"), filters: [{ name: "invert" }] }),
		});
		assert.equal(res.status, 429);
		assert.equal(res.json().code, "resource_exhausted");
		assert.ok(Date.now() - t0 < quick);
	});

	test("POST /v1/images and raw POST /v1/process: 413 resource_exhausted", async () => {
		for (const path of ["/v1/images", "/v1/process?filters=invert"]) {
			const t0 = Date.now();
			const res = await request(server.baseUrl, { method: "POST", path, headers: { "content-type": "image/png" }, body: HUGE });
			assert.equal(res.status, 413, `${path}: ${res.text()}`);
			assert.equal(res.json().code, "resource_exhausted");
			assert.match(res.json().message, /100000x100000|pixel/);
			assert.ok(Date.now() - t0 < quick, `${path} took ${Date.now() - t0} ms`);
		}
	});
});

describe("unknown and path-like image ids", () => {
	test("an unknown id is not_found for GetImage, DeleteImage, ProcessImage and Process", async () => {
		const c = h2Client();
		await rejectsWith(c.getImage({ imageId: "no-such-image" }), Code.NotFound, /no-such-image/);
		await rejectsWith(c.deleteImage({ imageId: "no-such-image" }), Code.NotFound);
		await rejectsWith(c.processImage({ source: { case: "imageId", value: "no-such-image" } }), Code.NotFound);
		await rejectsWith((async () => {
			for await (const _ of c.process({ imageId: "no-such-image", filters: [step("invert")] }));
		})(), Code.NotFound);
		const rest = await request(server.baseUrl, { path: "/v1/images/no-such-image" });
		assert.equal(rest.status, 404);
		const content = await request(server.baseUrl, { path: "/v1/images/no-such-image/content" });
		assert.equal(content.status, 404);
	});

	const sneaky = ["../etc/passwd", "..%2F..", "../../../../../../etc/passwd", "..", "sample-chelsea/../../etc/passwd", "/etc/passwd"];
	for (const id of sneaky) {
		test(`id ${JSON.stringify(id)}: invalid_argument or not_found over Connect, never a file`, async () => {
			const c = jsonClient();
			for (const call of [
				() => c.getImage({ imageId: id }),
				() => c.deleteImage({ imageId: id }),
				() => c.processImage({ source: { case: "imageId", value: id }, output: { format: 2 } }),
			]) {
				let err;
				try {
					await call();
				} catch (e) {
					err = e;
				}
				assert.ok(err instanceof ConnectError, `refused (got ${err ?? "success"})`);
				assert.ok([Code.InvalidArgument, Code.NotFound].includes(err.code), `code ${Code[err.code]}`);
			}
		});
	}

	const paths = [
		"/v1/images/..%2F..%2F..%2F..%2Fetc%2Fpasswd/content",
		"/v1/images/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
		"/v1/images/%2e%2e%2f%2e%2e%2fetc%2fpasswd/content",
		"/v1/images/..%252F..%252Fetc%252Fpasswd/content",
	];
	for (const path of paths) {
		test(`GET ${path}: 400 or 404, never a file`, async () => {
			const res = await request(server.baseUrl, { path });
			assert.ok([400, 404].includes(res.status), `status ${res.status}`);
			assert.doesNotMatch(res.text(), /root:.*:0:0:/);
			assert.match(res.headers["content-type"] ?? "", /json/);
		});
	}

	test("curl --path-as-is /v1/images/../../../etc/passwd/content: 400 or 404, never the file", async () => {
		const res = await curl(["--path-as-is", `${server.baseUrl}/v1/images/../../../../etc/passwd/content`]);
		assert.ok([400, 404].includes(res.status), `status ${res.status}`);
		assert.doesNotMatch(res.text(), /root:.*:0:0:/);
	});
});

describe("pipeline errors are invalid_argument naming the culprit", () => {
	const cases = [
		{ what: "an unknown filter", filters: [step("sparkle")], re: /sparkle/ },
		{ what: "an unknown parameter", filters: [step("blur", { radius: 3 })], re: /radius/ },
		{ what: "an out-of-range number", filters: [step("blur", { sigma: 500 })], re: /sigma/ },
		{ what: "a number below the minimum", filters: [step("blur", { sigma: 0 })], re: /sigma/ },
		{ what: "a string for a number", filters: [step("blur", { sigma: "big" })], re: /sigma/ },
		{ what: "a bool for a number", filters: [step("brightness_contrast", { brightness: true })], re: /brightness/ },
		{ what: "a fraction for an integer", filters: [step("box_blur", { radius: 2.5 })], re: /radius/ },
		{ what: "an enum value not in the options", filters: [step("blur", { border: "zigzag" })], re: /border/ },
		{ what: "a string for a bool", filters: [step("resize", { width: 10, keep_aspect: "yes" })], re: /keep_aspect/ },
	];
	for (const c of cases) {
		test(`${c.what}: ProcessImage (Connect proto over HTTP/2)`, async () => {
			await rejectsWith(
				h2Client().processImage({ source: { case: "imageId", value: "sample-chelsea" }, filters: c.filters }),
				Code.InvalidArgument, c.re,
			);
		});
	}

	test("the same over Process (server stream) and raw POST /v1/process query parameters", async () => {
		await rejectsWith((async () => {
			for await (const _ of h2Client().process({ imageId: "sample-chelsea", filters: [step("blur", { sigma: 99 })] }));
		})(), Code.InvalidArgument, /sigma/);
		for (const [query, re] of [
			["filters=sparkle", /sparkle/],
			["filters=blur&blur.radius=2", /radius/],
			["filters=blur&blur.sigma=99", /sigma/],
			["filters=blur&blur.sigma=abc", /sigma/],
			["filters=blur&blur.border=zigzag", /border/],
			["filters=invert&format=gif", /format/],
		]) {
			const res = await request(server.baseUrl, {
				method: "POST", path: `/v1/process?${query}`, headers: { "content-type": "image/png" }, body: sampleBytes("chelsea.png"),
			});
			assert.equal(res.status, 400, `${query}: ${res.text()}`);
			assert.equal(res.json().code, "invalid_argument");
			assert.match(res.json().message, re, query);
		}
	});

	test("output options out of range: quality 101, negative max_width", async () => {
		const c = h2Client();
		const src = { case: "imageId", value: "sample-chelsea" };
		await rejectsWith(c.processImage({ source: src, output: { quality: 101 } }), Code.InvalidArgument, /quality/);
		await rejectsWith(c.processImage({ source: src, output: { maxWidth: -5 } }), Code.InvalidArgument, /max_width/);
	});
});

describe("deadlines", () => {
	// a 4K-ish job: ladybird (2560x1600) up to 3840 wide, then a wide blur
	const big = {
		imageId: "sample-ladybird",
		filters: [{ name: "resize", params: { width: 3840 } }, { name: "blur", params: { sigma: 8 } }],
	};

	test("Connect-Timeout-Ms: 1 on ProcessImage: 504 deadline_exceeded", async () => {
		const t0 = Date.now();
		const res = await request(server.baseUrl, {
			method: "POST", path: "/gpix.v1.ImageService/ProcessImage",
			headers: { "content-type": "application/json", "connect-timeout-ms": "1" },
			body: JSON.stringify(big),
		});
		assert.equal(res.status, 504, res.text().slice(0, 200));
		assert.equal(res.json().code, "deadline_exceeded");
		assert.ok(Date.now() - t0 < 3000, `answered after ${Date.now() - t0} ms`);
	});

	test("Connect-Timeout-Ms: 1 on raw POST /v1/process: 504", async () => {
		const res = await request(server.baseUrl, {
			method: "POST", path: "/v1/process?filters=resize,blur&resize.width=3840&blur.sigma=8",
			headers: { "content-type": "image/jpeg", "connect-timeout-ms": "1" },
			body: sampleBytes("ladybird.jpg"),
		});
		assert.equal(res.status, 504, res.text().slice(0, 200));
	});

	test("grpc-timeout: 1m on gRPC ProcessImage: DEADLINE_EXCEEDED (4) from the server", async () => {
		const msg = toBinary(ProcessImageRequestSchema, create(ProcessImageRequestSchema, {
			source: { case: "imageId", value: big.imageId },
			filters: [step("resize", { width: 3840 }), step("blur", { sigma: 8 })],
		}));
		const res = await h2Request(server.baseUrl, {
			path: "/gpix.v1.ImageService/ProcessImage",
			headers: { "content-type": "application/grpc", te: "trailers", "grpc-timeout": "1m" },
			body: envelope(0, msg),
		});
		assert.equal(res.status, 200);
		assert.equal(grpcStatus(res), 4, `grpc-status ${grpcStatus(res)} ${grpcMessage(res)}`);
	});

	test("Connect-Timeout-Ms: 1 on the Process stream: the end-stream message carries deadline_exceeded", async () => {
		const body = Buffer.from(JSON.stringify(big));
		const res = await request(server.baseUrl, {
			method: "POST", path: "/gpix.v1.ImageService/Process",
			headers: { "content-type": "application/connect+json", "connect-timeout-ms": "1" },
			body: envelope(0, body),
		});
		assert.equal(res.status, 200, "Connect streaming errors travel in the end-stream message");
		const envs = parseEnvelopes(res.body);
		const end = envs.at(-1);
		assert.equal(end.flags & 0x02, 0x02, "end-stream flag");
		assert.equal(JSON.parse(end.data).error?.code, "deadline_exceeded");
		assert.ok(!envs.some((e) => e.flags === 0 && JSON.parse(e.data).resultImageId), "no result saved");
	});

	test("connect-node with timeoutMs: 1 sees deadline_exceeded", async () => {
		const c = serviceClient(createConnectTransport({ baseUrl: server.baseUrl, httpVersion: "2" }));
		await rejectsWith(
			c.processImage({ source: { case: "imageId", value: big.imageId }, filters: big.filters.map((f) => step(f.name, f.params)) }, { timeoutMs: 1 }),
			Code.DeadlineExceeded,
		);
	});
});

describe("a full queue: --workers 1 --queue-depth 1", () => {
	let busy;
	before(async () => {
		busy = await startServer({ args: ["--workers", "1", "--queue-depth", "1"] });
	});
	after(async () => {
		const { code, signal, killed } = await stopServer(busy);
		assert.equal(killed, false);
		assert.deepEqual({ code, signal }, { code: 0, signal: null });
	});

	// 1080p: ladybird resized to 1920x1200, then blurred
	const job = { imageId: "sample-ladybird", filters: [{ name: "resize", params: { width: 1920 } }, { name: "blur", params: { sigma: 4 } }] };

	test("20 concurrent 1080p ProcessImage calls: some 429 resource_exhausted with Retry-After, the rest succeed", async () => {
		const before = (await listAllIds(busy.baseUrl)).sort();
		const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => request(busy.baseUrl, {
			method: "POST", path: "/gpix.v1.ImageService/ProcessImage",
			headers: { "content-type": "application/json" },
			body: JSON.stringify(job),
			httpVersion: i % 2 ? "2" : "1.1",
			timeoutMs: 60000,
		})));
		const rejected = answers.filter((r) => r.status === 429);
		const ok = answers.filter((r) => r.status === 200);
		assert.ok(rejected.length >= 1, `statuses: ${answers.map((r) => r.status)}`);
		assert.ok(ok.length >= 1, "the queue still runs jobs");
		assert.equal(rejected.length + ok.length, 20, `statuses: ${answers.map((r) => r.status)}`);
		for (const r of rejected) {
			assert.equal(r.json().code, "resource_exhausted");
			assert.match(r.headers["retry-after"] ?? "", /^\d+$/, "Retry-After in seconds");
		}
		await assertAlive(busy.baseUrl);
		assert.deepEqual((await listAllIds(busy.baseUrl)).sort(), before);
	});

	test("the same on raw POST /v1/process: 429 with Retry-After", async () => {
		const body = sampleBytes("ladybird.jpg");
		const answers = await Promise.all(Array.from({ length: 20 }, () => request(busy.baseUrl, {
			method: "POST", path: "/v1/process?filters=resize,blur&resize.width=1920&blur.sigma=4",
			headers: { "content-type": "image/jpeg" }, body, timeoutMs: 60000,
		})));
		const rejected = answers.filter((r) => r.status === 429);
		assert.ok(rejected.length >= 1, `statuses: ${answers.map((r) => r.status)}`);
		for (const r of rejected) assert.match(r.headers["retry-after"] ?? "", /^\d+$/);
		assert.ok(answers.some((r) => r.status === 200));
		await assertAlive(busy.baseUrl);
	});
});

describe("the first failing Upload after start", () => {
	let fresh;
	before(async () => {
		fresh = await startServer();
	});
	after(async () => {
		const { code, signal } = await stopServer(fresh);
		assert.deepEqual({ code, signal }, { code: 0, signal: null });
	});

	for (const httpVersion of ["1.1", "2"]) {
		test(`Connect proto over HTTP/${httpVersion}: its end-stream error is invalid_argument with the message`, {}, async () => {
			const c = imageClient(fresh.baseUrl, { httpVersion, useBinaryFormat: true });
			await rejectsWith(c.upload(chunksOf(TEXT, { filename: "notes.jpg" })), Code.InvalidArgument, /JPEG|PNG|image/);
		});
	}
});
