// The pipeline the user edits: an ordered list of filter steps, each on or
// off, with its parameter values. Every operation returns a new array (the
// components re-render on identity change) and never mutates its input.
//
// Pure module: no DOM, no generated code, so node --test runs it directly.

import { coerce, defaultParams, type FilterMeta, type ParamValue } from "./params.ts";

export interface Step {
  /** Stable identity in the UI (keys, drag and drop); not sent to the server. */
  uid: string;
  name: string;
  enabled: boolean;
  params: Record<string, ParamValue>;
}

/** A step as the server takes it: the proto3 JSON of gpix.v1.FilterStep. */
export interface WireStep {
  name: string;
  params: Record<string, ParamValue>;
}

let uidCounter = 0;
export function newUid(): string {
  uidCounter += 1;
  return `s${uidCounter}`;
}

export function addStep(steps: readonly Step[], f: FilterMeta, at = steps.length): Step[] {
  const step: Step = { uid: newUid(), name: f.name, enabled: true, params: defaultParams(f) };
  const out = steps.slice();
  out.splice(Math.max(0, Math.min(at, out.length)), 0, step);
  return out;
}

export function removeStep(steps: readonly Step[], uid: string): Step[] {
  return steps.filter((s) => s.uid !== uid);
}

/** Moves a step to index `to` (clamped), shifting the others. */
export function moveStep(steps: readonly Step[], uid: string, to: number): Step[] {
  const from = steps.findIndex((s) => s.uid === uid);
  if (from < 0) return steps.slice();
  const target = Math.max(0, Math.min(to, steps.length - 1));
  if (target === from) return steps.slice();
  const out = steps.slice();
  const [s] = out.splice(from, 1);
  out.splice(target, 0, s!);
  return out;
}

/** Moves a step by `delta` places (-1 up, +1 down). */
export function moveStepBy(steps: readonly Step[], uid: string, delta: number): Step[] {
  const from = steps.findIndex((s) => s.uid === uid);
  if (from < 0) return steps.slice();
  return moveStep(steps, uid, from + delta);
}

/** Drag and drop: puts the dragged step before the step `beforeUid`
 * (or at the end when beforeUid is null). */
export function dropBefore(steps: readonly Step[], uid: string, beforeUid: string | null): Step[] {
  if (uid === beforeUid) return steps.slice();
  const moving = steps.find((s) => s.uid === uid);
  if (!moving) return steps.slice();
  const rest = steps.filter((s) => s.uid !== uid);
  const at = beforeUid === null ? rest.length : rest.findIndex((s) => s.uid === beforeUid);
  rest.splice(at < 0 ? rest.length : at, 0, moving);
  return rest;
}

export function toggleStep(steps: readonly Step[], uid: string, enabled?: boolean): Step[] {
  return steps.map((s) => (s.uid === uid ? { ...s, enabled: enabled ?? !s.enabled } : s));
}

/** Sets one parameter, coerced by the filter's metadata. Unknown filters or
 * parameters leave the pipeline unchanged. */
export function setParam(
  steps: readonly Step[],
  uid: string,
  param: string,
  raw: unknown,
  catalog: readonly FilterMeta[],
): Step[] {
  return steps.map((s) => {
    if (s.uid !== uid) return s;
    const meta = catalog.find((f) => f.name === s.name)?.params.find((p) => p.name === param);
    if (!meta) return s;
    return { ...s, params: { ...s.params, [param]: coerce(meta, raw) } };
  });
}

export function resetStep(steps: readonly Step[], uid: string, catalog: readonly FilterMeta[]): Step[] {
  return steps.map((s) => {
    if (s.uid !== uid) return s;
    const f = catalog.find((m) => m.name === s.name);
    return f ? { ...s, params: defaultParams(f) } : s;
  });
}

/** The enabled steps in order, as the server takes them. Parameters equal to
 * their defaults are sent too: the request then says exactly what is shown. */
export function wireSteps(steps: readonly Step[]): WireStep[] {
  return steps.filter((s) => s.enabled).map((s) => ({ name: s.name, params: { ...s.params } }));
}

/** A compact text form, e.g. "grayscale,blur(sigma=3)" for titles and logs. */
export function describe(steps: readonly Step[]): string {
  return wireSteps(steps)
    .map((s) => {
      const kv = Object.entries(s.params).map(([k, v]) => `${k}=${v}`);
      return kv.length ? `${s.name}(${kv.join(",")})` : s.name;
    })
    .join(",");
}
