// Enveloped protocols by hand, with curl and raw sockets: Connect streaming
// (application/connect+json and +proto) and gRPC-Web (binary and text) —
// request envelopes built here, response envelopes parsed here, including
// the end-of-stream (0x02) and trailers (0x80) frames. Then bad envelopes:
// a length prefix over the 4 MiB limit (answered before the body arrives),
// a compressed flag without an encoding, invalid base64, a gzip bomb.
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { after, before, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
	GetVersionResponseSchema, ProcessRequestSchema, ProcessResponseSchema, UploadRequestSchema, UploadResponseSchema,
} from "./lib/connect.mjs";
import {
	assertAlive, decodeGrpcWebText, envelope, listAllIds, parseEnvelopes, parseTrailerBlock, sampleBytes, sha256hex,
	stopServer,
} from "./lib/gpix.mjs";
import { grpcStatus, h2Request } from "./lib/h2raw.mjs";
import { curl, rawExchange } from "./lib/http.mjs";
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

const HTTP = [["HTTP/1.1", []], ["HTTP/2", ["--http2-prior-knowledge"]]];
const url = (method) => `${server.baseUrl}/${method.includes(".") ? method : `gpix.v1.ImageService/${method}`}`;
const processReq = { imageId: "sample-chelsea", filters: [{ name: "blur", params: { sigma: 2 } }] };
const LIMIT = 4 * 1024 * 1024;

/** The end-of-stream envelope of a Connect streaming body, parsed. */
function connectEnd(envs) {
	const end = envs.at(-1);
	assert.ok(end, "at least one envelope");
	assert.equal(end.flags, 0x02, "the last envelope has the end-of-stream flag");
	for (const e of envs.slice(0, -1)) assert.equal(e.flags, 0x00, "message envelopes are uncompressed, no flags");
	return JSON.parse(end.data.toString("utf8"));
}

/** The trailers frame (0x80) of a gRPC-Web body, parsed, plus the message frames. */
function grpcWebFrames(body) {
	const envs = parseEnvelopes(body);
	assert.equal(envs.rest.length, 0, "no partial frame");
	const trailers = envs.at(-1);
	assert.ok(trailers && trailers.flags === 0x80, "the last frame is the trailers frame (0x80)");
	return { messages: envs.slice(0, -1), trailers: parseTrailerBlock(trailers.data) };
}

describe("Connect streaming with curl", () => {
	for (const [label, flags] of HTTP) {
		test(`application/connect+json Process over ${label}: progress envelopes, then 0x02 with {}`, async () => {
			const res = await curl([...flags, "-H", "Content-Type: application/connect+json", url("Process")], {
				input: envelope(0, JSON.stringify(processReq)),
			});
			assert.equal(res.status, 200, res.stderr);
			assert.equal(res.headers["content-type"], "application/connect+json");
			const envs = parseEnvelopes(res.body);
			assert.equal(envs.rest.length, 0, "no partial envelope");
			assert.deepEqual(connectEnd(envs), {}, "a clean end of stream is {}");
			const msgs = envs.slice(0, -1).map((e) => JSON.parse(e.data));
			assert.ok(msgs.length >= 10);
			assert.equal(msgs.at(-1).percent, 100);
			assert.equal(msgs.at(-1).status, "100% complete");
			assert.ok(msgs.at(-1).resultImageId);
			// proto3 JSON: zero values are left out, so the first (0%) may lack "percent"
			for (const m of msgs) assert.equal(m.status, `${m.percent ?? 0}% complete`);
		});

		test(`application/connect+proto Process over ${label}: binary envelopes`, async () => {
			const req = toBinary(ProcessRequestSchema, create(ProcessRequestSchema, { imageId: "sample-chelsea", filters: [{ name: "invert" }] }));
			const res = await curl([...flags, "-H", "Content-Type: application/connect+proto", url("Process")], { input: envelope(0, req) });
			assert.equal(res.status, 200);
			assert.equal(res.headers["content-type"], "application/connect+proto");
			const envs = parseEnvelopes(res.body);
			assert.deepEqual(connectEnd(envs), {});
			const msgs = envs.slice(0, -1).map((e) => fromBinary(ProcessResponseSchema, e.data));
			assert.equal(msgs.at(-1).percent, 100);
			assert.ok(msgs.at(-1).resultImageId);
		});

		test(`Connect error in the end-of-stream message over ${label}: HTTP 200, code not_found`, async () => {
			const res = await curl([...flags, "-H", "Content-Type: application/connect+json", url("Process")], {
				input: envelope(0, JSON.stringify({ imageId: "no-such-image" })),
			});
			assert.equal(res.status, 200);
			const end = connectEnd(parseEnvelopes(res.body));
			assert.equal(end.error?.code, "not_found");
			assert.match(end.error.message, /no-such-image/);
		});
	}

	test("client streaming Upload over HTTP/1.1 (half-duplex): two chunk envelopes → one response", async () => {
		const data = sampleBytes("rocket.jpg");
		const first = toBinary(UploadRequestSchema, create(UploadRequestSchema, {
			chunk: data.subarray(0, 65536), filename: "curl.jpg", sizeBytes: BigInt(data.length), sha256: sha256hex(data),
		}));
		const second = toBinary(UploadRequestSchema, create(UploadRequestSchema, { chunk: data.subarray(65536) }));
		const res = await curl(["-H", "Content-Type: application/connect+proto", url("Upload")], {
			input: Buffer.concat([envelope(0, first), envelope(0, second)]),
		});
		assert.equal(res.status, 200);
		const envs = parseEnvelopes(res.body);
		assert.deepEqual(connectEnd(envs), {});
		assert.equal(envs.length, 2, "one message, then the end");
		const up = fromBinary(UploadResponseSchema, envs[0].data);
		assert.equal(up.image.sha256, sha256hex(data));
		assert.equal(up.image.name, "curl.jpg");
	});
});

