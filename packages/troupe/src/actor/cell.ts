/**
 * The actor cell: the runtime's record of one actor, and the ref that addresses it (one object per
 * actor). It holds the mailbox's two fields (`mailbox/mailbox.ts`), the behaviour and its state, and
 * the rare parts (links, monitors, timers, pending calls, signals) in an `ext` record made on first
 * use. The cell doubles as the actor's `Context`, so handing `ctx` to a handler allocates nothing.
 *
 * This file is the turn loop, init and crash. The rest of an actor's life has a file per OTP
 * concept beside it: `lifecycle.ts` (the phases, restart in place, death), `exit-signals.ts`,
 * `links.ts`, `monitors.ts`, `upgrade.ts`, `call.ts`.
 *
 * A turn (`turn`) runs up to `budget` messages to completion. Sends only queue: they never run the
 * receiver. Exit signals are queued too and handled at the next message boundary, before mail.
 */
import type Denque from 'denque';
import { MailboxFullError, toError } from '../errors.js';
import type { ExitReason } from '../exit-reason.js';
import { assertReason } from '../exit-reason.js';
import type { CrashReport } from '../logger.js';
import type { BoundedPolicy } from '../mailbox/bounded.js';
import {
  append,
  evictOldest,
  hasMail,
  EMPTY as MAILBOX_EMPTY,
  type Mailbox,
  mailboxSize,
  SystemMessage,
  take,
} from '../mailbox/mailbox.js';
import type { Runnable } from '../scheduler/scheduler.js';
import { assertDelay, assertInterval, Timer, type TimerOwner } from '../timers/timer.js';
import type { Host, Impl } from './behavior.js';
import { type CallList, callCell } from './call.js';
import type { Context, SpawnOptions, SystemHandle } from './context.js';
import { exitSignal, processSignals, queueSignal, type Signal } from './exit-signals.js';
import * as flags from './flags.js';
import { cancelTimer, isTimerActive, type KeyedTimer, startTimer, TimerFired, takeFired } from './keyed-timers.js';
import {
  crashed,
  incarnationOf,
  initFailed,
  initSucceeded,
  kill,
  type SupervisedHook,
  whenExited,
  whenStarted,
} from './lifecycle.js';
import { link, unlink } from './links.js';
import { DownInfo, ExitInfo, type MonitorRef } from './messages.js';
import { demonitor, type Monitor, monitor, monitorRemote } from './monitors.js';
import type { Registration } from './names.js';
import { type Outcome, pipeToSelf } from './pipe.js';
import { cancelReceiveTimeout, type ReceiveTimeout, setReceiveTimeout, tookMessage } from './receive-timeout.js';
import { type CallOptions, Ref, type SendWaitOptions } from './ref.js';
import type { RemoteActors } from './remote.js';
import type { Runtime } from './runtime.js';
import { stash, unstashAll } from './stash.js';
import { applyUpgrade, UpgradeNotice } from './upgrade.js';

// Local copies: a local constant costs V8 nothing to read, an imported binding a module-cell load (flags.ts).
const EMPTY: typeof MAILBOX_EMPTY = MAILBOX_EMPTY;
const F_AWAIT = flags.F_AWAIT;
const F_BOUNDED = flags.F_BOUNDED;
const F_IN_TURN = flags.F_IN_TURN;
const F_INFO = flags.F_INFO;
const F_NO_SCHEDULE = flags.F_NO_SCHEDULE;
const F_RECORD = flags.F_RECORD;
const F_SCHEDULED = flags.F_SCHEDULED;
const F_SIGNALS = flags.F_SIGNALS;
const F_STOPSELF = flags.F_STOPSELF;
const F_TRAP = flags.F_TRAP;
const F_URGENT = flags.F_URGENT;
const F_IDLE_TIMEOUT = flags.F_IDLE_TIMEOUT;
const F_HOOK = flags.F_HOOK;
const NO_TURNS = flags.NO_TURNS;
const P_DEAD = flags.P_DEAD;
const P_RESTARTING = flags.P_RESTARTING;
const P_RUNNING = flags.P_RUNNING;
const P_STARTING = flags.P_STARTING;
const PHASE = flags.PHASE;
/** The first mailbox depth that emits a `mailbox_depth` event; then every doubling. */
const DEPTH_EVENT_AT = 1_024;

