import { test } from "node:test";
import assert from "node:assert/strict";
import {
  coerce,
  defaultOf,
  defaultParams,
  formatValue,
  sliderUseful,
  stepDecimals,
  type FilterMeta,
  type ParamMeta,
} from "../../src/lib/params.ts";

const num = (o: Partial<ParamMeta> = {}): ParamMeta => ({
  name: "sigma", displayName: "Sigma", description: "", type: "number", defaultValue: 2,
  min: 0.1, max: 50, step: 0.1, options: [], ...o,
});
const int = (o: Partial<ParamMeta> = {}): ParamMeta => num({ name: "radius", type: "integer", defaultValue: 2, min: 1, max: 100, step: 1, ...o });
const bool = (o: Partial<ParamMeta> = {}): ParamMeta => num({ name: "keep_aspect", type: "bool", defaultValue: true, min: 0, max: 0, step: 0, ...o });
const enm = (o: Partial<ParamMeta> = {}): ParamMeta =>
  num({ name: "border", type: "enum", defaultValue: "reflect", min: 0, max: 0, step: 0, options: ["reflect", "clamp", "wrap"], ...o });

test("number: slider strings parse, clamp to [min, max]", () => {
  assert.equal(coerce(num(), "3.5"), 3.5);
  assert.equal(coerce(num(), "0"), 0.1);
  assert.equal(coerce(num(), "99"), 50);
  assert.equal(coerce(num(), 7), 7);
  assert.equal(coerce(num(), "-1e9"), 0.1);
});

test("number: floating noise is rounded by the step's decimals", () => {
  assert.equal(coerce(num({ min: 0, max: 1, step: 0.01 }), 0.1 + 0.2), 0.3);
  assert.equal(coerce(num({ min: 0, max: 5, step: 0.05 }), "1.2500000001"), 1.25);
});

test("number: garbage falls back to the default", () => {
  assert.equal(coerce(num(), "abc"), 2);
  assert.equal(coerce(num(), ""), 2);
  assert.equal(coerce(num(), NaN), 2);
  assert.equal(coerce(num(), undefined), 2);
  assert.equal(coerce(num(), Infinity), 2);
});

test("integer: rounds and clamps", () => {
  assert.equal(coerce(int(), "2.6"), 3);
  assert.equal(coerce(int(), "0"), 1);
  assert.equal(coerce(int(), 1000), 100);
  assert.equal(Number.isInteger(coerce(int(), "17.49")), true);
});

test("integer without a range is not clamped", () => {
  assert.equal(coerce(int({ min: 0, max: 0 }), "-5"), -5);
});

test("bool: checkbox states and words", () => {
  assert.equal(coerce(bool(), false), false);
  assert.equal(coerce(bool(), "on"), true);
  assert.equal(coerce(bool(), "false"), false);
  assert.equal(coerce(bool(), 0), false);
  assert.equal(coerce(bool(), "maybe"), true); // default
});

test("enum: only listed options, else the default", () => {
  assert.equal(coerce(enm(), "clamp"), "clamp");
  assert.equal(coerce(enm(), "CLAMP"), "reflect");
  assert.equal(coerce(enm(), 3), "reflect");
});

test("defaults are typed and in range whatever the server sent", () => {
  assert.equal(defaultOf(int({ defaultValue: "7" })), 7);
  assert.equal(defaultOf(int({ defaultValue: 500 })), 100);
  assert.equal(defaultOf(num({ defaultValue: "x" })), 0.1);
  assert.equal(defaultOf(enm({ defaultValue: "nope" })), "reflect");
  assert.equal(defaultOf(bool({ defaultValue: "true" })), true);
  const f: FilterMeta = { name: "blur", displayName: "Blur", description: "", params: [num(), enm()], backends: ["cpu"], plugin: "" };
  assert.deepEqual(defaultParams(f), { sigma: 2, border: "reflect" });
});

test("stepDecimals, formatValue and slider usefulness", () => {
  assert.equal(stepDecimals(0.1), 1);
  assert.equal(stepDecimals(0.05), 2);
  assert.equal(stepDecimals(1), 0);
  assert.equal(stepDecimals(1e-7), 7);
  assert.equal(stepDecimals(0), 0);
  assert.equal(formatValue(num(), 2), "2.0");
  assert.equal(formatValue(bool(), false), "off");
  assert.equal(formatValue(enm(), "wrap"), "wrap");
  assert.equal(sliderUseful(num()), true);
  assert.equal(sliderUseful(int({ min: 0, max: 1_000_000, step: 1 })), false); // crop offsets: number field only
  assert.equal(sliderUseful(enm()), false);
});
