/**
 * The clock every timer, call timeout and restart window reads. The runtime never calls
 * `setTimeout` or `performance.now()` for actor time directly: it asks the system's clock, so tests
 * can swap in the simulated clock from `troupe/testing` and advance time by hand.
 */

/** A handle returned by {@link Clock.setTimeout}; pass it back to {@link Clock.clearTimeout}. */
export type ClockTimer = unknown;

/** A monotonic clock with one-shot timers. */
export interface Clock {
  /** Monotonic milliseconds (fractions allowed). Only differences are meaningful. */
  now(): number;
  /**
   * Calls `fn` once, `ms` milliseconds from now. `unref`: the timer alone does not keep the process
   * alive (a hint; a simulated clock ignores it).
   */
  setTimeout(fn: () => void, ms: number, unref?: boolean): ClockTimer;
  /** Cancels a timer; a no-op for one that already fired or was cleared. */
  clearTimeout(timer: ClockTimer): void;
  /**
   * Optional: makes a timer that has not fired yet keep the process alive (`true`) or not (`false`),
   * as Node's `timeout.ref()` and `timeout.unref()` do; a hint, like `unref`. Call timeouts use it to
   * keep the process alive exactly while calls wait. Without it, a call-timeout timer is cleared
   * whenever no call waits on it, and set again for the next call.
   */
  setKeepAlive?(timer: ClockTimer, keepAlive: boolean): void;
}

/** Node's longest delay (a longer one fires after 1 ms, with a TimeoutOverflowWarning). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** A timer longer than Node's longest delay: armed again in steps until its deadline. */
class LongTimeout {
  #t: ReturnType<typeof setTimeout>;
  #keepAlive: boolean;
  constructor(
    readonly fn: () => void,
    readonly deadline: number,
    unref: boolean,
  ) {
    this.#keepAlive = !unref;
    this.#t = this.#arm();
  }
  #arm(): ReturnType<typeof setTimeout> {
    const left = this.deadline - performance.now();
    const t =
      left > MAX_DELAY_MS
        ? setTimeout(() => {
            this.#t = this.#arm();
          }, MAX_DELAY_MS)
        : setTimeout(this.fn, Math.max(0, left));
    if (!this.#keepAlive) t.unref();
    return t;
  }
  clear(): void {
    clearTimeout(this.#t);
  }
  keepAlive(on: boolean): void {
    this.#keepAlive = on;
    if (on) this.#t.ref();
    else this.#t.unref();
  }
}

/** The real clock: `performance.now()` and Node's timers (any delay, past Node's 24.8-day limit too). */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms, unref) => {
    if (ms > MAX_DELAY_MS) return new LongTimeout(fn, performance.now() + ms, unref === true);
    const t = setTimeout(fn, ms);
    if (unref === true) t.unref();
    return t;
  },
  clearTimeout: (timer) => {
    if (timer instanceof LongTimeout) timer.clear();
    else clearTimeout(timer as ReturnType<typeof setTimeout>);
  },
  setKeepAlive: (timer, keepAlive) => {
    if (timer instanceof LongTimeout) {
      timer.keepAlive(keepAlive);
      return;
    }
    const t = timer as ReturnType<typeof setTimeout>;
    if (keepAlive) t.ref();
    else t.unref();
  },
};
