// Generated proto messages (protoc-gen-es v2) to and from the UI's plain
// types. Type-only imports of the generated code keep this module runnable
// under node --test; enum numbers are those of gpix/v1/image_service.proto.

import type { JsonValue } from "@bufbuild/protobuf";
import type { Value } from "@bufbuild/protobuf/wkt";
import type {
  Backend,
  FilterDefinition,
  FilterParameter,
  Image,
} from "../gen/gpix/v1/image_service_pb.ts";
import type { FilterMeta, ParamMeta, ParamType, ParamValue } from "../lib/params.ts";
import type { WireStep } from "../lib/pipeline.ts";
import type { ImageInfo, Source } from "../lib/images.ts";

// gpix.v1.ParameterType
const PARAM_TYPES: Record<number, ParamType> = { 1: "number", 2: "integer", 3: "bool", 4: "enum" };
// gpix.v1.ImageSource
const SOURCES: Record<number, Source> = { 1: "sample", 2: "upload", 3: "result" };
// gpix.v1.ImageFormat
const FORMATS: Record<number, ImageInfo["format"]> = { 1: "jpeg", 2: "png" };

export type ValueInit = { kind: { case: "numberValue"; value: number } | { case: "stringValue"; value: string } | { case: "boolValue"; value: boolean } };

/** google.protobuf.Value (as protobuf-es represents it) to a plain value. */
export function fromValue(v: Pick<Value, "kind"> | undefined): JsonValue | undefined {
  const k = v?.kind;
  if (!k) return undefined;
  switch (k.case) {
    case "numberValue":
    case "stringValue":
    case "boolValue":
      return k.value;
    case "nullValue":
      return null;
    default:
      return undefined;
  }
}

export function toValue(x: ParamValue): ValueInit {
  if (typeof x === "number") return { kind: { case: "numberValue", value: x } };
  if (typeof x === "boolean") return { kind: { case: "boolValue", value: x } };
  return { kind: { case: "stringValue", value: x } };
}

/** A parameter type the UI does not know is treated by its other fields. */
function paramType(p: Pick<FilterParameter, "type" | "options" | "defaultValue">): ParamType {
  const t = PARAM_TYPES[p.type as number];
  if (t) return t;
  if (p.options.length) return "enum";
  const d = fromValue(p.defaultValue);
  return typeof d === "boolean" ? "bool" : typeof d === "string" ? "enum" : "number";
}

export function toParamMeta(p: FilterParameter): ParamMeta {
  const type = paramType(p);
  const d = fromValue(p.defaultValue);
  return {
    name: p.name,
    displayName: p.displayName || p.name,
    description: p.description,
    type,
    defaultValue: (typeof d === "number" || typeof d === "boolean" || typeof d === "string" ? d : type === "bool" ? false : type === "enum" ? (p.options[0] ?? "") : 0),
    min: p.min,
    max: p.max,
    step: p.step,
    options: [...p.options],
  };
}

export function toFilterMeta(f: FilterDefinition): FilterMeta {
  return {
    name: f.name,
    displayName: f.displayName || f.name,
    description: f.description,
    params: f.parameters.map(toParamMeta),
    backends: [...f.backends],
    plugin: f.plugin,
  };
}

export interface BackendInfo {
  name: string;
  available: boolean;
  device: string;
  detail: string;
  plugin: string;
  version: string;
}

export function toBackendInfo(b: Backend): BackendInfo {
  return { name: b.name, available: b.available, device: b.device, detail: b.detail, plugin: b.plugin, version: b.version };
}

function isoOf(t: Image["createdAt"]): string | undefined {
  if (!t) return undefined;
  const ms = Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}

export function toImageInfo(im: Image): ImageInfo {
  return {
    id: im.id,
    name: im.name || im.id,
    width: im.width,
    height: im.height,
    sizeBytes: Number(im.sizeBytes),
    source: SOURCES[im.source as number] ?? "upload",
    format: FORMATS[im.format as number] ?? "",
    contentUrl: im.contentUrl || `/v1/images/${encodeURIComponent(im.id)}/content`,
    createdAt: isoOf(im.createdAt),
  };
}

/** The proto3 JSON of gpix.v1.Image (upload answers) to the UI's record. */
export function imageInfoFromJson(o: Record<string, unknown>): ImageInfo {
  const src = String(o.source ?? "");
  const fmt = String(o.format ?? "");
  const source: Source = src.endsWith("SAMPLE") ? "sample" : src.endsWith("RESULT") ? "result" : "upload";
  return {
    id: String(o.id ?? ""),
    name: String(o.name ?? o.id ?? ""),
    width: Number(o.width ?? 0),
    height: Number(o.height ?? 0),
    sizeBytes: Number(o.sizeBytes ?? 0),
    source,
    format: fmt.endsWith("PNG") ? "png" : fmt.endsWith("JPEG") ? "jpeg" : "",
    contentUrl: String(o.contentUrl ?? `/v1/images/${encodeURIComponent(String(o.id ?? ""))}/content`),
    createdAt: typeof o.createdAt === "string" ? o.createdAt : undefined,
  };
}

/** UI steps to gpix.v1.FilterStep init shapes. */
export function toFilterSteps(steps: readonly WireStep[]): { name: string; params: Record<string, ValueInit> }[] {
  return steps.map((s) => ({
    name: s.name,
    params: Object.fromEntries(Object.entries(s.params).map(([k, v]) => [k, toValue(v)])),
  }));
}
