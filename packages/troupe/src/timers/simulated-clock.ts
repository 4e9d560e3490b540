/**
 * A clock that moves only when a test says so. `advance(ms)` fires every timer that falls due, in
 * deadline order (ties in the order they were set), with `now()` reading each timer's deadline while
 * it runs; timers set while advancing fire in the same call if they fall due within it.
 *
 * It also notices a program that waits for it in vain. Once the event loop has nothing left to run
 * (no I/O, no real timer, no immediate) while this clock has timers pending, nothing can ever advance
 * it: whatever waits on those timers would wait forever, and Node's test runner would cancel the test
 * with "Promise resolution is still pending but the event loop has already resolved". The clock then
 * tells its stall listeners (`troupe/testing` rejects the waits it knows with a
 * `SimulatedTimeError`); if none of them had anything to reject and the process then ends with a
 * failure, it prints what was pending on stderr. Looking costs one `setImmediate` per event-loop turn
 * in which the clock was used; it never keeps the process alive.
 */
import type { Clock, ClockTimer } from './clock.js';

interface SimTimer {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
}

/**
 * A wait that only simulated time could end, found waiting when nothing else could run: the test
 * must advance the `SimulatedClock` (or stop waiting). Exported from `troupe/testing`.
 * @example
 * // call { type: 'get' } to Ref<1 slow> is waiting for simulated time: advance the SimulatedClock
 * // (pending timers at +100 ms, +5000 ms)
 * await assert.rejects(slow.call({ type: 'get' }), SimulatedTimeError);
 */
export class SimulatedTimeError extends Error {
  override readonly name = 'SimulatedTimeError';
  /** When the clock's pending timers fall due, in ms from its `now()`, soonest first (distinct values). */
  readonly pendingInMs: readonly number[];
  /** @param waiting what waits, for the message (`call { type: 'get' } to Ref<1>`); omitted, the message starts with "waiting". */
  constructor(pendingInMs: readonly number[], waiting?: string) {
    super(
      `${waiting === undefined ? '' : `${waiting} is `}waiting for simulated time: advance the SimulatedClock (${describePending(pendingInMs)})`,
    );
    this.pendingInMs = pendingInMs;
  }
}

