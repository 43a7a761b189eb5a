// The filter drawer generated from ListFilters metadata: catalogue, controls
// per parameter type (sliders with min/max/step, selects, toggles), toggling
// steps on and off, and what reaches the server.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import {
  Server,
  addFilter,
  closeBrowser,
  eventually,
  expectAttr,
  expectCount,
  expectText,
  expectVisible,
  openApp,
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

interface Def {
  name: string;
  displayName: string;
  parameters: { name: string; type: string; min: number; max: number; step: number; options: string[]; defaultValue: unknown }[];
}

uiTest("the drawer lists every filter ListFilters returns", srv, async ({ page, server }) => {
  const { filters } = await server.rpc<{ filters: Def[] }>("ListFilters");
  const items = page.getByTestId("filter-item");
  await expectCount(items, filters.length);
  await expectText(page.getByTestId("filter-count"), `${filters.length} filters`);
  const shown = await items.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.filter));
  assert.deepEqual(shown, filters.map((f) => f.name));
  for (const f of filters) await expectText(items.filter({ has: page.locator(`[data-testid="add-filter-${f.name}"]`) }), f.displayName);
  // the search box narrows the list
  await page.getByTestId("filter-search").fill("blur");
  await expectCount(items, filters.filter((f) => /blur/i.test(`${f.name} ${f.displayName}`)).length);
});

uiTest("the drawer toggle hides and shows the drawer", srv, async ({ page }) => {
  const toggle = page.getByTestId("drawer-toggle");
  const drawer = page.getByTestId("filter-drawer");
  await expectAttr(toggle, "aria-expanded", "true");
  await expectAttr(toggle, "aria-controls", "filter-drawer");
  await expectVisible(drawer);
  await toggle.click();
  await expectAttr(toggle, "aria-expanded", "false");
  await expectVisible(drawer, false);
  await toggle.click();
  await expectVisible(drawer);
});

uiTest("numeric parameters get sliders with the metadata's min, max and step", srv, async ({ page, server }) => {
  const { filters } = await server.rpc<{ filters: Def[] }>("ListFilters");
  const blur = filters.find((f) => f.name === "blur")!;
  const sigma = blur.parameters.find((p) => p.name === "sigma")!;
  await addFilter(page, "blur");
  const slider = page.getByTestId("param-blur-sigma");
  await expectAttr(slider, "type", "range");
  await expectAttr(slider, "min", String(sigma.min));
  await expectAttr(slider, "max", String(sigma.max));
  await expectAttr(slider, "step", String(sigma.step));
  assert.equal(await slider.inputValue(), String(sigma.defaultValue));
  await expectText(page.getByTestId("param-blur-sigma-value"), Number(sigma.defaultValue).toFixed(1));
  // the label comes from displayName, the help from description
  assert.equal(await page.getByRole("slider", { name: "Sigma" }).count(), 1);
  // moving the slider updates the read-out and the number field
  await setSlider(slider, 7.3);
  await expectText(page.getByTestId("param-blur-sigma-value"), "7.3");
  assert.equal(await page.getByTestId("param-blur-sigma-number").inputValue(), "7.3");
  // typed values are clamped to the range
  await page.getByTestId("param-blur-sigma-number").fill("500");
  await page.getByTestId("param-blur-sigma-number").press("Enter");
  await expectText(page.getByTestId("param-blur-sigma-value"), "50.0");
  assert.equal(await slider.inputValue(), "50");
});

uiTest("enum parameters get selects, booleans get switches, huge ranges a number field", srv, async ({ page }) => {
  await addFilter(page, "resize");
  const resample = page.getByTestId("param-resize-filter");
  assert.equal(await resample.evaluate((e) => e.tagName), "SELECT");
  assert.deepEqual(await resample.locator("option").allInnerTexts(), ["nearest", "bilinear", "lanczos3"]);
  assert.equal(await resample.inputValue(), "bilinear");
  await resample.selectOption("lanczos3");
  assert.equal(await resample.inputValue(), "lanczos3");
  const keep = page.getByRole("switch", { name: "Keep aspect ratio" });
  assert.equal(await keep.isChecked(), true);
  await page.getByTestId("param-resize-keep_aspect-field").locator("label").click();
  assert.equal(await keep.isChecked(), false);
  await addFilter(page, "crop");
  // crop offsets reach 1e6: a slider would be useless, a number field is there
  assert.equal(await page.getByTestId("param-crop-x").count(), 0);
  await expectVisible(page.getByTestId("param-crop-x-number"));
  await addFilter(page, "invert");
  const invert = page.locator('[data-testid="pipeline-step"][data-filter="invert"]');
  assert.equal(await invert.locator("gpix-param").count(), 0);
});

uiTest("a step switched off is not sent; switched on again it is", srv, async ({ page, server }) => {
  const ws = recordWsSent(page);
  await openApp(page, server.url);
  await selectImage(page, "sample-rocket");
  await addFilter(page, "grayscale");
  await addFilter(page, "invert");
  const seq1 = await waitForPreview(page);
  const lastTune = () => ws.sent.filter((m) => m.type === "tune").at(-1) as { filters: { name: string }[] } | undefined;
  await eventually(() => assert.deepEqual(lastTune()?.filters.map((f) => f.name), ["grayscale", "invert"]));
  const invertToggle = page.getByRole("switch", { name: "Enable Invert" });
  await invertToggle.uncheck();
  await expectAttr(page.locator('[data-testid="pipeline-step"][data-filter="invert"]'), "data-enabled", "false");
  await expectText(page.getByTestId("pipeline-count"), "1/2");
  await eventually(() => assert.deepEqual(lastTune()?.filters.map((f) => f.name), ["grayscale"]));
  const seq2 = await waitForPreview(page, seq1);
  await invertToggle.check();
  await expectText(page.getByTestId("pipeline-count"), "2/2");
  await eventually(() => assert.deepEqual(lastTune()?.filters.map((f) => f.name), ["grayscale", "invert"]));
  await waitForPreview(page, seq2);
});

uiTest("every step off: the original is shown and nothing is sent", srv, async ({ page }) => {
  await selectImage(page, "sample-coffee");
  await addFilter(page, "sepia");
  await waitForPreview(page);
  await page.getByRole("switch", { name: "Enable Sepia" }).uncheck();
  await expectText(page.getByTestId("viewer-note"), "Every filter is off: showing the original.");
  await expectAttr(page.getByTestId("preview-image"), "src", /\/v1\/images\/sample-coffee\/content$/);
});

uiTest("reset returns a step to its defaults; remove takes it out", srv, async ({ page }) => {
  await addFilter(page, "sharpen");
  await setSlider(page.getByTestId("param-sharpen-amount"), 3.5);
  await expectText(page.getByTestId("param-sharpen-amount-value"), "3.50");
  await page.getByRole("button", { name: "Reset Sharpen to defaults" }).click();
  await expectText(page.getByTestId("param-sharpen-amount-value"), "1.00");
  await page.getByRole("button", { name: "Remove Sharpen" }).click();
  await expectCount(page.getByTestId("pipeline-step"), 0);
  await expectVisible(page.getByTestId("pipeline-empty"));
});
