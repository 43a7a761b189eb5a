// grpc.health.v1.Health with @grpc/grpc-js (and connect-node for the other
// protocols): Check "" and "gpix.v1.ImageService" are SERVING, an unknown
// service is NOT_FOUND; Watch sends SERVING, SERVICE_UNKNOWN for an unknown
// service (and stays open), and NOT_SERVING when the server gets SIGTERM —
// after which it exits 0.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { Health } from "./lib/connect.mjs";
import { sleep, stopServer } from "./lib/gpix.mjs";
import { request } from "./lib/http.mjs";
import { repoRoot, startServer } from "./lib/server.mjs";

const definition = protoLoader.loadSync("grpc/health/v1/health.proto", {
	includeDirs: [join(repoRoot, "proto"), "/usr/include"],
	enums: String,
	defaults: true,
});
const HealthClient = grpc.loadPackageDefinition(definition).grpc.health.v1.Health;

function check(client, service) {
	return new Promise((ok, fail) => client.check({ service }, (e, r) => (e ? fail(e) : ok(r))));
}

describe("Check", () => {
	let server;
	let client;
	before(async () => {
		server = await startServer();
		client = new HealthClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
	});
	after(async () => {
		client.close();
		const { code, signal, killed } = await stopServer(server);
		assert.equal(killed, false);
		assert.deepEqual({ code, signal }, { code: 0, signal: null });
	});

	test("gRPC: \"\" (the server) and gpix.v1.ImageService are SERVING", async () => {
		assert.equal((await check(client, "")).status, "SERVING");
		assert.equal((await check(client, "gpix.v1.ImageService")).status, "SERVING");
	});

	test("gRPC: an unknown service is NOT_FOUND", async () => {
		const err = await check(client, "no.such.Service").then(() => undefined, (e) => e);
		assert.equal(err?.code, grpc.status.NOT_FOUND);
	});

	for (const [name, make] of [
		["Connect JSON HTTP/1.1", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "1.1" })],
		["Connect proto HTTP/2", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: true })],
		["gRPC-Web HTTP/1.1", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "1.1" })],
	]) {
		test(`${name}: the same answers`, async () => {
			const c = createClient(Health, make(server.baseUrl));
			assert.equal((await c.check({ service: "" })).status, 1); // SERVING
			assert.equal((await c.check({ service: "gpix.v1.ImageService" })).status, 1);
			await assert.rejects(c.check({ service: "nope" }), (e) => e instanceof ConnectError && e.code === Code.NotFound);
		});
	}

	test("Connect JSON with curl-like POST: {\"status\":\"SERVING\"}", async () => {
		const res = await request(server.baseUrl, {
			method: "POST", path: "/grpc.health.v1.Health/Check", headers: { "content-type": "application/json" }, body: "{}",
		});
		assert.equal(res.status, 200);
		assert.deepEqual(res.json(), { status: "SERVING" });
		const unknown = await request(server.baseUrl, {
			method: "POST", path: "/grpc.health.v1.Health/Check", headers: { "content-type": "application/json" },
			body: JSON.stringify({ service: "nope" }),
		});
		assert.equal(unknown.status, 404);
		assert.equal(unknown.json().code, "not_found");
	});
});

describe("Watch", () => {
	let server;
	let client;
	before(async () => {
		server = await startServer();
		client = new HealthClient(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
	});
	after(async () => {
		client.close();
		if (server.running) await stopServer(server);
	});

	/** Starts a Watch and collects what it gets. */
	function watch(service) {
		const w = { updates: [], ended: false, status: undefined, error: undefined };
		w.call = client.watch({ service });
		w.call.on("data", (r) => w.updates.push(r.status));
		w.call.on("error", (e) => {
			w.error = e;
		});
		w.call.on("status", (s) => {
			w.status = s;
		});
		w.call.on("end", () => {
			w.ended = true;
		});
		w.until = async (pred, ms = 5000) => {
			const deadline = Date.now() + ms;
			while (!pred(w)) {
				if (Date.now() > deadline) assert.fail(`watch ${JSON.stringify(service)}: got ${JSON.stringify(w.updates)}, ended ${w.ended}`);
				await sleep(10);
			}
		};
		return w;
	}

	test("Watch \"\" sends SERVING at once and stays open; an unknown service gets SERVICE_UNKNOWN and stays open", async () => {
		const all = watch("");
		const unknown = watch("no.such.Service");
		await all.until((w) => w.updates.length >= 1);
		await unknown.until((w) => w.updates.length >= 1);
		assert.deepEqual(all.updates, ["SERVING"]);
		assert.deepEqual(unknown.updates, ["SERVICE_UNKNOWN"]);
		await sleep(300);
		assert.equal(all.ended, false, "the watch stays open");
		assert.equal(unknown.ended, false, "SERVICE_UNKNOWN does not end the watch");
		assert.equal(unknown.error, undefined);
		all.call.cancel();
		unknown.call.cancel();
	});

	test("on SIGTERM the watchers get NOT_SERVING, and the server exits 0", async () => {
		const all = watch("");
		const svc = watch("gpix.v1.ImageService");
		await all.until((w) => w.updates.length >= 1);
		await svc.until((w) => w.updates.length >= 1);
		assert.deepEqual(all.updates, ["SERVING"]);
		assert.deepEqual(svc.updates, ["SERVING"]);
		const exit = stopServer(server);
		await all.until((w) => w.updates.includes("NOT_SERVING"));
		await svc.until((w) => w.updates.includes("NOT_SERVING"));
		assert.deepEqual(all.updates, ["SERVING", "NOT_SERVING"]);
		const { code, signal, killed } = await exit;
		assert.equal(killed, false, "exited within the grace period");
		assert.deepEqual({ code, signal }, { code: 0, signal: null });
		await all.until((w) => w.ended || w.error);
		assert.ok(!all.error || [grpc.status.UNAVAILABLE, grpc.status.CANCELLED].includes(all.error.code),
			`the watch ended cleanly or as unavailable: ${all.error?.code}`);
	});
});