/** @internal The rarely used parts of a cell, allocated on first use. */
export interface Ext {
  label?: string | undefined;
  links?: Set<Cell> | undefined;
  /** The monitors of this actor: the newest, linked to the older ones. */
  monitors?: Monitor | undefined;
  /** The monitors this actor holds, by id: a local target's monitor, or the remote target's ref. */
  watching?: Map<MonitorRef, Monitor | Ref<never>> | undefined;
  timers?: Set<Timer> | undefined;
  calls?: CallList | undefined;
  signals?: Signal[] | undefined;
  /** How many EXIT/DOWN messages and upgrades are in the mailbox. */
  infoCount?: number | undefined;
  bounded?: BoundedPolicy | undefined;
  initWaiters?: Array<{ resolve: () => void; reject: (e: Error) => void }> | undefined;
  exitWaiters?: Array<(reason: ExitReason) => void> | undefined;
  /**
   * Called once when the current incarnation ends (restart in place or death); a supervisor's
   * cleanup. What it returns settles once that cleanup is over (a supervisor's children are gone):
   * the next incarnation waits for it.
   */
  onEnd?: ((reason: ExitReason) => PromiseLike<unknown> | undefined) | undefined;
  /** Registry entries to remove when the actor dies (a list, newest first); see `Cell.registrations`. */
  registrations?: Registration | undefined;
  /** The receive timeout, while one is set (receive-timeout.ts). */
  receiveTimeout?: ReceiveTimeout | undefined;
  /** Keyed timers by key (keyed-timers.ts). */
  keyedTimers?: Map<unknown, KeyedTimer> | undefined;
  /** Stashed messages, oldest first (stash.ts). */
  stash?: unknown[] | undefined;
}

/** @internal A cell accepts any message: the typed view of it is the `Ref<M>` that spawn returns. */
export class Cell extends Ref<unknown> implements Mailbox, Context<unknown>, Host, TimerOwner, Runnable {
  /** The phase and the hot single-bit facts (`flags.ts`). */
  flags: number;
  /** The behaviour's state; before `init` has run, the args it will get; after death, the exit reason. */
  state: unknown;
  first: unknown = EMPTY;
  queue: Denque<unknown> | undefined = undefined;
  ext: Ext | undefined = undefined;
  /** Neighbours in the system's list of live cells (spawn order). */
  prev: Cell | undefined = undefined;
  next: Cell | undefined = undefined;
  /** Messages handled, for introspection. */
  handled = 0;
  /**
   * The actor that spawned this one; for a supervised actor, its supervisor's record of it (the
   * hook), whose `supervisor` spawned it. One field for both: a supervised actor (a chat holds one
   * per connection) needs no `Ext` for its hook.
   */
  up: Cell | SupervisedHook | undefined;
  readonly runtime: Runtime;
  impl: Impl;

  constructor(runtime: Runtime, impl: Impl, id: number, up: Cell | SupervisedHook | undefined, initArgs: unknown) {
    super(id);
    this.runtime = runtime;
    this.up = up;
    this.impl = impl;
    this.flags = (impl.hasInit ? P_STARTING : P_RUNNING) | (up !== undefined && !(up instanceof Cell) ? F_HOOK : 0);
    this.state = initArgs;
  }

  // ---- the ref -----------------------------------------------------------------------------------

  send(msg: unknown): boolean {
    const f = this.flags;
    if ((f & (P_DEAD | F_BOUNDED)) !== 0) {
      if ((f & P_DEAD) !== 0) {
        this.runtime.deadLetter(this, msg, 'dead');
        return false;
      }
      return this.offerBounded(msg);
    }
    append(this, msg);
    const q = this.queue;
    // 1,024 and every doubling: a power of two from there, one test per send.
    if (q !== undefined && q.length >= DEPTH_EVENT_AT && (q.length & (q.length - 1)) === 0) this.depthReached(q.length);
    if ((f & F_NO_SCHEDULE) === 0) {
      this.flags = f | F_SCHEDULED;
      this.runtime.scheduler.push(this);
    }
    return true;
  }

