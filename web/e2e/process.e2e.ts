// Backend selector from ListBackends and full-resolution Process over a
// Connect server stream: progress bar, result in the gallery, download.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  Server,
  addFilter,
  closeBrowser,
  expectAttr,
  expectCount,
  expectText,
  selectImage,
  setSlider,
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

interface Backend {
  name: string;
  available: boolean;
  device: string;
  detail: string;
}

uiTest("the backend selector lists ListBackends; unavailable ones are disabled with the reason", srv, async ({ page, server }) => {
  const { backends, defaultBackend } = await server.rpc<{ backends: Backend[]; defaultBackend: string }>("ListBackends");
  const select = page.getByTestId("backend-select");
  await expectCount(select.locator("option"), backends.length + 1);
  await expectText(select.locator("option").first(), `auto (${defaultBackend})`);
  assert.equal(await select.inputValue(), "auto");
  for (const b of backends) {
    const opt = select.locator(`option[value="${b.name}"]`);
    assert.equal(await opt.isDisabled(), !b.available, `${b.name} disabled`);
    const info = page.locator(`[data-testid="backend-info"][data-backend="${b.name}"]`);
    if (b.available) {
      await expectAttr(info, "data-available", "true");
    } else {
      await expectText(opt, `unavailable: ${b.detail}`);
      await expectText(info, `unavailable: ${b.detail}`);
      await expectAttr(info, "data-available", "false");
    }
  }
  const usable = backends.find((b) => b.available)!;
  await select.selectOption(usable.name);
  assert.equal(await select.inputValue(), usable.name);
  const off = backends.find((b) => !b.available);
  if (off) {
    // a disabled option cannot be chosen
    await assert.rejects(select.selectOption(off.name, { timeout: 1000 }));
    assert.equal(await select.inputValue(), usable.name);
  }
});

uiTest("Process runs at full resolution with a progress bar, then offers the download", srv, async ({ page, server }) => {
  await selectImage(page, "sample-ladybird");
  await addFilter(page, "blur");
  await setSlider(page.getByTestId("param-blur-sigma"), 6);
  await addFilter(page, "grayscale");
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __status: string[] }).__status = seen;
    new MutationObserver(() => {
      const s = document.querySelector('[data-testid="process-status"]')?.textContent ?? "";
      if (s && seen[seen.length - 1] !== s) seen.push(s);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId("backend-select").selectOption("cpu");
  await page.getByTestId("process-button").click();
  await expectAttr(page.getByTestId("process-job"), "data-state", "done", 60000);
  await expectText(page.getByTestId("process-status"), "Done");
  assert.equal(await page.getByTestId("process-progress").evaluate((p: HTMLProgressElement) => p.value), 100);
  const seen = await page.evaluate(() => (window as unknown as { __status: string[] }).__status);
  assert.ok(seen.some((s) => /^\d+% complete/.test(s)), `progress statuses: ${seen.join(" | ")}`);
  // the result is listed under Results
  const results = page.getByTestId("gallery-result").getByTestId("image-card");
  await expectCount(results, 1);
  await expectText(results.first(), "2560×1600");
  // the download is the stored result, full size
  const link = page.getByTestId("download-link");
  await expectText(link, "Download ladybird-blur-grayscale.jpg");
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  assert.equal(download.suggestedFilename(), "ladybird-blur-grayscale.jpg");
  const file = readFileSync((await download.path())!);
  assert.deepEqual([...file.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  const id = (await results.first().getAttribute("data-image-id"))!;
  const info = await server.rpc<{ sizeBytes: string; width: number }>("GetImage", { imageId: id });
  assert.equal(file.length, Number(info.sizeBytes));
  assert.equal(info.width, 2560);
  // "Open in gallery" selects the result
  await page.getByTestId("open-result").click();
  await expectAttr(results.first(), "aria-pressed", "true");
});

uiTest("Process writes the chosen output format", srv, async ({ page }) => {
  await selectImage(page, "sample-rocket");
  await addFilter(page, "sepia");
  await page.getByTestId("format-select").selectOption("png");
  await page.getByTestId("process-button").click();
  await expectAttr(page.getByTestId("process-job"), "data-state", "done", 60000);
  const link = page.getByTestId("download-link");
  await expectText(link, "rocket-sepia.png");
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  const file = readFileSync((await download.path())!);
  assert.deepEqual([...file.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
});
