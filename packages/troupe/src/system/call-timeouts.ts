/**
 * Call timeouts, one queue per distinct `timeoutMs` (`actor/call.ts` says why a queue and not a
 * timer per call). A queue is forgotten once it is idle, so callers that pass a different
 * `timeoutMs` each time leave nothing behind.
 */
import { TimeoutQueue } from '../actor/internal.js';
import type { Clock } from '../timers/clock.js';

/** @internal */
export class CallTimeouts {
  readonly #queues = new Map<number, TimeoutQueue>();

  constructor(private readonly clock: Clock) {}

  /** The timeout queue of calls with this `timeoutMs`. */
  queue(ms: number): TimeoutQueue {
    let q = this.#queues.get(ms);
    if (q === undefined) {
      q = new TimeoutQueue(this.clock, ms, (idle) => {
        if (this.#queues.get(ms) === idle) this.#queues.delete(ms);
      });
      this.#queues.set(ms, q);
    }
    return q;
  }
}
