/**
 * The receive timeout (GenServer's `timeout`, Akka's `setReceiveTimeout`): after `ms` without a
 * message, the actor is sent `msg`, and again after every further idle `ms`, until it is cancelled.
 * Every message taken counts as activity, and so does the time an async handler runs (the idle
 * period starts when it settles). The timer is armed once and, when it fires early because
 * mail came meanwhile, armed again for the rest of the period, so a busy actor pays one clock read
 * per message, not a timer. It belongs to the incarnation: a restart drops it (set it again in
 * `init`).
 */
import { type Timer, Timer as TimerClass } from '../timers/timer.js';
import type { Cell } from './cell.js';
import * as flags from './flags.js';

const F_IDLE_TIMEOUT = flags.F_IDLE_TIMEOUT;
const F_AWAIT = flags.F_AWAIT;

/** @internal An actor's receive timeout. */
export interface ReceiveTimeout {
  readonly ms: number;
  readonly msg: unknown;
  /** When the actor last took a message (clock ms). */
  last: number;
  timer: Timer;
}

/** @internal Sets (or replaces) the receive timeout. */
export function setReceiveTimeout(cell: Cell, ms: number, msg: unknown): void {
  cancelReceiveTimeout(cell);
  // A dead actor's timers are gone for good (an async handler that outlived it sets none).
  if ((cell.flags & flags.P_DEAD) !== 0) return;
  const ext = cell.ensureExt();
  const clock = cell.runtime.clock;
  const rt: ReceiveTimeout = { ms, msg, last: clock.now(), timer: undefined as unknown as Timer };
  rt.timer = arm(cell, rt, ms);
  ext.receiveTimeout = rt;
  cell.flags |= F_IDLE_TIMEOUT;
}

/** @internal Cancels the receive timeout; false if there was none. */
export function cancelReceiveTimeout(cell: Cell): boolean {
  const rt = cell.ext?.receiveTimeout;
  if (rt === undefined) return false;
  rt.timer.cancel();
  (cell.ext as NonNullable<Cell['ext']>).receiveTimeout = undefined;
  cell.flags &= ~F_IDLE_TIMEOUT;
  return true;
}

/** @internal The actor took a message, or its async handler settled: it is not idle. */
export function tookMessage(cell: Cell): void {
  const rt = cell.ext?.receiveTimeout;
  if (rt !== undefined) rt.last = cell.runtime.clock.now();
}

function arm(cell: Cell, rt: ReceiveTimeout, ms: number): Timer {
  const timer = new TimerClass(
    cell.runtime.clock,
    ms,
    () => {
      if (cell.ext?.receiveTimeout !== rt) return;
      // Inside an async handler (or init) that has not settled: busy, not idle. Its end starts the
      // idle period (`tookMessage`), as a GenServer's timeout starts when its callback returns.
      if ((cell.flags & F_AWAIT) !== 0) {
        rt.timer = arm(cell, rt, rt.ms);
        return;
      }
      const idle = cell.runtime.clock.now() - rt.last;
      if (idle >= rt.ms) {
        // Idle for a whole period: the message goes out, and the next period starts from it.
        rt.last = cell.runtime.clock.now();
        rt.timer = arm(cell, rt, rt.ms);
        cell.send(rt.msg);
      } else {
        rt.timer = arm(cell, rt, rt.ms - idle);
      }
    },
    undefined,
    cell,
  );
  const ext = cell.ensureExt();
  if (ext.timers === undefined) ext.timers = new Set();
  ext.timers.add(timer);
  return timer;
}
