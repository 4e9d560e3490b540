/**
 * The actor cell: the runtime's record of one actor. It owns the mailbox (a `denque`, created on the
 * first message so an idle actor costs one small object), the behaviour and its state, and the rare
 * parts (links, monitors, timers, pending calls, signals) in an `ext` object created on first use.
 * The cell doubles as the actor's `Context`, so handing `ctx` to a handler allocates nothing.
 *
 * A turn (`turn`) runs up to `budget` messages to completion. Sends only queue: they never run the
 * receiver. Exit signals are queued too and handled at the next message boundary, before mail.
 */
import Denque from 'denque';
import { ExitError, InitError, toError } from '../errors.js';
import type { ExitReason } from '../exit-reason.js';
import { assertReason, describeReason } from '../exit-reason.js';
import type { Bounded } from '../mailbox/bounded.js';
import type { Registration } from '../registry/registry.js';
import type { ActorSystem } from '../system.js';
import { assertDelay, Timer, type TimerOwner } from '../timers/timer.js';
import type { Host, Impl } from './behavior.js';
import type { CallList } from './call.js';
import type { Context, SpawnOptions } from './context.js';
import { IncarnationContext } from './incarnation.js';
import {
  CELL,
  F_AWAIT,
  F_BOUNDED,
  F_DEAD,
  F_DORMANT,
  F_INFO,
  F_INIT,
  F_NO_SCHEDULE,
  F_RECORD,
  F_RUNNING,
  F_SCHEDULED,
  F_SIGNALS,
  F_STOPPING,
  F_STOPSELF,
  F_TRAP,
  F_URGENT,
} from './internal.js';
import { DownInfo, ExitInfo, type InfoMessage, type MonitorRef, RuntimeNotice } from './messages.js';
import { Ref } from './ref.js';

type Watcher = Cell | ((reason: ExitReason, ref: Ref<never>) => void);

/**
 * @internal One monitor. It sits in its target's list of monitors (newest first, doubly linked so
 * that it leaves in O(1): most actors have one or two monitors, and a Map's table would cost more
 * than the entries) and, for an actor watcher, in that watcher's `watching` map by id.
 */
export class Monitor {
  prev: Monitor | undefined = undefined;
  next: Monitor | undefined = undefined;
  constructor(
    readonly id: MonitorRef,
    readonly target: Cell,
    readonly watcher: Watcher,
  ) {}

  /** Leaves its target's list; false if it is not in it (removed, or the target is dead: it fired). */
  remove(): boolean {
    const target = this.target;
    if ((target.flags & F_DEAD) !== 0) return false;
    const { prev, next } = this;
    if (prev !== undefined) prev.next = next;
    else if (target.ext?.monitors === this) (target.ext as Ext).monitors = next;
    else return false;
    if (next !== undefined) next.prev = prev;
    this.prev = this.next = undefined;
    return true;
  }
}

/** The empty `first` slot (module-private, so no message can be it). */
const NONE: unique symbol = Symbol('none');

interface Signal {
  readonly reason: ExitReason;
  /** A stop request waits for a running async handler; an exit signal does not. */
  readonly polite: boolean;
}

/** @internal A hot upgrade waiting in the mailbox, so it applies in order with the mail. */
class UpgradeNotice extends RuntimeNotice {
  constructor(readonly req: UpgradeRequest) {
    super();
  }
}

/** @internal A pending hot upgrade, applied between two messages. */
export interface UpgradeRequest {
  readonly impl: Impl;
  readonly migrate: ((state: unknown) => unknown) | undefined;
  readonly done: (result: UpgradeResult) => void;
}

/** The result of a hot upgrade. */
export type UpgradeResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'dead' }
  | { readonly ok: false; readonly reason: 'migrate_failed'; readonly error: Error };

/** @internal The rarely used parts of a cell, allocated on first use. */
export interface Ext {
  label?: string | undefined;
  args?: unknown | undefined;
  links?: Set<Cell> | undefined;
  /** The monitors of this actor: the newest, linked to the older ones. */
  monitors?: Monitor | undefined;
  /** The monitors this actor holds, by id. */
  watching?: Map<MonitorRef, Monitor> | undefined;
  timers?: Set<Timer> | undefined;
  calls?: CallList | undefined;
  signals?: Signal[] | undefined;
  infoCount?: number | undefined;
  bounded?: Bounded | undefined;
  initWaiters?: Array<{ resolve: () => void; reject: (e: Error) => void }> | undefined;
  exitWaiters?: Array<(reason: ExitReason) => void> | undefined;
  /** Called once when the current incarnation ends (restart in place or death); a supervisor's cleanup. */
  onEnd?: ((reason: ExitReason) => void) | undefined;
  /** Registry entries to remove when the actor dies (a list, newest first). */
  registrations?: Registration | undefined;
  /** Set when a supervisor owns this actor: exits end an incarnation, not the ref. */
  sup?: SupervisedHook | undefined;
}

