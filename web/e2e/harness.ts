// Browser-test harness: starts a real gpixd (GPIXD, default build/server/gpixd)
// on a free port with --web-dir web/dist and a temporary store, drives
// Debian's Chromium headless through playwright-core, and saves a screenshot
// of every failing test under web/test-results/.
//
// GPIX_WEB_E2E_FRONT=proxy|mock puts web/dev/server.mjs in front of gpixd
// (static files from web/dist, API forwarded; "mock" answers /ws itself with
// ProcessImage calls): for a gpixd that does not serve / or /ws yet.
import { test, type TestContext } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";

export const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = path.resolve(WEB, "..");
export const DIST = path.join(WEB, "dist");
export const RESULTS = path.join(WEB, "test-results");
export const GPIXD = process.env.GPIXD || path.join(ROOT, "build/server/gpixd");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const FRONT = (process.env.GPIX_WEB_E2E_FRONT || "") as "" | "proxy" | "mock";
export const SAMPLES = path.join(ROOT, "data/samples");
export const TIMEOUT = Number(process.env.GPIX_WEB_E2E_TIMEOUT || 15000);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// gpixd children die with the test process, however it ends.
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

export interface ServerOptions {
  allowedOrigins?: string[];
  args?: string[];
}

/** One gpixd (and, with GPIX_WEB_E2E_FRONT, the dev server before it). */
export class Server {
  readonly opts: ServerOptions;
  port = 0;
  frontPort = 0;
  storeDir = "";
  private proc: ChildProcess | null = null;
  private front: { close(): Promise<void> } | null = null;
  log = "";

  constructor(opts: ServerOptions = {}) {
    this.opts = opts;
  }

  /** Where the browser goes: gpixd itself, or the dev server in front. */
  get url(): string {
    return `http://127.0.0.1:${FRONT ? this.frontPort : this.port}`;
  }

  /** gpixd's own address (API calls from the tests). */
  get api(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!existsSync(GPIXD)) throw new Error(`gpixd not found at ${GPIXD} (build it, or set GPIXD)`);
    if (!existsSync(path.join(DIST, "index.html"))) throw new Error(`${DIST}/index.html missing: run scripts/build-web.sh`);
    if (!this.storeDir) this.storeDir = mkdtempSync(path.join(tmpdir(), "gpix-web-e2e-"));
    if (!this.port) this.port = await freePort();
    await this.spawnGpixd();
    if (FRONT) {
      if (!this.frontPort) this.frontPort = await freePort();
      await this.startFront();
    }
  }

  private async spawnGpixd(): Promise<void> {
    const args = [
      "--listen", `127.0.0.1:${this.port}`,
      "--data-dir", SAMPLES,
      "--store-dir", this.storeDir,
      "--web-dir", DIST,
      "--log-level", "warn",
      ...(this.opts.allowedOrigins?.length ? ["--allowed-origins", this.opts.allowedOrigins.join(",")] : []),
      ...(this.opts.args ?? []),
    ];
    const p = spawn(GPIXD, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.proc = p;
    children.add(p);
    p.once("exit", () => children.delete(p));
    const onData = (d: Buffer) => {
      this.log += d.toString();
      if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
    };
    p.stdout!.on("data", onData);
    p.stderr!.on("data", onData);
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline) {
      if (p.exitCode !== null) throw new Error(`gpixd exited with ${p.exitCode}:\n${this.log}`);
      try {
        const r = await fetch(`${this.api}/v1/version`);
        if (r.ok) return;
      } catch {
        /* not yet */
      }
      await sleep(50);
    }
    throw new Error(`gpixd did not answer on ${this.api}:\n${this.log}`);
  }

  private async startFront(): Promise<void> {
    const devPath = path.join(WEB, "dev/server.mjs");
    const { startDevServer } = (await import(devPath)) as {
      startDevServer(o: object): Promise<{ url: string; close(): Promise<void> }>;
    };
    this.front = await startDevServer({
      gpixd: this.api,
      listen: `127.0.0.1:${this.frontPort}`,
      mockWs: FRONT === "mock",
      allowedOrigins: this.opts.allowedOrigins ?? [],
      dist: DIST,
    });
  }

  /** SIGTERM, and wait for the exit. */
  async stop(): Promise<void> {
    if (this.front) {
      await this.front.close();
      this.front = null;
    }
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }

  /** Stop and start again on the same port, keeping the store. */
  async restart(downMs = 300): Promise<void> {
    await this.stop();
    await sleep(downMs);
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.storeDir) rmSync(this.storeDir, { recursive: true, force: true });
  }

  async rpc<T = Record<string, unknown>>(method: string, body: unknown = {}): Promise<T> {
    const r = await fetch(`${this.api}/gpix.v1.ImageService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const j = (await r.json()) as T;
    if (!r.ok) throw new Error(`${method}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  }
}

