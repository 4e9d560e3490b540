/**
 * Bounded mailboxes: a policy over the mailbox. It holds a capacity, an overflow policy and a FIFO
 * of senders waiting for room (`sendWait`), and it only decides: what to do with an arriving
 * message (`admit`), which waiting message goes in when there is room (`letOneIn`). The actor does
 * what it decides (queue, drop to dead letters, evict the oldest, refuse), so this file knows
 * nothing of actors. When the actor takes a message the first waiter's message moves in, so waiting
 * senders are served in arrival order and never overtaken by a waiter that came later.
 */
import Denque from 'denque';
import { TimeoutError } from '../errors.js';
import type { Clock, ClockTimer } from '../timers/clock.js';
import { EMPTY } from './mailbox.js';

/** What happens when a bounded mailbox is full and another message arrives. */
export type OverflowPolicy = 'drop-newest' | 'drop-oldest' | 'reject';

/**
 * A mailbox with room for at most `capacity` messages.
 * - `drop-newest`: the arriving message goes to dead letters; `send` returns `false`.
 * - `drop-oldest`: the oldest queued message goes to dead letters; the new one is queued.
 * - `reject`: the arriving message is refused (`send` returns `false`) and stays the sender's:
 *   it is not counted as a dead letter.
 * `sendWait` waits for room under every policy.
 */
export interface MailboxOptions {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
}

/** @internal What to do with an arriving message. */
export type Admission = 'queue' | 'drop_newest' | 'evict_oldest' | 'refuse';

interface Waiter {
  msg: unknown;
  resolve: (queued: boolean) => void;
  timer: ClockTimer;
  done: boolean;
}

const noop = (): void => {};

const POLICIES: readonly OverflowPolicy[] = ['drop-newest', 'drop-oldest', 'reject'];

const ADMISSION: Record<OverflowPolicy, Admission> = {
  'drop-newest': 'drop_newest',
  'drop-oldest': 'evict_oldest',
  reject: 'refuse',
};

/** @internal Validates `SpawnOptions.mailbox` with a teaching message. */
export function assertMailboxOptions(o: unknown, where: string): asserts o is MailboxOptions {
  const m = o as Partial<MailboxOptions> | null;
  if (m === null || typeof m !== 'object') {
    throw new TypeError(
      `${where}: mailbox must be { capacity: number, overflow: ${POLICIES.join(' | ')} }; got ${String(o)}`,
    );
  }
  if (typeof m.capacity !== 'number' || !Number.isInteger(m.capacity) || m.capacity < 1) {
    throw new RangeError(`${where}: mailbox.capacity must be an integer >= 1; got ${String(m.capacity)}`);
  }
  if (!POLICIES.includes(m.overflow as OverflowPolicy)) {
    throw new TypeError(`${where}: mailbox.overflow must be one of ${POLICIES.join(', ')}; got ${String(m.overflow)}`);
  }
}

/** @internal */
export class BoundedPolicy {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly #clock: Clock;
  #waiters: Denque<Waiter> | undefined = undefined;
  /** Waiters in `#waiters` that timed out: skipped, and swept out once they are most of it. */
  #lapsed = 0;

  constructor(options: MailboxOptions, clock: Clock) {
    this.capacity = options.capacity;
    this.overflow = options.overflow;
    this.#clock = clock;
  }

  /** A plain `send` to a mailbox holding `size` messages: queue it while there is room and no one waits. */
  admit(size: number): Admission {
    if (size < this.capacity && !this.#anyWaiting()) return 'queue';
    return ADMISSION[this.overflow];
  }

  /**
   * `sendWait` to a mailbox holding `size` messages: `undefined` when there is room now (queue it),
   * else a promise that resolves `true` once `letOneIn` hands the message over, or `false` if the
   * actor dies first; it rejects with a `TimeoutError` after `timeoutMs`.
   */
  wait(size: number, msg: unknown, timeoutMs: number | undefined): Promise<boolean> | undefined {
    if (size < this.capacity && !this.#anyWaiting()) return undefined;
    // Made out here: the closures below must not hold `msg` (a timed-out waiter lets it go).
    const w: Waiter = { msg, resolve: noop, timer: undefined, done: false };
    return new Promise((resolve, reject) => {
      w.resolve = resolve;
      if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY) {
        w.timer = this.#clock.setTimeout(() => {
          if (w.done) return;
          w.done = true;
          // Its message is not the actor's: let it go now, not when the queue next moves (a
          // sender that keeps retrying against a stuck actor must not pile its messages up here).
          w.msg = undefined;
          w.timer = undefined;
          this.#lapse();
          reject(new TimeoutError(timeoutMs, 'sendWait'));
        }, timeoutMs);
      }
      if (this.#waiters === undefined) this.#waiters = new Denque();
      this.#waiters.push(w);
    });
  }

  /** Room for one: the first live waiter's message, now the actor's to queue (or EMPTY). */
  letOneIn(): unknown {
    const w = this.#nextWaiter();
    if (w === undefined) return EMPTY;
    w.resolve(true);
    return w.msg;
  }

  /** The actor died: every waiter's promise resolves `false`; returns their messages, oldest first. */
  close(): unknown[] {
    const left: unknown[] = [];
    for (let w = this.#nextWaiter(); w !== undefined; w = this.#nextWaiter()) {
      left.push(w.msg);
      w.resolve(false);
    }
    this.#waiters = undefined;
    this.#lapsed = 0;
    return left;
  }

  #anyWaiting(): boolean {
    return this.#waiters !== undefined && this.#waiters.length > this.#lapsed;
  }

  /** A waiter timed out: once most of the queue has, the live ones are kept and the rest dropped. */
  #lapse(): void {
    this.#lapsed++;
    const ws = this.#waiters as Denque<Waiter>;
    if (this.#lapsed < 32 || this.#lapsed * 2 < ws.length) return;
    const live = ws.toArray().filter((w) => !w.done);
    this.#waiters = new Denque(live);
    this.#lapsed = 0;
  }

  /** Takes the first waiter that has not timed out, and stops its timer. */
  #nextWaiter(): Waiter | undefined {
    const ws = this.#waiters;
    while (ws !== undefined && !ws.isEmpty()) {
      const w = ws.shift() as Waiter;
      if (w.done) {
        this.#lapsed--;
        continue;
      }
      w.done = true;
      if (w.timer !== undefined) this.#clock.clearTimeout(w.timer);
      return w;
    }
    return undefined;
  }
}