/**
 * @internal What a supervisor attaches to a child's cell. When an incarnation ends in `normal`
 * mode the cell goes dormant (mail kept, ref valid) and `ended` tells the supervisor, which later
 * calls `revive` or `finalize`. In `quiet` mode (the supervisor is stopping it to restart it) it goes
 * dormant without telling; in `final` mode it dies for good. `halted` fires in every mode.
 */
export interface SupervisedHook {
  mode: 'normal' | 'quiet' | 'final';
  /** Queued messages survive a restart (default); false drops them to dead letters as OTP does. */
  readonly keepMailbox: boolean;
  /** Start the next incarnation with exits trapped. */
  readonly trapExit: boolean;
  /** The message being handled when the incarnation crashed. */
  poison: { msg: unknown } | undefined;
  /** The last handled messages, oldest first once unrolled; undefined when not recorded. */
  readonly recent: unknown[] | undefined;
  /** What every incarnation's `init` gets (kept here, not in the cell, for the restarts). */
  readonly args: unknown;
  recentNext: number;
  /** Bumped when an incarnation ends, so late promises of an old one are ignored. */
  generation: number;
  ended(cell: Cell, reason: ExitReason, poison: { msg: unknown } | undefined): void;
  halted: (() => void) | undefined;
  /** For introspection: the child's id, restart count and the clock time its incarnation started. */
  readonly childId: string;
  readonly restarts: number;
  readonly startedAt: number;
  readonly supervisor: Cell;
  /** The context handed to this incarnation's handlers. */
  ctx: Context<unknown> | undefined;
}

/** @internal */
export class Cell implements Context<unknown>, Host, TimerOwner {
  flags: number;
  /** The behaviour's state; after death, the exit reason. */
  state: unknown = undefined;
  /**
   * The oldest message, when the mailbox has not been needed yet: most actors get one message at a
   * time, or ever, and then no queue is allocated at all. Older than everything in `mailbox`.
   */
  first: unknown = NONE;
  mailbox: Denque<unknown> | undefined = undefined;
  ext: Ext | undefined = undefined;
  /** Neighbours in the system's list of live cells (spawn order). */
  prev: Cell | undefined = undefined;
  next: Cell | undefined = undefined;
  /** Messages handled, for introspection. */
  handled = 0;
  /** The actor that spawned this one (a supervisor for its children). */
  readonly spawner: Cell | undefined;
  readonly ref: Ref<unknown>;
  readonly system: ActorSystem;
  impl: Impl;

  constructor(system: ActorSystem, impl: Impl, id: number, flags: number, spawner: Cell | undefined) {
    this.system = system;
    this.spawner = spawner;
    this.impl = impl;
    this.flags = flags;
    this.ref = new Ref(id, this);
  }

  // ---- sending ---------------------------------------------------------------------------------

  enqueue(msg: unknown): boolean {
    const f = this.flags;
    if ((f & (F_DEAD | F_BOUNDED)) !== 0) {
      if ((f & F_DEAD) !== 0) {
        this.system.deadLetter(this.ref, msg, 'dead');
        return false;
      }
      return (this.ext as Ext & { bounded: Bounded }).bounded.offer(this, msg);
    }
    this.append(msg);
    if ((f & F_NO_SCHEDULE) === 0) {
      this.flags = f | F_SCHEDULED;
      this.system.scheduler.push(this);
    }
    return true;
  }

  /** Puts a message in the mailbox past any bound (used by bounded mailboxes and info messages). */
  push(msg: unknown): void {
    if ((this.flags & F_DEAD) !== 0) {
      if (!(msg instanceof RuntimeNotice)) this.system.deadLetter(this.ref, msg, 'dead');
      return;
    }
    this.append(msg);
    this.wake();
  }

  /** Appends to the mailbox: into the `first` slot while no queue exists, else onto the queue. */
  private append(msg: unknown): void {
    const mb = this.mailbox;
    if (mb !== undefined) mb.push(msg);
    else if (this.first === NONE) this.first = msg;
    else {
      const queue = new Denque<unknown>();
      queue.push(msg);
      this.mailbox = queue;
    }
  }

  /** Messages waiting. */
  mailboxSize(): number {
    return (this.first === NONE ? 0 : 1) + (this.mailbox?.length ?? 0);
  }

  /** Moves the `first` slot into the queue, for code that walks the whole mailbox. */
  materialize(): Denque<unknown> | undefined {
    const f = this.first;
    if (f === NONE) return this.mailbox;
    this.first = NONE;
    let mb = this.mailbox;
    if (mb === undefined) mb = this.mailbox = new Denque();
    mb.unshift(f);
    return mb;
  }