describe("gRPC-Web with curl", () => {
	for (const [label, flags] of HTTP) {
		test(`application/grpc-web+proto GetVersion over ${label}: a message frame, then trailers 0x80 grpc-status:0`, async () => {
			const res = await curl([...flags, "-H", "Content-Type: application/grpc-web+proto", "-H", "X-Grpc-Web: 1", url("GetVersion")], {
				input: envelope(0, Buffer.alloc(0)),
			});
			assert.equal(res.status, 200);
			assert.equal(res.headers["content-type"], "application/grpc-web+proto");
			const { messages, trailers } = grpcWebFrames(res.body);
			assert.equal(trailers["grpc-status"], "0");
			assert.equal(messages.length, 1);
			assert.equal(messages[0].flags, 0);
			const v = fromBinary(GetVersionResponseSchema, messages[0].data);
			assert.equal(v.version, "v0.1.0");
		});

		test(`application/grpc-web-text GetVersion over ${label}: base64 in, base64 out`, async () => {
			const res = await curl([...flags, "-H", "Content-Type: application/grpc-web-text", url("GetVersion")], {
				input: envelope(0, Buffer.alloc(0)).toString("base64"),
			});
			assert.equal(res.status, 200);
			assert.match(res.headers["content-type"], /^application\/grpc-web-text/);
			assert.match(res.text(), /^[A-Za-z0-9+/=\s]+$/, "the body is base64");
			const { messages, trailers } = grpcWebFrames(decodeGrpcWebText(res.text()));
			assert.equal(trailers["grpc-status"], "0");
			assert.equal(fromBinary(GetVersionResponseSchema, messages[0].data).apiVersion, "gpix.v1");
		});

		test(`application/grpc-web-text Process (server stream) over ${label}`, async () => {
			const req = toBinary(ProcessRequestSchema, create(ProcessRequestSchema, { imageId: "sample-chelsea", filters: [{ name: "invert" }] }));
			const res = await curl([...flags, "-H", "Content-Type: application/grpc-web-text", url("Process")], {
				input: envelope(0, req).toString("base64"),
			});
			assert.equal(res.status, 200);
			const { messages, trailers } = grpcWebFrames(decodeGrpcWebText(res.text()));
			assert.equal(trailers["grpc-status"], "0");
			const msgs = messages.map((m) => fromBinary(ProcessResponseSchema, m.data));
			assert.equal(msgs.at(-1).percent, 100);
			assert.ok(msgs.at(-1).resultImageId);
		});
	}

	test("a gRPC-Web error: trailers frame with grpc-status 5 and grpc-message", async () => {
		const res = await curl(["-H", "Content-Type: application/grpc-web+json", url("GetImage")], {
			input: envelope(0, JSON.stringify({ imageId: "no-such-image" })),
		});
		assert.equal(res.status, 200);
		// an error may come as trailers-only (headers) or as a trailers frame
		const status = res.headers["grpc-status"] ?? grpcWebFrames(res.body).trailers["grpc-status"];
		assert.equal(status, "5");
	});
});

