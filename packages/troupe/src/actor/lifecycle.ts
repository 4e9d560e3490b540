/**
 * An actor's lifecycle as one state machine: its phases, the moves between them, restart in place
 * and death. Every exit, whatever its cause (a crash, a stop, an exit signal, a kill, a failed
 * init), ends the current *incarnation* here, and what follows depends on whether a supervisor
 * owns the actor:
 *
 *     spawn ─► starting ──init done──► running ──stop/crash/signal──► stopping (terminate runs)
 *                 │                       │                               │
 *            init failed            no terminate, kill               terminate done
 *                 └───────────────────────┴───────────► end ◄─────────────┘
 *                                                         │
 *            unsupervised, or the hook says 'die' ──► dead (for good: links, monitors, calls told)
 *            supervised ──► restarting: ref and mail kept ──revive──► starting (or running)
 *                                                       └──retire──► dead
 *
 * The phase is stored in the cell's flags word (`flags.ts`) and read as a name by `phaseOf`.
 * A supervised actor has a *hook* (its supervisor's record of it): `whenEnded` says what an end
 * leads to. Each end bumps the hook's incarnation number, and every late continuation of an async
 * init, handler or terminate checks it (`incarnationOf`), so an ended incarnation cannot act on the
 * next one.
 */
import { ExitError, InitError, toError } from '../errors.js';
import type { ExitReason } from '../exit-reason.js';
import { append, EMPTY, type Mailbox, mailboxSize, SystemMessage, takeAll, toQueue } from '../mailbox/mailbox.js';
import type { Cell, Ext } from './cell.js';
import type { Context } from './context.js';
import * as flags from './flags.js';
import { IncarnationContext } from './incarnation.js';
import { breakLinks } from './links.js';
import { dropWatching, fireMonitors } from './monitors.js';
import { dropRegistrations, type Registration } from './names.js';
import { prepend, takeStash } from './stash.js';
import { UpgradeNotice } from './upgrade.js';

// Local copies: a local constant costs V8 nothing to read, an imported binding a module-cell load (flags.ts).
const F_AWAIT = flags.F_AWAIT;
const F_INFO = flags.F_INFO;
const F_SIGNALS = flags.F_SIGNALS;
const F_STOPSELF = flags.F_STOPSELF;
const F_TRAP = flags.F_TRAP;
const F_IDLE_TIMEOUT = flags.F_IDLE_TIMEOUT;
const F_IN_TURN = flags.F_IN_TURN;
const NO_TURNS = flags.NO_TURNS;
const P_DEAD = flags.P_DEAD;
const P_RESTARTING = flags.P_RESTARTING;
const P_RUNNING = flags.P_RUNNING;
const P_STARTING = flags.P_STARTING;
const P_STOPPING = flags.P_STOPPING;
const PHASE = flags.PHASE;

/** A lifecycle phase, as a name. */
export type Phase = 'starting' | 'running' | 'stopping' | 'restarting' | 'dead';

const PHASES: readonly Phase[] = ['running', 'starting', 'stopping', 'restarting', 'dead'];

/** The cell's phase. */
export function phaseOf(cell: Cell): Phase {
  return PHASES[cell.flags & PHASE] as Phase;
}

/**
 * @internal What a supervisor attaches to a child's cell. At the end of an incarnation the cell
 * goes to `restarting` (mail kept, ref valid) and, when `whenEnded` is `'notify'`, `ended` tells
 * the supervisor, which later calls `revive` or `retire`. With `'hold'` (the supervisor is stopping
 * it to restart it with others) it goes to `restarting` without telling; with `'die'` it dies for
 * good. `halted` fires after every end.
 */
export interface SupervisedHook {
  whenEnded: 'notify' | 'hold' | 'die';
  /** Queued messages survive a restart (default); false drops them to dead letters as OTP does. */
  readonly keepMailbox: boolean;
  /** Start the next incarnation with exits trapped. */
  readonly trapsExits: boolean;
  /** The message being handled when the incarnation crashed, and the state it was handled on. */
  poison: { msg: unknown; state: unknown } | undefined;
  /**
   * The last handled messages, a ring; undefined when not recorded. Its last slot is the index the
   * next message goes to (one array per child, no second field).
   */
  readonly recent: unknown[] | undefined;
  /** What every incarnation's `init` gets (kept here, not in the cell, for the restarts). */
  readonly args: unknown;
  /** The running incarnation's number; bumped when it ends. */
  incarnation: number;
  ended(cell: Cell, reason: ExitReason, poison: { msg: unknown; state: unknown } | undefined): void;
  /** The actor is dead, for good (no incarnation follows): called once, as its monitors fire. */
  died?(cell: Cell, reason: ExitReason): void;
  halted: (() => void) | undefined;
  /** For introspection: the child's id, restart count and the clock time its incarnation started. */
  readonly childId: string;
  readonly restarts: number;
  readonly startedAt: number;
  readonly supervisor: Cell;
  /** The context handed to this incarnation's handlers. */
  ctx: Context<unknown> | undefined;
  /** The cell's registry entries (`Cell.registrations`): kept here, a supervised cell needs no `Ext` for them. */
  registrations: Registration | undefined;
  /** The cell's label (the child spec's), for logs and introspection. */
  readonly label: string | undefined;
}

