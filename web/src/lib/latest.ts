// Latest-wins bookkeeping for live previews and webcam frames, and the
// FPS/latency read-outs.
//
// The server answers a burst of requests with previews of the newest one it
// got to; each answer's seq names the newest request it reflects, so one
// answer settles every request up to that seq. The client keeps at most
// `maxInFlight` requests unanswered; further changes only replace the one
// waiting request (the newest state wins), which is sent as soon as an answer
// frees a slot. Answers older than the one already shown are dropped.
//
// Pure module: no DOM; times are passed in (performance.now() in the app).

export interface Sent<T> {
  seq: number;
  at: number;
  payload: T;
}

export interface Accepted<T = unknown> {
  /** The request this answer reflects. */
  payload: T;
  /** Milliseconds from sending `seq` to this answer. */
  latencyMs: number;
  /** How many sent requests this answer settled (1 + the skipped ones). */
  settled: number;
}

export class LatestWins<T> {
  readonly maxInFlight: number;
  private inFlight: Sent<T>[] = [];
  private waiting: T | null = null;
  private lastShown = 0;
  private nextSeq: number;

  constructor(maxInFlight = 2, firstSeq = 1) {
    this.maxInFlight = Math.max(1, maxInFlight);
    this.nextSeq = firstSeq;
  }

  /** Queues a new state. Returns the request to send now, or null when the
   * window is full (the state waits, replacing any older waiting state). */
  offer(payload: T, now: number): Sent<T> | null {
    if (this.inFlight.length >= this.maxInFlight) {
      this.waiting = payload;
      return null;
    }
    this.waiting = null;
    return this.record(payload, now);
  }

  private record(payload: T, now: number): Sent<T> {
    const sent = { seq: this.nextSeq, at: now, payload };
    this.nextSeq = this.nextSeq >= 0xffffffff ? 1 : this.nextSeq + 1;
    this.inFlight.push(sent);
    return sent;
  }

  /** An answer for `seq` arrived. Returns null for a stale answer (older
   * than what is shown, or for a request this tracker never sent). */
  answer(seq: number, now: number): Accepted<T> | null {
    if (seq <= this.lastShown) return null;
    const idx = this.inFlight.findIndex((s) => s.seq === seq);
    if (idx < 0) return null;
    const sent = this.inFlight[idx]!;
    this.inFlight = this.inFlight.slice(idx + 1);
    this.lastShown = seq;
    return { payload: sent.payload, latencyMs: Math.max(0, now - sent.at), settled: idx + 1 };
  }

  /** An error answered `seq`: it, and the older requests the server skipped
   * on its way to it, no longer occupy a slot. */
  fail(seq: number): boolean {
    const idx = this.inFlight.findIndex((s) => s.seq === seq);
    if (idx < 0) return false;
    this.inFlight = this.inFlight.slice(idx + 1);
    return true;
  }

  /** Age of the oldest unanswered request (0 when none): a watchdog resets
   * the tracker when an answer is overdue, so a lost answer cannot stall it. */
  oldestAge(now: number): number {
    const first = this.inFlight[0];
    return first ? now - first.at : 0;
  }

  /** After an answer or a failure: the waiting state to send now, if any. */
  next(now: number): Sent<T> | null {
    if (this.waiting === null || this.inFlight.length >= this.maxInFlight) return null;
    const p = this.waiting;
    this.waiting = null;
    return this.record(p, now);
  }

  /** The connection dropped: nothing is in flight any more. Returns the newest
   * state (waiting, else the last one sent) so it can be re-sent. */
  reset(): T | null {
    const last = this.waiting ?? this.inFlight[this.inFlight.length - 1]?.payload ?? null;
    this.inFlight = [];
    this.waiting = null;
    return last;
  }

  get pending(): number {
    return this.inFlight.length;
  }

  get hasWaiting(): boolean {
    return this.waiting !== null;
  }

  get shownSeq(): number {
    return this.lastShown;
  }

  /** Every answered seq so far was below this value (for tests/read-outs). */
  get upcomingSeq(): number {
    return this.nextSeq;
  }
}

/** Events per second over a sliding window (previews shown, frames sent). */
export class RateMeter {
  private times: number[] = [];
  private readonly windowMs: number;
  constructor(windowMs = 2000) {
    this.windowMs = windowMs;
  }

  tick(now: number): void {
    this.times.push(now);
    this.trim(now);
  }

  private trim(now: number): void {
    const cut = now - this.windowMs;
    let i = 0;
    while (i < this.times.length && this.times[i]! < cut) i++;
    if (i) this.times = this.times.slice(i);
  }

  rate(now: number): number {
    this.trim(now);
    if (this.times.length < 2) return this.times.length ? 1000 / this.windowMs : 0;
    const span = Math.max(now - this.times[0]!, 1);
    return ((this.times.length - 1) * 1000) / Math.min(span, this.windowMs);
  }
}

/** Smoothed latency: the mean of the last n samples. */
export class LatencyMeter {
  private samples: number[] = [];
  private readonly n: number;
  constructor(n = 8) {
    this.n = n;
  }
  add(ms: number): void {
    this.samples.push(ms);
    if (this.samples.length > this.n) this.samples.shift();
  }
  get last(): number | null {
    return this.samples.length ? this.samples[this.samples.length - 1]! : null;
  }
  get mean(): number | null {
    if (!this.samples.length) return null;
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }
  clear(): void {
    this.samples = [];
  }
}

