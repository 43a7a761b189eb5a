import { test } from "node:test";
import assert from "node:assert/strict";
import { LatencyMeter, LatestWins, RateMeter } from "../../src/lib/latest.ts";

test("sends while the window has room, then only the newest waits", () => {
  const t = new LatestWins<string>(2);
  assert.equal(t.offer("a", 0)?.seq, 1);
  assert.equal(t.offer("b", 1)?.seq, 2);
  assert.equal(t.offer("c", 2), null);
  assert.equal(t.offer("d", 3), null); // replaces c
  assert.equal(t.pending, 2);
  assert.equal(t.hasWaiting, true);
  const acc = t.answer(2, 10); // answers a and b (the server skipped a)
  assert.deepEqual(acc, { payload: "b", latencyMs: 9, settled: 2 });
  const nx = t.next(11);
  assert.deepEqual({ seq: nx?.seq, payload: nx?.payload }, { seq: 3, payload: "d" });
  assert.equal(t.next(12), null);
});

test("stale and unknown answers are dropped", () => {
  const t = new LatestWins<string>(3);
  t.offer("a", 0);
  t.offer("b", 0);
  t.offer("c", 0);
  assert.ok(t.answer(2, 5));
  assert.equal(t.answer(1, 6), null); // older than what is shown
  assert.equal(t.answer(2, 6), null); // twice
  assert.equal(t.answer(42, 6), null); // never sent
  assert.equal(t.shownSeq, 2);
  assert.equal(t.pending, 1);
  assert.equal(t.answer(3, 7)?.latencyMs, 7);
});

test("an error frees its slot and the skipped ones before it", () => {
  const t = new LatestWins<string>(2);
  t.offer("a", 0);
  t.offer("b", 0);
  t.offer("c", 0);
  assert.equal(t.fail(2), true);
  assert.equal(t.pending, 0);
  assert.equal(t.fail(2), false);
  assert.equal(t.next(1)?.payload, "c");
});

test("reset after a disconnect hands back the newest state", () => {
  const t = new LatestWins<string>(1);
  t.offer("a", 0);
  t.offer("b", 0);
  assert.equal(t.reset(), "b");
  assert.equal(t.pending, 0);
  t.offer("c", 0);
  assert.equal(t.reset(), "c");
  assert.equal(t.reset(), null);
  // sequence numbers keep growing across resets
  assert.equal(t.offer("d", 0)?.seq, 3);
});

test("oldestAge is the watchdog's input", () => {
  const t = new LatestWins<string>(2);
  assert.equal(t.oldestAge(100), 0);
  t.offer("a", 10);
  t.offer("b", 20);
  assert.equal(t.oldestAge(100), 90);
});

test("RateMeter: events per second over its window", () => {
  const r = new RateMeter(1000);
  assert.equal(r.rate(0), 0);
  for (let i = 0; i <= 10; i++) r.tick(i * 100); // 11 ticks, 100 ms apart
  assert.ok(Math.abs(r.rate(1000) - 10) < 0.01, `rate ${r.rate(1000)}`);
  assert.equal(r.rate(5000), 0); // all fell out of the window
});

test("LatencyMeter: last and mean of the recent samples", () => {
  const l = new LatencyMeter(3);
  assert.equal(l.last, null);
  assert.equal(l.mean, null);
  for (const v of [10, 20, 30, 40]) l.add(v);
  assert.equal(l.last, 40);
  assert.equal(l.mean, 30);
});
