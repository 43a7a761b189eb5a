// The gpix command-line client against a real gpixd: what it prints, what
// it exits with, and that the streaming commands (upload, process, tune)
// move real bytes.
//
// GPIX_CLI overrides the client binary (default: build/cli/gpix).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { freePort, repoRoot, startServer } from "./lib/server.mjs";

const SAMPLE_IDS = [
	"sample-astronaut",
	"sample-chelsea",
	"sample-coffee",
	"sample-ladybird",
	"sample-rocket",
	"sample-storm",
];
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG_MAGIC = Buffer.from([0xff, 0xd8, 0xff]);

function cliPath() {
	return process.env.GPIX_CLI ? resolve(process.env.GPIX_CLI) : join(repoRoot, "build/cli/gpix");
}

/**
 * Runs gpix with args; env adds variables to an environment without the
 * caller's GPIX_* ones. Resolves { code, stdout, stderr }.
 */
function gpix(args, { env = {}, timeoutMs = 30000 } = {}) {
	const bin = cliPath();
	if (!existsSync(bin)) {
		throw new Error(`gpix not found at ${bin} (build it: ninja -C build, or set GPIX_CLI)`);
	}
	const fullEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("GPIX_")));
	Object.assign(fullEnv, env);
	return new Promise((ok, fail) => {
		const p = spawn(bin, args, { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
		let stdout = "";
		let stderr = "";
		p.stdout.setEncoding("utf8");
		p.stderr.setEncoding("utf8");
		p.stdout.on("data", (d) => (stdout += d));
		p.stderr.on("data", (d) => (stderr += d));
		const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
		p.on("error", (e) => {
			clearTimeout(timer);
			fail(e);
		});
		p.on("close", (code, signal) => {
			clearTimeout(timer);
			ok({ code, signal, stdout, stderr });
		});
	});
}

/** The rows of a table the CLI printed, each split into its cells. */
function tableRows(stdout) {
	return stdout
		.split("\n")
		.filter((l) => l.length > 0)
		.map((l) => l.trim().split(/\s{2,}/));
}

let server;
let work;
before(async () => {
	server = await startServer();
	work = mkdtempSync(join(tmpdir(), "gpix-cli-"));
});
after(async () => {
	rmSync(work, { recursive: true, force: true });
	const { code, signal, killed } = await server.stop();
	assert.equal(killed, false, "gpixd did not exit within 10 s of SIGTERM");
	assert.deepEqual({ code, signal }, { code: 0, signal: null }, "gpixd exit status after SIGTERM");
});

describe("gpix version and connection errors", () => {
	test("version prints the service version", async () => {
		const r = await gpix(["--server", server.baseUrl, "version"]);
		assert.equal(r.stderr, "");
		assert.equal(r.stdout, "Service version: v0.1.0\n");
		assert.equal(r.code, 0);
	});

	test("GPIX_SERVER names the server when --server is not given", async () => {
		const r = await gpix(["version"], { env: { GPIX_SERVER: server.baseUrl } });
		assert.equal(r.stdout, "Service version: v0.1.0\n");
		assert.equal(r.code, 0);
	});

	test("--server wins over GPIX_SERVER and may follow the command", async () => {
		const dead = `http://127.0.0.1:${await freePort()}`;
		const r = await gpix(["version", "--server", server.baseUrl], { env: { GPIX_SERVER: dead } });
		assert.equal(r.stdout, "Service version: v0.1.0\n");
		assert.equal(r.code, 0);
	});

	test("an unreachable server gives one clear line and exit 1", async () => {
		const port = await freePort();
		const r = await gpix(["--server", `http://127.0.0.1:${port}`, "version"]);
		assert.equal(r.stdout, "");
		assert.equal(r.stderr, `gpix: cannot reach http://127.0.0.1:${port}: connection refused\n`);
		assert.equal(r.code, 1);
	});

	test("a Connect error prints code and message and exits 1", async () => {
		const r = await gpix(["--server", server.baseUrl, "process", "no-such-image", "--filters", "blur"]);
		assert.match(r.stderr, /^gpix: not_found: .*no-such-image.*\n$/);
		assert.equal(r.code, 1);
	});

	test("--version is the client's own version; --help shows usage", async () => {
		const v = await gpix(["--version"]);
		assert.match(v.stdout, /^gpix v0\.1\.0 /);
		assert.equal(v.code, 0);
		const h = await gpix(["--help"]);
		assert.match(h.stdout, /^Usage: gpix \[--server URL\]/);
		for (const cmd of ["version", "images", "filters", "backends", "upload", "process", "tune"]) {
			assert.match(h.stdout, new RegExp(`\\n  ${cmd}\\b`), `usage lists ${cmd}`);
		}
		assert.equal(h.code, 0);
	});

	test("a bad command line exits 2 with a hint", async () => {
		const r = await gpix(["--server", server.baseUrl, "frobnicate"]);
		assert.equal(r.stderr, "gpix: unknown command \"frobnicate\"\nTry 'gpix --help'.\n");
		assert.equal(r.code, 2);
	});
});

describe("gpix listings", () => {
	test("images lists every sample in a table", async () => {
		const r = await gpix(["--server", server.baseUrl, "images", "--source", "sample"]);
		assert.equal(r.code, 0, r.stderr);
		const rows = tableRows(r.stdout);
		assert.deepEqual(rows[0], ["ID", "NAME", "FORMAT", "SIZE", "BYTES", "SOURCE"]);
		assert.deepEqual(rows.slice(1).map((c) => c[0]).sort(), SAMPLE_IDS);
		const chelsea = rows.find((c) => c[0] === "sample-chelsea");
		assert.deepEqual(chelsea.slice(1, 4), ["chelsea.png", "PNG", "451x300"]);
		assert.match(chelsea[4], /^\d+$/);
		assert.equal(chelsea[5], "sample");
	});

	test("images follows next_page_token through every page", async () => {
		const calls = /ListImages.* status=200/;
		const before = server.countLog(calls);
		const r = await gpix(["--server", server.baseUrl, "images", "--source", "sample", "--page-size", "1"]);
		assert.equal(r.code, 0, r.stderr);
		assert.deepEqual(tableRows(r.stdout).slice(1).map((c) => c[0]).sort(), SAMPLE_IDS);
		await server.waitForLogCount(calls, before + SAMPLE_IDS.length);
	});

	test("images --http2 lists every page over HTTP/2", async () => {
		const r = await gpix(["--server", server.baseUrl, "--http2", "images", "--source", "sample", "--page-size", "2"]);
		assert.equal(r.code, 0, r.stderr);
		assert.deepEqual(tableRows(r.stdout).slice(1).map((c) => c[0]).sort(), SAMPLE_IDS);
	});

	test("filters lists filters with their parameters", async () => {
		const r = await gpix(["--server", server.baseUrl, "filters"]);
		assert.equal(r.code, 0, r.stderr);
		const rows = tableRows(r.stdout);
		assert.deepEqual(rows[0], ["FILTER", "PARAMETER", "TYPE", "DEFAULT", "RANGE/OPTIONS"]);
		const names = new Set(rows.slice(1).map((c) => c[0]));
		for (const f of ["grayscale", "blur", "edge"]) assert.ok(names.has(f), `filters lists ${f}`);
		const sigma = rows.find((c) => c[0] === "blur" && c[1] === "sigma");
		assert.ok(sigma, "blur.sigma is listed");
		assert.equal(sigma[2], "number");
		assert.match(sigma[4], /^[\d.]+\.\.[\d.]+/);
	});

	test("backends lists cpu as available and names the default", async () => {
		const r = await gpix(["--server", server.baseUrl, "backends"]);
		assert.equal(r.code, 0, r.stderr);
		const rows = tableRows(r.stdout);
		assert.deepEqual(rows[0], ["NAME", "AVAILABLE", "DEVICE", "DETAIL"]);
		const cpu = rows.find((c) => c[0] === "cpu");
		assert.ok(cpu, "cpu is listed");
		assert.equal(cpu[1], "yes");
		assert.match(r.stdout, /^Default backend: \S+$/m);
	});
});

describe("gpix streaming commands", () => {
	test("upload sends the file and prints its id, which images then lists", async () => {
		const file = join(repoRoot, "data/samples/chelsea.png");
		const r = await gpix(["--server", server.baseUrl, "upload", file]);
		assert.equal(r.stderr, "");
		const m = r.stdout.match(/^Uploaded image ID: (\S+)\n$/);
		assert.ok(m, `upload output: ${JSON.stringify(r.stdout)}`);
		assert.equal(r.code, 0);
		const list = await gpix(["--server", server.baseUrl, "images", "--source", "upload"]);
		const row = tableRows(list.stdout).find((c) => c[0] === m[1]);
		assert.ok(row, `the upload ${m[1]} is listed`);
		assert.equal(row[4], String(readFileSync(file).length));
	});

	test("upload over HTTP/2 gives the same answer", async () => {
		const r = await gpix(["--server", server.baseUrl, "--http2", "upload", join(repoRoot, "data/samples/rocket.jpg")]);
		assert.equal(r.stderr, "");
		assert.match(r.stdout, /^Uploaded image ID: \S+\n$/);
		assert.equal(r.code, 0);
	});

	test("upload of a file that is no image is refused with the server's reason", async () => {
		const r = await gpix(["--server", server.baseUrl, "upload", join(repoRoot, "README.md")]);
		assert.match(r.stderr, /^gpix: invalid_argument: .+\n$/);
		assert.equal(r.code, 1);
	});

	test("process prints progress lines and saves the result with -o", async () => {
		const out = join(work, "result.png");
		const r = await gpix([
			"--server", server.baseUrl, "process", "sample-chelsea",
			"--filters", "grayscale,blur", "--set", "blur.sigma=3", "-o", out,
		]);
		assert.equal(r.code, 0, r.stderr);
		const lines = r.stdout.trimEnd().split("\n");
		const progress = lines.filter((l) => l.startsWith("Progress "));
		assert.ok(progress.length >= 2, "at least two progress lines");
		let last = -1;
		for (const l of progress) {
			const m = l.match(/^Progress (\d+)% - (\d+)% complete$/);
			assert.ok(m, `progress line: ${l}`);
			assert.equal(m[1], m[2]);
			assert.ok(Number(m[1]) >= last, "percent never decreases");
			last = Number(m[1]);
		}
		assert.equal(last, 100);
		assert.ok(lines.some((l) => /^Result image ID: \S+$/.test(l)), "prints the result id");
		assert.ok(lines.some((l) => l.startsWith(`Saved ${out} (`)), "says where it saved");
		assert.deepEqual(readFileSync(out).subarray(0, 8), PNG_MAGIC, "-o OUT holds a PNG");
	});

	test("process with an unknown filter names it", async () => {
		const r = await gpix(["--server", server.baseUrl, "process", "sample-chelsea", "--filters", "blurr"]);
		assert.match(r.stderr, /^gpix: invalid_argument: .*blurr.*\n$/);
		assert.equal(r.code, 1);
	});

	test("tune writes one preview per parameter value", async () => {
		const dir = join(work, "tune");
		const r = await gpix([
			"--server", server.baseUrl, "tune", "sample-chelsea",
			"--params", "blur.sigma:2,blur.sigma:4", "-o", dir,
		]);
		assert.equal(r.code, 0, r.stderr);
		const lines = r.stdout.trimEnd().split("\n");
		assert.equal(lines.length, 2, r.stdout);
		assert.match(lines[0], /^Preview 1: blur\.sigma=2 -> \d+x\d+ image\/jpeg/);
		assert.match(lines[1], /^Preview 2: blur\.sigma=4 -> \d+x\d+ image\/jpeg/);
		const files = readdirSync(dir).sort();
		assert.deepEqual(files, ["tune-1-blur.sigma-2.jpg", "tune-2-blur.sigma-4.jpg"]);
		for (const f of files) {
			assert.deepEqual(readFileSync(join(dir, f)).subarray(0, 3), JPEG_MAGIC, `${f} is a JPEG`);
		}
	});
});