/** The current incarnation's number (0 for an unsupervised actor), or -1 once dead. */
export function incarnationOf(cell: Cell): number {
  return (cell.flags & P_DEAD) !== 0 ? -1 : (cell.hook?.incarnation ?? 0);
}

function enter(cell: Cell, phase: number, clear = 0): void {
  cell.flags = (cell.flags & ~(PHASE | clear)) | phase;
}

// ---- starting ------------------------------------------------------------------------------------

/** `init` finished: starting -> running, and whoever waits for the start hears of it. */
export function initSucceeded(cell: Cell): void {
  enter(cell, P_RUNNING);
  const waiters = cell.ext?.initWaiters;
  if (waiters !== undefined) {
    (cell.ext as Ext).initWaiters = undefined;
    for (const w of waiters) w.resolve();
  }
}

/** `init` threw or rejected: the incarnation ends with the error (no terminate runs). */
export function initFailed(cell: Cell, thrown: unknown): void {
  const error = toError(thrown);
  const waiters = cell.ext?.initWaiters;
  if (waiters !== undefined) {
    (cell.ext as Ext).initWaiters = undefined;
    const e = new InitError(cell.toString(), thrown);
    for (const w of waiters) w.reject(e);
  } else if (cell.hook === undefined) {
    cell.reportCrash(error, undefined, 'init');
  }
  end(cell, error);
}

/** Resolves once the actor has started (at once unless it is starting); rejects if it died instead. */
export function whenStarted(cell: Cell): Promise<void> {
  const phase = cell.flags & PHASE;
  if (phase !== P_STARTING) {
    if (phase === P_DEAD) return Promise.reject(new InitError(cell.toString(), cell.state));
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const ext = cell.ensureExt();
    if (ext.initWaiters === undefined) ext.initWaiters = [];
    ext.initWaiters.push({ resolve, reject });
  });
}

// ---- ending an incarnation -----------------------------------------------------------------------

/** A handler threw or rejected: the actor exits with the error. */
export function crashed(cell: Cell, thrown: unknown, msg: unknown): void {
  const error = toError(thrown);
  const hook = cell.hook;
  const runtime = cell.runtime;
  if (runtime.observed) runtime.emit({ type: 'crashed', ref: cell as never, phase: 'receive', reason: error });
  // A supervised actor's crash is reported by its supervisor, with the restart decision.
  if (hook !== undefined) hook.poison = { msg, state: cell.state };
  else cell.reportCrash(error, msg, 'receive');
  exitWith(cell, error);
}

/** Exits with `reason`: running -> stopping while `terminate` runs (if it has one), then the end. */
export function exitWith(cell: Cell, reason: ExitReason): void {
  const phase = cell.flags & PHASE;
  if ((phase & NO_TURNS) !== 0) return;
  // After a failed or unfinished init there is no state for terminate to clean up.
  if (!cell.impl.hasTerminate || phase === P_STARTING) {
    end(cell, reason);
    return;
  }
  enter(cell, P_STOPPING);
  let pending: PromiseLike<unknown> | undefined;
  // Its terminate is its own turn, wherever it is called from (an async handler's rejection runs
  // it outside any turn): a call to itself from it is refused at once (CallingSelfError), not
  // left to wait for an answer that cannot come.
  const inTurn = cell.flags & F_IN_TURN;
  cell.flags |= F_IN_TURN;
  try {
    pending = cell.impl.terminate(cell, reason, cell.hook?.ctx ?? cell);
  } catch (e) {
    cell.reportCrash(e, undefined, 'terminate');
  } finally {
    if (inTurn === 0) cell.flags &= ~F_IN_TURN;
  }
  if (pending === undefined) {
    end(cell, reason);
    return;
  }
  const incarnation = incarnationOf(cell);
  const stillStopping = () => (cell.flags & PHASE) === P_STOPPING && incarnationOf(cell) === incarnation;
  pending.then(
    () => {
      if (stillStopping()) end(cell, reason);
    },
    (e: unknown) => {
      if (!stillStopping()) return;
      cell.reportCrash(e, undefined, 'terminate');
      end(cell, reason);
    },
  );
}

