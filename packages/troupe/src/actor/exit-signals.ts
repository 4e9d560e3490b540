/**
 * Exit signals, by OTP's rules. A signal from a link or from `exit(ref, reason)` kills the receiver
 * unless it traps exits (then it becomes an `EXIT` message in its mailbox) or the reason is
 * `normal` (then it is ignored). Signals are queued on the receiver and handled at its next message
 * boundary, ahead of its mail. A *stop* (`ctx.stop`, `system.stop`) is a signal too, with one
 * difference: it waits for a running async handler to finish, where an exit signal does not.
 */
import type { ExitReason } from '../exit-reason.js';
import type { Cell } from './cell.js';
import * as flags from './flags.js';
import { exitWith } from './lifecycle.js';
import { ExitInfo } from './messages.js';
import type { Ref } from './ref.js';

// Local copies: a local constant costs V8 nothing to read, an imported binding a module-cell load (flags.ts).
const F_AWAIT = flags.F_AWAIT;
const F_IN_TURN = flags.F_IN_TURN;
const F_SCHEDULED = flags.F_SCHEDULED;
const F_SIGNALS = flags.F_SIGNALS;
const F_STOPSELF = flags.F_STOPSELF;
const F_TRAP = flags.F_TRAP;
const NO_TURNS = flags.NO_TURNS;
const P_DEAD = flags.P_DEAD;
const P_RESTARTING = flags.P_RESTARTING;
const PHASE = flags.PHASE;

/** A queued signal. A `stop` waits for a running async handler; an `exit` does not. */
export interface Signal {
  readonly reason: ExitReason;
  readonly kind: 'stop' | 'exit';
}

/** Neither dead nor between incarnations: signals to such an actor are dropped. */
function receives(cell: Cell): boolean {
  const phase = cell.flags & PHASE;
  return phase !== P_DEAD && phase !== P_RESTARTING;
}

/** Receives an exit signal from `from` (a link, or `exit/2`), by OTP's rules. */
export function exitSignal(cell: Cell, from: Ref<never> | Cell, reason: ExitReason): void {
  if (!receives(cell)) return;
  if ((cell.flags & F_TRAP) !== 0) cell.deliverInfo(new ExitInfo(from as Ref<never>, reason));
  else if (reason !== 'normal') queueSignal(cell, reason, 'exit');
}

/** Queues a stop or an exit signal; handled at the next message boundary. */
export function queueSignal(cell: Cell, reason: ExitReason, kind: Signal['kind']): void {
  if (!receives(cell)) return;
  const ext = cell.ensureExt();
  if (ext.signals === undefined) ext.signals = [{ reason, kind }];
  else ext.signals.push({ reason, kind });
  cell.flags |= F_SIGNALS;
  // A cell waiting on an async handler is scheduled anyway: exit signals do not wait for it.
  const f = cell.flags;
  if ((f & (F_SCHEDULED | F_IN_TURN | NO_TURNS)) === 0) {
    cell.flags = f | F_SCHEDULED;
    cell.runtime.scheduler.push(cell);
  }
}

/** Handles the queued signals, oldest first, at a message boundary. */
export function processSignals(cell: Cell): void {
  // While an async handler runs, stops wait for it; exit signals behind them do not.
  const waiting = (cell.flags & F_AWAIT) !== 0;
  if ((cell.flags & F_STOPSELF) !== 0 && !waiting) {
    // The common ctx.stop(): stop after this message, like a queued stop.
    cell.flags &= ~F_STOPSELF;
    if (cell.ext?.signals === undefined) cell.flags &= ~F_SIGNALS;
    exitWith(cell, 'normal');
    if ((cell.flags & NO_TURNS) !== 0) {
      if (cell.ext !== undefined) cell.ext.signals = undefined;
      cell.flags &= ~F_SIGNALS;
      return;
    }
    if ((cell.flags & F_SIGNALS) === 0) return;
  }
  const sigs = cell.ext?.signals;
  if (sigs === undefined) return;
  let kept: Signal[] | undefined;
  while (sigs.length > 0) {
    const s = sigs.shift() as Signal;
    if (s.kind === 'stop' && waiting) {
      if (kept === undefined) kept = [s];
      else kept.push(s);
      continue;
    }
    exitWith(cell, s.reason);
    if ((cell.flags & NO_TURNS) !== 0) {
      kept = undefined;
      break;
    }
  }
  if (cell.ext !== undefined) cell.ext.signals = kept;
  if (kept === undefined && (cell.flags & F_STOPSELF) === 0) cell.flags &= ~F_SIGNALS;
}