let browser: Browser | null = null;

export async function getBrowser(): Promise<Browser> {
  if (browser) return browser;
  const args = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    // the Origin tests load the UI from made-up public origins (intercepted)
    // that call gpixd on 127.0.0.1: Chromium's Local Network Access checks
    // would block that before gpixd's own Origin check is reached
    "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests",
  ];
  if (process.getuid?.() === 0) args.push("--no-sandbox");
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  return browser;
}

export async function closeBrowser(): Promise<void> {
  await browser?.close();
  browser = null;
}

export interface UiContext {
  page: Page;
  context: BrowserContext;
  server: Server;
  t: TestContext;
  /** Console lines and page errors so far (dumped on failure). */
  logs: string[];
}

export interface UiTestOptions {
  viewport?: { width: number; height: number };
  /** Do not open the app first (the test navigates itself). */
  noGoto?: boolean;
  permissions?: string[];
  timeout?: number;
}

function slugify(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 80);
}

/**
 * A browser test: a fresh context and page on the app, and on failure a
 * full-page screenshot plus the page's console in web/test-results/.
 */
export function uiTest(name: string, server: () => Server, fn: (c: UiContext) => Promise<void>, opts: UiTestOptions = {}): void {
  test(name, { timeout: opts.timeout ?? 90_000 }, async (t) => {
    const srv = server();
    const b = await getBrowser();
    const context = await b.newContext({
      viewport: opts.viewport ?? { width: 1400, height: 900 },
      acceptDownloads: true,
      permissions: opts.permissions,
    });
    context.setDefaultTimeout(TIMEOUT);
    const page = await context.newPage();
    const logs: string[] = [];
    page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
    try {
      if (!opts.noGoto) await openApp(page, srv.url);
      await fn({ page, context, server: srv, t, logs });
    } catch (e) {
      mkdirSync(RESULTS, { recursive: true });
      const base = path.join(RESULTS, `${slugify(path.basename(process.argv[1] ?? "e2e"))}--${slugify(name)}`);
      try {
        await page.screenshot({ path: `${base}.png`, fullPage: true, timeout: 5000 });
      } catch {
        /* the page may be gone */
      }
      writeFileSync(`${base}.log`, `${String((e as Error)?.stack ?? e)}\n\n${logs.join("\n")}\n\ngpixd log:\n${srv.log.slice(-20000)}\n`);
      throw e;
    } finally {
      await context.close();
    }
  });
}

/** Opens the UI and waits until the gallery and the catalogue are there. */
export async function openApp(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId("image-card").first().waitFor();
  await page.getByTestId("filter-item").first().waitFor({ state: "attached" });
}

// ------------------------------------------------------------ assertions

/** Retries `fn` until it stops throwing (web-first assertions, like
 * @playwright/test's expect, which playwright-core does not ship). */
export async function eventually<T>(fn: () => Promise<T> | T, timeout = TIMEOUT, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const msg = last instanceof Error ? last.message : String(last);
      throw new Error(`timed out after ${timeout} ms waiting for ${what}: ${msg}`);
    }
    await sleep(100);
  }
}

