// Gallery, image selection, uploads (file picker, drag and drop, progress),
// static serving of the UI, narrow screens and accessible labels.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  FRONT,
  SAMPLES,
  Server,
  closeBrowser,
  eventually,
  expectAttr,
  expectCount,
  expectText,
  expectVisible,
  selectImage,
  uiTest,
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

uiTest("gpixd serves the UI at / with hashed assets cached for a year", srv, async ({ page, server }) => {
  const r = await page.request.get(`${server.url}/`);
  assert.equal(r.status(), 200);
  assert.match(r.headers()["content-type"] ?? "", /^text\/html/);
  const html = await r.text();
  const js = /src="(\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)?.[1];
  const css = /href="(\/assets\/app-[A-Z0-9]+\.css)"/.exec(html)?.[1];
  assert.ok(js && css, "index.html names hashed assets");
  const a = await page.request.get(`${server.url}${js}`);
  assert.equal(a.status(), 200);
  assert.match(a.headers()["content-type"] ?? "", /javascript/);
  assert.match(a.headers()["cache-control"] ?? "", /max-age=31536000/);
  const c = await page.request.get(`${server.url}${css}`);
  assert.match(c.headers()["content-type"] ?? "", /text\/css/);
  // what the user sees: the app, not the "UI is not built" page
  await expectText(page.locator("h1"), "gpix");
  assert.equal(await page.title(), "gpix");
});

uiTest("the gallery shows every sample with a thumbnail", srv, async ({ page }) => {
  const samples = page.getByTestId("gallery-sample").getByTestId("image-card");
  await expectCount(samples, 6);
  const names = await samples.evaluateAll((els) => els.map((e) => e.querySelector(".card-name")?.textContent));
  assert.deepEqual(names, ["astronaut.png", "chelsea.png", "coffee.png", "ladybird.jpg", "rocket.jpg", "storm.jpg"]);
  await eventually(async () => {
    const loaded = await page.getByTestId("thumbnail").evaluateAll((imgs) =>
      imgs.filter((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0).length,
    );
    assert.ok(loaded >= 6, `${loaded} thumbnails loaded`);
  }, 30000, "thumbnails");
  await expectText(page.getByTestId("image-card").filter({ hasText: "rocket.jpg" }), "640×427");
});

uiTest("selecting an image shows it in the viewer", srv, async ({ page }) => {
  await selectImage(page, "sample-rocket");
  await expectText(page.getByTestId("viewer-title"), "rocket.jpg (640×427)");
  await expectAttr(page.getByTestId("before-image"), "src", /\/v1\/images\/sample-rocket\/content$/);
  await eventually(async () => {
    const w = await page.getByTestId("before-image").evaluate((i: HTMLImageElement) => i.naturalWidth);
    assert.equal(w, 640);
  });
  const others = page.locator('[data-testid="image-card"][aria-pressed="true"]');
  await expectCount(others, 1);
  await selectImage(page, "sample-coffee");
  await expectText(page.getByTestId("viewer-title"), "coffee.png");
  await expectAttr(page.locator('[data-image-id="sample-rocket"]'), "aria-pressed", "false");
});

uiTest("upload with the file picker: progress to 100%, the new image is selected", srv, async ({ page }) => {
  await page.getByTestId("upload-input").setInputFiles(path.join(SAMPLES, "rocket.jpg"));
  await expectText(page.getByTestId("upload-status"), "Uploaded rocket.jpg");
  assert.equal(await page.getByTestId("upload-progress").evaluate((p: HTMLProgressElement) => p.value), 100);
  const card = page.getByTestId("gallery-upload").getByTestId("image-card").first();
  await expectAttr(card, "aria-pressed", "true");
  await expectText(card, "rocket.jpg");
  await expectText(page.getByTestId("viewer-title"), "rocket.jpg (640×427)");
});

uiTest("upload progress moves through intermediate values on a slow link", srv, async ({ page, context }) => {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  // ~680 KB at 400 KB/s: well over a second of progress events
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 400 * 1024 });
  await page.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { __seen: number[] }).__seen = seen;
    new MutationObserver(() => {
      const p = document.querySelector('[data-testid="upload-progress"]') as HTMLProgressElement | null;
      if (p && seen[seen.length - 1] !== p.value) seen.push(p.value);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.getByTestId("upload-input").setInputFiles(path.join(SAMPLES, "storm.jpg"));
  await expectText(page.getByTestId("upload-status"), /Uploading storm\.jpg: \d+%/);
  await expectText(page.getByTestId("upload-status"), "Uploaded storm.jpg", 30000);
  const seen = await page.evaluate(() => (window as unknown as { __seen: number[] }).__seen);
  assert.ok(seen.some((v) => v > 0 && v < 100), `intermediate values: ${seen.join(",")}`);
  assert.equal(seen[seen.length - 1], 100);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! >= seen[i - 1]!, `progress never goes back: ${seen.join(",")}`);
});

