/**
 * Bounded mailboxes: a capacity, an overflow policy, and a FIFO of senders waiting for room
 * (`sendWait`). When the actor takes a message, the first waiter's message moves in, so waiting
 * senders are served in arrival order and never overtaken by a waiter that came later.
 */
import Denque from 'denque';
import type { Cell } from '../actor/cell.js';
import type { MailboxOptions, OverflowPolicy } from '../actor/context.js';
import { DownInfo, ExitInfo, RuntimeNotice } from '../actor/messages.js';
import { MailboxFullError, TimeoutError } from '../errors.js';
import type { ClockTimer } from '../timers/clock.js';

interface Waiter {
  msg: unknown;
  resolve: (queued: boolean) => void;
  reject: (e: Error) => void;
  timer: ClockTimer;
  done: boolean;
}

const POLICIES: readonly OverflowPolicy[] = ['drop-newest', 'drop-oldest', 'reject'];

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
export class Bounded {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  waiters: Denque<Waiter> | undefined;

  constructor(options: MailboxOptions) {
    this.capacity = options.capacity;
    this.overflow = options.overflow;
  }

  /** A plain `send`. */
  offer(cell: Cell, msg: unknown): boolean {
    const size = cell.mailboxSize();
    if (size < this.capacity && (this.waiters === undefined || this.waiters.isEmpty())) {
      cell.push(msg);
      return true;
    }
    switch (this.overflow) {
      case 'drop-newest':
        cell.system.deadLetter(cell.ref, msg, 'mailbox_full');
        return false;
      case 'reject':
        return false;
      case 'drop-oldest': {
        this.evictOldest(cell);
        cell.push(msg);
        return true;
      }
    }
  }

  /**
   * Drops the oldest ordinary message (never a runtime EXIT/DOWN message, which only passes the
   * bound). A dropped request fails its `call` at once.
   */
  private evictOldest(cell: Cell): void {
    const mb = cell.materialize();
    if (mb === undefined) return;
    for (let i = 0; i < mb.length; i++) {
      const m = mb.peekAt(i);
      if (m instanceof ExitInfo || m instanceof DownInfo || m instanceof RuntimeNotice) continue;
      mb.removeOne(i);
      cell.system.deadLetter(cell.ref, m, 'mailbox_full');
      const calls = cell.ext?.calls;
      if (calls !== undefined) {
        for (const c of calls.toArray()) if (c.msg === m) c.fail(new MailboxFullError(cell.describe()));
      }
      return;
    }
  }

  /** `sendWait`: queue now if there is room, else wait in line. */
  offerWait(cell: Cell, msg: unknown, timeoutMs: number | undefined): Promise<boolean> {
    const size = cell.mailboxSize();
    if (size < this.capacity && (this.waiters === undefined || this.waiters.isEmpty())) {
      cell.push(msg);
      return Promise.resolve(true);
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { msg, resolve, reject, timer: undefined, done: false };
      if (timeoutMs !== undefined && timeoutMs !== Number.POSITIVE_INFINITY) {
        w.timer = cell.system.clock.setTimeout(() => {
          if (w.done) return;
          w.done = true;
          reject(new TimeoutError(timeoutMs, 'sendWait'));
        }, timeoutMs);
      }
      if (this.waiters === undefined) this.waiters = new Denque();
      this.waiters.push(w);
    });
  }

  /** The actor took a message: let the first live waiter in. */
  taken(cell: Cell): void {
    const w = this.#nextWaiter(cell);
    if (w === undefined) return;
    cell.push(w.msg);
    w.resolve(true);
  }

  /** The mailbox was emptied (a restart that drops it): let waiters in up to capacity. */
  refill(cell: Cell): void {
    while (cell.mailboxSize() < this.capacity) {
      const w = this.#nextWaiter(cell);
      if (w === undefined) return;
      cell.push(w.msg);
      w.resolve(true);
    }
  }

  /** The actor died: every waiter's message goes to dead letters and its promise resolves `false`. */
  close(cell: Cell): void {
    for (let w = this.#nextWaiter(cell); w !== undefined; w = this.#nextWaiter(cell)) {
      cell.system.deadLetter(cell.ref, w.msg, 'dead');
      w.resolve(false);
    }
    this.waiters = undefined;
  }

  /** Takes the first waiter that has not timed out, and stops its timer. */
  #nextWaiter(cell: Cell): Waiter | undefined {
    const ws = this.waiters;
    while (ws !== undefined && !ws.isEmpty()) {
      const w = ws.shift() as Waiter;
      if (w.done) continue;
      w.done = true;
      if (w.timer !== undefined) cell.system.clock.clearTimeout(w.timer);
      return w;
    }
    return undefined;
  }
}
