/**
 * Request/reply. `call` puts a one-shot `reply` function into the request, links the pending call
 * into the target's list of calls (so the target's death fails it at once with the exit reason) and
 * queues it for its timeout. Whichever comes first (reply, timeout, death) settles the promise; the
 * others become no-ops, so a late reply is dropped.
 *
 * Timeouts do not cost a timer per call. Calls with the same `timeoutMs` expire in the order they
 * were made, so each distinct `timeoutMs` has one FIFO of calls and one clock timer armed for the
 * oldest; answered calls leave the front of the queue as they settle. That timer keeps the process
 * alive exactly while calls of its queue wait: a script awaiting an unanswered call gets its
 * `TimeoutError` instead of exiting first (Node's exit code 13, an unsettled top-level await).
 *
 * A call to the actor whose turn is running (its own handler calling itself) is refused at once: its
 * request could only be taken after the handler returns, so awaiting it could only time out.
 */
import Denque from 'denque';
import {
  type CallDetails,
  CallingSelfError,
  describeName,
  ExitError,
  MailboxFullError,
  TimeoutError,
} from '../errors.js';
import type { Clock, ClockTimer } from '../timers/clock.js';
import type { Cell } from './cell.js';
import * as flags from './flags.js';
import type { Ref } from './ref.js';

// A local copy: a local constant costs V8 nothing to read, an imported binding a module-cell load (flags.ts).
const F_IN_TURN = flags.F_IN_TURN;

/** `PendingCall.name` of a target that held no name in the system registry when called. */
const NO_NAME: unique symbol = Symbol('no name');

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
  /** When the call was made (clock ms), while anyone listens to events; else -1. */
  started = -1;
  constructor(
    readonly cell: Cell,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: Error) => void,
    /** The target's name in the system registry when it was called, for the errors (its death drops it). */
    readonly name: unknown = NO_NAME,
  ) {}

  settle(value: unknown): void {
    if (this.done) return;
    this.finish();
    if (this.started >= 0) this.emit('replied');
    this.resolve(value);
  }

  /** Rejects the call; an `ExitError` (one per death, shared by its calls) is made into this call's own. */
  fail(error: Error): void {
    if (this.done) return;
    this.finish();
    if (this.started >= 0) {
      this.emit(error instanceof TimeoutError ? 'timeout' : error instanceof ExitError ? 'exited' : 'refused');
    }
    this.reject(error instanceof ExitError ? new ExitError(error.actor, error.reason, this.details()) : error);
  }

  /** The call's telemetry event: how long it took and how it ended. */
  private emit(outcome: 'replied' | 'timeout' | 'exited' | 'refused'): void {
    const runtime = this.cell.runtime;
    if (!runtime.observed) return;
    const type = (this.msg as { type?: unknown } | undefined)?.type;
    runtime.emit({
      type: 'call',
      ref: this.cell as never,
      requestType: typeof type === 'string' ? type : undefined,
      ms: runtime.clock.now() - this.started,
      outcome,
    });
  }

  /** What the errors of this call say about it. */
  details(): CallDetails {
    return callDetails(this.cell, this.msg, this.name);
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

/**
 * @internal The calls of one `timeoutMs`, oldest first, and one timer for the oldest. The timer keeps
 * the process alive while any of these calls waits, and only then: it is made to let go
 * (`setKeepAlive`, or cleared on a clock without it) when the last one settles, so an idle server or
 * a finished script is not held up to `timeoutMs` by calls that were answered long ago.
 */
export class TimeoutQueue {
  readonly #calls = new Denque<PendingCall>();
  #timer: ClockTimer = undefined;
  /** Calls of this queue not settled yet. */
  #waiting = 0;

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
    const timer = this.#timer;
    if (timer === undefined) this.#arm(c.deadline);
    else if (this.#waiting === 0) this.clock.setKeepAlive?.(timer, true);
    this.#waiting++;
  }

  /**
   * A call settled: drop answered calls from the front. The timer stays armed (the next call needs
   * it, and it finds nothing to do when it fires), but lets the process go once nothing waits.
   */
  settled(): void {
    const q = this.#calls;
    while (q.length > 0 && (q.peekFront() as PendingCall).done) q.shift();
    if (--this.#waiting === 0) this.#release();
  }

  #release(): void {
    const timer = this.#timer;
    // Undefined while the timer's own callback runs: it re-arms or goes idle itself.
    if (timer === undefined) return;
    const clock = this.clock;
    if (clock.setKeepAlive !== undefined) {
      clock.setKeepAlive(timer, false);
      return;
    }
    // A clock that cannot unref a timer: clear it, and the next call arms a new one.
    clock.clearTimeout(timer);
    this.#timer = undefined;
    this.#calls.clear();
    this.onIdle(this);
  }

  #arm(deadline: number): void {
    // Not unref'd: a call that waits keeps the process alive until it settles, by its timeout at the latest.
    this.#timer = this.clock.setTimeout(this.#fire, Math.max(0, deadline - this.clock.now()));
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
      c.fail(new TimeoutError(this.ms, 'call', c.details()));
    }
    if (q.length > 0) this.#arm((q.peekFront() as PendingCall).deadline);
    else this.onIdle(this);
  };
}

/** A call refused before it was queued is a `call` event too, of no duration. */
function emitRejected(cell: Cell, request: object, outcome: 'exited' | 'refused'): void {
  const runtime = cell.runtime;
  if (!runtime.observed) return;
  const type = (request as { type?: unknown }).type;
  runtime.emit({
    type: 'call',
    ref: cell as never,
    requestType: typeof type === 'string' ? type : undefined,
    ms: 0,
    outcome,
  });
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
  if ((cell.flags & F_IN_TURN) !== 0) {
    // Only the actor itself runs while its turn does (turns never nest), so this is a call to itself.
    emitRejected(cell, request, 'refused');
    return Promise.reject(new CallingSelfError(callDetails(cell, request, nameOf(cell))));
  }
  const exitReason = cell.exitReason;
  if (exitReason !== undefined) {
    emitRejected(cell, request, 'exited');
    return Promise.reject(new ExitError(cell.toString(), exitReason, callDetails(cell, request, NO_NAME)));
  }
  return new Promise((resolve, reject) => {
    const pending = new PendingCall(cell, resolve, reject, nameOf(cell));
    if (cell.runtime.observed) pending.started = cell.runtime.clock.now();
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

/**
 * The target's first name in the system registry, or `NO_NAME`. Read when the call is made, since a
 * death drops the names before the calls fail; an actor that holds no entry anywhere costs one test.
 */
function nameOf(cell: Cell): unknown {
  if (cell.registrations === undefined) return NO_NAME;
  const names = cell.runtime.system.registry.keysOf(cell as Ref<never>);
  return names.length === 0 ? NO_NAME : names[0];
}

function callDetails(cell: Cell, request: unknown, name: unknown): CallDetails {
  const actor = cell.toString();
  return {
    actor,
    target: name === NO_NAME ? actor : describeName(name),
    requestType: (request as { readonly type?: unknown }).type,
  };
}
