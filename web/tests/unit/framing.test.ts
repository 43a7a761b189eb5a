import { test } from "node:test";
import assert from "node:assert/strict";
import { Framer, backoffDelay, encode, parseServerText, wsUrlFor } from "../../src/lib/framing.ts";

test("a preview header pairs with the binary message after it", () => {
  const f = new Framer();
  assert.deepEqual(f.text('{"type":"preview","seq":3,"width":64,"height":48,"contentType":"image/jpeg","timing":{"totalMs":4.5},"filters":[{"name":"blur"}]}'), []);
  assert.equal(f.awaitingImage, true);
  const bytes = new Uint8Array([0xff, 0xd8, 0xff]);
  const out = f.binary(bytes);
  assert.equal(out.length, 1);
  const it = out[0]!;
  assert.equal(it.kind, "image");
  if (it.kind === "image") {
    assert.equal(it.meta.type, "preview");
    assert.equal(it.meta.seq, 3);
    assert.equal(it.meta.width, 64);
    assert.equal(it.meta.timing?.totalMs, 4.5);
    assert.equal(it.data, bytes);
  }
  assert.equal(f.awaitingImage, false);
});

test("frame headers pair the same way", () => {
  const f = new Framer();
  f.text('{"type":"frame","seq":"7","width":"32","height":24,"contentType":"image/jpeg"}');
  const [it] = f.binary(new Uint8Array(1));
  assert.equal(it?.kind, "image");
  if (it?.kind === "image") assert.deepEqual([it.meta.type, it.meta.seq, it.meta.width], ["frame", 7, 32]);
});

test("text between a header and its image drops the header", () => {
  const f = new Framer();
  f.text('{"type":"preview","seq":1,"width":1,"height":1}');
  const out = f.text('{"type":"pong"}');
  assert.deepEqual(out.map((o) => o.kind), ["protocol-error", "message"]);
  assert.equal(f.binary(new Uint8Array(1))[0]?.kind, "protocol-error");
});

test("a binary message without a header is a protocol error", () => {
  assert.equal(new Framer().binary(new ArrayBuffer(2))[0]?.kind, "protocol-error");
});

test("messages without images pass straight through", () => {
  const f = new Framer();
  const [e] = f.text('{"type":"error","code":"invalid_argument","message":"parameter \\"blur.sigma\\" is 99","seq":4}');
  assert.deepEqual(e, { kind: "message", msg: { type: "error", code: "invalid_argument", message: 'parameter "blur.sigma" is 99', seq: 4 } });
  const [p] = f.text('{"type":"progress","id":"j1","percent":40,"stage":"blur","status":"40% complete"}');
  assert.equal(p?.kind === "message" && p.msg.type === "progress" && p.msg.percent, 40);
  const [d] = f.text('{"type":"done","id":"j1","resultImageId":"r1"}');
  assert.equal(d?.kind === "message" && d.msg.type === "done" && d.msg.resultImageId, "r1");
});

test("parseServerText rejects what is not a known message", () => {
  assert.equal(parseServerText("not json"), null);
  assert.equal(parseServerText("[1,2]"), null);
  assert.equal(parseServerText('{"type":"nope"}'), null);
  assert.equal(parseServerText("null"), null);
  assert.equal(new Framer().text("garbage")[0]?.kind, "protocol-error");
});

test("client messages use the proto3 JSON names", () => {
  const s = encode({ type: "tune", seq: 1, imageId: "sample-rocket", filters: [{ name: "blur", params: { sigma: 3 } }], previewWidth: 640 });
  assert.deepEqual(JSON.parse(s), { type: "tune", seq: 1, imageId: "sample-rocket", filters: [{ name: "blur", params: { sigma: 3 } }], previewWidth: 640 });
  assert.equal(encode({ type: "ping" }), '{"type":"ping"}');
});

test("ws URL from the page origin", () => {
  assert.equal(wsUrlFor("http://127.0.0.1:8080"), "ws://127.0.0.1:8080/ws");
  assert.equal(wsUrlFor("https://gpix.example/some/page?x=1#y"), "wss://gpix.example/ws");
});

test("backoff doubles to a cap, jitter only shortens", () => {
  const none = () => 0;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, none)), [250, 500, 1000, 2000, 4000, 4000, 4000]);
  assert.equal(backoffDelay(0, () => 1), 200);
});
