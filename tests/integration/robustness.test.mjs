// Foundation: hostile and broken clients. Garbage instead of HTTP, truncated
// HTTP/2 frames, clients that vanish mid-request, HTTP/1.1 request smuggling
// (the libmicrohttpd holes listed in shared/PITFALLS.md), HTTP/2 stream id
// ordering (the nghttp2 hole), oversize headers. After each, the server must
// still answer.
import assert from "node:assert/strict";
import http2 from "node:http2";
import { after, afterEach, before, describe, test } from "node:test";
import {
	H2, H2_ERROR, H2_FLAG, H2_PREFACE, findGoaway, h2Frame, hpackRequest, parseH2Frames,
	parseHttp1Responses, rawExchange, request,
} from "./lib/http.mjs";
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

// Every test leaves a server that still serves both HTTP versions.
afterEach(async () => {
	assert.ok(server.running, `gpixd died; log:\n${server.tail()}`);
	for (const httpVersion of ["1.1", "2"]) {
		const r = await request(server.baseUrl, { path: "/v1/version", httpVersion, timeoutMs: 5000 });
		assert.equal(r.status, 200, `server still answers over HTTP/${httpVersion}`);
	}
});

const CRLF = "\r\n";
const http1 = (lines, body = "") => Buffer.from(lines.join(CRLF) + CRLF + CRLF + body, "latin1");

/** Exactly one 400 answer, then the connection closed: nothing smuggled through. */
function assertRejectedAndClosed(res, what) {
	assert.equal(res.timedOut, false, `${what}: the server neither answered nor closed within the timeout (hang)`);
	const answers = parseHttp1Responses(res.data);
	assert.ok(answers.length >= 1, `${what}: expected a 400 answer, got ${JSON.stringify(res.data.toString("latin1").slice(0, 200))}`);
	assert.equal(answers[0].status, 400, `${what}: status`);
	assert.equal(answers.length, 1, `${what}: a second (smuggled) request was answered`);
	assert.equal(res.closed, true, `${what}: connection closed after the 400`);
}

describe("garbage and broken connections", () => {
	test("garbage bytes instead of HTTP get a 400 or a closed connection", async () => {
		const garbage = Buffer.concat([
			Buffer.from([0x00, 0x01, 0x02, 0x03, 0xfe, 0xff, 0x7f, 0x80]),
			Buffer.from("\x01\x02 garbage \xff\xfe\r\n\x00\r\n\r\n", "latin1"),
		]);
		const res = await rawExchange(server.port, [garbage], { timeoutMs: 5000 });
		assert.equal(res.timedOut, false, "the server neither answered nor closed");
		if (res.data.length) {
			assert.match(res.data.toString("latin1"), /^HTTP\/1\.[01] 400 /, "an answer to garbage is a 400");
		}
	});

	test("a truncated HTTP/2 frame then close", async () => {
		const settings = h2Frame(H2.SETTINGS, 0, 0, Buffer.alloc(10), 100); // claims 100 bytes, has 10
		await rawExchange(server.port, [H2_PREFACE, settings], { timeoutMs: 300, end: true });
	});

	test("an HTTP/2 frame header cut in the middle then close", async () => {
		await rawExchange(server.port, [H2_PREFACE, Buffer.from([0x00, 0x00])], { timeoutMs: 300, end: true });
	});

	test("HTTP/1.1: a client that disconnects mid-body", async () => {
		const req = http1([
			"POST /gpix.v1.ImageService/GetVersion HTTP/1.1", "Host: 127.0.0.1",
			"Content-Type: application/json", "Content-Length: 1000",
		], '{"aaaaaaa');
		await rawExchange(server.port, [req], { destroy: true });
	});

	test("HTTP/2: a client that disconnects mid-body", async () => {
		const session = http2.connect(server.baseUrl);
		session.on("error", () => {});
		const stream = session.request({
			":method": "POST", ":path": "/gpix.v1.ImageService/GetVersion",
			"content-type": "application/json", "content-length": "1000",
		});
		stream.on("error", () => {});
		stream.write('{"aaaaaaa');
		await new Promise((r) => setTimeout(r, 50));
		session.destroy();
	});

	test("HTTP/1.1: headers that never finish, then close", async () => {
		await rawExchange(server.port, [Buffer.from("GET /v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")],
			{ timeoutMs: 200, end: true });
	});
});

