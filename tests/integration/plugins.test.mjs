// Plugins in a real gpixd (docs/plugins.md): --plugin-dir with the example
// plugin and the loader's test plugins (tests/unit/engine/plugins), what
// ListFilters and ListBackends say about them, running their filters and
// backends, an incompatible ABI refused, and a SIGHUP reload while jobs run.
//
// The plugins come from the build directory of the gpixd under test
// (GPIXD=<build>/server/gpixd: <build>/plugins/example, <build>/tests/...);
// without them the tests are skipped.
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { ImageFormat, imageClient } from "./lib/connect.mjs";
import { sleep, step, stopServer } from "./lib/gpix.mjs";
import { gpixdPath, startServer } from "./lib/server.mjs";

const build = dirname(dirname(gpixdPath()));
const EXAMPLE = join(build, "plugins/example/gpix-example.so");
const TP = (v) => join(build, `tests/unit/engine/plugins/${v}.so`);
const have = [EXAMPLE, TP("tp_v1"), TP("tp_v2"), TP("tp_badabi")].every((p) => existsSync(p));

async function rejectsWith(promise, code, messageRe) {
	await assert.rejects(promise, (e) => {
		assert.ok(e instanceof ConnectError, `a ConnectError, got ${e}`);
		assert.equal(e.code, code, `code ${Code[e.code]} (${e.rawMessage})`);
		if (messageRe) assert.match(e.rawMessage, messageRe);
		return true;
	});
}

describe("plugins", { skip: have ? false : `plugins not built next to ${gpixdPath()}` }, () => {
	let server, dir, client;
	before(async () => {
		dir = mkdtempSync(join(tmpdir(), "gpix-plugin-dir-"));
		copyFileSync(EXAMPLE, join(dir, "gpix-example.so"));
		copyFileSync(TP("tp_v1"), join(dir, "tp.so"));
		copyFileSync(TP("tp_badabi"), join(dir, "zz-badabi.so"));
		server = await startServer({ args: ["--plugin-dir", dir, "--workers", "4"] });
		client = imageClient(server.baseUrl);
	});
	after(async () => {
		const { code, signal, killed } = await stopServer(server);
		rmSync(dir, { recursive: true, force: true });
		assert.equal(killed, false);
		assert.deepEqual({ code, signal }, { code: 0, signal: null });
	});

	const tpAdd = (params = {}, backend = "cpu") => client.processImage({
		source: { case: "imageId", value: "sample-chelsea" },
		filters: [step("tp_add", params)],
		backend,
		output: { format: ImageFormat.PNG },
	});

	test("a plugin built for another ABI version is refused with a clear log line", async () => {
		await server.waitForLog(/plugin \S*zz-badabi\.so refused: built for plugin ABI version 2, this gpixd speaks version 1/);
		const { filters } = await client.listFilters({});
		assert.ok(!filters.some((f) => f.name === "tp_bad"), "nothing of it is loaded");
	});

	test("ListFilters names the plugin and version of every filter, and its backends", async () => {
		const { filters } = await client.listFilters({});
		const by = Object.fromEntries(filters.map((f) => [f.name, f]));
		assert.deepEqual([by.pixelate.plugin, by.pixelate.version], ["example", "1.0.0"]);
		assert.deepEqual(by.pixelate.backends, ["cpu"]);
		const size = by.pixelate.parameters.find((p) => p.name === "size");
		assert.deepEqual([size.min, size.max, size.defaultValue.kind.value], [2, 256, 8]);
		assert.deepEqual(by.vignette.parameters.find((p) => p.name === "shape").options, ["ellipse", "circle"]);
		assert.deepEqual([by.tp_add.plugin, by.tp_add.version], ["tp", "1"]);
		assert.deepEqual(by.tp_add.backends, ["cpu", "tpb"]);
		assert.deepEqual(by.invert.backends, ["cpu", "tpb"], "a plugin backend can run built-ins");
		assert.deepEqual([by.blur.plugin, by.blur.backends], ["", ["cpu"]]);
	});

	test("ListBackends lists plugin backends with plugin and version; cuda says why it is missing", async () => {
		const res = await client.listBackends({});
		const by = Object.fromEntries(res.backends.map((b) => [b.name, b]));
		assert.equal(res.backends[0].name, "cpu");
		assert.deepEqual([by.tpb.available, by.tpb.plugin, by.tpb.version, by.tpb.device], [true, "tp", "1", "test device 1"]);
		assert.equal(by.cuda.available, false);
		assert.match(by.cuda.detail, /no CUDA backend plugin loaded from --plugin-dir/);
		assert.equal(res.defaultBackend, "auto", "auto may pick tpb by image size");
	});

	test("plugin filters and backends run; auto picks the plugin backend only for what it runs", async () => {
		const px = await client.processImage({
			source: { case: "imageId", value: "sample-chelsea" },
			filters: [step("grayscale"), step("pixelate", { size: 16 }), step("vignette", { strength: 0.8 })],
		});
		assert.equal(px.backend, "cpu");
		assert.equal(px.width, 451);
		assert.equal((await tpAdd({}, "tpb")).backend, "tpb");
		assert.equal((await tpAdd({}, "auto")).backend, "tpb", "451x300 is over tpb's 100 pixels");
		const blur = await client.processImage({
			source: { case: "imageId", value: "sample-chelsea" }, filters: [step("blur")], backend: "auto",
		});
		assert.equal(blur.backend, "cpu");
		await rejectsWith(client.processImage({
			source: { case: "imageId", value: "sample-chelsea" }, filters: [step("blur")], backend: "tpb",
		}), Code.FailedPrecondition, /backend "tpb" cannot run filter "blur"/);
		await rejectsWith(tpAdd({}, "cuda"), Code.FailedPrecondition, /no CUDA backend plugin loaded/);
		await rejectsWith(tpAdd({}, "tpx"), Code.InvalidArgument, /unknown backend "tpx" \(use auto, cpu, tpb\)/);
		await rejectsWith(tpAdd({ amount: 11 }), Code.InvalidArgument, /"tp_add\.amount" is 11, outside 0\.\.10/);
	});

	test("SIGHUP: jobs in flight finish on the old plugin, new jobs get the new one, the old one unloads", async () => {
		const v1 = Buffer.from((await tpAdd()).imageData);
		// Three jobs of about 16 x 60 ms on version 1.
		const slow = [0, 1, 2].map(() => tpAdd({ delay_ms: 60 }));
		await sleep(250);
		copyFileSync(TP("tp_v2"), join(dir, "tp.so")); // replaced in place
		server.proc.kill("SIGHUP");
		await server.waitForLog(/plugins: generation 2 is current/);
		const line = await server.waitForLog(/generation 1 unloads when its last job ends/);
		assert.match(line, /\(3 now\)/, "the three slow jobs hold the old generation");
		const { filters } = await client.listFilters({});
		assert.equal(filters.find((f) => f.name === "tp_add").version, "2");
		const v2 = Buffer.from((await tpAdd()).imageData);
		assert.notDeepEqual(v2, v1, "version 2 adds 2, version 1 adds 1");
		for (const r of await Promise.all(slow))
			assert.deepEqual(Buffer.from(r.imageData), v1, "in-flight jobs ran version 1");
		await server.waitForLog(/plugins: generation 1 unloaded/);
		const backends = await client.listBackends({});
		assert.equal(backends.backends.find((b) => b.name === "tpb").version, "2");
	});
});