function matches(actual: string, expected: string | RegExp): boolean {
  return typeof expected === "string" ? actual.includes(expected) : expected.test(actual);
}

export async function expectText(loc: Locator, expected: string | RegExp, timeout = TIMEOUT): Promise<string> {
  return eventually(async () => {
    const t = (await loc.innerText({ timeout: 1000 })).trim();
    if (!matches(t, expected)) throw new Error(`text ${JSON.stringify(t)} does not match ${expected}`);
    return t;
  }, timeout, `text ${expected}`);
}

export async function expectCount(loc: Locator, n: number, timeout = TIMEOUT): Promise<void> {
  await eventually(async () => {
    const c = await loc.count();
    if (c !== n) throw new Error(`count ${c}, want ${n}`);
  }, timeout, `${n} elements`);
}

export async function expectAttr(loc: Locator, name: string, expected: string | RegExp, timeout = TIMEOUT): Promise<string> {
  return eventually(async () => {
    const v = (await loc.getAttribute(name, { timeout: 1000 })) ?? "";
    if (!matches(v, expected)) throw new Error(`${name}=${JSON.stringify(v)} does not match ${expected}`);
    return v;
  }, timeout, `${name} ${expected}`);
}

export async function expectVisible(loc: Locator, visible = true, timeout = TIMEOUT): Promise<void> {
  await eventually(async () => {
    const v = await loc.isVisible();
    if (v !== visible) throw new Error(visible ? "not visible" : "still visible");
  }, timeout, visible ? "visible" : "hidden");
}

/** The texts of the pipeline's step names, in order. */
export async function pipelineNames(page: Page): Promise<string[]> {
  return page.getByTestId("pipeline-step").evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.filter ?? ""));
}

/** The current preview sequence number shown on the preview image. */
export async function previewSeq(page: Page): Promise<number> {
  return Number((await page.getByTestId("preview-image").getAttribute("data-seq")) ?? 0);
}

/** Waits for a preview newer than `after` (a blob: URL from the server). */
export async function waitForPreview(page: Page, after = 0, timeout = TIMEOUT): Promise<number> {
  return eventually(async () => {
    const img = page.getByTestId("preview-image");
    const src = (await img.getAttribute("src", { timeout: 1000 })) ?? "";
    const seq = Number((await img.getAttribute("data-seq", { timeout: 1000 })) ?? 0);
    if (!src.startsWith("blob:") || seq <= after) throw new Error(`preview seq ${seq} src ${src.slice(0, 40)}`);
    const ok = await img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0);
    if (!ok) throw new Error("preview image not decoded");
    return seq;
  }, timeout, `a preview after seq ${after}`);
}

/** Sets a range input's value the way a user's drag does (input + change). */
export async function setSlider(loc: Locator, value: number | string): Promise<void> {
  await loc.evaluate((el: HTMLInputElement, v) => {
    el.value = String(v);
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
  }, value);
}

/** Selects a gallery image by its id and waits for the viewer to show it. */
export async function selectImage(page: Page, id: string): Promise<void> {
  const card = page.locator(`[data-testid="image-card"][data-image-id="${id}"]`);
  await card.click();
  await expectAttr(card, "aria-pressed", "true");
}

/** Adds a filter from the drawer (opening the drawer if it is closed). */
export async function addFilter(page: Page, name: string): Promise<void> {
  const toggle = page.getByTestId("drawer-toggle");
  if ((await toggle.getAttribute("aria-expanded")) !== "true") await toggle.click();
  await page.getByTestId(`add-filter-${name}`).click();
}

/** Registers the WebSocket frames the page sends (JSON text only). */
export function recordWsSent(page: Page): { sent: Record<string, unknown>[] } {
  const rec = { sent: [] as Record<string, unknown>[] };
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => {
      if (typeof f.payload === "string") {
        try {
          rec.sent.push(JSON.parse(f.payload));
        } catch {
          /* not JSON */
        }
      }
    });
  });
  return rec;
}

export { test };
export type { Page, Locator };
