/**
 * Keyed timers, as Akka's `TimerScheduler` and `:gen_statem`'s named timeouts: a timer started with
 * a key replaces the one that key had, and a timer that is replaced or cancelled never delivers,
 * not even when its message is already in the mailbox (the message carries the timer's number, and
 * a stale one is dropped when it is taken). They belong to the incarnation: a restart cancels them.
 */
import { SystemMessage } from '../mailbox/mailbox.js';
import { Timer } from '../timers/timer.js';
import type { Cell } from './cell.js';
import { P_DEAD } from './flags.js';

/** @internal One keyed timer. */
export interface KeyedTimer {
  readonly timer: Timer;
  /** Which start this is: a fired message with another number is stale. */
  readonly n: number;
  /** A one-shot that fired: its message is on its way, and the timer is no longer active. */
  fired: boolean;
}

/** @internal A keyed timer's message, on its way through the mailbox. */
export class TimerFired extends SystemMessage {
  constructor(
    readonly key: unknown,
    readonly n: number,
    readonly msg: unknown,
  ) {
    super();
  }
}

let starts = 0;

/** @internal Starts (or restarts) the timer `key`: `msg` after `ms`, and every `everyMs` after that if given. */
export function startTimer(cell: Cell, key: unknown, msg: unknown, ms: number, everyMs: number | undefined): void {
  cancelTimer(cell, key);
  // A dead actor's timers are gone for good (an async handler that outlived it starts none).
  if ((cell.flags & P_DEAD) !== 0) return;
  const ext = cell.ensureExt();
  const n = ++starts;
  const entry: KeyedTimer = {
    timer: new Timer(
      cell.runtime.clock,
      ms,
      () => {
        if (everyMs === undefined) entry.fired = true;
        cell.deliverInfo(new TimerFired(key, n, msg));
      },
      everyMs,
      cell,
    ),
    n,
    fired: false,
  };
  if (ext.keyedTimers === undefined) ext.keyedTimers = new Map();
  ext.keyedTimers.set(key, entry);
  if (ext.timers === undefined) ext.timers = new Set();
  ext.timers.add(entry.timer);
}

/** @internal Cancels the timer `key`, and any of its messages already queued; false if it was not active. */
export function cancelTimer(cell: Cell, key: unknown): boolean {
  const t = cell.ext?.keyedTimers?.get(key);
  if (t === undefined) return false;
  cell.ext?.keyedTimers?.delete(key);
  t.timer.cancel();
  // A one-shot that fired and whose message waits in the mailbox was active too: this stops it.
  return true;
}

/**
 * @internal Whether the timer `key` will still deliver: until a one-shot's message is taken (it is
 * in the mailbox once it fired), or an interval is cancelled.
 */
export function isTimerActive(cell: Cell, key: unknown): boolean {
  return cell.ext?.keyedTimers?.get(key) !== undefined;
}

/** @internal Whether a fired timer's message is still current (its key was not restarted or cancelled since). */
export function takeFired(cell: Cell, fired: TimerFired): boolean {
  const timers = cell.ext?.keyedTimers;
  const t = timers?.get(fired.key);
  if (t === undefined || t.n !== fired.n) return false;
  if (t.fired) timers?.delete(fired.key);
  return true;
}