uiTest("upload by dropping a file on the gallery", srv, async ({ page }) => {
  const bytes = [...readFileSync(path.join(SAMPLES, "chelsea.png"))];
  await page.getByTestId("dropzone").evaluate((zone, data) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(data)], "dropped-cat.png", { type: "image/png" }));
    zone.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: dt }));
    zone.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: dt }));
  }, bytes);
  await expectText(page.getByTestId("upload-status"), "Uploaded dropped-cat.png");
  const card = page.getByTestId("gallery-upload").getByTestId("image-card").filter({ hasText: "dropped-cat.png" });
  await expectAttr(card, "aria-pressed", "true");
  await expectText(card, "451×300");
});

uiTest("deleting an upload removes it from the gallery", srv, async ({ page, server }) => {
  await page.getByTestId("upload-input").setInputFiles({ name: "to-delete.png", mimeType: "image/png", buffer: readFileSync(path.join(SAMPLES, "coffee.png")) });
  await expectText(page.getByTestId("upload-status"), "Uploaded to-delete.png");
  const card = page.getByTestId("image-card").filter({ hasText: "to-delete.png" });
  await expectCount(card, 1);
  await page.getByRole("button", { name: "Delete to-delete.png" }).click();
  await expectCount(card, 0);
  const list = await server.rpc<{ images: { name: string }[] }>("ListImages", { source: "IMAGE_SOURCE_UPLOAD" });
  assert.ok(!list.images.some((i) => i.name === "to-delete.png"));
  // samples cannot be deleted: no delete button on them
  await expectCount(page.getByTestId("gallery-sample").getByTestId("image-delete"), 0);
});

uiTest(
  "usable on a narrow screen: one column, no sideways scrolling, drawer on demand",
  srv,
  async ({ page }) => {
    const toggle = page.getByTestId("drawer-toggle");
    await expectAttr(toggle, "aria-expanded", "false");
    await expectVisible(page.getByTestId("filter-drawer"), false);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await toggle.click();
    await expectVisible(page.getByTestId("filter-drawer"));
    await page.getByTestId("add-filter-blur").click();
    await expectVisible(page.getByTestId("param-blur-sigma"));
    const again = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(again <= 0, `with the drawer open the page is ${again}px too wide`);
    // the viewer stays on top, full width
    const box = await page.getByTestId("viewer").boundingBox();
    assert.ok(box && box.width > 300 && box.x < 20, `viewer box ${JSON.stringify(box)}`);
    for (const id of ["process-button", "upload-input", "webcam-toggle", "preview-width"]) {
      assert.equal(await page.getByTestId(id).count(), 1, id);
    }
  },
  { viewport: { width: 375, height: 740 } },
);

uiTest("every control has an accessible name", srv, async ({ page }) => {
  await page.getByTestId("add-filter-resize").click();
  await page.getByTestId("add-filter-blur").click();
  const unnamed = await page.evaluate(() => {
    const out: string[] = [];
    for (const el of document.querySelectorAll("button, input, select, a[href], progress")) {
      const h = el as HTMLElement;
      const id = h.id;
      const label =
        h.getAttribute("aria-label") ||
        (h.getAttribute("aria-labelledby") ? "x" : "") ||
        (id && document.querySelector(`label[for="${id}"]`)?.textContent?.trim()) ||
        h.closest("label")?.textContent?.trim() ||
        (el.tagName === "BUTTON" || el.tagName === "A" ? h.textContent?.trim() : "");
      if (!label) out.push(el.outerHTML.slice(0, 120));
    }
    return out;
  });
  assert.deepEqual(unnamed, []);
  // landmarks and live regions for assistive tech
  assert.equal(await page.locator("main").count(), 1);
  assert.equal(await page.getByRole("status").first().count(), 1);
  assert.ok(await page.getByRole("switch", { name: "Enable Resize" }).count());
  assert.ok(await page.getByRole("slider", { name: "Sigma" }).count());
  assert.ok(await page.getByRole("combobox", { name: "Backend" }).count());
});

if (FRONT) console.log(`note: running with GPIX_WEB_E2E_FRONT=${FRONT}`);