  enqueueWait(msg: unknown, timeoutMs: number | undefined): Promise<boolean> {
    if ((this.flags & F_DEAD) !== 0) {
      this.system.deadLetter(this.ref, msg, 'dead');
      return Promise.resolve(false);
    }
    if ((this.flags & F_BOUNDED) === 0) return Promise.resolve(this.enqueue(msg));
    return (this.ext as Ext & { bounded: Bounded }).bounded.offerWait(this, msg, timeoutMs);
  }

  /** Schedules the cell if it has something to do and is not already queued or busy. */
  wake(): void {
    const f = this.flags;
    if ((f & F_NO_SCHEDULE) === 0) {
      this.flags = f | F_SCHEDULED;
      this.system.scheduler.push(this);
    }
  }

  /**
   * Like `push`, but the actor gets the next turn, ahead of the run queue: recovery is on the
   * critical path (a supervisor learning that a child ended, a child starting its next incarnation),
   * and under load the back of the queue can be a whole time slice away.
   */
  pushUrgent(msg: unknown): void {
    if ((this.flags & F_DEAD) !== 0) {
      this.push(msg);
      return;
    }
    this.append(msg);
    this.wakeUrgent();
  }

  /**
   * Schedules ahead of the run queue, once: an actor already in the urgent lane stays where it is;
   * one queued further back gets an extra, earlier turn.
   */
  wakeUrgent(): void {
    const f = this.flags;
    if ((f & (F_RUNNING | F_AWAIT | F_DEAD | F_STOPPING | F_DORMANT | F_URGENT)) === 0) {
      this.flags = f | F_SCHEDULED | F_URGENT;
      this.system.scheduler.pushUrgent(this);
    }
  }

  deliverInfo(info: InfoMessage): void {
    if ((this.flags & F_DEAD) !== 0) return;
    const ext = this.x();
    ext.infoCount = (ext.infoCount ?? 0) + 1;
    this.flags |= F_INFO;
    this.push(info);
  }

  // ---- running ---------------------------------------------------------------------------------

  /** Runs up to `budget` messages. Returns how many it handled (at least 1, to pace the scheduler). */
  turn(budget: number): number {
    let f = this.flags & ~F_SCHEDULED;
    if ((f & (F_DEAD | F_DORMANT)) !== 0) {
      this.flags = f;
      return 1;
    }
    this.flags = f | F_RUNNING;
    if ((f & F_SIGNALS) !== 0) this.processSignals();
    if ((this.flags & F_INIT) !== 0 && (this.flags & (F_AWAIT | F_DEAD | F_STOPPING | F_DORMANT)) === 0) this.runInit();
    let n = 0;
    if (this.first !== NONE || this.mailbox !== undefined) {
      // An incarnation that ended (dormant) leaves the rest of the mail to the next one.
      while (n < budget && (this.flags & (F_AWAIT | F_DEAD | F_STOPPING | F_SIGNALS | F_INIT | F_DORMANT)) === 0) {
        let msg = this.first;
        if (msg !== NONE) this.first = NONE;
        else {
          const mb = this.mailbox;
          if (mb === undefined || mb.length === 0) break;
          msg = mb.shift();
        }
        n++;
        if ((this.flags & (F_BOUNDED | F_RECORD)) !== 0) this.took(msg);
        let pending: PromiseLike<unknown> | undefined;
        try {
          if (
            (this.flags & F_INFO) !== 0 &&
            (msg instanceof ExitInfo || msg instanceof DownInfo || msg instanceof UpgradeNotice)
          ) {
            pending = this.takeInfo(msg);
          } else {
            pending = this.impl.receive(this, msg, this.ext?.sup?.ctx ?? this);
          }
        } catch (e) {
          this.crash(e, msg);
          break;
        }
        if (pending !== undefined) this.awaitHandler(pending, msg);
      }
      if ((this.flags & F_SIGNALS) !== 0) this.processSignals();
    }
    this.handled += n;
    f = this.flags & ~F_RUNNING;
    this.flags = f;
    if ((f & F_NO_SCHEDULE) === 0 && ((f & F_SIGNALS) !== 0 || this.mailboxSize() > 0)) {
      this.flags = f | F_SCHEDULED;
      this.system.scheduler.push(this);
    }
    return n === 0 ? 1 : n;
  }

  /** Bookkeeping for a taken message that only some cells need. */
  private took(msg: unknown): void {
    const ext = this.ext as Ext;
    if ((this.flags & F_RECORD) !== 0) {
      const sup = ext.sup as SupervisedHook;
      const recent = sup.recent as unknown[];
      recent[sup.recentNext] = msg;
      sup.recentNext = (sup.recentNext + 1) % recent.length;
    }
    if ((this.flags & F_BOUNDED) !== 0) (ext.bounded as Bounded).taken(this);
  }

