// The live-preview WebSocket client: one connection to GET /ws that
// reconnects with backoff, keeps previews and webcam frames latest-wins, and
// re-sends the newest tuning state after every reconnect so the preview
// comes back by itself when the server restarts.
//
// No DOM dependency beyond a WebSocket-like object, so unit tests drive it
// with a fake socket and a fake clock.

import { LatestWins, LatencyMeter, RateMeter } from "./latest.ts";
import {
  Framer,
  backoffDelay,
  encode,
  type ClientMessage,
  type FrameMeta,
  type PreviewMeta,
  type TuneMessage,
  type FrameMessage,
} from "./framing.ts";

export interface SocketLike {
  binaryType: string;
  readyState: number;
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type WsState = "idle" | "connecting" | "open" | "reconnecting" | "closed";

export interface ImageEvent<M, R> {
  meta: M;
  /** The request (tuning state or frame) this image answers. */
  request: R;
  data: ArrayBuffer | Uint8Array;
  latencyMs: number;
  fps: number;
}

export interface PreviewSocketOptions {
  url: string;
  factory: (url: string) => SocketLike;
  clock?: Clock;
  pingMs?: number;
  maxInFlight?: number;
  /** An answer overdue this long is given up on (the request is re-sent). */
  answerTimeoutMs?: number;
  random?: () => number;
  onState?: (state: WsState, detail: { attempt: number; code?: number }) => void;
  onPreview?: (ev: ImageEvent<PreviewMeta, TuneState>) => void;
  onFrame?: (ev: ImageEvent<FrameMeta, FrameState>) => void;
  onError?: (err: { code: string; message: string; seq?: number; id?: string; kind?: "tune" | "frame" }) => void;
  onPong?: (rttMs: number) => void;
  onProtocolError?: (message: string) => void;
}

const OPEN = 1;

export type TuneState = Omit<TuneMessage, "type" | "seq">;
export type FrameState = Omit<FrameMessage, "type" | "seq">;

const realClock: Clock = {
  now: () => (typeof performance !== "undefined" ? performance.now() : Date.now()),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class PreviewSocket {
  private readonly o: PreviewSocketOptions;
  private readonly clock: Clock;
  private sock: SocketLike | null = null;
  private framer = new Framer();
  private tunes: LatestWins<TuneState>;
  private frames = new LatestWins<FrameState>(1, 1_000_000);
  private lastTune: TuneState | null = null;
  private attempt = 0;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private pingSentAt: number | null = null;
  private stopped = true;
  private _state: WsState = "idle";
  readonly previewRate = new RateMeter();
  readonly frameRate = new RateMeter();
  readonly latency = new LatencyMeter();

  constructor(opts: PreviewSocketOptions) {
    this.o = opts;
    this.clock = opts.clock ?? realClock;
    this.tunes = new LatestWins<TuneState>(opts.maxInFlight ?? 2);
  }

  get state(): WsState {
    return this._state;
  }

  get attempts(): number {
    return this.attempt;
  }

  private setState(s: WsState, code?: number): void {
    this._state = s;
    this.o.onState?.(s, { attempt: this.attempt, code });
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
    const s = this.sock;
    this.sock = null;
    if (s) {
      s.onclose = s.onerror = s.onmessage = s.onopen = null;
      try {
        s.close(1000, "bye");
      } catch {
        /* already closed */
      }
    }
    this.setState("closed");
  }

  /** Drops the connection as if the network failed (the client reconnects). */
  drop(): void {
    this.sock?.close(4000, "dropped by client");
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) this.clock.clearTimeout(this.retryTimer);
    if (this.pingTimer !== null) this.clock.clearTimeout(this.pingTimer);
    this.retryTimer = this.pingTimer = null;
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.stopped) return;
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let s: SocketLike;
    try {
      s = this.o.factory(this.o.url);
    } catch (e) {
      this.o.onProtocolError?.(`cannot open ${this.o.url}: ${(e as Error).message}`);
      this.scheduleReconnect();
      return;
    }
    this.sock = s;
    s.binaryType = "arraybuffer";
    s.onopen = () => {
      if (this.sock !== s) return;
      this.attempt = 0;
      this.setState("open");
      this.schedulePing();
      this.tunes.reset();
      if (this.lastTune) this.sendTune(this.lastTune);
    };
    s.onmessage = (ev) => {
      if (this.sock !== s) return;
      const d = ev.data;
      const items = typeof d === "string" ? this.framer.text(d) : this.framer.binary(d as ArrayBuffer);
      for (const it of items) this.handle(it);
    };
    s.onerror = () => {
      /* onclose follows and does the work */
    };
    s.onclose = (ev) => {
      if (this.sock !== s) return;
      this.sock = null;
      this.framer.reset();
      this.tunes.reset();
      this.frames.reset();
      this.pingSentAt = null;
      if (this.pingTimer !== null) this.clock.clearTimeout(this.pingTimer);
      this.pingTimer = null;
      if (ev.code === 1009) this.o.onError?.({ code: "resource_exhausted", message: "message too large: the server closed the connection (1009)" });
      if (this.stopped) return;
      this.scheduleReconnect(ev.code);
    };
  }

