import { test } from "node:test";
import assert from "node:assert/strict";
import { PreviewSocket, type Clock, type SocketLike, type WsState } from "../../src/lib/ws.ts";

class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown) {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  advance(ms: number) {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

class FakeSocket implements SocketLike {
  binaryType = "blob";
  readyState = 0;
  sent: (string | unknown)[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  readonly url: string;
  constructor(url: string) {
    this.url = url;
  }
  send(d: unknown) {
    this.sent.push(d);
  }
  close(code = 1000) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  serverText(o: unknown) {
    this.onmessage?.({ data: JSON.stringify(o) });
  }
  serverBinary(n = 3) {
    this.onmessage?.({ data: new Uint8Array(n).buffer });
  }
  json() {
    return this.sent.filter((s) => typeof s === "string").map((s) => JSON.parse(s as string));
  }
}

function setup(extra: Partial<ConstructorParameters<typeof PreviewSocket>[0]> = {}) {
  const clock = new FakeClock();
  const sockets: FakeSocket[] = [];
  const states: WsState[] = [];
  const previews: { seq: number; imageId: string; latencyMs: number }[] = [];
  const errors: { code: string; message: string; kind?: string }[] = [];
  const ps = new PreviewSocket({
    url: "ws://h/ws",
    factory: (u) => {
      const s = new FakeSocket(u);
      sockets.push(s);
      return s;
    },
    clock,
    random: () => 0,
    pingMs: 1000,
    onState: (s) => states.push(s),
    onPreview: (ev) => previews.push({ seq: ev.meta.seq, imageId: ev.request.imageId, latencyMs: ev.latencyMs }),
    onError: (e) => errors.push(e),
    ...extra,
  });
  return { clock, sockets, states, previews, errors, ps };
}

const tune = (imageId: string, sigma: number) => ({ imageId, filters: [{ name: "blur", params: { sigma } }], previewWidth: 320 });

test("connects, sends tune with seq, shows the preview with its latency", () => {
  const { clock, sockets, states, previews, ps } = setup();
  ps.start();
  assert.equal(sockets.length, 1);
  assert.equal(sockets[0]!.url, "ws://h/ws");
  assert.equal(sockets[0]!.binaryType, "arraybuffer");
  ps.tune(tune("a", 2)); // before open: remembered
  sockets[0]!.open();
  assert.deepEqual(states, ["connecting", "open"]);
  assert.deepEqual(sockets[0]!.json(), [{ type: "tune", seq: 1, imageId: "a", filters: [{ name: "blur", params: { sigma: 2 } }], previewWidth: 320 }]);
  clock.advance(40);
  sockets[0]!.serverText({ type: "preview", seq: 1, width: 320, height: 200, contentType: "image/jpeg" });
  sockets[0]!.serverBinary();
  assert.deepEqual(previews, [{ seq: 1, imageId: "a", latencyMs: 40 }]);
});

test("latest wins: a burst sends two, keeps the newest, sends it after an answer", () => {
  const { sockets, previews, ps } = setup();
  ps.start();
  sockets[0]!.open();
  for (let s = 1; s <= 6; s++) ps.tune(tune("a", s));
  assert.deepEqual(sockets[0]!.json().map((m) => m.filters[0].params.sigma), [1, 2]);
  assert.equal(ps.tuneBusy, true);
  sockets[0]!.serverText({ type: "preview", seq: 2, width: 1, height: 1 });
  sockets[0]!.serverBinary();
  const sent = sockets[0]!.json();
  assert.equal(sent.length, 3);
  assert.deepEqual([sent[2].seq, sent[2].filters[0].params.sigma], [3, 6]);
  sockets[0]!.serverText({ type: "preview", seq: 3, width: 1, height: 1 });
  sockets[0]!.serverBinary();
  assert.deepEqual(previews.map((p) => p.seq), [2, 3]);
  assert.equal(ps.tuneBusy, false);
});

test("reconnects after the server goes away and re-sends the newest state", () => {
  const { clock, sockets, states, ps } = setup();
  ps.start();
  sockets[0]!.open();
  ps.tune(tune("a", 4));
  sockets[0]!.close(1006);
  assert.equal(ps.state, "reconnecting");
  clock.advance(249);
  assert.equal(sockets.length, 1);
  clock.advance(1);
  assert.equal(sockets.length, 2);
  sockets[1]!.close(1006); // still down: backs off longer
  clock.advance(499);
  assert.equal(sockets.length, 2);
  clock.advance(1);
  assert.equal(sockets.length, 3);
  sockets[2]!.open();
  assert.equal(ps.state, "open");
  const m = sockets[2]!.json();
  assert.equal(m.length, 1);
  assert.equal(m[0].type, "tune");
  assert.equal(m[0].filters[0].params.sigma, 4);
  assert.ok(m[0].seq > 1);
  assert.deepEqual(states.slice(0, 3), ["connecting", "open", "reconnecting"]);
});

test("a server error names its seq and frees the slot", () => {
  const { sockets, errors, ps } = setup({ maxInFlight: 1 });
  ps.start();
  sockets[0]!.open();
  ps.tune(tune("a", 99));
  ps.tune(tune("a", 3));
  sockets[0]!.serverText({ type: "error", code: "invalid_argument", message: 'parameter "blur.sigma" is 99, outside 0.1..50', seq: 1 });
  assert.deepEqual(errors, [{ code: "invalid_argument", message: 'parameter "blur.sigma" is 99, outside 0.1..50', seq: 1, id: undefined, kind: "tune" }]);
  const sent = sockets[0]!.json();
  assert.equal(sent.length, 2);
  assert.equal(sent[1].filters[0].params.sigma, 3);
});

test("a preview for an older request than the one shown is ignored", () => {
  const { sockets, previews, ps } = setup({ maxInFlight: 4 });
  ps.start();
  sockets[0]!.open();
  ps.tune(tune("a", 1));
  ps.tune(tune("b", 1));
  sockets[0]!.serverText({ type: "preview", seq: 2, width: 1, height: 1 });
  sockets[0]!.serverBinary();
  sockets[0]!.serverText({ type: "preview", seq: 1, width: 1, height: 1 });
  sockets[0]!.serverBinary();
  assert.deepEqual(previews.map((p) => [p.seq, p.imageId]), [[2, "b"]]);
});

test("webcam frames: header then binary, one in flight", () => {
  const frames: number[] = [];
  const { sockets, ps } = setup({ onFrame: (ev) => frames.push(ev.meta.seq) });
  ps.start();
  assert.equal(ps.frameReady, false);
  sockets[0]!.open();
  const blob = new Uint8Array([1, 2, 3]);
  const seq = ps.frame({ filters: [], contentType: "image/jpeg", previewWidth: 320 }, blob);
  assert.ok(seq !== null);
  assert.equal(ps.frameReady, false);
  assert.equal(ps.frame({ filters: [], contentType: "image/jpeg" }, blob), null);
  const s = sockets[0]!.sent;
  assert.deepEqual(JSON.parse(s[0] as string), { type: "frame", seq, filters: [], contentType: "image/jpeg", previewWidth: 320 });
  assert.equal(s[1], blob);
  sockets[0]!.serverText({ type: "frame", seq, width: 320, height: 240, contentType: "image/jpeg" });
  sockets[0]!.serverBinary();
  assert.deepEqual(frames, [seq]);
  assert.equal(ps.frameReady, true);
});

test("ping/pong keeps the connection; no pong closes it", () => {
  const rtts: number[] = [];
  const { clock, sockets, ps } = setup({ onPong: (ms) => rtts.push(ms) });
  ps.start();
  sockets[0]!.open();
  clock.advance(1000);
  assert.deepEqual(sockets[0]!.json(), [{ type: "ping" }]);
  clock.advance(5);
  sockets[0]!.serverText({ type: "pong" });
  assert.deepEqual(rtts, [5]);
  // the server stops answering
  clock.advance(1000);
  clock.advance(1000);
  clock.advance(1000);
  clock.advance(1000);
  assert.equal(ps.state, "reconnecting");
});

test("stop closes and does not reconnect", () => {
  const { clock, sockets, ps } = setup();
  ps.start();
  sockets[0]!.open();
  ps.stop();
  clock.advance(10_000);
  assert.equal(sockets.length, 1);
  assert.equal(ps.state, "closed");
});

test("1009 (message too big) is reported as resource_exhausted", () => {
  const { sockets, errors, ps } = setup();
  ps.start();
  sockets[0]!.open();
  sockets[0]!.close(1009);
  assert.equal(errors[0]?.code, "resource_exhausted");
});