  private takeInfo(info: ExitInfo | DownInfo | UpgradeNotice): PromiseLike<unknown> | undefined {
    const ext = this.ext as Ext;
    const left = (ext.infoCount ?? 1) - 1;
    ext.infoCount = left;
    if (left === 0) this.flags &= ~F_INFO;
    if (info instanceof UpgradeNotice) {
      this.applyUpgrade(info.req);
      return undefined;
    }
    return this.impl.info(this, info, this.ext?.sup?.ctx ?? this);
  }

  private runInit(): void {
    const ext = this.ext;
    const sup = ext?.sup;
    let args: unknown;
    if (sup !== undefined) args = sup.args;
    else if (ext !== undefined) {
      // Read once: an actor's init args are not kept alive past its init.
      args = ext.args;
      ext.args = undefined;
    }
    let pending: PromiseLike<unknown> | undefined;
    try {
      pending = this.impl.init(this, this.ext?.sup?.ctx ?? this, args);
    } catch (e) {
      this.initFailed(e);
      return;
    }
    if (pending === undefined) {
      this.initDone();
      return;
    }
    this.flags |= F_AWAIT;
    const gen = this.generation();
    pending.then(
      () => {
        if ((this.flags & F_DEAD) !== 0 || this.generation() !== gen) return;
        this.flags &= ~F_AWAIT;
        this.initDone();
        this.wake();
      },
      (e: unknown) => {
        if ((this.flags & F_DEAD) !== 0 || this.generation() !== gen) return;
        this.flags &= ~F_AWAIT;
        this.initFailed(e);
      },
    );
  }

  private initDone(): void {
    this.flags &= ~F_INIT;
    const waiters = this.ext?.initWaiters;
    if (waiters !== undefined) {
      (this.ext as Ext).initWaiters = undefined;
      for (const w of waiters) w.resolve();
    }
  }

  private initFailed(thrown: unknown): void {
    const error = toError(thrown);
    const waiters = this.ext?.initWaiters;
    if (waiters !== undefined) {
      (this.ext as Ext).initWaiters = undefined;
      const e = new InitError(this.describe(), thrown);
      for (const w of waiters) w.reject(e);
    } else if (this.ext?.sup === undefined) {
      this.system.reportCrash(this, error, undefined, 'init');
    }
    this.ended(error);
  }

  /** The current incarnation (only supervised actors have more than one). */
  private generation(): number {
    return this.ext?.sup?.generation ?? 0;
  }

  /** @internal The current incarnation's number. */
  generationNow(): number {
    return this.generation();
  }

  /** Host.epoch: the incarnation, or -1 once dead. */
  epoch(): number {
    return (this.flags & F_DEAD) !== 0 ? -1 : this.generation();
  }

  private awaitHandler(pending: PromiseLike<unknown>, msg: unknown): void {
    this.flags |= F_AWAIT;
    const gen = this.generation();
    pending.then(
      () => {
        if (this.generation() === gen) this.handlerSettled();
      },
      (e: unknown) => {
        if ((this.flags & (F_DEAD | F_STOPPING)) !== 0 || this.generation() !== gen) return;
        this.flags &= ~F_AWAIT;
        this.crash(e, msg);
      },
    );
  }

  private handlerSettled(): void {
    const f = this.flags & ~F_AWAIT;
    this.flags = f;
    if ((f & (F_DEAD | F_STOPPING)) !== 0) return;
    if ((f & F_SIGNALS) !== 0 || this.mailboxSize() > 0) this.wake();
  }

  /** A handler threw or rejected: the actor exits with the error. */
  crash(thrown: unknown, msg: unknown): void {
    const error = toError(thrown);
    const sup = this.ext?.sup;
    if (this.system.observed)
      this.system.emit({ type: 'crashed', ref: this.ref as Ref<never>, phase: 'receive', reason: error });
    if (sup !== undefined) sup.poison = { msg };
    else this.system.reportCrash(this, error, msg, 'receive');
    this.exitWith(error);
  }

  // ---- exiting ---------------------------------------------------------------------------------

  /** Exits with `reason`, running `terminate` first if the behaviour has one and init finished. */
  exitWith(reason: ExitReason): void {
    const f = this.flags;
    if ((f & (F_DEAD | F_STOPPING)) !== 0) return;
    if (!this.impl.hasTerminate || (f & F_INIT) !== 0) {
      this.ended(reason);
      return;
    }
    this.flags = f | F_STOPPING;
    let pending: PromiseLike<unknown> | undefined;
    try {
      pending = this.impl.terminate(this, reason, this.ext?.sup?.ctx ?? this);
    } catch (e) {
      this.system.reportCrash(this, toError(e), undefined, 'terminate');
    }
    if (pending === undefined) {
      this.ended(reason);
      return;
    }
    const gen = this.generation();
    pending.then(
      () => {
        if ((this.flags & F_STOPPING) !== 0 && this.generation() === gen) this.ended(reason);
      },
      (e: unknown) => {
        if ((this.flags & F_STOPPING) === 0 || this.generation() !== gen) return;
        this.system.reportCrash(this, toError(e), undefined, 'terminate');
        this.ended(reason);
      },
    );
  }