/** @internal `pending timers at +100 ms, +5000 ms`: the clock's pending timers as the errors name them. */
export function describePending(pendingInMs: readonly number[]): string {
  if (pendingInMs.length === 0) return 'no pending timers';
  const shown = pendingInMs.slice(0, 5).map((ms) => `+${Math.round(ms * 1000) / 1000} ms`);
  const more = pendingInMs.length - shown.length;
  return `pending timers at ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * @internal Told when nothing can run any more while the clock has timers pending, with when they
 * fall due and how many waits the listeners before it rejected; returns how many it rejected.
 */
export type StallListener = (pendingInMs: readonly number[], rejectedBefore: number) => number;

/** @internal Adds a stall listener to a clock; returns the function that removes it. */
export let onStall: (clock: SimulatedClock, listener: StallListener) => () => void;

/** @internal When a clock's pending timers fall due, in ms from its `now()`, soonest first, distinct. */
export let pendingInMsOf: (clock: SimulatedClock) => number[];

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
  #listeners: Set<StallListener> | undefined = undefined;
  /** In the list of clocks to look at when the event loop runs dry. */
  #watched = false;

  static {
    onStall = (clock, listener) => {
      clock.#listeners ??= new Set();
      const listeners = clock.#listeners;
      listeners.add(listener);
      return () => void listeners.delete(listener);
    };
    pendingInMsOf = (clock) => clock.#pendingInMs();
  }

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
    this.#used();
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
    this.#used();
    return fired;
  }

  /** Advances to the next pending timer's deadline and fires everything due then. */
  advanceToNext(): number {
    while (this.#heap[0] && !this.#heap[0].fn) this.#pop();
    const top = this.#heap[0];
    return top ? this.advance(top.at - this.#now) : 0;
  }

  #pendingInMs(): number[] {
    const due = new Set<number>();
    for (const t of this.#heap) if (t.fn) due.add(t.at - this.#now);
    return [...due].sort((a, b) => a - b);
  }

  /** The clock was used in this event-loop turn: look at the loop once the turn's work is done. */
  #used(): void {
    lastUnansweredStall = undefined;
    if (!this.#watched) {
      this.#watched = true;
      watchedClocks.push(this);
    }
    if (!checkQueued) {
      checkQueued = true;
      setImmediate(SimulatedClock.#check);
    }
  }

  static #check = (fromHoldingPoll = false): void => {
    checkQueued = false;
    let n = 0;
    for (const clock of watchedClocks) {
      // A clock without pending timers can keep nothing waiting.
      if (clock.pending > 0) watchedClocks[n++] = clock;
      else clock.#watched = false;
    }
    watchedClocks.length = n;
    if (n === 0) return;
    const loop = eventLoopState(fromHoldingPoll);
    if (loop === 'immediates') {
      // Other work of this turn is still queued: look again after it.
      checkQueued = true;
      setImmediate(SimulatedClock.#check);
    } else if (loop !== 'idle') {
      // I/O or real timers may still advance the clock or settle the waits: look again later.
      // Requests and real timers hold the process anyway, and end: holding it one poll longer than
      // them is what lets this look once they are done. Handles may be unref'd (nothing says), and
      // may never end: for them, look without holding the process.
      if (!pollArmed) {
        pollArmed = true;
        pollHolds = loop === 'transient';
        const poll = setTimeout(SimulatedClock.#poll, POLL_MS);
        if (!pollHolds) poll.unref();
      }
    } else {
      const stalled = watchedClocks.splice(0);
      for (const clock of stalled) {
        clock.#watched = false;
        clock.#stalled();
      }
    }
  };

  static #poll = (): void => {
    pollArmed = false;
    // A ref'd timer is listed while its callback runs: the poll's own is not work.
    if (!checkQueued) SimulatedClock.#check(pollHolds);
  };

  /** Nothing can run any more, and timers are pending: tell the listeners. */
  #stalled(): void {
    const pendingInMs = this.#pendingInMs();
    let rejected = 0;
    if (this.#listeners !== undefined) for (const l of [...this.#listeners]) rejected += l(pendingInMs, rejected);
    if (rejected === 0) noteUnansweredStall(pendingInMs);
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

// ---- noticing a program that waits for simulated time in vain -----------------------------------

/** Clocks used since the event loop was last found with nothing to run. */
const watchedClocks: SimulatedClock[] = [];
let checkQueued = false;
let pollArmed = false;
/** The armed poll is ref'd (holds the process): it is listed among the active resources. */
let pollHolds = false;
/** How often to look again while I/O or real timers keep the process busy. */
const POLL_MS = 20;
/**
 * Listed as active by `process.getActiveResourcesInfo()`, yet never what keeps Node alive here: the
 * stdio streams (unref'd by Node) and signal handlers. A pipe of your own is a `PipeWrap` too, so
 * I/O on a pipe alone (no child process, no socket, no real timer) is not seen as work.
 */
const AMBIENT = new Set(['PipeWrap', 'TTYWrap', 'SignalWrap']);

/** Requests: listed only while they run, they keep the process alive until they end. */
function isRequest(resource: string): boolean {
  return (
    resource.includes('Req') || resource === 'WriteWrap' || resource === 'ShutdownWrap' || resource === 'ConnectWrap'
  );
}

/**
 * What the event loop has left besides ambient resources: nothing (`idle`), only `setImmediate`
 * callbacks, requests and ref'd real timers (`transient`: they hold the process and end), or
 * handles (sockets, servers, child processes: maybe unref'd, maybe never ending).
 */
function eventLoopState(fromHoldingPoll: boolean): 'idle' | 'immediates' | 'transient' | 'handles' {
  let state: 'idle' | 'immediates' | 'transient' = 'idle';
  let ownTimer = fromHoldingPoll;
  for (const r of process.getActiveResourcesInfo()) {
    if (AMBIENT.has(r)) continue;
    if (r === 'Timeout' && ownTimer) {
      ownTimer = false;
      continue;
    }
    if (r === 'Immediate') {
      if (state === 'idle') state = 'immediates';
    } else if (r === 'Timeout' || isRequest(r)) state = 'transient';
    else return 'handles';
  }
  return state;
}

/** The last stall nobody rejected a wait for; cleared as soon as any clock is used again. */
let lastUnansweredStall: readonly number[] | undefined;
let exitHooked = false;
let exitCodeAtBeforeExit: number | undefined;
let sawBeforeExit = false;

/**
 * A stall no listener could answer (a wait `troupe/testing` does not know, such as a call in a
 * system none of its tools has seen). If the process then ends with a failure it did not have before
 * the event loop ran dry (Node's test runner cancelling the waiting test, or an unsettled top-level
 * await), say on stderr what it was waiting for.
 */
function noteUnansweredStall(pendingInMs: readonly number[]): void {
  lastUnansweredStall = pendingInMs;
  if (exitHooked) return;
  exitHooked = true;
  // Before Node's test runner's own beforeExit listener, which cancels the tests still waiting.
  process.prependListener('beforeExit', () => {
    sawBeforeExit = true;
    exitCodeAtBeforeExit = typeof process.exitCode === 'number' ? process.exitCode : undefined;
  });
  process.on('exit', (code) => {
    if (!sawBeforeExit || lastUnansweredStall === undefined || code === 0) return;
    if (code === (exitCodeAtBeforeExit ?? 0)) return;
    process.stderr.write(
      `troupe/testing: the process ran out of work while something waited for a SimulatedClock: ${new SimulatedTimeError(lastUnansweredStall).message}\n`,
    );
  });
}
