/**
 * Message timers: `sendAfter` and `sendInterval`. A timer reads the system's clock, so under the
 * simulated clock it fires only when a test advances time. Timers started from inside an actor belong
 * to it and are cancelled when it exits.
 */
import type { Clock, ClockTimer } from './clock.js';

/** @internal Something that owns timers and forgets them when they finish. */
export interface TimerOwner {
  timerDone(timer: Timer): void;
}

/** A pending `sendAfter` or `sendInterval`. */
export class Timer {
  #clock: Clock;
  #handle: ClockTimer;
  #fire: () => void;
  #everyMs: number | undefined;
  #owner: TimerOwner | undefined;
  #active = true;

  /** @internal */
  constructor(clock: Clock, ms: number, fire: () => void, everyMs: number | undefined, owner: TimerOwner | undefined) {
    this.#clock = clock;
    this.#fire = fire;
    this.#everyMs = everyMs;
    this.#owner = owner;
    this.#handle = clock.setTimeout(this.#tick, ms);
  }

  /** `true` until a one-shot timer fires or any timer is cancelled. */
  get active(): boolean {
    return this.#active;
  }

  /**
   * Cancels the timer. Returns `false` if it was no longer active.
   * @example
   * const timeout = ctx.sendAfter(ctx.self, { type: 'timeout' }, 5_000);
   * timeout.cancel(); // true: it will not fire
   * timeout.cancel(); // false: nothing left to cancel
   */
  cancel(): boolean {
    if (!this.#active) return false;
    this.#active = false;
    this.#clock.clearTimeout(this.#handle);
    this.#owner?.timerDone(this);
    return true;
  }

  #tick = (): void => {
    if (!this.#active) return;
    if (this.#everyMs === undefined) {
      this.#active = false;
      this.#owner?.timerDone(this);
    } else {
      this.#handle = this.#clock.setTimeout(this.#tick, this.#everyMs);
    }
    this.#fire();
  };
}

/** @internal Validates a one-shot timer's delay (finite, >= 0) with a teaching message. */
export function assertDelay(ms: unknown, where: string): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${where}: the delay must be a finite number of milliseconds >= 0; got ${String(ms)}`);
  }
}

/** @internal Validates an interval's period (finite, > 0) with a teaching message. */
export function assertInterval(ms: unknown, where: string): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`${where}: the delay must be a finite number of milliseconds > 0; got ${String(ms)}`);
  }
}