  /** Untrappable and immediate: no terminate; links and monitors see `killed`. */
  killNow(): void {
    if ((this.flags & (F_DEAD | F_DORMANT)) === 0) this.ended('killed');
  }

  /** An incarnation is over: die, or (supervised) go dormant and let the supervisor decide. */
  private ended(reason: ExitReason): void {
    const sup = this.ext?.sup;
    if (sup === undefined || sup.mode === 'final') {
      this.finalize(reason);
      sup?.halted?.();
      return;
    }
    this.sleep(reason, sup);
  }

  /**
   * Ends an incarnation but keeps the ref: timers and the incarnation's monitors are dropped, the
   * poison message goes to dead letters, calls that can no longer be answered fail, and the mail
   * waits for `revive` (or is dropped when the child does not keep its mailbox).
   */
  private sleep(reason: ExitReason, sup: SupervisedHook): void {
    this.flags = (this.flags | F_DORMANT) & ~(F_STOPPING | F_AWAIT | F_SIGNALS | F_STOPSELF | F_INIT | F_TRAP);
    this.state = undefined;
    sup.generation++;
    const ext = this.ext as Ext;
    ext.signals = undefined;
    if (ext.timers !== undefined) {
      const timers = ext.timers;
      ext.timers = undefined;
      for (const t of timers) t.cancel();
    }
    if (ext.watching !== undefined) {
      for (const m of ext.watching.values()) m.remove();
      ext.watching = undefined;
    }
    const mb = this.materialize();
    if (!sup.keepMailbox && mb !== undefined) {
      while (mb.length > 0) {
        const m = mb.shift();
        if (m instanceof UpgradeNotice) {
          // The next incarnation starts on the new code (its init runs, so nothing to migrate).
          this.impl = m.req.impl;
          m.req.done({ ok: true });
        } else if (!(m instanceof ExitInfo || m instanceof DownInfo)) {
          this.system.deadLetter(this.ref, m, 'dropped');
        }
      }
      ext.infoCount = 0;
      this.flags &= ~F_INFO;
      // The mailbox is empty: senders waiting for room get it now.
      ext.bounded?.refill(this);
    }
    const poison = sup.poison;
    sup.poison = undefined;
    if (poison !== undefined) this.system.deadLetter(this.ref, poison.msg, 'crashed', reason);
    if (ext.calls !== undefined && ext.calls.size > 0) {
      // Calls whose request is still queued will be answered by the next incarnation.
      const queued = new Set<unknown>();
      if (mb !== undefined) for (let i = 0; i < mb.length; i++) queued.add(mb.peekAt(i));
      const error = new ExitError(this.describe(), reason);
      for (const c of ext.calls.toArray()) if (!queued.has(c.msg)) c.fail(error);
    }
    this.endIncarnation(reason);
    const mode = sup.mode;
    if (mode === 'normal') sup.ended(this, reason, poison);
    sup.halted?.();
  }

  private endIncarnation(reason: ExitReason): void {
    const onEnd = this.ext?.onEnd;
    if (onEnd === undefined) return;
    (this.ext as Ext).onEnd = undefined;
    try {
      onEnd(reason);
    } catch (e) {
      this.system.logger.error({ err: e, actor: this.describe() }, 'cleanup at the end of an incarnation threw');
    }
  }

  /** Starts the next incarnation of a dormant supervised actor: `init` runs again with its hook's args. */
  revive(): void {
    if ((this.flags & F_DORMANT) === 0) return;
    const sup = (this.ext as Ext).sup as SupervisedHook;
    sup.mode = 'normal';
    sup.ctx = new IncarnationContext(this, sup.generation);
    // A behaviour without init starts its next incarnation on undefined state, as its first did.
    this.flags = (this.flags & ~F_DORMANT) | (this.impl.hasInit ? F_INIT : 0) | (sup.trapExit ? F_TRAP : 0);
    this.wakeUrgent();
  }

  /** Ends a dormant actor for good (its supervisor will not restart it). */
  retire(reason: ExitReason): void {
    if ((this.flags & F_DORMANT) === 0) return;
    this.flags &= ~F_DORMANT;
    this.finalize(reason);
  }

