// One gpixd for the whole run (started before the first scenario, stopped
// with SIGTERM after the last, which must exit 0), and a World per scenario
// that keeps the request settings and the last response.
import assert from "node:assert/strict";
import {
	AfterAll, BeforeAll, setDefaultTimeout, setWorldConstructor, World,
} from "../../tests/integration/lib/cucumber.mjs";
import { request } from "../../tests/integration/lib/http.mjs";
import { startServer } from "../../tests/integration/lib/server.mjs";

setDefaultTimeout(30 * 1000);

let server;

BeforeAll(async function () {
	server = await startServer();
});

AfterAll(async function () {
	if (!server) return;
	const { code, signal, killed } = await server.stop();
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

export class GpixWorld extends World {
	constructor(options) {
		super(options);
		this.httpVersion = "1.1";
		this.requestHeaders = {};
		this.response = undefined;
	}

	get server() {
		assert.ok(server, "gpixd is not running (BeforeAll failed?)");
		return server;
	}

	/** Sends a request with this scenario's HTTP version and headers; keeps the response. */
	async send(method, path, { body, headers = {} } = {}) {
		this.response = await request(this.server.baseUrl, {
			method,
			path,
			body,
			headers: { ...this.requestHeaders, ...headers },
			httpVersion: this.httpVersion,
		});
		return this.response;
	}

	/** The last response's body as JSON (fails the step if it is not JSON). */
	json() {
		assert.ok(this.response, "no request was sent yet");
		try {
			return this.response.json();
		} catch {
			assert.fail(`the response body is not JSON: ${this.response.text().slice(0, 300)}`);
		}
	}
}

setWorldConstructor(GpixWorld);
