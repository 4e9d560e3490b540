/**
 * Restart intensity: at most `maxRestarts` restarts within any `withinMs` milliseconds, OTP's
 * `add_restart`: a restart is recorded, the ones older than the window are forgotten, and more
 * than `maxRestarts` left means give up. The times still inside the window live in a ring buffer,
 * oldest first, that grows and shrinks with them: a restart costs O(1) amortised, and the memory
 * follows the restarts actually inside the window, not the limit (`maxRestarts: Infinity`, a
 * supervisor that never gives up, costs what its restarts cost). Times are the injected clock's
 * monotonic milliseconds, so the window has millisecond resolution (OTP counts whole seconds). As
 * in OTP, a restart exactly `withinMs` ago still counts; one older than that is forgotten.
 */

/** The default limit: 3 restarts within 5,000 ms, as Elixir. */
export const DEFAULT_MAX_RESTARTS = 3;
export const DEFAULT_WITHIN_MS = 5_000;

/** The smallest ring the window keeps once it has recorded a restart. */
const MIN_CAPACITY = 4;
const NO_TIMES = new Float64Array(0);

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/**
 * A sliding window of restart times. `new RestartWindow()` is 3 restarts within 5,000 ms.
 * `maxRestarts` is an integer >= 0, or `Infinity` for no limit; `withinMs` a finite number of
 * milliseconds > 0. Anything else throws a `RangeError` that says what is accepted.
 * @example
 * const w = new RestartWindow(3, 1_000);
 * [w.tryAdd(0), w.tryAdd(10), w.tryAdd(20)]; // [true, true, true]
 * w.tryAdd(1_000); // false: the restart at 0 is exactly 1,000 ms old and still counts
 * w.tryAdd(1_001); // true: now it is forgotten
 */
export class RestartWindow {
  readonly maxRestarts: number;
  readonly withinMs: number;
  /** The recorded times, oldest first, from `#head`, wrapping; empty until the first restart. */
  #times: Float64Array = NO_TIMES;
  #head = 0;
  #count = 0;

  constructor(maxRestarts: number = DEFAULT_MAX_RESTARTS, withinMs: number = DEFAULT_WITHIN_MS) {
    if (!(Number.isInteger(maxRestarts) && maxRestarts >= 0) && maxRestarts !== Number.POSITIVE_INFINITY) {
      throw new RangeError(
        `maxRestarts must be an integer >= 0; got ${show(maxRestarts)} (Infinity is accepted too: no limit)`,
      );
    }
    if (typeof withinMs !== 'number' || !(withinMs > 0)) {
      throw new RangeError(`withinMs must be a number of milliseconds > 0; got ${show(withinMs)}`);
    }
    if (withinMs === Number.POSITIVE_INFINITY) {
      throw new RangeError(
        'withinMs must be finite; got Infinity, which would make maxRestarts a budget for the whole life of the ' +
          'supervisor (OTP refuses an infinite period too). For a supervisor that never gives up, set maxRestarts: Infinity',
      );
    }
    this.maxRestarts = maxRestarts;
    this.withinMs = withinMs;
  }

  /**
   * Records a restart at `now` if the limit allows it. Returns `false`, recording nothing, when it
   * would be restart number `maxRestarts + 1` within `withinMs`: the supervisor must give up.
   * `now` never goes back (the clock is monotonic).
   */
  tryAdd(now: number): boolean {
    const max = this.maxRestarts;
    if (max === 0) return false;
    let times = this.#times;
    let head = this.#head;
    let count = this.#count;
    // Forget the restarts older than the window (each time is forgotten once: O(1) amortised).
    while (count > 0 && now - (times[head] as number) > this.withinMs) {
      head = head + 1 === times.length ? 0 : head + 1;
      count--;
    }
    if (count >= max) {
      this.#head = head;
      this.#count = count;
      return false;
    }
    const capacity = times.length;
    if (count === capacity) {
      times = this.#resize(times, head, count, Math.min(max, Math.max(MIN_CAPACITY, capacity * 2)));
      head = 0;
    } else if (capacity > MIN_CAPACITY && count < capacity / 4) {
      // Mostly empty after a burst: give the memory back at once, keeping room to double. The copy
      // is paid for by the (more than) `count` restarts forgotten since the ring was this full.
      times = this.#resize(times, head, count, Math.min(max, Math.max(MIN_CAPACITY, count * 2)));
      head = 0;
    }
    const tail = head + count;
    times[tail < times.length ? tail : tail - times.length] = now;
    this.#head = head;
    this.#count = count + 1;
    return true;
  }

  /** How many recorded restarts are still inside the window at `now`. */
  countAt(now: number): number {
    // The times are in order, so the ones inside the window are a suffix: find where it starts.
    const times = this.#times;
    const at = (i: number) => times[(this.#head + i) % times.length] as number;
    let lo = 0;
    let hi = this.#count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (now - at(mid) > this.withinMs) lo = mid + 1;
      else hi = mid;
    }
    return this.#count - lo;
  }

  /** A ring of `capacity` with the `count` times from `head`, oldest at 0. */
  #resize(times: Float64Array, head: number, count: number, capacity: number): Float64Array {
    const next = new Float64Array(capacity);
    for (let i = 0; i < count; i++) next[i] = times[(head + i) % times.length] as number;
    this.#times = next;
    return next;
  }
}
