// Webcam as a source: getUserMedia (Chromium's fake device) → frame messages
// over the WebSocket → processed frames in the viewer.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  Server,
  addFilter,
  closeBrowser,
  eventually,
  expectAttr,
  expectText,
  openApp,
  recordWsSent,
  uiTest,
  waitForPreview,
} from "./harness.ts";

let server: Server;
before(async () => {
  server = new Server();
  await server.start();
});
after(async () => {
  await server?.dispose();
  await closeBrowser();
});
const srv = () => server;

uiTest(
  "the webcam streams frames through the pipeline and back",
  srv,
  async ({ page, server }) => {
    const ws = recordWsSent(page);
    await openApp(page, server.url);
    await addFilter(page, "invert");
    await page.getByTestId("preview-width").selectOption("480");
    const toggle = page.getByTestId("webcam-toggle");
    await toggle.click();
    await expectAttr(toggle, "aria-pressed", "true");
    await expectText(toggle, "Stop webcam");
    await expectText(page.getByTestId("viewer-title"), "Webcam");
    const first = await waitForPreview(page, 0, 20000);
    // frames keep coming
    const later = await waitForPreview(page, first + 2, 20000);
    assert.ok(later > first);
    const frames = ws.sent.filter((m) => m.type === "frame") as { contentType: string; filters: { name: string }[]; previewWidth: number }[];
    assert.ok(frames.length >= 3, `${frames.length} frames sent`);
    assert.equal(frames[0]!.contentType, "image/jpeg");
    assert.deepEqual(frames.at(-1)!.filters.map((f) => f.name), ["invert"]);
    assert.equal(frames.at(-1)!.previewWidth, 480);
    // frames are scaled to the preview width, keeping the camera's aspect
    await expectText(page.getByTestId("preview-size"), /^480×(360|270)$/);
    await eventually(async () => assert.ok(Number(await page.getByTestId("preview-fps").innerText()) > 0));
    await expectText(page.getByTestId("preview-latency"), /^\d+ ms$/);
    // the original frame is there for the compare slider
    await expectAttr(page.getByTestId("before-image"), "src", /^blob:/);
    // stop: back to the selected image
    await toggle.click();
    await expectText(toggle, "Use webcam");
    await expectText(page.getByTestId("viewer-title"), "astronaut.png");
    const n = ws.sent.filter((m) => m.type === "frame").length;
    await page.waitForTimeout(500);
    assert.equal(ws.sent.filter((m) => m.type === "frame").length, n, "no frames after stop");
  },
  { noGoto: true },
);