/** Untrappable and immediate: no terminate; links and monitors see `killed`. */
export function kill(cell: Cell): void {
  const phase = cell.flags & PHASE;
  if (phase !== P_DEAD && phase !== P_RESTARTING) end(cell, 'killed');
}

/** The incarnation is over: die, or (supervised) wait in `restarting` for the supervisor. */
function end(cell: Cell, reason: ExitReason): void {
  const hook = cell.hook;
  if (hook === undefined || hook.whenEnded === 'die') {
    die(cell, reason);
    hook?.halted?.();
    return;
  }
  rest(cell, reason, hook);
}

/**
 * -> restarting. The ref stays valid and links stay; the incarnation's timers and monitors are
 * dropped, the poison message goes to dead letters, calls that can no longer be answered fail, and
 * the mail waits for `revive` (or is dropped when the child does not keep its mailbox).
 */
function rest(cell: Cell, reason: ExitReason, hook: SupervisedHook): void {
  enter(cell, P_RESTARTING, F_AWAIT | F_SIGNALS | F_STOPSELF | F_TRAP);
  cell.state = undefined;
  hook.incarnation++;
  // Made here if the cell had none: a crash is rare, so the cell's rare parts wait for it.
  const ext = cell.ensureExt();
  ext.signals = undefined;
  cancelTimers(ext);
  endTimersOfIncarnation(cell, ext);
  dropWatching(cell);
  const runtime = cell.runtime;
  // Stashed mail is older than what is queued: it goes back first (and is dropped below if the
  // child does not keep its mailbox).
  const stashed = takeStash(cell);
  if (stashed !== undefined) prepend(cell, stashed);
  const mb = toQueue(cell);
  if (!hook.keepMailbox && mb !== undefined) {
    while (mb.length > 0) {
      const m = mb.shift();
      if (m instanceof UpgradeNotice) {
        // The next incarnation starts on the new code (its init runs, so nothing to migrate).
        cell.impl = m.req.impl;
        m.req.done({ ok: true });
      } else if (!(m instanceof SystemMessage)) {
        runtime.deadLetter(cell, m, 'dropped');
      }
    }
    ext.infoCount = 0;
    cell.flags &= ~F_INFO;
    // The mailbox is empty: senders waiting for room get it now.
    if (ext.bounded !== undefined) refill(cell, ext.bounded);
  }
  const poison = hook.poison;
  hook.poison = undefined;
  if (poison !== undefined) runtime.deadLetter(cell, poison.msg, 'crashed', reason);
  if (ext.calls !== undefined && ext.calls.size > 0) {
    // Calls whose request is still queued will be answered by the next incarnation.
    const queued = new Set<unknown>();
    if (mb !== undefined) for (let i = 0; i < mb.length; i++) queued.add(mb.peekAt(i));
    ext.calls.failWhere((c) => !queued.has(c.msg), new ExitError(cell.toString(), reason));
  }
  // It may have ended during its init (an exit signal, say): whoever waits for its start (a
  // supervisor's startChild, in the supervisor's own turn) hears that the start failed, as OTP's
  // start_child does, instead of waiting for a start that will not come.
  failStart(cell, ext, reason);
  const cleanup = runOnEnd(cell, reason);
  if (hook.whenEnded === 'notify') {
    if (cleanup === undefined) hook.ended(cell, reason, poison);
    else {
      // A supervisor killed with live children: its next incarnation would start children under
      // the names the last one's still hold. The restart waits until they are gone.
      const incarnation = hook.incarnation;
      const notify = () => {
        if ((cell.flags & PHASE) === P_RESTARTING && hook.incarnation === incarnation && hook.whenEnded === 'notify')
          hook.ended(cell, reason, poison);
      };
      cleanup.then(notify, notify);
    }
  }
  hook.halted?.();
}

function refill(mb: Mailbox, bounded: { readonly capacity: number; letOneIn(): unknown }): void {
  while (mailboxSize(mb) < bounded.capacity) {
    const m = bounded.letOneIn();
    if (m === EMPTY) return;
    append(mb, m);
  }
}

/** restarting -> starting (or running): the next incarnation, with the hook's args. */
export function revive(cell: Cell): void {
  if ((cell.flags & PHASE) !== P_RESTARTING) return;
  const hook = cell.hook as SupervisedHook;
  hook.whenEnded = 'notify';
  hook.ctx = new IncarnationContext(cell, hook.incarnation);
  // A behaviour without init starts its next incarnation on undefined state, as its first did.
  enter(cell, cell.impl.hasInit ? P_STARTING : P_RUNNING);
  if (hook.trapsExits) cell.flags |= F_TRAP;
  cell.wakeUrgent();
}

