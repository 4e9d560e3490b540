/**
 * Restart intensity: at most `maxRestarts` restarts within any `withinMs` milliseconds. The last
 * `maxRestarts` restart times live in a ring buffer, so recording a restart is O(1) whatever the
 * limit (OTP keeps a list and walks it on every restart). Times are the injected clock's monotonic
 * milliseconds, so the window has millisecond resolution (OTP counts whole seconds). As in OTP, a
 * restart exactly `withinMs` ago still counts; one older than that is forgotten.
 */

/** The default limit: 3 restarts within 5,000 ms, as Elixir. */
export const DEFAULT_MAX_RESTARTS = 3;
export const DEFAULT_WITHIN_MS = 5_000;

/**
 * A sliding window of restart times. `new RestartWindow()` is 3 restarts within 5,000 ms.
 * @example
 * const w = new RestartWindow(3, 1_000);
 * [w.tryAdd(0), w.tryAdd(10), w.tryAdd(20)]; // [true, true, true]
 * w.tryAdd(1_000); // false: the restart at 0 is exactly 1,000 ms old and still counts
 * w.tryAdd(1_001); // true: now it is forgotten
 */
export class RestartWindow {
  readonly maxRestarts: number;
  readonly withinMs: number;
  readonly #times: Float64Array;
  #head = 0;
  #count = 0;

  constructor(maxRestarts: number = DEFAULT_MAX_RESTARTS, withinMs: number = DEFAULT_WITHIN_MS) {
    if (!Number.isInteger(maxRestarts) || maxRestarts < 0) {
      throw new RangeError(`maxRestarts must be an integer >= 0; got ${String(maxRestarts)}`);
    }
    if (typeof withinMs !== 'number' || !(withinMs > 0)) {
      throw new RangeError(`withinMs must be a number of milliseconds > 0; got ${String(withinMs)}`);
    }
    this.maxRestarts = maxRestarts;
    this.withinMs = withinMs;
    this.#times = new Float64Array(maxRestarts);
  }

  /**
   * Records a restart at `now` if the limit allows it. Returns `false`, recording nothing, when it
   * would be restart number `maxRestarts + 1` within `withinMs`: the supervisor must give up.
   */
  tryAdd(now: number): boolean {
    const max = this.maxRestarts;
    if (max === 0) return false;
    if (this.#count < max) {
      this.#times[(this.#head + this.#count) % max] = now;
      this.#count++;
      return true;
    }
    // Full: the oldest of the last `max` restarts decides.
    const oldest = this.#times[this.#head] as number;
    if (now - oldest <= this.withinMs) return false;
    this.#times[this.#head] = now;
    this.#head = (this.#head + 1) % max;
    return true;
  }

  /** How many recorded restarts are still inside the window at `now`. */
  countAt(now: number): number {
    let n = 0;
    for (let i = 0; i < this.#count; i++) {
      const t = this.#times[(this.#head + i) % this.maxRestarts] as number;
      if (now - t <= this.withinMs) n++;
    }
    return n;
  }
}