describe("HTTP/1.1 request smuggling", () => {
	const post = "POST /gpix.v1.ImageService/GetVersion HTTP/1.1";
	const smuggled = "GET /v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

	test("Content-Length and Transfer-Encoding together: 400 and close", async () => {
		const req = http1([post, "Host: 127.0.0.1", "Content-Type: application/json",
			"Content-Length: 5", "Transfer-Encoding: chunked"], "0\r\n\r\n" + smuggled);
		assertRejectedAndClosed(await rawExchange(server.port, [req], { timeoutMs: 5000 }), "CL + TE");
	});

	test("two different Content-Length headers: 400 and close", async () => {
		const req = http1([post, "Host: 127.0.0.1", "Content-Type: application/json",
			"Content-Length: 2", "Content-Length: 48"], "{}" + smuggled);
		assertRejectedAndClosed(await rawExchange(server.port, [req], { timeoutMs: 5000 }), "CL + CL");
	});

	test("a non-numeric Content-Length: 400 and close", async () => {
		const req = http1([post, "Host: 127.0.0.1", "Content-Type: application/json",
			"Content-Length: 2x"], "{}");
		assertRejectedAndClosed(await rawExchange(server.port, [req], { timeoutMs: 5000 }), "CL 2x");
	});

	test("Transfer-Encoding: chunked, identity is a 400, not a hang", async () => {
		const req = http1([post, "Host: 127.0.0.1", "Content-Type: application/json",
			"Transfer-Encoding: chunked, identity"], "2\r\n{}\r\n0\r\n\r\n");
		assertRejectedAndClosed(await rawExchange(server.port, [req], { timeoutMs: 5000 }), "TE chunked, identity");
	});

	// libmicrohttpd turns a continuation line that looks like a header into a
	// bogus header name (" c"); gpixd must refuse it.
	test("an obs-fold line that would become a header: 400 and close", async () => {
		const req = http1(["GET /v1/version HTTP/1.1", "Host: 127.0.0.1", "X-Folded: a", " c: d"]);
		assertRejectedAndClosed(await rawExchange(server.port, [req], { timeoutMs: 5000 }), "obs-fold");
	});

	// A fold inside a value is replaced by a space before the value is used,
	// which RFC 9112 5.2 allows; what matters is one answer, no smuggling.
	test("an obs-fold inside a value: one answer, nothing smuggled", async () => {
		const req = http1(["GET /v1/version HTTP/1.1", "Host: 127.0.0.1", "X-Folded: a",
			" GET /healthz HTTP/1.1", "Connection: close"]);
		const res = await rawExchange(server.port, [req], { timeoutMs: 5000 });
		assert.equal(res.timedOut, false, "no answer");
		const answers = parseHttp1Responses(res.data);
		assert.equal(answers.length, 1, res.data.toString("latin1").slice(0, 300));
		assert.ok([200, 400].includes(answers[0].status), `status ${answers[0].status}`);
	});

	test("the same request without tricks is answered (control)", async () => {
		const req = http1([post, "Host: 127.0.0.1", "Content-Type: application/json",
			"Content-Length: 2", "Connection: close"], "{}");
		const res = await rawExchange(server.port, [req], { timeoutMs: 5000 });
		const answers = parseHttp1Responses(res.data);
		assert.equal(answers[0]?.status, 200, res.data.toString("latin1").slice(0, 300));
	});
});

describe("oversize headers", () => {
	test("a 64 KiB header on HTTP/1.1 is 431", async () => {
		const req = http1(["GET /v1/version HTTP/1.1", "Host: 127.0.0.1", `X-Big: ${"a".repeat(64 * 1024)}`]);
		const res = await rawExchange(server.port, [req], { timeoutMs: 5000 });
		assert.equal(res.timedOut, false, "no answer to oversize headers");
		assert.match(res.data.toString("latin1"), /^HTTP\/1\.[01] 431 /, "status 431");
	});
});

describe("HTTP/2 stream ids", () => {
	test("a HEADERS frame with a lower stream id than a previous one is a PROTOCOL_ERROR GOAWAY", async () => {
		const block = hpackRequest({ method: "GET", path: "/v1/version" });
		const flags = H2_FLAG.END_HEADERS | H2_FLAG.END_STREAM;
		const res = await rawExchange(server.port, [
			H2_PREFACE,
			h2Frame(H2.SETTINGS, 0, 0),
			h2Frame(H2.HEADERS, flags, 5, block),
			h2Frame(H2.HEADERS, flags, 3, block),
		], {
			timeoutMs: 5000,
			until: (buf) => findGoaway(parseH2Frames(buf)) !== undefined,
		});
		const goaway = findGoaway(parseH2Frames(res.data));
		assert.ok(goaway, `expected a GOAWAY; got frames ${JSON.stringify(parseH2Frames(res.data).map((f) => f.type))}`);
		assert.equal(goaway.errorCode, H2_ERROR.PROTOCOL_ERROR, `GOAWAY error code (debug: ${goaway.debug})`);
	});

	test("an even (server-initiated) stream id from a client is a PROTOCOL_ERROR GOAWAY", async () => {
		const block = hpackRequest({ method: "GET", path: "/v1/version" });
		const res = await rawExchange(server.port, [
			H2_PREFACE,
			h2Frame(H2.SETTINGS, 0, 0),
			h2Frame(H2.HEADERS, H2_FLAG.END_HEADERS | H2_FLAG.END_STREAM, 2, block),
		], { timeoutMs: 5000, until: (buf) => findGoaway(parseH2Frames(buf)) !== undefined });
		const goaway = findGoaway(parseH2Frames(res.data));
		assert.ok(goaway, "expected a GOAWAY");
		assert.equal(goaway.errorCode, H2_ERROR.PROTOCOL_ERROR);
	});

	test("raw HTTP/2 request with hand-made frames is answered (control)", async () => {
		const block = hpackRequest({ method: "GET", path: "/v1/version" });
		const res = await rawExchange(server.port, [
			H2_PREFACE,
			h2Frame(H2.SETTINGS, 0, 0),
			h2Frame(H2.HEADERS, H2_FLAG.END_HEADERS | H2_FLAG.END_STREAM, 1, block),
		], {
			timeoutMs: 5000,
			until: (buf) => parseH2Frames(buf).some((f) => f.streamId === 1 && f.flags & H2_FLAG.END_STREAM),
		});
		const frames = parseH2Frames(res.data);
		assert.ok(frames.some((f) => f.type === H2.HEADERS && f.streamId === 1), "a HEADERS answer on stream 1");
		assert.equal(findGoaway(frames), undefined, "no GOAWAY for a valid request");
	});
});
