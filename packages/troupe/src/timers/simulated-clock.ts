/**
 * A clock that moves only when a test says so. `advance(ms)` fires every timer that falls due, in
 * deadline order (ties in the order they were set), with `now()` reading each timer's deadline while
 * it runs; timers set while advancing fire in the same call if they fall due within it.
 */
import type { Clock, ClockTimer } from './clock.js';

interface SimTimer {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
}

/**
 * A hand-driven clock for tests. Exported from `troupe/testing`.
 * @example
 * const clock = new SimulatedClock();
 * const system = new ActorSystem({ clock });
 * system.sendAfter(ref, { type: 'ping' }, 1_000);
 * clock.advance(999); // nothing fires
 * clock.advance(1); // the timer fires at 1,000 ms
 * await settle(system); // and the actor handles the message
 */
export class SimulatedClock implements Clock {
  #now: number;
  #seq = 0;
  #heap: SimTimer[] = [];

  /** @param startMs what `now()` reads before the first `advance`; default 0. */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    if (!(ms >= 0)) ms = 0;
    const t: SimTimer = { at: this.#now + ms, seq: this.#seq++, fn };
    this.#push(t);
    return t;
  }

  clearTimeout(timer: ClockTimer): void {
    if (timer && typeof timer === 'object' && 'fn' in timer) (timer as SimTimer).fn = undefined;
  }

  /** Ignored, as `unref` is: nothing keeps a simulated clock's process alive, and `pending` counts every timer. */
  setKeepAlive(_timer: ClockTimer, _keepAlive: boolean): void {}

  /** How many timers are waiting to fire. */
  get pending(): number {
    let n = 0;
    for (const t of this.#heap) if (t.fn) n++;
    return n;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order. Returns how many fired.
   * @example clock.advance(5_000); await settle(system);
   */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`advance(ms): ms must be a non-negative number; got ${ms}`);
    const target = this.#now + ms;
    let fired = 0;
    for (;;) {
      const top = this.#heap[0];
      if (!top || top.at > target) break;
      this.#pop();
      const fn = top.fn;
      if (!fn) continue;
      top.fn = undefined;
      this.#now = Math.max(this.#now, top.at);
      fired++;
      fn();
    }
    this.#now = target;
    return fired;
  }

  /** Advances to the next pending timer's deadline and fires everything due then. */
  advanceToNext(): number {
    while (this.#heap[0] && !this.#heap[0].fn) this.#pop();
    const top = this.#heap[0];
    return top ? this.advance(top.at - this.#now) : 0;
  }

  #less(a: SimTimer, b: SimTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(t: SimTimer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as SimTimer;
      if (!this.#less(t, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = t;
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop() as SimTimer;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && this.#less(h[r] as SimTimer, h[l] as SimTimer) ? r : l;
      if (!this.#less(h[c] as SimTimer, last)) break;
      h[i] = h[c] as SimTimer;
      i = c;
    }
    h[i] = last;
  }
}
