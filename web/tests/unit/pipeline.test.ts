import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addStep,
  describe as describePipeline,
  dropBefore,
  moveStep,
  moveStepBy,
  removeStep,
  resetStep,
  setParam,
  toggleStep,
  wireSteps,
  type Step,
} from "../../src/lib/pipeline.ts";
import type { FilterMeta } from "../../src/lib/params.ts";

const catalog: FilterMeta[] = [
  { name: "grayscale", displayName: "Grayscale", description: "", backends: ["cpu"], plugin: "", params: [] },
  {
    name: "blur", displayName: "Gaussian blur", description: "", backends: ["cpu"], plugin: "",
    params: [{ name: "sigma", displayName: "Sigma", description: "", type: "number", defaultValue: 2, min: 0.1, max: 50, step: 0.1, options: [] }],
  },
  {
    name: "edge", displayName: "Edge", description: "", backends: ["cpu"], plugin: "",
    params: [{ name: "threshold", displayName: "Threshold", description: "", type: "integer", defaultValue: 0, min: 0, max: 255, step: 1, options: [] }],
  },
];
const meta = (n: string) => catalog.find((f) => f.name === n)!;
const names = (s: Step[]) => s.map((x) => x.name);

function three(): Step[] {
  let s: Step[] = [];
  for (const n of ["grayscale", "blur", "edge"]) s = addStep(s, meta(n));
  return s;
}

test("add appends with defaults, enabled, unique uids", () => {
  const s = three();
  assert.deepEqual(names(s), ["grayscale", "blur", "edge"]);
  assert.deepEqual(s[1]!.params, { sigma: 2 });
  assert.ok(s.every((x) => x.enabled));
  assert.equal(new Set(s.map((x) => x.uid)).size, 3);
  assert.deepEqual(names(addStep(s, meta("blur"), 0)), ["blur", "grayscale", "blur", "edge"]);
});

test("operations never mutate their input", () => {
  const s = three();
  const copy = JSON.parse(JSON.stringify(s));
  moveStep(s, s[0]!.uid, 2);
  toggleStep(s, s[1]!.uid);
  setParam(s, s[1]!.uid, "sigma", "9", catalog);
  removeStep(s, s[2]!.uid);
  assert.deepEqual(s, copy);
});

test("move to an index and by a delta, clamped at the ends", () => {
  const s = three();
  const [g, b, e] = s.map((x) => x.uid) as [string, string, string];
  assert.deepEqual(names(moveStep(s, g, 2)), ["blur", "edge", "grayscale"]);
  assert.deepEqual(names(moveStep(s, e, 0)), ["edge", "grayscale", "blur"]);
  assert.deepEqual(names(moveStep(s, b, 99)), ["grayscale", "edge", "blur"]);
  assert.deepEqual(names(moveStepBy(s, g, -1)), ["grayscale", "blur", "edge"]);
  assert.deepEqual(names(moveStepBy(s, b, 1)), ["grayscale", "edge", "blur"]);
  assert.deepEqual(names(moveStepBy(s, "nope", 1)), ["grayscale", "blur", "edge"]);
});

test("drag and drop: before a step, or at the end", () => {
  const s = three();
  const [g, b, e] = s.map((x) => x.uid) as [string, string, string];
  assert.deepEqual(names(dropBefore(s, e, g)), ["edge", "grayscale", "blur"]);
  assert.deepEqual(names(dropBefore(s, g, null)), ["blur", "edge", "grayscale"]);
  assert.deepEqual(names(dropBefore(s, g, e)), ["blur", "grayscale", "edge"]);
  assert.deepEqual(names(dropBefore(s, b, b)), ["grayscale", "blur", "edge"]);
});

test("toggle flips or sets; disabled steps are not sent", () => {
  const s = three();
  const off = toggleStep(s, s[1]!.uid);
  assert.equal(off[1]!.enabled, false);
  assert.deepEqual(wireSteps(off).map((x) => x.name), ["grayscale", "edge"]);
  assert.equal(toggleStep(off, s[1]!.uid)[1]!.enabled, true);
  assert.equal(toggleStep(off, s[1]!.uid, false)[1]!.enabled, false);
});

test("setParam coerces by metadata; unknown parameters change nothing", () => {
  const s = three();
  const b = s[1]!.uid;
  assert.equal(setParam(s, b, "sigma", "7.5", catalog)[1]!.params.sigma, 7.5);
  assert.equal(setParam(s, b, "sigma", "500", catalog)[1]!.params.sigma, 50);
  assert.deepEqual(setParam(s, b, "nope", "1", catalog)[1]!.params, { sigma: 2 });
  const e = s[2]!.uid;
  assert.equal(setParam(s, e, "threshold", "12.7", catalog)[2]!.params.threshold, 13);
});

test("reset restores the defaults", () => {
  const s = three();
  const b = s[1]!.uid;
  const changed = setParam(s, b, "sigma", "9", catalog);
  assert.deepEqual(resetStep(changed, b, catalog)[1]!.params, { sigma: 2 });
});

test("wire form is the proto3 JSON of FilterStep", () => {
  const s = setParam(three(), three()[1]!.uid, "sigma", "3", catalog);
  const w = wireSteps(s);
  assert.deepEqual(w[0], { name: "grayscale", params: {} });
  assert.equal(JSON.stringify(w[2]), '{"name":"edge","params":{"threshold":0}}');
  assert.equal(describePipeline(three()), "grayscale,blur(sigma=2),edge(threshold=0)");
});

test("remove", () => {
  const s = three();
  assert.deepEqual(names(removeStep(s, s[1]!.uid)), ["grayscale", "edge"]);
  assert.deepEqual(names(removeStep(s, "nope")), ["grayscale", "blur", "edge"]);
});