  sendWait(msg: unknown, options?: SendWaitOptions): Promise<boolean> {
    if ((this.flags & P_DEAD) !== 0) {
      this.runtime.deadLetter(this, msg, 'dead');
      return Promise.resolve(false);
    }
    if ((this.flags & F_BOUNDED) === 0) return Promise.resolve(this.send(msg));
    const waiting = ((this.ext as Ext).bounded as BoundedPolicy).wait(mailboxSize(this), msg, options?.timeoutMs);
    if (waiting !== undefined) return waiting;
    this.push(msg);
    return Promise.resolve(true);
  }

  /** Typed by `Ref<M>.call`; here the request is whatever the caller's `Ref<M>` allowed. */
  call(request: never, options?: CallOptions): Promise<never> {
    return callCell(this, request, options?.timeoutMs) as Promise<never>;
  }

  get alive(): boolean {
    return (this.flags & P_DEAD) === 0;
  }

  get node(): string {
    return this.runtime.system.node;
  }

  toString(): string {
    const label = this.ext?.label ?? this.hook?.label;
    return label === undefined ? `Ref<${this.id}>` : `Ref<${this.id} ${label}>`;
  }

  // ---- the mailbox -------------------------------------------------------------------------------

  /** The mailbox reached a depth worth an event (`mailbox_depth`), for whoever listens. */
  private depthReached(depth: number): void {
    const runtime = this.runtime;
    if (runtime.observed) runtime.emit({ type: 'mailbox_depth', ref: this as never, depth });
  }

  /** A send to a bounded mailbox: its policy decides, the cell does it. */
  private offerBounded(msg: unknown): boolean {
    switch (((this.ext as Ext).bounded as BoundedPolicy).admit(mailboxSize(this))) {
      case 'queue':
        this.push(msg);
        return true;
      case 'drop_newest':
        this.runtime.deadLetter(this, msg, 'mailbox_full');
        return false;
      case 'refuse':
        return false;
      case 'evict_oldest': {
        const old = evictOldest(this);
        if (old !== EMPTY) {
          this.runtime.deadLetter(this, old, 'mailbox_full');
          // A dropped request fails its call at once.
          const calls = this.ext?.calls;
          if (calls !== undefined) calls.failWhere((c) => c.msg === old, new MailboxFullError(this.toString()));
        }
        this.push(msg);
        return true;
      }
    }
  }

  /** Puts a message in the mailbox past any bound (bounded mailboxes, EXIT/DOWN messages, notices). */
  push(msg: unknown): void {
    if ((this.flags & P_DEAD) !== 0) {
      if (!(msg instanceof SystemMessage)) this.runtime.deadLetter(this, msg, 'dead');
      return;
    }
    append(this, msg);
    this.wake();
  }

  /** Messages waiting. */
  mailboxSize(): number {
    return mailboxSize(this);
  }

  /** Schedules the cell if it has something to do and is not already queued or busy. */
  wake(): void {
    const f = this.flags;
    if ((f & F_NO_SCHEDULE) === 0) {
      this.flags = f | F_SCHEDULED;
      this.runtime.scheduler.push(this);
    }
  }

  /**
   * Like `push`, but the actor gets the next turn, ahead of the run queue: recovery is on the
   * critical path (a supervisor learning that a child ended, a child starting its next incarnation),
   * and under load the back of the queue can be a whole time slice away.
   */
  pushUrgent(msg: unknown): void {
    if ((this.flags & P_DEAD) !== 0) {
      this.push(msg);
      return;
    }
    append(this, msg);
    this.wakeUrgent();
  }

  /**
   * Schedules ahead of the run queue, once: an actor already in the urgent lane stays where it is;
   * one queued further back gets an extra, earlier turn.
   */
  wakeUrgent(): void {
    const f = this.flags;
    if ((f & (F_IN_TURN | F_AWAIT | NO_TURNS | F_URGENT)) === 0) {
      this.flags = f | F_SCHEDULED | F_URGENT;
      this.runtime.scheduler.pushUrgent(this);
    }
  }

