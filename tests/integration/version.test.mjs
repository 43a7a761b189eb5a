// Foundation: GetVersion over every way of asking for it — Connect JSON,
// Connect proto, Connect GET (JSON and base64 proto), REST GET /v1/version —
// each over HTTP/1.1 and HTTP/2 (curl and connect-node), with the log line
// and x-request-id the contract promises.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { GetVersionResponseSchema, connectVariants, imageClient } from "./lib/connect.mjs";
import { curl, request } from "./lib/http.mjs";
import { startServer } from "./lib/server.mjs";

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)$/;
const LOG_LINE = /GetVersion called at \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)/;

let server;
let startedBefore; // the server started after this instant...
let startedAfter; // ...and before this one
before(async () => {
	startedBefore = Date.now() - 1000; // clock granularity: whole seconds
	server = await startServer();
	startedAfter = Date.now() + 1000;
});
after(async () => {
	const { code, signal, killed } = await server.stop();
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

function checkStartedAt(date) {
	assert.ok(date instanceof Date && !Number.isNaN(date.getTime()), "startedAt is a time");
	assert.ok(date.getTime() >= startedBefore && date.getTime() <= startedAfter,
		`startedAt ${date.toISOString()} is when this server started`);
}

function checkJson(body) {
	assert.equal(body.version, "v0.1.0");
	assert.equal(body.apiVersion, "gpix.v1");
	assert.match(body.startedAt ?? "", RFC3339_UTC, "startedAt is an RFC 3339 UTC timestamp");
	checkStartedAt(new Date(body.startedAt));
}

function checkProto(bytes) {
	const msg = fromBinary(GetVersionResponseSchema, bytes);
	assert.equal(msg.version, "v0.1.0");
	assert.equal(msg.apiVersion, "gpix.v1");
	assert.ok(msg.startedAt, "startedAt is set");
	checkStartedAt(timestampDate(msg.startedAt));
}

/** The log must gain one more "GetVersion called at <RFC 3339>" line and a line with the request id. */
async function expectLogged(countBefore, requestId) {
	await server.waitForLogCount(LOG_LINE, countBefore + 1);
	if (requestId) await server.waitForLog(new RegExp(requestId), 3000);
}

const path = "/gpix.v1.ImageService/GetVersion";
const curlCases = [
	{
		name: "Connect JSON POST",
		args: (url) => ["-X", "POST", "-H", "Content-Type: application/json", `${url}${path}`],
		input: "{}",
		contentType: /^application\/json/,
		check: (r) => checkJson(r.json()),
	},
	{
		name: "Connect proto POST",
		args: (url) => ["-X", "POST", "-H", "Content-Type: application/proto", `${url}${path}`],
		input: Buffer.alloc(0),
		contentType: /^application\/proto/,
		check: (r) => checkProto(r.body),
	},
	{
		name: "Connect GET JSON",
		args: (url) => [`${url}${path}?connect=v1&encoding=json&message=%7B%7D`],
		contentType: /^application\/json/,
		check: (r) => checkJson(r.json()),
	},
	{
		name: "Connect GET proto base64",
		args: (url) => [`${url}${path}?connect=v1&encoding=proto&base64=1&message=`],
		contentType: /^application\/proto/,
		check: (r) => checkProto(r.body),
	},
	{
		name: "REST GET /v1/version",
		args: (url) => [`${url}/v1/version`],
		contentType: /^application\/json/,
		check: (r) => checkJson(r.json()),
	},
];

describe("GetVersion with curl", () => {
	for (const [flag, wantVersion] of [["--http1.1", "1.1"], ["--http2-prior-knowledge", "2"]]) {
		for (const c of curlCases) {
			test(`${c.name} over curl ${flag}`, async () => {
				const id = `curl-${randomUUID()}`;
				const n = server.countLog(LOG_LINE);
				const r = await curl([flag, "-H", `x-request-id: ${id}`, ...c.args(server.baseUrl)], { input: c.input });
				assert.equal(r.exitCode, 0, `curl failed: ${r.stderr}`);
				assert.equal(r.httpVersion, wantVersion, "HTTP version used");
				assert.equal(r.status, 200, `status (body: ${r.text().slice(0, 300)})`);
				assert.match(r.headers["content-type"] ?? "", c.contentType);
				assert.equal(r.headers["x-request-id"], id, "x-request-id echoes the caller's");
				c.check(r);
				await expectLogged(n, id);
			});
		}
	}
});

describe("GetVersion with connect-node", () => {
	for (const v of connectVariants) {
		test(v.name, async () => {
			const id = `connect-${randomUUID()}`;
			const n = server.countLog(LOG_LINE);
			let headers;
			const res = await imageClient(server.baseUrl, v).getVersion(
				{},
				{ headers: { "x-request-id": id }, onHeader: (h) => (headers = h), timeoutMs: 10000 },
			);
			assert.equal(res.version, "v0.1.0");
			assert.equal(res.apiVersion, "gpix.v1");
			assert.ok(res.startedAt, "startedAt is set");
			checkStartedAt(timestampDate(res.startedAt));
			assert.equal(headers?.get("x-request-id"), id, "x-request-id echoes the caller's");
			await expectLogged(n, id);
		});
	}
});

describe("x-request-id", () => {
	for (const httpVersion of ["1.1", "2"]) {
		test(`a request without one gets a new one (HTTP/${httpVersion})`, async () => {
			const a = await request(server.baseUrl, { path: "/v1/version", httpVersion });
			const b = await request(server.baseUrl, { path: "/v1/version", httpVersion });
			assert.equal(a.status, 200);
			assert.ok(a.headers["x-request-id"], "x-request-id is set");
			assert.ok(b.headers["x-request-id"], "x-request-id is set");
			assert.notEqual(a.headers["x-request-id"], b.headers["x-request-id"], "each request gets its own id");
			await server.waitForLog(new RegExp(a.headers["x-request-id"].replace(/[.*+?^${}()|[\]\\]/g, "\\$&")), 3000);
		});
	}

	test("errors carry it too", async () => {
		const id = `err-${randomUUID()}`;
		const r = await request(server.baseUrl, { path: "/no/such/path", headers: { "x-request-id": id } });
		assert.equal(r.status, 404);
		assert.equal(r.headers["x-request-id"], id);
	});
});