  /** Receives an exit signal from `from` (a link, or `exit/2`), by OTP's rules. */
  exitSignal(from: Ref<never>, reason: ExitReason): void {
    const f = this.flags;
    if ((f & (F_DEAD | F_DORMANT)) !== 0) return;
    if ((f & F_TRAP) !== 0) {
      this.deliverInfo(new ExitInfo(from, reason));
    } else if (reason !== 'normal') {
      this.signal(reason, false);
    }
  }

  /** Queues a stop (`polite`) or an exit signal; handled at the next message boundary. */
  signal(reason: ExitReason, polite: boolean): void {
    if ((this.flags & (F_DEAD | F_DORMANT)) !== 0) return;
    const ext = this.x();
    if (ext.signals === undefined) ext.signals = [{ reason, polite }];
    else ext.signals.push({ reason, polite });
    this.flags |= F_SIGNALS;
    // A cell waiting on an async handler is scheduled anyway: exit signals do not wait for it.
    const f = this.flags;
    if ((f & (F_SCHEDULED | F_RUNNING | F_DEAD | F_STOPPING | F_DORMANT)) === 0) {
      this.flags = f | F_SCHEDULED;
      this.system.scheduler.push(this);
    }
  }

  private processSignals(): void {
    // While an async handler runs, polite stops wait for it; exit signals behind them do not.
    const waiting = (this.flags & F_AWAIT) !== 0;
    if ((this.flags & F_STOPSELF) !== 0 && !waiting) {
      // The common ctx.stop(): stop after this message, like a polite stop signal.
      this.flags &= ~F_STOPSELF;
      if (this.ext?.signals === undefined) this.flags &= ~F_SIGNALS;
      this.exitWith('normal');
      if ((this.flags & (F_DEAD | F_STOPPING | F_DORMANT)) !== 0) {
        if (this.ext !== undefined) this.ext.signals = undefined;
        this.flags &= ~F_SIGNALS;
        return;
      }
      if ((this.flags & F_SIGNALS) === 0) return;
    }
    const sigs = this.ext?.signals;
    if (sigs === undefined) return;
    let kept: Signal[] | undefined;
    while (sigs.length > 0) {
      const s = sigs.shift() as Signal;
      if (s.polite && waiting) {
        if (kept === undefined) kept = [s];
        else kept.push(s);
        continue;
      }
      this.exitWith(s.reason);
      if ((this.flags & (F_DEAD | F_STOPPING | F_DORMANT)) !== 0) {
        kept = undefined;
        break;
      }
    }
    (this.ext as Ext).signals = kept;
    if (kept === undefined && (this.flags & F_STOPSELF) === 0) this.flags &= ~F_SIGNALS;
  }

  /**
   * Queues a hot upgrade behind the mail already queued, as OTP's code change goes through the
   * mailbox: messages sent before it run on the old code, messages sent after it on the new.
   */
  requestUpgrade(req: UpgradeRequest): void {
    if ((this.flags & F_DORMANT) !== 0) {
      // Between incarnations: the next one starts on the new code (init runs, so no migration).
      this.impl = req.impl;
      req.done({ ok: true });
      return;
    }
    if ((this.flags & (F_DEAD | F_STOPPING)) !== 0) {
      req.done({ ok: false, reason: 'dead' });
      return;
    }
    const ext = this.x();
    ext.infoCount = (ext.infoCount ?? 0) + 1;
    this.flags |= F_INFO;
    this.push(new UpgradeNotice(req));
  }

  private applyUpgrade(req: UpgradeRequest): void {
    let next: unknown;
    try {
      const migrated = req.migrate === undefined ? this.state : req.migrate(this.state);
      next = req.impl.adopt(this, migrated);
    } catch (e) {
      const error = toError(e);
      this.system.logger.error(
        { actor: this.describe(), reason: error },
        `upgrade of ${this.describe()} failed in migrate; the old code keeps running: ${describeReason(error)}`,
      );
      if (this.system.observed) this.system.emit({ type: 'upgraded', ref: this.ref as Ref<never>, ok: false, error });
      req.done({ ok: false, reason: 'migrate_failed', error });
      return;
    }
    this.impl = req.impl;
    this.state = next;
    if (this.system.observed) this.system.emit({ type: 'upgraded', ref: this.ref as Ref<never>, ok: true });
    req.done({ ok: true });
  }