  leftUrgentLane(): void {
    this.flags &= ~F_URGENT;
  }

  /** Queues an EXIT or DOWN message or an upgrade: they go to `info`, not `receive`. */
  deliverInfo(info: SystemMessage): void {
    if ((this.flags & P_DEAD) !== 0) return;
    const ext = this.ensureExt();
    ext.infoCount = (ext.infoCount ?? 0) + 1;
    this.flags |= F_INFO;
    this.push(info);
  }

  // ---- the turn ----------------------------------------------------------------------------------

  /** Runs up to `budget` messages. Returns how many it handled (at least 1, to pace the scheduler). */
  turn(budget: number): number {
    let f = this.flags & ~F_SCHEDULED;
    const phase = f & PHASE;
    if (phase === P_DEAD || phase === P_RESTARTING) {
      this.flags = f;
      return 1;
    }
    this.flags = f | F_IN_TURN;
    if ((f & F_SIGNALS) !== 0) processSignals(this);
    if ((this.flags & (PHASE | F_AWAIT)) === P_STARTING) this.runInit();
    let n = 0;
    if (this.first !== EMPTY || this.queue !== undefined) {
      // The incarnation's context: it cannot change within a turn (a restart begins outside one).
      const ctx = this.hook?.ctx ?? this;
      // Only a running phase takes mail: an incarnation that ended leaves the rest to the next one.
      while (n < budget && (this.flags & (PHASE | F_AWAIT | F_SIGNALS)) === P_RUNNING) {
        let msg = take(this);
        if (msg === EMPTY) break;
        n++;
        let stale = false;
        if ((this.flags & F_INFO) !== 0 && msg instanceof TimerFired) {
          this.infoTaken();
          // A timer replaced or cancelled after it fired delivers nothing.
          if (takeFired(this, msg)) msg = msg.msg;
          else stale = true;
        }
        if ((this.flags & (F_BOUNDED | F_RECORD | F_IDLE_TIMEOUT)) !== 0) this.took(msg);
        if (stale) continue;
        let pending: PromiseLike<unknown> | undefined;
        try {
          if (
            (this.flags & F_INFO) !== 0 &&
            (msg instanceof ExitInfo || msg instanceof DownInfo || msg instanceof UpgradeNotice)
          ) {
            pending = this.takeInfo(msg);
          } else pending = this.impl.receive(this, msg, ctx);
        } catch (e) {
          crashed(this, e, msg);
          break;
        }
        if (pending !== undefined) this.awaitHandler(pending, msg);
      }
      if ((this.flags & F_SIGNALS) !== 0) processSignals(this);
    }
    this.handled += n;
    f = this.flags & ~F_IN_TURN;
    this.flags = f;
    if ((f & F_NO_SCHEDULE) === 0 && ((f & F_SIGNALS) !== 0 || hasMail(this))) {
      this.flags = f | F_SCHEDULED;
      this.runtime.scheduler.push(this);
    }
    return n === 0 ? 1 : n;
  }

  /** Bookkeeping for a taken message that only some cells need. */
  private took(msg: unknown): void {
    if ((this.flags & F_RECORD) !== 0) {
      const hook = this.hook as SupervisedHook;
      // The ring's last slot holds where the next message goes (lifecycle.ts, SupervisedHook.recent).
      const recent = hook.recent as unknown[];
      const last = recent.length - 1;
      const at = recent[last] as number;
      recent[at] = msg;
      recent[last] = at + 1 === last ? 0 : at + 1;
    }
    if ((this.flags & F_BOUNDED) !== 0) {
      // A message left: the first sender waiting for room gets it, if there is room now (EXIT and
      // DOWN messages count towards the bound but come in past it).
      const bounded = (this.ext as Ext).bounded as BoundedPolicy;
      if (mailboxSize(this) < bounded.capacity) {
        const waiting = bounded.letOneIn();
        if (waiting !== EMPTY) this.push(waiting);
      }
    }
    if ((this.flags & F_IDLE_TIMEOUT) !== 0) tookMessage(this);
  }

