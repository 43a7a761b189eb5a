// Live preview over the WebSocket: a slider move gives a new preview with
// FPS and latency shown; preview resolution; before/after compare; switching
// images; reconnect after a server restart.
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
  previewSeq,
  recordWsSent,
  selectImage,
  setSlider,
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

uiTest("the WebSocket connects: the status shows Live", srv, async ({ page }) => {
  const status = page.getByTestId("ws-status");
  await expectAttr(status, "data-state", "open");
  await expectText(status, "Live");
});

uiTest("adding a filter shows a live preview from the server", srv, async ({ page }) => {
  await selectImage(page, "sample-rocket");
  await addFilter(page, "grayscale");
  const seq = await waitForPreview(page);
  assert.ok(seq >= 1);
  await expectText(page.getByTestId("preview-size"), "640×427");
  await expectText(page.getByTestId("preview-seq"), String(seq));
  await expectText(page.getByTestId("preview-latency"), /^\d+ ms$/);
  await expectText(page.getByTestId("preview-server-ms"), /^\d+(\.\d)? ms$/);
  // a grayscale preview really is gray
  const gray = await page.getByTestId("preview-image").evaluate((img: HTMLImageElement) => {
    const c = document.createElement("canvas");
    c.width = 32;
    c.height = 32;
    const g = c.getContext("2d")!;
    g.drawImage(img, 0, 0, 32, 32);
    const d = g.getImageData(0, 0, 32, 32).data;
    let maxDiff = 0;
    for (let i = 0; i < d.length; i += 4) maxDiff = Math.max(maxDiff, Math.abs(d[i]! - d[i + 1]!), Math.abs(d[i + 1]! - d[i + 2]!));
    return maxDiff;
  });
  assert.ok(gray <= 8, `channels differ by up to ${gray}`);
});

uiTest("moving a slider updates the preview, with FPS and latency shown", srv, async ({ page }) => {
  await selectImage(page, "sample-chelsea");
  await addFilter(page, "blur");
  let seq = await waitForPreview(page);
  const src1 = await page.getByTestId("preview-image").getAttribute("src");
  const slider = page.getByTestId("param-blur-sigma");
  // a drag: several input events in a row (latest wins)
  for (const v of [3, 4.5, 6, 8, 10]) await setSlider(slider, v);
  seq = await waitForPreview(page, seq);
  assert.notEqual(await page.getByTestId("preview-image").getAttribute("src"), src1);
  // the preview settles on the newest value
  await eventually(async () => {
    const s = await previewSeq(page);
    assert.equal(await page.getByTestId("preview-busy").count(), 0, "no request outstanding");
    assert.ok(s >= seq);
  });
  await expectText(page.getByTestId("preview-latency"), /^\d+ ms$/);
  await expectText(page.getByTestId("preview-fps"), /^\d+\.\d$/);
  // keyboard on the slider works too
  const before = await previewSeq(page);
  await slider.focus();
  await page.keyboard.press("ArrowRight");
  await expectText(page.getByTestId("param-blur-sigma-value"), "10.1");
  await waitForPreview(page, before);
});

uiTest("FPS rises above zero while the slider keeps moving", srv, async ({ page }) => {
  await selectImage(page, "sample-rocket");
  await addFilter(page, "brightness_contrast");
  await waitForPreview(page);
  const slider = page.getByTestId("param-brightness_contrast-brightness");
  let fps = 0;
  for (let i = 0; i < 40 && fps === 0; i++) {
    await setSlider(slider, (i % 20) * 5 - 50);
    await page.waitForTimeout(60);
    fps = Number(await page.getByTestId("preview-fps").innerText());
  }
  assert.ok(fps > 0, `fps ${fps}`);
});

uiTest("the preview resolution control sets the preview's width", srv, async ({ page }) => {
  await selectImage(page, "sample-ladybird");
  await addFilter(page, "invert");
  let seq = await waitForPreview(page);
  await expectText(page.getByTestId("preview-size"), "640×400");
  await page.getByTestId("preview-width").selectOption("256");
  seq = await waitForPreview(page, seq);
  await expectText(page.getByTestId("preview-size"), "256×160");
  assert.equal(await page.getByTestId("preview-image").evaluate((i: HTMLImageElement) => i.naturalWidth), 256);
  await page.getByTestId("preview-width").selectOption("960");
  await waitForPreview(page, seq);
  await expectText(page.getByTestId("preview-size"), "960×600");
});

uiTest("the before/after slider moves the split between original and preview", srv, async ({ page }) => {
  await selectImage(page, "sample-coffee");
  await addFilter(page, "invert");
  await waitForPreview(page);
  // the original is clipped from the right: "inset(0px R% 0px 0px)" shows 100 - R percent of it
  const hiddenRight = async () => {
    const c = await page.getByTestId("before-image").evaluate((e) => getComputedStyle(e).clipPath);
    const m = /inset\(\S+ ([\d.]+)(%|px)?/.exec(c);
    assert.ok(m, `clip-path ${c}`);
    return Number(m[1]);
  };
  const split = page.getByTestId("compare-slider");
  await setSlider(split, 0);
  await eventually(async () => assert.equal(await hiddenRight(), 100));
  await setSlider(split, 100);
  await eventually(async () => assert.equal(await hiddenRight(), 0));
  await setSlider(split, 25);
  await eventually(async () => assert.equal(await hiddenRight(), 75));
  // and the split line follows
  const line = await page.locator(".split-line").evaluate((e) => (e as HTMLElement).offsetLeft / (e.parentElement as HTMLElement).clientWidth);
  assert.ok(Math.abs(line - 0.25) < 0.02, `split line at ${line}`);
  // the original really is the source image
  await expectAttr(page.getByTestId("before-image"), "src", /sample-coffee\/content$/);
});

uiTest("switching images previews the new image with the same pipeline", srv, async ({ page, server }) => {
  const ws = recordWsSent(page);
  await openApp(page, server.url);
  await selectImage(page, "sample-rocket");
  await addFilter(page, "edge");
  let seq = await waitForPreview(page);
  await expectText(page.getByTestId("preview-size"), "640×427");
  await selectImage(page, "sample-chelsea");
  seq = await waitForPreview(page, seq);
  await expectText(page.getByTestId("preview-size"), "451×300");
  await expectText(page.getByTestId("viewer-title"), "chelsea.png");
  const last = ws.sent.filter((m) => m.type === "tune").at(-1) as { imageId: string; filters: { name: string }[] };
  assert.equal(last.imageId, "sample-chelsea");
  assert.deepEqual(last.filters.map((f) => f.name), ["edge"]);
});

uiTest("after a server restart the WebSocket reconnects and previews resume", srv, async ({ page, server }) => {
  await selectImage(page, "sample-rocket");
  await addFilter(page, "blur");
  const seq = await waitForPreview(page);
  const status = page.getByTestId("ws-status");
  await expectAttr(status, "data-state", "open");
  // restart in the background and watch the UI go through reconnecting
  const restarting = server.restart(800);
  await expectAttr(status, "data-state", "reconnecting");
  await expectText(status, /Reconnecting/);
  await restarting;
  await expectAttr(status, "data-state", "open", 20000);
  await expectText(status, "Live");
  // the newest state was re-sent on reconnect; a slider move works again
  const s2 = await waitForPreview(page, seq);
  await setSlider(page.getByTestId("param-blur-sigma"), 5);
  await waitForPreview(page, s2);
});