  /** The last step of every exit: tell links and monitors, fail calls, free everything. */
  finalize(reason: ExitReason): void {
    if ((this.flags & F_DEAD) !== 0) return;
    this.flags = (this.flags | F_DEAD) & ~(F_STOPPING | F_AWAIT | F_SIGNALS | F_STOPSELF | F_INFO | F_DORMANT);
    const system = this.system;
    system.unlist(this);
    const regs = this.ext?.registrations;
    if (regs !== undefined) {
      // First, so that no lookup can return this actor once it is dead.
      (this.ext as Ext).registrations = undefined;
      for (let r: Registration | undefined = regs; r !== undefined; r = r.next) r.registry.drop(r.key, this);
    }
    const mb = this.materialize();
    this.mailbox = undefined;
    this.state = reason;
    if (system.observed) system.emit({ type: 'exited', ref: this.ref as Ref<never>, reason });
    if (mb !== undefined && mb.length > 0) {
      while (mb.length > 0) {
        const m = mb.shift();
        if (m instanceof UpgradeNotice) m.req.done({ ok: false, reason: 'dead' });
        else if (!(m instanceof ExitInfo || m instanceof DownInfo || m instanceof RuntimeNotice)) {
          system.deadLetter(this.ref, m, 'dead');
        }
      }
    }
    const ext = this.ext;
    if (ext === undefined) return;
    this.endIncarnation(reason);
    ext.signals = undefined;
    ext.bounded?.close(this);
    if (ext.timers !== undefined) {
      const timers = ext.timers;
      ext.timers = undefined;
      for (const t of timers) t.cancel();
    }
    if (ext.calls !== undefined) {
      const calls = ext.calls;
      ext.calls = undefined;
      const error = new ExitError(this.describe(), reason);
      for (const c of calls.toArray()) c.fail(error);
    }
    if (ext.watching !== undefined) {
      for (const m of ext.watching.values()) m.remove();
      ext.watching = undefined;
    }
    if (ext.links !== undefined) {
      const links = ext.links;
      ext.links = undefined;
      for (const other of links) {
        other.ext?.links?.delete(this);
        other.exitSignal(this.ref as Ref<never>, reason);
      }
    }
    if (ext.monitors !== undefined) {
      // Oldest first. F_DEAD is set: a monitor removed meanwhile (by a watch callback) still fires.
      let m: Monitor | undefined = ext.monitors;
      ext.monitors = undefined;
      while (m.next !== undefined) m = m.next;
      for (; m !== undefined; m = m.prev) {
        const w = m.watcher;
        if (typeof w === 'function') {
          // A watcher is user code (system.watch): its failure must not stop the others or the exit.
          try {
            w(reason, this.ref as Ref<never>);
          } catch (e) {
            system.logger.error({ err: e, actor: this.describe() }, 'a watch callback threw');
          }
        } else {
          w.ext?.watching?.delete(m.id);
          w.deliverInfo(new DownInfo(m.id, this.ref as Ref<never>, reason));
        }
      }
    }
    if (ext.initWaiters !== undefined) {
      const e = new InitError(this.describe(), reason);
      for (const w of ext.initWaiters) w.reject(e);
      ext.initWaiters = undefined;
    }
    if (ext.exitWaiters !== undefined) {
      const waiters = ext.exitWaiters;
      ext.exitWaiters = undefined;
      for (const w of waiters) w(reason);
    }
  }

  // ---- bookkeeping -----------------------------------------------------------------------------

  /** The ext record, created on first use. */
  x(): Ext {
    let ext = this.ext;
    if (ext === undefined) ext = this.ext = {};
    return ext;
  }

  isAlive(): boolean {
    return (this.flags & F_DEAD) === 0;
  }

  /** The exit reason of a dead cell. */
  get exitReason(): ExitReason | undefined {
    return (this.flags & F_DEAD) !== 0 ? (this.state as ExitReason) : undefined;
  }

  describe(): string {
    const label = this.ext?.label;
    return label === undefined ? `Ref<${this.ref.id}>` : `Ref<${this.ref.id} ${label}>`;
  }

  /** Resolves with the exit reason once the actor has exited. */
  whenExited(): Promise<ExitReason> {
    if ((this.flags & F_DEAD) !== 0) return Promise.resolve(this.state as ExitReason);
    return new Promise((resolve) => {
      const ext = this.x();
      if (ext.exitWaiters === undefined) ext.exitWaiters = [];
      ext.exitWaiters.push(resolve);
    });
  }