  private scheduleReconnect(code?: number): void {
    const delay = backoffDelay(this.attempt, this.o.random);
    this.attempt += 1;
    this.setState("reconnecting", code);
    this.retryTimer = this.clock.setTimeout(() => this.connect(), delay);
  }

  private schedulePing(): void {
    const every = this.o.pingMs ?? 10000;
    if (every <= 0) return;
    this.pingTimer = this.clock.setTimeout(() => {
      this.pingTimer = null;
      if (!this.sock || this.sock.readyState !== OPEN) return;
      const now = this.clock.now();
      if (this.pingSentAt !== null && now - this.pingSentAt > 2 * every) {
        this.o.onProtocolError?.("no pong: reconnecting");
        this.sock.close(4001, "no pong");
        return;
      }
      const timeout = this.o.answerTimeoutMs ?? 15000;
      if (this.tunes.oldestAge(now) > timeout) {
        this.tunes.reset();
        if (this.lastTune) this.sendTune(this.lastTune);
      }
      if (this.frames.oldestAge(now) > timeout) this.frames.reset();
      if (this.pingSentAt === null) this.pingSentAt = now;
      this.sendRaw({ type: "ping" });
      this.schedulePing();
    }, every);
  }

  private sendRaw(msg: ClientMessage, binary?: ArrayBuffer | ArrayBufferView | Blob): boolean {
    const s = this.sock;
    if (!s || s.readyState !== OPEN) return false;
    s.send(encode(msg));
    if (binary !== undefined) s.send(binary);
    return true;
  }

  /** The newest tuning state: a preview of it will follow (latest wins). */
  tune(state: TuneState): void {
    this.lastTune = state;
    if (this._state !== "open") return;
    this.sendTune(state);
  }

  /** Forgets the tuning state (no preview is wanted, e.g. an empty pipeline). */
  clearTune(): void {
    this.lastTune = null;
  }

  private sendTune(state: TuneState): void {
    const sent = this.tunes.offer(state, this.clock.now());
    if (sent) this.sendRaw({ type: "tune", seq: sent.seq, ...sent.payload });
  }

  /** Can a webcam frame go now? (one in flight at a time) */
  get frameReady(): boolean {
    return this._state === "open" && this.frames.pending === 0;
  }

  /** Sends one frame; false when not connected or one is still in flight. */
  frame(state: FrameState, data: ArrayBuffer | ArrayBufferView | Blob): number | null {
    if (!this.frameReady) return null;
    const sent = this.frames.offer(state, this.clock.now());
    if (!sent) return null;
    this.sendRaw({ type: "frame", seq: sent.seq, ...state }, data);
    this.frameRate.tick(this.clock.now());
    return sent.seq;
  }

  /** Tuning requests unanswered or waiting (a preview is on its way). */
  get tuneBusy(): boolean {
    return this.tunes.pending > 0 || this.tunes.hasWaiting;
  }

  ping(): boolean {
    if (this.pingSentAt === null) this.pingSentAt = this.clock.now();
    return this.sendRaw({ type: "ping" });
  }

  private handle(it: ReturnType<Framer["text"]>[number]): void {
    const now = this.clock.now();
    if (it.kind === "protocol-error") {
      this.o.onProtocolError?.(it.message);
      return;
    }
    if (it.kind === "image") {
      if (it.meta.type === "preview") {
        const acc = this.tunes.answer(it.meta.seq, now);
        if (acc) {
          this.latency.add(acc.latencyMs);
          this.previewRate.tick(now);
          this.o.onPreview?.({ meta: it.meta, request: acc.payload, data: it.data, latencyMs: acc.latencyMs, fps: this.previewRate.rate(now) });
        }
        const nx = this.tunes.next(now);
        if (nx) this.sendRaw({ type: "tune", seq: nx.seq, ...nx.payload });
      } else {
        const acc = this.frames.answer(it.meta.seq, now);
        if (acc) {
          this.latency.add(acc.latencyMs);
          this.previewRate.tick(now);
          this.o.onFrame?.({ meta: it.meta as FrameMeta, request: acc.payload, data: it.data, latencyMs: acc.latencyMs, fps: this.previewRate.rate(now) });
        }
      }
      return;
    }
    const m = it.msg;
    switch (m.type) {
      case "pong":
        if (this.pingSentAt !== null) this.o.onPong?.(now - this.pingSentAt);
        this.pingSentAt = null;
        break;
      case "error":
        let kind: "tune" | "frame" | undefined;
        if (m.seq !== undefined) {
          if (this.tunes.fail(m.seq)) {
            kind = "tune";
            const nx = this.tunes.next(now);
            if (nx) this.sendRaw({ type: "tune", seq: nx.seq, ...nx.payload });
          } else if (this.frames.fail(m.seq)) kind = "frame";
        }
        this.o.onError?.({ code: m.code, message: m.message, seq: m.seq, id: m.id, kind });
        break;
      default:
        break; // progress/done: this client runs Process over Connect instead
    }
  }
}
