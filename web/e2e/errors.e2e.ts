// Server errors are shown with their code and message.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  SAMPLES,
  Server,
  addFilter,
  closeBrowser,
  expectAttr,
  expectCount,
  expectText,
  selectImage,
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

uiTest("a corrupt upload shows invalid_argument and the server's message", srv, async ({ page }) => {
  const png = readFileSync(path.join(SAMPLES, "chelsea.png"));
  const broken = Buffer.concat([png.subarray(0, 200), Buffer.alloc(300, 0x55)]);
  await page.getByTestId("upload-input").setInputFiles({ name: "broken.png", mimeType: "image/png", buffer: broken });
  const err = page.getByTestId("error");
  await expectCount(err, 1);
  await expectText(err.getByTestId("error-code"), "invalid_argument");
  const msg = await expectText(err.getByTestId("error-message"), /\S/);
  assert.ok(msg.length > 3, `message: ${msg}`);
  await expectAttr(err, "data-context", "upload");
  await expectText(page.getByTestId("upload-status"), "Upload of broken.png failed: invalid_argument");
  assert.equal(await page.getByRole("alert").count(), 1);
  // nothing was stored
  await expectCount(page.getByTestId("gallery-upload"), 0);
  // dismiss
  await page.getByRole("button", { name: "Dismiss error" }).click();
  await expectCount(err, 0);
});

uiTest("a parameter the server rejects shows its error; fixing it brings the preview back", srv, async ({ page }) => {
  await selectImage(page, "sample-rocket");
  await addFilter(page, "blur");
  const seq = await waitForPreview(page);
  // blur.kernel_size must be 0 or odd: 4 passes the range check but not the server's
  const field = page.getByTestId("param-blur-kernel_size-number");
  await field.fill("4");
  await field.press("Enter");
  const err = page.getByTestId("error");
  await expectText(err.getByTestId("error-code"), "invalid_argument");
  await expectText(err.getByTestId("error-message"), "kernel_size");
  await expectAttr(err.first(), "data-context", "preview");
  await field.fill("5");
  await field.press("Enter");
  await waitForPreview(page, seq);
});

uiTest("processing an image that is gone shows not_found", srv, async ({ page, server }) => {
  await page.getByTestId("upload-input").setInputFiles({ name: "short-lived.jpg", mimeType: "image/jpeg", buffer: readFileSync(path.join(SAMPLES, "rocket.jpg")) });
  await expectText(page.getByTestId("upload-status"), "Uploaded short-lived.jpg");
  const card = page.getByTestId("gallery-upload").getByTestId("image-card").first();
  await expectAttr(card, "aria-pressed", "true");
  const id = (await card.getAttribute("data-image-id"))!;
  await server.rpc("DeleteImage", { imageId: id }); // someone else deletes it
  await addFilter(page, "invert");
  await page.getByTestId("process-button").click();
  const err = page.locator('[data-testid="error"][data-context="process"]');
  await expectText(err.getByTestId("error-code"), "not_found");
  await expectText(err.getByTestId("error-message"), id);
  await expectText(page.getByTestId("process-status"), "Failed: not_found");
  await expectAttr(page.getByTestId("process-job"), "data-state", "failed");
});

uiTest("with the server down, actions fail with unavailable and the status says so", srv, async ({ page, server }) => {
  await selectImage(page, "sample-coffee");
  await server.stop();
  try {
    await expectAttr(page.getByTestId("ws-status"), "data-state", "reconnecting");
    await page.getByTestId("process-button").click();
    const err = page.locator('[data-testid="error"][data-context="process"]');
    await expectText(err.getByTestId("error-code"), "unavailable");
    await expectText(err.getByTestId("error-message"), "cannot reach the server");
  } finally {
    await server.start();
  }
  await expectAttr(page.getByTestId("ws-status"), "data-state", "open", 20000);
});