/** restarting -> dead: the supervisor will not restart it. */
export function retire(cell: Cell, reason: ExitReason): void {
  if ((cell.flags & PHASE) === P_RESTARTING) die(cell, reason);
}

// ---- death ---------------------------------------------------------------------------------------

/** -> dead, the last step of every exit: tell links and monitors, fail calls, free everything. */
export function die(cell: Cell, reason: ExitReason): void {
  if ((cell.flags & P_DEAD) !== 0) return;
  enter(cell, P_DEAD, F_AWAIT | F_SIGNALS | F_STOPSELF | F_INFO);
  const runtime = cell.runtime;
  runtime.unlist(cell);
  // First, so that no lookup can return this actor once it is dead.
  dropRegistrations(cell);
  const mb = takeAll(cell);
  cell.state = reason;
  // A dead actor keeps no ancestor alive: a live actor it spawned may keep it (its ctx.parent), but
  // not, through it, every dead generation before it (a relay that hands over to its successor).
  if ((cell.flags & flags.F_HOOK) === 0) cell.up = undefined;
  if (runtime.observed) runtime.emit({ type: 'exited', ref: cell as never, reason });
  if (mb !== undefined) {
    while (mb.length > 0) {
      const m = mb.shift();
      if (m instanceof UpgradeNotice) m.req.done({ ok: false, reason: 'dead' });
      else if (!(m instanceof SystemMessage)) runtime.deadLetter(cell, m, 'dead');
    }
  }
  const ext = cell.ext;
  if (ext === undefined) {
    // No links, monitors, calls or waiters to tell: only a supervisor's record.
    cell.hook?.died?.(cell, reason);
    return;
  }
  runOnEnd(cell, reason);
  ext.signals = undefined;
  const stashed = takeStash(cell);
  if (stashed !== undefined) for (const m of stashed) runtime.deadLetter(cell, m, 'dead');
  endTimersOfIncarnation(cell, ext);
  if (ext.bounded !== undefined) for (const m of ext.bounded.close()) runtime.deadLetter(cell, m, 'dead');
  cancelTimers(ext);
  if (ext.calls !== undefined) {
    const calls = ext.calls;
    ext.calls = undefined;
    calls.failWhere(() => true, new ExitError(cell.toString(), reason));
  }
  dropWatching(cell);
  breakLinks(cell, reason);
  cell.hook?.died?.(cell, reason);
  fireMonitors(cell, reason);
  failStart(cell, ext, reason);
  if (ext.exitWaiters !== undefined) {
    const waiters = ext.exitWaiters;
    ext.exitWaiters = undefined;
    for (const w of waiters) w(reason);
  }
}

/** Resolves with the exit reason once the actor is dead (at once if it is). */
export function whenExited(cell: Cell): Promise<ExitReason> {
  if ((cell.flags & P_DEAD) !== 0) return Promise.resolve(cell.state as ExitReason);
  return new Promise((resolve) => {
    const ext = cell.ensureExt();
    if (ext.exitWaiters === undefined) ext.exitWaiters = [];
    ext.exitWaiters.push(resolve);
  });
}

/** The receive timeout and the keyed timers end with the incarnation (their timers are in `timers`). */
function endTimersOfIncarnation(cell: Cell, ext: Ext): void {
  ext.receiveTimeout = undefined;
  ext.keyedTimers = undefined;
  cell.flags &= ~F_IDLE_TIMEOUT;
}

function cancelTimers(ext: Ext): void {
  const timers = ext.timers;
  if (timers === undefined) return;
  ext.timers = undefined;
  for (const t of timers) t.cancel();
}

/** Whoever waits for the start of an incarnation that ended before it started hears an InitError. */
function failStart(cell: Cell, ext: Ext, reason: ExitReason): void {
  const waiters = ext.initWaiters;
  if (waiters === undefined) return;
  ext.initWaiters = undefined;
  const e = new InitError(cell.toString(), reason);
  for (const w of waiters) w.reject(e);
}

/** The incarnation's cleanup (a supervisor takes its children down with it); runs once. */
function runOnEnd(cell: Cell, reason: ExitReason): PromiseLike<unknown> | undefined {
  const onEnd = cell.ext?.onEnd;
  if (onEnd === undefined) return undefined;
  (cell.ext as Ext).onEnd = undefined;
  try {
    return onEnd(reason);
  } catch (e) {
    cell.runtime.logger.error({ err: e, actor: cell.toString() }, 'cleanup at the end of an incarnation threw');
    return undefined;
  }
}
