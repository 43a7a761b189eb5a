// Foundation: what a caller gets for a wrong request — unknown methods and
// paths, malformed JSON and protobuf, a wrong Content-Type, an oversize body —
// over HTTP/1.1 and HTTP/2, with the Connect error codes of API.md.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectVariants, unknownMethodClient } from "./lib/connect.mjs";
import { curl, request } from "./lib/http.mjs";
import { startServer } from "./lib/server.mjs";

let server;
before(async () => {
	server = await startServer();
});
after(async () => {
	const { code, signal, killed } = await server.stop();
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

/** The body is a Connect error: JSON with this code and a message string. */
function assertConnectError(r, code) {
	assert.match(r.headers["content-type"] ?? "", /^application\/json/, "a Connect error body is JSON");
	const body = r.json();
	assert.equal(body.code, code, `error code (body: ${r.text().slice(0, 300)})`);
	if (body.message !== undefined) assert.equal(typeof body.message, "string");
}

async function assertAlive() {
	const r = await request(server.baseUrl, { path: "/v1/version" });
	assert.equal(r.status, 200, "server still answers");
}

const versions = ["1.1", "2"];

describe("unknown methods and paths", () => {
	for (const httpVersion of versions) {
		test(`POST to a method that does not exist is 404 unimplemented (HTTP/${httpVersion})`, async () => {
			const r = await request(server.baseUrl, {
				method: "POST",
				path: "/gpix.v1.ImageService/NoSuchMethod",
				headers: { "content-type": "application/json" },
				body: "{}",
				httpVersion,
			});
			assert.equal(r.status, 404);
			assertConnectError(r, "unimplemented");
			assert.ok(r.headers["x-request-id"], "x-request-id on errors too");
		});

		test(`POST to a service that does not exist is 404 unimplemented (HTTP/${httpVersion})`, async () => {
			const r = await request(server.baseUrl, {
				method: "POST",
				path: "/gpix.v9.NoSuchService/GetVersion",
				headers: { "content-type": "application/proto" },
				body: Buffer.alloc(0),
				httpVersion,
			});
			assert.equal(r.status, 404);
			assertConnectError(r, "unimplemented");
		});

		test(`GET of an unknown path is 404 (HTTP/${httpVersion})`, async () => {
			const r = await request(server.baseUrl, { path: "/no/such/path", httpVersion });
			assert.equal(r.status, 404);
			assert.ok(r.headers["x-request-id"], "x-request-id on errors too");
		});
	}

	for (const v of connectVariants.filter((x) => !x.useHttpGet)) {
		test(`connect-node sees Code.Unimplemented (${v.name})`, async () => {
			const client = unknownMethodClient(server.baseUrl, v);
			await assert.rejects(client.noSuchMethod({}, { timeoutMs: 10000 }), (e) => {
				assert.ok(e instanceof ConnectError, `a ConnectError, got ${e}`);
				assert.equal(e.code, Code.Unimplemented, `code ${Code[e.code]}: ${e.message}`);
				return true;
			});
		});
	}
});

describe("bad input", () => {
	for (const httpVersion of versions) {
		test(`malformed JSON is 400 invalid_argument (HTTP/${httpVersion})`, async () => {
			const r = await request(server.baseUrl, {
				method: "POST",
				path: "/gpix.v1.ImageService/GetVersion",
				headers: { "content-type": "application/json" },
				body: '{"unterminated',
				httpVersion,
			});
			assert.equal(r.status, 400);
			assertConnectError(r, "invalid_argument");
		});

		test(`malformed protobuf is 400 invalid_argument (HTTP/${httpVersion})`, async () => {
			// field 1, length-delimited, claims 5 bytes, has 2
			const r = await request(server.baseUrl, {
				method: "POST",
				path: "/gpix.v1.ImageService/GetVersion",
				headers: { "content-type": "application/proto" },
				body: Buffer.from([0x0a, 0x05, 0x61, 0x62]),
				httpVersion,
			});
			assert.equal(r.status, 400);
			assertConnectError(r, "invalid_argument");
		});

		test(`text/plain POST to a Connect route is 415 (HTTP/${httpVersion})`, async () => {
			const r = await request(server.baseUrl, {
				method: "POST",
				path: "/gpix.v1.ImageService/GetVersion",
				headers: { "content-type": "text/plain" },
				body: "{}",
				httpVersion,
			});
			assert.equal(r.status, 415);
		});

		test(`a 5 MiB Connect message is refused as too large (HTTP/${httpVersion})`, async () => {
			// curl, not Node's client: a server may answer before it read the
			// whole body and then close, and curl still reports that answer.
			const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
			big.write('{"x":"', 0);
			big.write('"}', big.length - 2);
			const r = await curl([
				httpVersion === "2" ? "--http2-prior-knowledge" : "--http1.1",
				"-X", "POST", "-H", "Content-Type: application/json",
				`${server.baseUrl}/gpix.v1.ImageService/GetVersion`,
			], { input: big, timeoutMs: 20000 });
			// Plain 413, or the Connect mapping of resource_exhausted (429).
			assert.ok([413, 429].includes(r.status), `status ${r.status} is 413 or 429 (curl: ${r.stderr.trim()})`);
			if (r.status === 429 || /json/.test(r.headers["content-type"] ?? "")) {
				assertConnectError(r, "resource_exhausted");
			}
			await assertAlive();
		});
	}

	test("malformed JSON with curl --http2-prior-knowledge names invalid_argument", async () => {
		const r = await curl([
			"--http2-prior-knowledge", "-X", "POST", "-H", "Content-Type: application/json",
			`${server.baseUrl}/gpix.v1.ImageService/GetVersion`,
		], { input: "{]" });
		assert.equal(r.status, 400);
		assertConnectError(r, "invalid_argument");
	});
});