describe("bad envelopes", () => {
	const prefixOnly = envelope(0, Buffer.alloc(0), LIMIT + 1024 * 1024); // claims 5 MiB, sends none

	test("Connect streaming over HTTP/1.1: a 5 MiB length prefix is resource_exhausted before the body arrives", {}, async () => {
		const head = "POST /gpix.v1.ImageService/Process HTTP/1.1\r\nHost: 127.0.0.1\r\n"
			+ "Content-Type: application/connect+json\r\nTransfer-Encoding: chunked\r\n\r\n";
		const chunk = Buffer.concat([Buffer.from("5\r\n"), prefixOnly, Buffer.from("\r\n")]);
		const t0 = Date.now();
		const r = await rawExchange(server.port, [head, chunk], {
			timeoutMs: 2500,
			until: (b) => /resource_exhausted"?[^]*\}\}/.test(b.toString("latin1")),
		});
		assert.ok(!r.timedOut, `no answer while the body was outstanding; got: ${r.data.toString("latin1").slice(0, 300)}`);
		const text = r.data.toString("latin1");
		assert.match(text, /^HTTP\/1\.1 200/);
		assert.match(text, /"code":"resource_exhausted"/);
		assert.ok(Date.now() - t0 < 3000);
	});

	test("Connect streaming over HTTP/2: the same, with the stream left open", async () => {
		const res = await h2Request(server.baseUrl, {
			path: "/gpix.v1.ImageService/Process",
			headers: { "content-type": "application/connect+json" },
			body: prefixOnly,
			endStream: false,
			timeoutMs: 5000,
		});
		assert.equal(res.status, 200);
		assert.equal(connectEnd(parseEnvelopes(res.body)).error?.code, "resource_exhausted");
	});

	test("gRPC over HTTP/2: RESOURCE_EXHAUSTED (8) with the stream left open", async () => {
		const res = await h2Request(server.baseUrl, {
			path: "/gpix.v1.ImageService/Upload",
			headers: { "content-type": "application/grpc", te: "trailers" },
			body: prefixOnly,
			endStream: false,
			timeoutMs: 5000,
		});
		assert.equal(grpcStatus(res), 8);
	});

	test("gRPC-Web over HTTP/1.1 (curl): grpc-status 8", async () => {
		const res = await curl(["-H", "Content-Type: application/grpc-web+proto", url("Upload")], { input: prefixOnly });
		const status = res.headers["grpc-status"] ?? grpcWebFrames(res.body).trailers["grpc-status"];
		assert.equal(status, "8");
	});

	test("the compressed flag without an encoding is an error, never a success", async () => {
		const msg = JSON.stringify(processReq);
		const connect = await curl(["-H", "Content-Type: application/connect+json", url("Process")], { input: envelope(1, msg) });
		const end = connectEnd(parseEnvelopes(connect.body));
		assert.ok(["invalid_argument", "internal"].includes(end.error?.code), `Connect: ${JSON.stringify(end)}`);
		const req = toBinary(ProcessRequestSchema, create(ProcessRequestSchema, { imageId: "sample-chelsea" }));
		const grpcRes = await h2Request(server.baseUrl, {
			path: "/gpix.v1.ImageService/Process",
			headers: { "content-type": "application/grpc", te: "trailers" },
			body: envelope(1, req),
		});
		assert.ok([3, 13].includes(grpcStatus(grpcRes)), `gRPC status ${grpcStatus(grpcRes)}`);
		const web = await curl(["-H", "Content-Type: application/grpc-web+proto", url("Process")], { input: envelope(1, req) });
		const webStatus = web.headers["grpc-status"] ?? grpcWebFrames(web.body).trailers["grpc-status"];
		assert.ok(["3", "13"].includes(webStatus), `gRPC-Web status ${webStatus}`);
	});

	test("invalid base64 in grpc-web-text is INVALID_ARGUMENT (3)", async () => {
		for (const body of ["AAA!!!==", "AAAAAA=A", "%%%%"]) {
			const res = await curl(["-H", "Content-Type: application/grpc-web-text", url("GetVersion")], { input: body });
			assert.equal(res.status, 200);
			const status = res.headers["grpc-status"] ?? grpcWebFrames(decodeGrpcWebText(res.text())).trailers["grpc-status"];
			assert.equal(status, "3", `body ${body}`);
		}
	});

	describe("a gzip bomb: 10 MiB of zeros in ~10 KiB", () => {
		const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024));
		let before;
		test("is small on the wire", () => {
			assert.ok(bomb.length < 64 * 1024, `${bomb.length} bytes`);
		});

		test("gRPC-Web (HTTP/1.1, grpc-encoding gzip): RESOURCE_EXHAUSTED", async () => {
			before = await listAllIds(server.baseUrl);
			const res = await curl(["-H", "Content-Type: application/grpc-web+proto", "-H", "grpc-encoding: gzip", url("Upload")], {
				input: envelope(1, bomb),
			});
			const status = res.headers["grpc-status"] ?? grpcWebFrames(res.body).trailers["grpc-status"];
			assert.equal(status, "8");
		});

		test("gRPC (HTTP/2, grpc-encoding gzip): RESOURCE_EXHAUSTED", async () => {
			const res = await h2Request(server.baseUrl, {
				path: "/gpix.v1.ImageService/Upload",
				headers: { "content-type": "application/grpc", te: "trailers", "grpc-encoding": "gzip" },
				body: envelope(1, bomb),
			});
			assert.equal(grpcStatus(res), 8);
		});

		test("Connect streaming (connect-content-encoding gzip): resource_exhausted", async () => {
			const res = await curl(["-H", "Content-Type: application/connect+proto", "-H", "connect-content-encoding: gzip", url("Upload")], {
				input: envelope(1, bomb),
			});
			assert.equal(connectEnd(parseEnvelopes(res.body)).error?.code, "resource_exhausted");
		});

		test("Connect unary (Content-Encoding gzip): 429 resource_exhausted", async () => {
			const res = await curl(["-H", "Content-Type: application/proto", "-H", "Content-Encoding: gzip", url("ProcessImage")], {
				input: bomb,
			});
			assert.equal(res.status, 429);
			assert.equal(res.json().code, "resource_exhausted");
		});

		test("nothing was stored and the server still answers", async () => {
			await assertAlive(server.baseUrl);
			assert.deepEqual(await listAllIds(server.baseUrl), before);
		});
	});
});