  /** An EXIT/DOWN message, an upgrade or a keyed timer's message was taken. */
  private infoTaken(): void {
    const ext = this.ext as Ext;
    const left = (ext.infoCount ?? 1) - 1;
    ext.infoCount = left;
    if (left === 0) this.flags &= ~F_INFO;
  }

  private takeInfo(info: ExitInfo | DownInfo | UpgradeNotice): PromiseLike<unknown> | undefined {
    this.infoTaken();
    if (info instanceof UpgradeNotice) {
      applyUpgrade(this, info.req);
      return undefined;
    }
    return this.impl.info(this, info, this.hook?.ctx ?? this);
  }

  private runInit(): void {
    const hook = this.hook;
    let args: unknown;
    if (hook !== undefined) args = hook.args;
    else {
      // Read once: an actor's init args are not kept alive past its init.
      args = this.state;
      this.state = undefined;
    }
    let pending: PromiseLike<unknown> | undefined;
    try {
      pending = this.impl.init(this, hook?.ctx ?? this, args);
    } catch (e) {
      initFailed(this, e);
      return;
    }
    if (pending === undefined) {
      // Unless it ended during its init (it killed itself, say): then it is not started.
      if ((this.flags & PHASE) === P_STARTING) initSucceeded(this);
      return;
    }
    this.flags |= F_AWAIT;
    const incarnation = incarnationOf(this);
    pending.then(
      () => {
        if (incarnationOf(this) !== incarnation) return;
        this.flags &= ~F_AWAIT;
        if ((this.flags & F_IDLE_TIMEOUT) !== 0) tookMessage(this);
        initSucceeded(this);
        this.wake();
      },
      (e: unknown) => {
        if (incarnationOf(this) !== incarnation) return;
        this.flags &= ~F_AWAIT;
        initFailed(this, e);
      },
    );
  }

  /** Host.incarnation: the incarnation, or -1 once dead. */
  incarnation(): number {
    return incarnationOf(this);
  }

  /** Host.takesState: starting or running (not stopping, resting for a restart, or dead). */
  takesState(): boolean {
    return (this.flags & NO_TURNS) === 0;
  }

  private awaitHandler(pending: PromiseLike<unknown>, msg: unknown): void {
    this.flags |= F_AWAIT;
    const incarnation = incarnationOf(this);
    pending.then(
      () => {
        if (incarnationOf(this) === incarnation) this.handlerSettled();
      },
      (e: unknown) => {
        if (incarnationOf(this) !== incarnation || (this.flags & NO_TURNS) !== 0) return;
        this.flags &= ~F_AWAIT;
        crashed(this, e, msg);
      },
    );
  }

  private handlerSettled(): void {
    const f = this.flags & ~F_AWAIT;
    this.flags = f;
    if ((f & NO_TURNS) !== 0) return;
    if ((f & F_IDLE_TIMEOUT) !== 0) tookMessage(this);
    if ((f & F_SIGNALS) !== 0 || hasMail(this)) this.wake();
  }

  /** The structured report of a crash of this actor. */
  crashReport(reason: Error, message: unknown, phase: CrashReport['phase']): CrashReport {
    return {
      actor: this.toString(),
      id: this.id,
      label: this.ext?.label ?? this.hook?.label,
      behavior: this.impl.name,
      phase,
      reason,
      ...(phase === 'receive' ? { message } : {}),
    };
  }

  /** Reports a crash in `phase`, by the system's logger. */
  reportCrash(thrown: unknown, message: unknown, phase: CrashReport['phase']): void {
    const runtime = this.runtime;
    if (runtime.observed) {
      runtime.emit({ type: 'crash_report', ref: this as Ref<never>, messages: phase === 'receive' ? [message] : [] });
    }
    runtime.reportCrash(this.crashReport(toError(thrown), message, phase));
  }

  // ---- bookkeeping -------------------------------------------------------------------------------

  /** The ext record, created on first use. */
  /** The actor that spawned this one (a supervisor for its children). */
  get spawner(): Cell | undefined {
    return (this.flags & F_HOOK) !== 0 ? (this.up as SupervisedHook).supervisor : (this.up as Cell | undefined);
  }

