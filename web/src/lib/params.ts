// Filter metadata (from ListFilters) as the UI uses it, and the coercion of
// raw control values into parameter values the server accepts.
//
// Pure module: no DOM, no generated code, so node --test runs it directly.

export type ParamType = "number" | "integer" | "bool" | "enum";
export type ParamValue = number | boolean | string;

export interface ParamMeta {
  name: string;
  displayName: string;
  description: string;
  type: ParamType;
  defaultValue: ParamValue;
  min: number;
  max: number;
  step: number;
  options: string[];
}

export interface FilterMeta {
  name: string;
  displayName: string;
  description: string;
  params: ParamMeta[];
  backends: string[];
  plugin: string;
}

/** Number of decimals in a step such as 0.05 (2) or 1e-3 (3). */
export function stepDecimals(step: number): number {
  if (!Number.isFinite(step) || step <= 0) return 0;
  const s = String(step);
  const exp = /e-(\d+)$/.exec(s);
  if (exp) return Number(exp[1]);
  const dot = s.indexOf(".");
  return dot < 0 ? 0 : s.length - dot - 1;
}

/** Whether a numeric parameter has a usable [min, max] range for a slider. */
export function hasRange(p: ParamMeta): boolean {
  return (p.type === "number" || p.type === "integer") && Number.isFinite(p.min) &&
    Number.isFinite(p.max) && p.max > p.min;
}

/** A range is too wide for a useful slider (crop offsets up to 1e6, ...):
 * such parameters get a number field only. */
export function sliderUseful(p: ParamMeta): boolean {
  if (!hasRange(p)) return false;
  const step = p.step > 0 ? p.step : p.type === "integer" ? 1 : (p.max - p.min) / 100;
  return (p.max - p.min) / step <= 20000;
}

/** The effective step of a numeric control (what the slider uses). */
export function effectiveStep(p: ParamMeta): number {
  if (p.step > 0) return p.step;
  return p.type === "integer" ? 1 : 0;
}

function clamp(v: number, p: ParamMeta): number {
  if (hasRange(p)) {
    if (v < p.min) return p.min;
    if (v > p.max) return p.max;
  }
  return v;
}

/** A default that matches the parameter's type, whatever the server sent. */
export function defaultOf(p: ParamMeta): ParamValue {
  const d = p.defaultValue;
  switch (p.type) {
    case "bool":
      return typeof d === "boolean" ? d : d === "true" || d === 1;
    case "enum":
      return typeof d === "string" && p.options.includes(d) ? d : (p.options[0] ?? String(d ?? ""));
    case "integer": {
      const n = typeof d === "number" ? d : Number(d);
      return Number.isFinite(n) ? clamp(Math.round(n), p) : hasRange(p) ? p.min : 0;
    }
    default: {
      const n = typeof d === "number" ? d : Number(d);
      return Number.isFinite(n) ? clamp(n, p) : hasRange(p) ? p.min : 0;
    }
  }
}

/** The defaults of every parameter of a filter. */
export function defaultParams(f: FilterMeta): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of f.params) out[p.name] = defaultOf(p);
  return out;
}

/**
 * Coerces a raw control value (a slider's string, a checkbox's boolean, a
 * select's option) into the parameter's type: numbers are parsed, clamped to
 * [min, max] and, for integers, rounded; floats are rounded to the step's
 * decimals so 0.1 + 0.2 never shows up as 0.30000000000000004. Booleans
 * accept true/false/on/off/1/0; enum values must be one of the options.
 * Anything unusable gives the parameter's default.
 */
export function coerce(p: ParamMeta, raw: unknown): ParamValue {
  switch (p.type) {
    case "bool": {
      if (typeof raw === "boolean") return raw;
      if (typeof raw === "number") return raw !== 0;
      const s = String(raw).trim().toLowerCase();
      if (["true", "on", "1", "yes"].includes(s)) return true;
      if (["false", "off", "0", "no", ""].includes(s)) return false;
      return defaultOf(p);
    }
    case "enum": {
      const s = String(raw);
      return p.options.includes(s) ? s : defaultOf(p);
    }
    case "integer":
    case "number": {
      const n = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
      if (!Number.isFinite(n)) return defaultOf(p);
      let v = clamp(n, p);
      if (p.type === "integer") return clamp(Math.round(v), p);
      const d = stepDecimals(p.step);
      if (p.step > 0) v = Number(v.toFixed(Math.min(d + 2, 12)));
      return v;
    }
  }
}

/** A short human text for a value (slider read-outs, summaries). */
export function formatValue(p: ParamMeta, v: ParamValue): string {
  if (typeof v === "boolean") return v ? "on" : "off";
  if (typeof v === "number" && p.type === "number" && p.step > 0) return v.toFixed(stepDecimals(p.step));
  return String(v);
}