  whenStarted(): Promise<void> {
    if ((this.flags & F_INIT) === 0) {
      if ((this.flags & F_DEAD) !== 0) return Promise.reject(new InitError(this.describe(), this.state));
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const ext = this.x();
      if (ext.initWaiters === undefined) ext.initWaiters = [];
      ext.initWaiters.push({ resolve, reject });
    });
  }

  /**
   * Registers a watcher and returns its monitor; if this cell is dead, delivers `noproc` at once
   * and returns the id alone.
   */
  addMonitor(watcher: Watcher): Monitor | MonitorRef {
    const id = this.system.nextMonitorId();
    if ((this.flags & F_DEAD) !== 0) {
      if (typeof watcher === 'function') watcher('noproc', this.ref as Ref<never>);
      else watcher.deliverInfo(new DownInfo(id, this.ref as Ref<never>, 'noproc'));
      return id;
    }
    const ext = this.x();
    const m = new Monitor(id, this, watcher);
    const head = ext.monitors;
    if (head !== undefined) {
      m.next = head;
      head.prev = m;
    }
    ext.monitors = m;
    return m;
  }

  timerDone(timer: Timer): void {
    this.ext?.timers?.delete(timer);
  }

  // ---- Context ---------------------------------------------------------------------------------

  get self(): Ref<unknown> {
    return this.ref;
  }

  get parent(): Ref<never> | undefined {
    return this.spawner?.ref as Ref<never> | undefined;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  spawn(behavior: unknown, options?: SpawnOptions<unknown>): Ref<any> {
    return this.system.spawnCell(behavior, options, this, 'ctx.spawn').ref;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  start(behavior: unknown, options?: SpawnOptions<unknown>): Promise<Ref<any>> {
    let cell: Cell;
    try {
      cell = this.system.spawnCell(behavior, options, this, 'ctx.start');
    } catch (e) {
      return Promise.reject(e);
    }
    return cell.whenStarted().then(() => cell.ref);
  }

  link(ref: Ref<never>): void {
    const other = cellOf(ref, 'ctx.link');
    if (other === this) return;
    if ((other.flags & F_DEAD) !== 0) {
      this.exitSignal(ref, 'noproc');
      return;
    }
    const mine = this.x();
    if (mine.links === undefined) mine.links = new Set();
    mine.links.add(other);
    const theirs = other.x();
    if (theirs.links === undefined) theirs.links = new Set();
    theirs.links.add(this);
  }

  unlink(ref: Ref<never>): void {
    const other = cellOf(ref, 'ctx.unlink');
    this.ext?.links?.delete(other);
    other.ext?.links?.delete(this);
  }

  monitor(ref: Ref<never>): MonitorRef {
    const m = cellOf(ref, 'ctx.monitor').addMonitor(this);
    if (typeof m === 'number') return m;
    const ext = this.x();
    if (ext.watching === undefined) ext.watching = new Map();
    ext.watching.set(m.id, m);
    return m.id;
  }

  demonitor(monitor: MonitorRef): boolean {
    const m = this.ext?.watching?.get(monitor);
    if (m === undefined) return false;
    (this.ext as Ext).watching?.delete(monitor);
    return m.remove();
  }

  trapExit(on = true): void {
    if (on) this.flags |= F_TRAP;
    else this.flags &= ~F_TRAP;
  }

  exit(ref: Ref<never>, reason: ExitReason): void {
    assertReason(reason, 'ctx.exit(ref, reason)');
    const target = cellOf(ref, 'ctx.exit');
    // OTP: exit(self(), normal) ends a process that does not trap exits; from anyone else it does not.
    if (target === this && reason === 'normal' && (this.flags & F_TRAP) === 0) this.signal('normal', false);
    else target.exitSignal(this.ref as Ref<never>, reason);
  }

  kill(ref?: Ref<never>): void {
    (ref === undefined ? this : cellOf(ref, 'ctx.kill')).killNow();
  }

  stop(reason: ExitReason = 'normal'): void {
    if (reason === 'normal' && (this.flags & (F_RUNNING | F_SIGNALS | F_DEAD | F_DORMANT)) === F_RUNNING) {
      // From inside its own handler with nothing else pending: a flag, no allocation.
      this.flags |= F_SIGNALS | F_STOPSELF;
      return;
    }
    assertReason(reason, 'ctx.stop(reason)');
    this.signal(reason, true);
  }

  sendAfter<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    assertDelay(ms, 'ctx.sendAfter(ref, msg, ms)');
    return this.addTimer(new Timer(this.system.clock, ms, () => ref.send(msg), undefined, this));
  }

  sendInterval<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    assertDelay(ms, 'ctx.sendInterval(ref, msg, ms)', false);
    // An interval stops by itself once its target is dead, as OTP's timers do.
    const t: Timer = new Timer(this.system.clock, ms, () => void (ref.send(msg) || ref.alive || t.cancel()), ms, this);
    return this.addTimer(t);
  }

  private addTimer(t: Timer): Timer {
    if ((this.flags & F_DEAD) !== 0) {
      t.cancel();
      return t;
    }
    const ext = this.x();
    if (ext.timers === undefined) ext.timers = new Set();
    ext.timers.add(t);
    return t;
  }
}

/** @internal The cell behind a ref, with a teaching error for anything else. */
export function cellOf(ref: unknown, where: string): Cell {
  const cell = (ref as { [CELL]?: Cell } | null | undefined)?.[CELL];
  if (cell === undefined) {
    throw new TypeError(
      `${where}: expected a Ref returned by spawn or start; got ${ref === null ? 'null' : typeof ref}`,
    );
  }
  return cell;
}

export { describeReason };
