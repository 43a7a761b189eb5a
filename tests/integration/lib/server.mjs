// Test harness: starts a real gpixd on a free loopback port with a fresh
// store directory and the repository's sample images, waits for its
// "listening on" line, keeps its log, and stops it with SIGTERM.
//
//   const server = await startServer();
//   ... server.baseUrl, server.port, server.logText(), await server.waitForLog(/re/)
//   const { code, signal } = await server.stop();   // expect code 0
//
// GPIXD overrides the binary (default: build/server/gpixd).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

export function gpixdPath() {
	return process.env.GPIXD ? resolve(process.env.GPIXD) : join(repoRoot, "build/server/gpixd");
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
	return new Promise((ok, fail) => {
		const srv = createServer();
		srv.unref();
		srv.on("error", fail);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address();
			srv.close(() => ok(port));
		});
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class GpixServer {
	constructor(proc, port, storeDir, ownStore) {
		this.proc = proc;
		this.host = "127.0.0.1";
		this.port = port;
		this.baseUrl = `http://127.0.0.1:${port}`;
		this.storeDir = storeDir;
		this.ownStore = ownStore;
		this.lines = [];
		this.exit = null; // { code, signal } once it has exited
		this.exited = new Promise((ok) => {
			proc.on("exit", (code, signal) => {
				this.exit = { code, signal };
				ok(this.exit);
			});
		});
		this.waiters = new Set();
		for (const [name, stream] of [
			["stdout", proc.stdout],
			["stderr", proc.stderr],
		]) {
			let partial = "";
			stream.setEncoding("utf8");
			stream.on("data", (chunk) => {
				partial += chunk;
				let nl;
				while ((nl = partial.indexOf("\n")) >= 0) {
					this.addLine(partial.slice(0, nl), name);
					partial = partial.slice(nl + 1);
				}
			});
			stream.on("end", () => {
				if (partial) this.addLine(partial, name);
				partial = "";
			});
		}
	}

	addLine(line, stream) {
		this.lines.push(line);
		if (process.env.GPIX_TEST_SHOW_LOG) process.stderr.write(`[gpixd ${stream}] ${line}\n`);
		for (const w of this.waiters) {
			if (w.re.test(line)) {
				this.waiters.delete(w);
				w.ok(line);
			}
		}
	}

	/** Everything the server printed so far (stdout and stderr, in arrival order). */
	logText() {
		return this.lines.join("\n");
	}

	/** Resolves with the first log line (past or future) that matches `re`. */
	waitForLog(re, timeoutMs = 5000) {
		const hit = this.lines.find((l) => re.test(l));
		if (hit !== undefined) return Promise.resolve(hit);
		return new Promise((ok, fail) => {
			const w = { re, ok: (line) => { clearTimeout(timer); ok(line); } };
			const timer = setTimeout(() => {
				this.waiters.delete(w);
				fail(new Error(`no log line matching ${re} within ${timeoutMs} ms; log:\n${this.tail()}`));
			}, timeoutMs);
			this.waiters.add(w);
			this.exited.then(() => {
				if (this.waiters.delete(w)) {
					clearTimeout(timer);
					fail(new Error(`gpixd exited (${JSON.stringify(this.exit)}) before logging ${re}; log:\n${this.tail()}`));
				}
			});
		});
	}

	/** How many log lines so far match `re`. */
	countLog(re) {
		return this.lines.filter((l) => re.test(l)).length;
	}

	/** Resolves once at least `n` log lines match `re`. */
	async waitForLogCount(re, n, timeoutMs = 5000) {
		const deadline = Date.now() + timeoutMs;
		while (this.countLog(re) < n) {
			if (Date.now() > deadline || !this.running) {
				throw new Error(`expected ${n} log lines matching ${re}, got ${this.countLog(re)}; log:\n${this.tail()}`);
			}
			await sleep(20);
		}
	}

	tail(n = 40) {
		return this.lines.slice(-n).join("\n");
	}

	/** True while the process runs. */
	get running() {
		return this.exit === null;
	}

	/**
	 * SIGTERM, then wait (up to timeoutMs) for the exit; SIGKILL after that.
	 * Resolves with { code, signal, killed }; the caller asserts code === 0.
	 */
	async stop(timeoutMs = 10000) {
		let killed = false;
		if (this.running) {
			this.proc.kill("SIGTERM");
			let timer;
			const timeout = new Promise((ok) => {
				timer = setTimeout(() => ok(null), timeoutMs);
			});
			const t = await Promise.race([this.exited, timeout]);
			clearTimeout(timer);
			if (t === null) {
				killed = true;
				this.proc.kill("SIGKILL");
				await this.exited;
			}
		}
		if (this.ownStore) rmSync(this.storeDir, { recursive: true, force: true });
		return { ...this.exit, killed };
	}
}

/**
 * Starts gpixd. Options: args (extra flags), env (extra environment),
 * dataDir (default data/samples), storeDir (default: a fresh temp dir,
 * removed by stop()), timeoutMs (to wait for "listening on").
 */
export async function startServer(opts = {}) {
	const bin = gpixdPath();
	if (!existsSync(bin)) {
		throw new Error(`gpixd not found at ${bin} (build it: ninja -C build, or set GPIXD)`);
	}
	const dataDir = opts.dataDir ?? join(repoRoot, "data/samples");
	let lastErr;
	// A port found free can be taken before gpixd binds it: try a few.
	for (let attempt = 0; attempt < 3; attempt++) {
		const port = await freePort();
		const ownStore = opts.storeDir === undefined;
		const storeDir = opts.storeDir ?? mkdtempSync(join(tmpdir(), "gpix-store-"));
		const args = [
			"--listen", `127.0.0.1:${port}`,
			"--data-dir", dataDir,
			"--store-dir", storeDir,
			"--log-format", opts.logFormat ?? "text",
			"--log-level", opts.logLevel ?? "info",
			...(opts.args ?? []),
		];
		// Only the variables a test sets: GPIX_* from the caller's shell must not
		// change what the tests see.
		const env = Object.fromEntries(
			Object.entries(process.env).filter(([k]) => !k.startsWith("GPIX_")),
		);
		Object.assign(env, opts.env ?? {});
		const proc = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"] });
		const server = new GpixServer(proc, port, storeDir, ownStore);
		proc.on("error", (e) => server.addLine(`spawn error: ${e.message}`, "harness"));
		try {
			await server.waitForLog(/listening on/, opts.timeoutMs ?? 15000);
			return server;
		} catch (e) {
			lastErr = e;
			await server.stop(2000);
			if (!/address already in use|EADDRINUSE|bind/i.test(server.logText())) break;
		}
	}
	throw lastErr;
}