  /** Set when a supervisor owns this actor: exits end an incarnation, not the ref. */
  get hook(): SupervisedHook | undefined {
    return (this.flags & F_HOOK) !== 0 ? (this.up as SupervisedHook) : undefined;
  }

  /** The supervisor's record lets go of this (dead) cell: it moves on to another. */
  dropHook(): void {
    const label = this.hook?.label;
    this.up = this.spawner;
    this.flags &= ~F_HOOK;
    // Its name in logs and errors stays what it was.
    if (label !== undefined) this.ensureExt().label = label;
  }

  /** Registry entries to remove when the actor dies (a list, newest first): in the hook if supervised. */
  get registrations(): Registration | undefined {
    const hook = this.hook;
    return hook !== undefined ? hook.registrations : this.ext?.registrations;
  }
  set registrations(r: Registration | undefined) {
    const hook = this.hook;
    if (hook !== undefined) hook.registrations = r;
    else if (r !== undefined || this.ext !== undefined) this.ensureExt().registrations = r;
  }

  ensureExt(): Ext {
    let ext = this.ext;
    if (ext === undefined) ext = this.ext = {};
    return ext;
  }

  /** The exit reason of a dead cell. */
  get exitReason(): ExitReason | undefined {
    return (this.flags & P_DEAD) !== 0 ? (this.state as ExitReason) : undefined;
  }

  /** Resolves with the exit reason once the actor has exited. */
  whenExited(): Promise<ExitReason> {
    return whenExited(this);
  }

  /** Resolves once `init` has finished; rejects with an `InitError` if it failed. */
  whenStarted(): Promise<void> {
    return whenStarted(this);
  }

  timerDone(timer: Timer): void {
    this.ext?.timers?.delete(timer);
  }

  // ---- Context -----------------------------------------------------------------------------------

  get self(): Ref<unknown> {
    return this;
  }

  get system(): SystemHandle {
    return this.runtime.system;
  }

  get parent(): Ref<never> | undefined {
    return this.spawner;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  spawn(behavior: unknown, options?: SpawnOptions<unknown>): Ref<any> {
    return this.runtime.spawn(behavior, options, this, 'ctx.spawn');
  }

  // biome-ignore lint/suspicious/noExplicitAny: the typed overloads live on Spawner.
  start(behavior: unknown, options?: SpawnOptions<unknown>): Promise<Ref<any>> {
    let cell: Cell;
    try {
      cell = this.runtime.spawn(behavior, options, this, 'ctx.start');
    } catch (e) {
      return Promise.reject(e);
    }
    return cell.whenStarted().then(() => cell);
  }

  link(ref: Ref<never>): void {
    if (ref instanceof Cell) link(this, ref);
    else remoteActors(this.runtime, ref, 'ctx.link').link(this as Ref<never>, ref);
  }

  unlink(ref: Ref<never>): void {
    if (ref instanceof Cell) unlink(this, ref);
    else remoteActors(this.runtime, ref, 'ctx.unlink').unlink(this as Ref<never>, ref);
  }

  monitor(ref: Ref<never>): MonitorRef {
    if (ref instanceof Cell) return monitor(this, ref);
    return monitorRemote(this, remoteActors(this.runtime, ref, 'ctx.monitor'), ref);
  }

  demonitor(id: MonitorRef): boolean {
    return demonitor(this, id);
  }

  trapExit(on = true): void {
    if (on) this.flags |= F_TRAP;
    else this.flags &= ~F_TRAP;
  }

  exit(ref: Ref<never>, reason: ExitReason): void {
    assertReason(reason, 'ctx.exit(ref, reason)');
    if (!(ref instanceof Cell)) {
      remoteActors(this.runtime, ref, 'ctx.exit').exit(this as Ref<never>, ref, reason);
      return;
    }
    const target = ref;
    // OTP: exit(self(), normal) ends a process that does not trap exits; from anyone else it does not.
    if (target === this && reason === 'normal' && (this.flags & F_TRAP) === 0) queueSignal(this, 'normal', 'exit');
    else exitSignal(target, this, reason);
  }

  kill(ref?: Ref<never>): void {
    if (ref === undefined || ref instanceof Cell) kill(ref ?? this);
    else remoteActors(this.runtime, ref, 'ctx.kill').exit(this as Ref<never>, ref, 'kill');
  }

  stop(reason: ExitReason = 'normal'): void {
    const f = this.flags;
    const phase = f & PHASE;
    if (
      reason === 'normal' &&
      (f & (F_IN_TURN | F_SIGNALS)) === F_IN_TURN &&
      phase !== P_DEAD &&
      phase !== P_RESTARTING
    ) {
      // From inside its own handler with nothing else pending: a flag, no allocation.
      this.flags = f | F_SIGNALS | F_STOPSELF;
      return;
    }
    assertReason(reason, 'ctx.stop(reason)');
    queueSignal(this, reason, 'stop');
  }

  sendAfter<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    assertDelay(ms, 'ctx.sendAfter(ref, msg, ms)');
    return this.addTimer(new Timer(this.runtime.clock, ms, () => ref.send(msg), undefined, this));
  }

