// The Origin check: a page from another origin gets no WebSocket (403 at the
// handshake) and no API (CORS) unless gpixd lists it in --allowed-origins.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  DIST,
  Server,
  addFilter,
  closeBrowser,
  expectAttr,
  expectCount,
  expectText,
  selectImage,
  uiTest,
  waitForPreview,
  type Page,
} from "./harness.ts";

const FOREIGN = "http://foreign.test";
const ALLOWED = "http://allowed.test";

let plain: Server;
let permissive: Server;
before(async () => {
  plain = new Server();
  permissive = new Server({ allowedOrigins: [ALLOWED] });
  await plain.start();
  await permissive.start();
});
after(async () => {
  await plain?.dispose();
  await permissive?.dispose();
  await closeBrowser();
});

/** Serves the built UI at `origin` (intercepted, no DNS) pointed at `api`. */
async function uiFrom(page: Page, origin: string, api: string): Promise<void> {
  await page.route(`${origin}/**`, async (route) => {
    const u = new URL(route.request().url());
    const rel = u.pathname === "/" ? "index.html" : u.pathname.slice(1);
    const type = rel.endsWith(".js") ? "text/javascript" : rel.endsWith(".css") ? "text/css" : "text/html";
    try {
      await route.fulfill({ status: 200, contentType: type, body: readFileSync(path.join(DIST, rel)) });
    } catch {
      await route.fulfill({ status: 404, body: "not found" });
    }
  });
  await page.addInitScript((server) => {
    (globalThis as { GPIX_CONFIG?: object }).GPIX_CONFIG = { server };
  }, api);
  await page.goto(`${origin}/`);
}

function handshake(port: number, origin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      path: "/ws",
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        ...(origin ? { Origin: origin } : {}),
      },
    });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

uiTest("the handshake refuses a foreign Origin with 403 and accepts the server's own", () => plain, async ({ server }) => {
  assert.equal(await handshake(server.port, "http://evil.example"), 403);
  assert.equal(await handshake(server.port, `http://127.0.0.1:${server.port}`), 101);
  assert.equal(await handshake(server.port), 101); // no Origin: not a browser
}, { noGoto: true });

uiTest("a page from a foreign origin gets no live preview and no API", () => plain, async ({ page, server }) => {
  await uiFrom(page, FOREIGN, server.api);
  const status = page.getByTestId("ws-status");
  await expectAttr(status, "data-state", "reconnecting");
  await expectText(status, /Reconnecting/);
  // the API calls are refused too (CORS): the user sees why
  const err = page.getByTestId("error").first();
  await expectText(err.getByTestId("error-code"), "unavailable");
  await expectText(err.getByTestId("error-message"), "cannot reach the server");
  await expectCount(page.getByTestId("image-card"), 0);
  await page.waitForTimeout(1500);
  assert.notEqual(await status.getAttribute("data-state"), "open");
}, { noGoto: true });

uiTest("a page from an origin in --allowed-origins works fully", () => permissive, async ({ page, server }) => {
  await uiFrom(page, ALLOWED, server.api);
  await expectAttr(page.getByTestId("ws-status"), "data-state", "open");
  await expectCount(page.getByTestId("gallery-sample").getByTestId("image-card"), 6);
  await selectImage(page, "sample-rocket");
  await addFilter(page, "invert");
  await waitForPreview(page);
  assert.equal(await page.getByTestId("error").count(), 0);
}, { noGoto: true });
