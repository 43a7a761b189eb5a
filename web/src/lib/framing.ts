// The WebSocket live-preview protocol of GET /ws (shared/api/API.md):
// text messages are JSON objects with a `type`; an image travels as one
// binary message that directly follows the text message announcing it.
//
// Pure module: builds client messages and pairs server text messages with
// the binary message that follows them.

import type { WireStep } from "./pipeline.ts";

export interface Timing {
  queueMs?: number;
  decodeMs?: number;
  filterMs?: number;
  encodeMs?: number;
  totalMs?: number;
}

export interface TuneMessage {
  type: "tune";
  seq: number;
  imageId: string;
  filters: WireStep[];
  previewWidth?: number;
  parameter?: string;
  value?: number;
}

export interface FrameMessage {
  type: "frame";
  seq: number;
  filters: WireStep[];
  contentType: string;
  previewWidth?: number;
}

export interface ProcessMessage {
  type: "process";
  id: string;
  imageId: string;
  filters: WireStep[];
  backend?: string;
  output?: { format?: string; quality?: number; maxWidth?: number; maxHeight?: number };
}

export type ClientMessage = TuneMessage | FrameMessage | ProcessMessage | { type: "ping" };

export interface PreviewMeta {
  type: "preview";
  seq: number;
  width: number;
  height: number;
  contentType: string;
  timing?: Timing;
  filters?: WireStep[];
}

export interface FrameMeta {
  type: "frame";
  seq: number;
  width: number;
  height: number;
  contentType: string;
  timing?: Timing;
}

export interface ProgressMsg {
  type: "progress";
  id: string;
  percent: number;
  stage: string;
  status: string;
}

export interface DoneMsg {
  type: "done";
  id: string;
  resultImageId: string;
  timing?: Timing;
}

export interface ErrorMsg {
  type: "error";
  code: string;
  message: string;
  seq?: number;
  id?: string;
}

export type ServerText = PreviewMeta | FrameMeta | ProgressMsg | DoneMsg | ErrorMsg | { type: "pong" };

/** What the framer hands on: a text message, or an image with its header. */
export type Incoming =
  | { kind: "message"; msg: Exclude<ServerText, PreviewMeta | FrameMeta> }
  | { kind: "image"; meta: PreviewMeta | FrameMeta; data: ArrayBuffer | Uint8Array }
  | { kind: "protocol-error"; message: string };

function num(v: unknown, dflt = 0): number {
  return typeof v === "number" && Number.isFinite(v) ? v : typeof v === "string" && v !== "" && Number.isFinite(Number(v)) ? Number(v) : dflt;
}

/** Validates one server text message; null when it is not one we know. */
export function parseServerText(text: string): ServerText | null {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return null;
  }
  if (!o || typeof o !== "object" || Array.isArray(o)) return null;
  const m = o as Record<string, unknown>;
  switch (m.type) {
    case "preview":
    case "frame":
      return {
        type: m.type,
        seq: num(m.seq),
        width: num(m.width),
        height: num(m.height),
        contentType: typeof m.contentType === "string" ? m.contentType : "image/jpeg",
        timing: (m.timing as Timing) ?? undefined,
        ...(m.type === "preview" && Array.isArray(m.filters) ? { filters: m.filters as WireStep[] } : {}),
      } as PreviewMeta | FrameMeta;
    case "progress":
      return { type: "progress", id: String(m.id ?? ""), percent: num(m.percent), stage: String(m.stage ?? ""), status: String(m.status ?? "") };
    case "done":
      return { type: "done", id: String(m.id ?? ""), resultImageId: String(m.resultImageId ?? ""), timing: (m.timing as Timing) ?? undefined };
    case "error": {
      const e: ErrorMsg = { type: "error", code: String(m.code ?? "unknown"), message: String(m.message ?? "") };
      if (m.seq !== undefined) e.seq = num(m.seq);
      if (m.id !== undefined) e.id = String(m.id);
      return e;
    }
    case "pong":
      return { type: "pong" };
    default:
      return null;
  }
}

/**
 * Pairs image headers with the binary message after them. A text message
 * that arrives while a header still waits for its image drops that header
 * (the image never came); a binary message without a header is reported.
 */
export class Framer {
  private header: PreviewMeta | FrameMeta | null = null;

  text(data: string): Incoming[] {
    const out: Incoming[] = [];
    if (this.header) {
      out.push({ kind: "protocol-error", message: `${this.header.type} ${this.header.seq} had no image` });
      this.header = null;
    }
    const msg = parseServerText(data);
    if (!msg) {
      out.push({ kind: "protocol-error", message: `unexpected message: ${data.slice(0, 80)}` });
    } else if (msg.type === "preview" || msg.type === "frame") {
      this.header = msg;
    } else {
      out.push({ kind: "message", msg });
    }
    return out;
  }

  binary(data: ArrayBuffer | Uint8Array): Incoming[] {
    const h = this.header;
    this.header = null;
    if (!h) return [{ kind: "protocol-error", message: "image without a header" }];
    return [{ kind: "image", meta: h, data }];
  }

  /** The connection closed: forget a half-received image. */
  reset(): void {
    this.header = null;
  }

  get awaitingImage(): boolean {
    return this.header !== null;
  }
}

export function encode(msg: ClientMessage): string {
  return JSON.stringify(msg);
}

/** ws:// or wss:// URL of /ws for an http(s) base URL. */
export function wsUrlFor(base: string): string {
  const u = new URL(base);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = "/ws";
  u.search = "";
  u.hash = "";
  return u.toString();
}

/** Reconnect delays: 250 ms doubling to a cap, with up to 20% jitter. */
export function backoffDelay(attempt: number, random = Math.random, baseMs = 250, capMs = 4000): number {
  const d = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(d * (1 - 0.2 * random()));
}