  sendInterval<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    assertInterval(ms, 'ctx.sendInterval(ref, msg, ms)');
    // An interval stops by itself once its target is dead, as OTP's timers do.
    const t: Timer = new Timer(this.runtime.clock, ms, () => void (ref.send(msg) || ref.alive || t.cancel()), ms, this);
    return this.addTimer(t);
  }

  pipeToSelf<T>(promise: PromiseLike<T>, toMessage: (outcome: Outcome<T>) => unknown): void {
    pipeToSelf(this, promise, toMessage);
  }

  setReceiveTimeout(ms: number, msg: unknown): void {
    assertInterval(ms, 'ctx.setReceiveTimeout(ms, msg)');
    setReceiveTimeout(this, ms, msg);
  }

  cancelReceiveTimeout(): boolean {
    return cancelReceiveTimeout(this);
  }

  startTimer(key: unknown, msg: unknown, ms: number): void {
    assertDelay(ms, 'ctx.startTimer(key, msg, ms)');
    startTimer(this, key, msg, ms, undefined);
  }

  startIntervalTimer(key: unknown, msg: unknown, ms: number): void {
    assertInterval(ms, 'ctx.startIntervalTimer(key, msg, ms)');
    startTimer(this, key, msg, ms, ms);
  }

  cancelTimer(key: unknown): boolean {
    return cancelTimer(this, key);
  }

  isTimerActive(key: unknown): boolean {
    return isTimerActive(this, key);
  }

  stash(msg: unknown): void {
    stash(this, msg);
  }

  unstashAll(): number {
    return unstashAll(this);
  }

  get stashed(): number {
    return this.ext?.stash?.length ?? 0;
  }

  private addTimer(t: Timer): Timer {
    if ((this.flags & P_DEAD) !== 0) {
      t.cancel();
      return t;
    }
    const ext = this.ensureExt();
    if (ext.timers === undefined) ext.timers = new Set();
    ext.timers.add(t);
    return t;
  }
}

/** @internal The cell behind a ref, with a teaching error for anything else. */
export function cellOf(ref: unknown, where: string): Cell {
  if (ref instanceof Cell) return ref;
  throw notARef(ref, where);
}

/**
 * @internal The distribution layer that carries `ref`, a ref to an actor on another node; the same
 * teaching error as `cellOf` for anything else (a remote ref of another system included).
 */
export function remoteActors(runtime: Runtime, ref: unknown, where: string): RemoteActors {
  const remote = runtime.remote;
  if (remote !== undefined && ref instanceof Ref && remote.owns(ref as Ref<never>)) return remote;
  throw notARef(ref, where);
}

function notARef(ref: unknown, where: string): TypeError {
  if (ref instanceof Ref) {
    return new TypeError(
      `${where}: ${String(ref)} is not an actor of this system, nor a remote actor of its cluster (is it from another ActorSystem?)`,
    );
  }
  return new TypeError(
    `${where}: expected a Ref returned by spawn or start; got ${ref === null ? 'null' : typeof ref}`,
  );
}
