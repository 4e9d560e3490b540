/**
 * Request/reply. `call` puts a one-shot `reply` function into the request, registers the pending
 * call on the target (so the target's death fails it at once with the exit reason) and arms a
 * timeout on the system clock. Whichever comes first (reply, timeout, death) settles the promise;
 * the others become no-ops, so a late reply is dropped.
 */
import { ExitError, MailboxFullError, TimeoutError } from '../errors.js';
import type { ClockTimer } from '../timers/clock.js';
import type { Cell } from './cell.js';

/** The default `timeoutMs` of `call`: 5,000 ms, as gen_server. */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** @internal */
export class PendingCall {
  done = false;
  timer: ClockTimer = undefined;
  /** The request as queued, to tell whether it was taken when the actor restarts. */
  msg: unknown = undefined;
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
    if (this.timer !== undefined) this.cell.system.clock.clearTimeout(this.timer);
    this.cell.ext?.calls?.delete(this);
  }
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
  if (exitReason !== undefined) return Promise.reject(new ExitError(cell.describe(), exitReason));
  return new Promise((resolve, reject) => {
    const pending = new PendingCall(cell, resolve, reject);
    const ext = cell.x();
    if (ext.calls === undefined) ext.calls = new Set();
    ext.calls.add(pending);
    if (ms !== Number.POSITIVE_INFINITY) {
      pending.timer = cell.system.clock.setTimeout(() => pending.fail(new TimeoutError(ms)), ms);
    }
    const msg = { ...request, reply: (value: unknown) => pending.settle(value) };
    pending.msg = msg;
    if (!cell.enqueue(msg)) {
      pending.fail(cell.isAlive() ? new MailboxFullError(cell.describe()) : new ExitError(cell.describe(), 'noproc'));
    }
  });
}
