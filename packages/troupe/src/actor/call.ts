/**
 * Request/reply. `call` puts a one-shot `reply` function into the request, links the pending call
 * into the target's list of calls (so the target's death fails it at once with the exit reason) and
 * queues it for its timeout. Whichever comes first (reply, timeout, death) settles the promise; the
 * others become no-ops, so a late reply is dropped.
 *
 * Timeouts do not cost a timer per call. Calls with the same `timeoutMs` expire in the order they
 * were made, so each distinct `timeoutMs` has one FIFO of calls and one clock timer armed for the
 * oldest; answered calls leave the front of the queue as they settle.
 */
import Denque from 'denque';
import { ExitError, MailboxFullError, TimeoutError } from '../errors.js';
import type { Clock, ClockTimer } from '../timers/clock.js';
import type { Cell } from './cell.js';

/** The default `timeoutMs` of `call`: 5,000 ms, as gen_server. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** @internal */
export class PendingCall {
  done = false;
  /** The request as queued, to tell whether it was taken when the actor restarts. */
  msg: unknown = undefined;
  deadline = 0;
  prev: PendingCall | undefined = undefined;
  next: PendingCall | undefined = undefined;
  queue: TimeoutQueue | undefined = undefined;
  constructor(
    readonly cell: Cell,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
  ) {}

  settle(value: unknown): void {
    if (this.done) return;
    this.finish();
    this.resolve(value);
  }

  fail(error: Error): void {
    if (this.done) return;
    this.finish();
    this.reject(error);
  }

  private finish(): void {
    this.done = true;
    this.cell.ext?.calls?.remove(this);
    this.queue?.settled();
  }
}

/** @internal The calls waiting on one actor: an intrusive list, O(1) to add and remove. */
export class CallList {
  head: PendingCall | undefined = undefined;
  size = 0;

  add(c: PendingCall): void {
    c.next = this.head;
    if (this.head !== undefined) this.head.prev = c;
    this.head = c;
    this.size++;
  }

  remove(c: PendingCall): void {
    if (c.prev === undefined && this.head !== c) return;
    if (c.prev !== undefined) c.prev.next = c.next;
    else this.head = c.next;
    if (c.next !== undefined) c.next.prev = c.prev;
    c.prev = c.next = undefined;
    this.size--;
  }

  /** Fails every call for which `which` is true with `error` (safe while calls settle). */
  failWhere(which: (c: PendingCall) => boolean, error: Error): void {
    const chosen: PendingCall[] = [];
    for (let c = this.head; c !== undefined; c = c.next) if (which(c)) chosen.push(c);
    for (const c of chosen) c.fail(error);
  }
}

/** @internal The calls of one `timeoutMs`, oldest first, and one timer for the oldest. */
export class TimeoutQueue {
  readonly #calls = new Denque<PendingCall>();
  #timer: ClockTimer = undefined;

  constructor(
    readonly clock: Clock,
    readonly ms: number,
    /** Called when the queue has emptied and its timer is gone, so its owner can forget it. */
    readonly onIdle: (q: TimeoutQueue) => void,
  ) {}

  add(c: PendingCall): void {
    c.deadline = this.clock.now() + this.ms;
    c.queue = this;
    this.#calls.push(c);
    if (this.#timer === undefined) this.#arm(c.deadline);
  }

  /** A call settled: drop answered calls from the front. The timer stays; it finds nothing to do. */
  settled(): void {
    const q = this.#calls;
    while (q.length > 0 && (q.peekFront() as PendingCall).done) q.shift();
  }

  #arm(deadline: number): void {
    // Unref'd: a pending call alone does not keep the process alive (nothing could answer it).
    this.#timer = this.clock.setTimeout(this.#fire, Math.max(0, deadline - this.clock.now()), true);
  }

  #fire = (): void => {
    this.#timer = undefined;
    const q = this.#calls;
    const now = this.clock.now();
    while (q.length > 0) {
      const c = q.peekFront() as PendingCall;
      if (c.done) {
        q.shift();
        continue;
      }
      if (c.deadline > now) break;
      q.shift();
      c.fail(new TimeoutError(this.ms));
    }
    if (q.length > 0) this.#arm((q.peekFront() as PendingCall).deadline);
    else this.onIdle(this);
  };
}

/** @internal */
export function callCell(cell: Cell, request: unknown, timeoutMs: number | undefined): Promise<unknown> {
  if (request === null || typeof request !== 'object') {
    return Promise.reject(
      new TypeError(`call(request): the request must be an object such as { type: 'get' }; got ${String(request)}`),
    );
  }
  const ms = timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    return Promise.reject(new RangeError(`call: timeoutMs must be a number >= 0 or Infinity; got ${String(ms)}`));
  }
  const exitReason = cell.exitReason;
  if (exitReason !== undefined) return Promise.reject(new ExitError(cell.toString(), exitReason));
  return new Promise((resolve, reject) => {
    const pending = new PendingCall(cell, resolve, reject);
    const ext = cell.ensureExt();
    if (ext.calls === undefined) ext.calls = new CallList();
    ext.calls.add(pending);
    if (ms !== Number.POSITIVE_INFINITY) cell.runtime.callTimeouts(ms).add(pending);
    const msg = { ...request, reply: (value: unknown) => pending.settle(value) };
    pending.msg = msg;
    if (!cell.send(msg)) {
      pending.fail(cell.alive ? new MailboxFullError(cell.toString()) : new ExitError(cell.toString(), 'noproc'));
    }
  });
}
