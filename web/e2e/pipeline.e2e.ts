// Reordering the pipeline: move buttons, drag and drop, keyboard; the order
// the server gets is the order the user sees.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  Server,
  addFilter,
  closeBrowser,
  eventually,
  openApp,
  pipelineNames,
  recordWsSent,
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

async function threeSteps(page: import("playwright-core").Page): Promise<void> {
  for (const f of ["grayscale", "blur", "edge"]) await addFilter(page, f);
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["grayscale", "blur", "edge"]));
}

uiTest("steps are added in order and numbered", srv, async ({ page }) => {
  await threeSteps(page);
  const labels = await page.getByTestId("pipeline-step").evaluateAll((els) => els.map((e) => e.getAttribute("aria-label")));
  assert.deepEqual(labels, ["Step 1: Grayscale", "Step 2: Gaussian blur", "Step 3: Edge detect"]);
  // the first cannot move up, the last cannot move down
  assert.equal(await page.getByRole("button", { name: "Move Grayscale up" }).isDisabled(), true);
  assert.equal(await page.getByRole("button", { name: "Move Edge detect down" }).isDisabled(), true);
});

uiTest("move buttons reorder the pipeline", srv, async ({ page }) => {
  await threeSteps(page);
  await page.getByRole("button", { name: "Move Edge detect up" }).click();
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["grayscale", "edge", "blur"]));
  await page.getByRole("button", { name: "Move Grayscale down" }).click();
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["edge", "grayscale", "blur"]));
});

/** Drags a step by its handle with the mouse (native HTML5 drag and drop)
 * onto the top or bottom edge of another step. */
async function dragStep(page: import("playwright-core").Page, from: string, onto: string, edge: "top" | "bottom"): Promise<void> {
  const handle = page.locator(`[data-testid="pipeline-step"][data-filter="${from}"] [data-testid="drag-handle"]`);
  const target = page.locator(`[data-testid="pipeline-step"][data-filter="${onto}"]`);
  // the pipeline heads the drawer: at the top of the page, clear of the sticky header
  await page.evaluate(() => window.scrollTo(0, 0));
  const hb = (await handle.boundingBox())!;
  const tb = (await target.boundingBox())!;
  await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
  await page.mouse.down();
  await page.mouse.move(hb.x + hb.width / 2 + 5, hb.y + hb.height / 2 + 5, { steps: 3 });
  await page.mouse.move(tb.x + 60, edge === "top" ? tb.y + 4 : tb.y + tb.height - 4, { steps: 10 });
  await page.mouse.up();
}

uiTest("drag and drop reorders the pipeline", srv, async ({ page }) => {
  await threeSteps(page);
  await dragStep(page, "edge", "grayscale", "top");
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["edge", "grayscale", "blur"]));
  await dragStep(page, "edge", "blur", "bottom");
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["grayscale", "blur", "edge"]));
  await dragStep(page, "grayscale", "edge", "top");
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["blur", "grayscale", "edge"]));
});

uiTest("the drag handle moves a step with the arrow keys", srv, async ({ page }) => {
  await threeSteps(page);
  const h = page.locator('[data-testid="pipeline-step"][data-filter="grayscale"] [data-testid="drag-handle"]');
  await h.focus();
  await page.keyboard.press("ArrowDown");
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["blur", "grayscale", "edge"]));
  await page.keyboard.press("ArrowDown");
  await eventually(async () => assert.deepEqual(await pipelineNames(page), ["blur", "edge", "grayscale"]));
  // focus stays on the moved step's handle
  assert.equal(await page.evaluate(() => (document.activeElement?.closest("[data-filter]") as HTMLElement | null)?.dataset.filter), "grayscale");
});

uiTest("the server previews the pipeline in the order shown", srv, async ({ page, server }) => {
  const ws = recordWsSent(page);
  await openApp(page, server.url);
  await selectImage(page, "sample-chelsea");
  await addFilter(page, "blur");
  await addFilter(page, "grayscale");
  let seq = await waitForPreview(page);
  const lastTune = () => ws.sent.filter((m) => m.type === "tune").at(-1) as { seq: number; filters: { name: string }[] };
  assert.deepEqual(lastTune().filters.map((f) => f.name), ["blur", "grayscale"]);
  await page.getByRole("button", { name: "Move Grayscale up" }).click();
  await eventually(() => assert.deepEqual(lastTune().filters.map((f) => f.name), ["grayscale", "blur"]));
  seq = await waitForPreview(page, seq);
  assert.ok(seq >= lastTune().seq, `preview ${seq} reflects the newest request ${lastTune().seq}`);
});
