/**
 * The actor system: it owns the scheduler, the clock, dead letters, the logger and the list of
 * live actors, and it shuts all of them down in reverse spawn order. Most programs create one.
 */
import type { ActorClass, Behavior, ReceiveFn } from './actor/behavior.js';
import { toImpl } from './actor/behavior.js';
import { TimeoutQueue } from './actor/call.js';
import { Cell, cellOf, type UpgradeResult } from './actor/cell.js';
import type { Spawner, SpawnOptions } from './actor/context.js';
import { F_BOUNDED, F_INIT, F_SCHEDULED, F_TRAP } from './actor/internal.js';
import type { MonitorRef } from './actor/messages.js';
import type { Ref } from './actor/ref.js';
import { NameTakenError, SystemShutdownError } from './errors.js';
import type { SystemEvent } from './events.js';
import type { ExitReason } from './exit-reason.js';
import { assertReason, describeReason } from './exit-reason.js';
import { type SystemSnapshot, snapshot } from './introspection/inspect.js';
import { assertMailboxOptions, Bounded } from './mailbox/bounded.js';
import { type NameService, type RegisterResult, UniqueRegistry } from './registry/registry.js';
import { Scheduler, type SchedulerOptions } from './scheduler/scheduler.js';
import { type Clock, realClock } from './timers/clock.js';
import { assertDelay, Timer } from './timers/timer.js';

/**
 * Why a message became a dead letter: its actor was `dead`; a bounded mailbox was full
 * (`mailbox_full`); it `crashed` the actor (the poison message of a supervised restart, with the
 * error); or it was queued when a supervised actor that does not keep its mailbox restarted
 * (`dropped`).
 */
export type DeadLetterReason = 'dead' | 'mailbox_full' | 'crashed' | 'dropped';

/** A message that could not be delivered. */
export interface DeadLetter {
  readonly to: Ref<never>;
  readonly message: unknown;
  readonly reason: DeadLetterReason;
  /** For `crashed`: why the actor exited. */
  readonly error?: ExitReason;
}

/** What the system reports when an actor's handler, init or terminate throws. */
export interface CrashReport {
  readonly actor: string;
  readonly id: number;
  readonly label: string | undefined;
  readonly behavior: string;
  readonly phase: 'init' | 'receive' | 'terminate';
  readonly reason: Error;
  /** The message being handled when it crashed (for `receive`). */
  readonly message?: unknown;
}

/**
 * Where the runtime writes. The shape matches pino's (`logger.error(obj, msg)`), so a pino logger
 * can be passed as it is.
 */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Writes one readable line per event to stderr. The default logger. */
export const consoleLogger: Logger = {
  error(obj, msg) {
    const r = (obj as { reason?: unknown }).reason;
    console.error(`[troupe] ${msg ?? 'error'}${r instanceof Error ? `: ${r.stack ?? r.message}` : ''}`);
  },
  warn(_obj, msg) {
    console.warn(`[troupe] ${msg ?? 'warning'}`);
  },
};

/** A logger that drops everything (tests that provoke crashes on purpose). */
export const silentLogger: Logger = { error() {}, warn() {} };

/** Options of `new ActorSystem()`; every field optional. */
export interface SystemOptions {
  /** Time source for timers and call timeouts. Default: the real clock. Tests pass a `SimulatedClock`. */
  readonly clock?: Clock;
  /** Where crash reports go. Default: {@link consoleLogger}. */
  readonly logger?: Logger;
  /** Scheduler budget and time slice. */
  readonly scheduler?: SchedulerOptions;
  /** How long `shutdown` waits for each actor's `terminate` before killing it. Default 5,000 ms. */
  readonly shutdownTimeoutMs?: number;
}

/**
 * Owns actors and everything they share.
 * @example
 * const system = new ActorSystem();
 * const echo = system.spawn((msg: string) => console.log(msg));
 * echo.send('hello');
 * await system.shutdown();
 */
export class ActorSystem implements Spawner {
  /** @internal */ readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly shutdownTimeoutMs: number;
  #ids = 0;
  #monitorIds = 0;
  #last: Cell | undefined = undefined;
  #live = 0;
  #deadLetters = 0;
  #deadLetterListeners: Array<(dl: DeadLetter) => void> = [];
  #eventListeners: Array<(e: SystemEvent) => void> = [];
  #closed = false;
  /** @internal True while anyone listens to events: every emit point tests it first. */
  observed = false;
  /** Registered names (the `name` spawn option, `register`, `whereis`). */
  readonly registry: UniqueRegistry<unknown> = new UniqueRegistry<unknown>('system.registry');

  constructor(options: SystemOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? consoleLogger;
    this.scheduler = new Scheduler(options.scheduler);
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
  }

  /**
   * Starts an actor and returns its ref at once; `init`, if any, runs before its first message.
   * Throws a `TypeError` for something that is not an actor, `NameTakenError` for a taken `name`,
   * and `SystemShutdownError` after `shutdown()`.
   * @example
   * const log = system.spawn((line: string) => console.log(line), { label: 'log' });
   * log.send('hello');
   */
  spawn<M>(behavior: ReceiveFn<M>, options?: SpawnOptions): Ref<M>;
  /**
   * Starts an actor from a behaviour object and returns its ref at once; `args` goes to its `init`.
   * @example
   * const counter = system.spawn(counterBehavior, { args: 10, name: 'counter' });
   * counter.send({ type: 'inc' }); // waits in the mailbox until init has run
   */
  spawn<M, S, A = undefined>(behavior: Behavior<M, S, A>, options?: SpawnOptions<A>): Ref<M>;
  /**
   * Starts an actor from a class extending `Actor` and returns its ref at once; `args` goes to `init`.
   * @example
   * const stack = system.spawn(Stack, { args: ['a', 'b'], label: 'stack' });
   */
  spawn<M, A = undefined>(behavior: ActorClass<M, A>, options?: SpawnOptions<A>): Ref<M>;
  spawn(behavior: unknown, options?: SpawnOptions<unknown>): Ref<unknown> {
    return this.spawnCell(behavior, options, undefined, 'system.spawn').ref;
  }

  /**
   * Starts an actor and resolves with its ref once its `init` has finished (at once without one).
   * Rejects with the errors `spawn` throws.
   * @example
   * const log = await system.start((line: string) => console.log(line));
   */
  start<M>(behavior: ReceiveFn<M>, options?: SpawnOptions): Promise<Ref<M>>;
  /**
   * Starts an actor from a behaviour object and resolves with its ref once its `init` has
   * finished; rejects with an `InitError` (its `cause` is what `init` threw) if `init` fails.
   * @example
   * try {
   *   const db = await system.start(database, { args: { url } }); // ready: init has connected
   * } catch (e) {
   *   if (e instanceof InitError) console.error('no database:', e.cause);
   * }
   */
  start<M, S, A = undefined>(behavior: Behavior<M, S, A>, options?: SpawnOptions<A>): Promise<Ref<M>>;
  /**
   * Starts an actor from a class extending `Actor` and resolves with its ref once its `init` has
   * finished; rejects with an `InitError` if `init` fails.
   * @example
   * const stack = await system.start(Stack, { args: ['a', 'b'] }); // Stack's init has run
   */
  start<M, A = undefined>(behavior: ActorClass<M, A>, options?: SpawnOptions<A>): Promise<Ref<M>>;
  start(behavior: unknown, options?: SpawnOptions<unknown>): Promise<Ref<unknown>> {
    let cell: Cell;
    try {
      cell = this.spawnCell(behavior, options, undefined, 'system.start');
    } catch (e) {
      return Promise.reject(e);
    }
    return cell.whenStarted().then(() => cell.ref);
  }

  /**
   * Asks the actor to stop after its current message: `terminate` runs, links and monitors see
   * `reason` (default `normal`). Resolves with the reason it exited with once it is dead (at once
   * for a dead actor). Messages still queued go to dead letters. A supervised actor is only ended
   * for this incarnation: its supervisor decides (a permanent child is restarted in place and the
   * promise waits for the ref's real end); use `terminateChild` to stop a child for good.
   * @example
   * const reason = await system.stop(worker); // 'normal'
   * await system.stop(cache, { shutdown: 'maintenance' });
   */
  stop(ref: Ref<never>, reason: ExitReason = 'normal'): Promise<ExitReason> {
    assertReason(reason, 'system.stop(ref, reason)');
    const cell = cellOf(ref, 'system.stop');
    const done = cell.whenExited();
    cell.signal(reason, true);
    return done;
  }

  /**
   * Kills the actor at once: untrappable, no `terminate`; links and monitors see `killed`.
   * @example
   * system.kill(stuck); // stuck.alive is false from here on
   */
  kill(ref: Ref<never>): void {
    cellOf(ref, 'system.kill').killNow();
  }

  /**
   * Sends an exit signal from outside any actor (OTP's `exit/2`); see `Context.exit`. There is no
   * sending actor, so a trapping target's `EXIT` message names the target itself as `from`.
   * @example
   * system.exit(worker, 'shutdown'); // dies with shutdown, or gets an EXIT message if it traps exits
   */
  exit(ref: Ref<never>, reason: ExitReason): void {
    assertReason(reason, 'system.exit(ref, reason)');
    cellOf(ref, 'system.exit').exitSignal(ref, reason);
  }

  /**
   * Resolves with the actor's exit reason once it has exited (at once for an actor already dead).
   * @example
   * const reason = await system.exited(job);
   * if (!isCleanExit(reason)) console.error(`job failed: ${describeReason(reason)}`);
   */
  exited(ref: Ref<never>): Promise<ExitReason> {
    return cellOf(ref, 'system.exited').whenExited();
  }

  /**
   * Calls `onDown(reason, ref)` once when the actor exits (`noproc` at once if it is already dead).
   * Returns a function that cancels the watch. One `onDown` can serve many actors: it is told which
   * one exited.
   * @example
   * const unwatch = system.watch(worker, (reason) => console.log(`worker exited: ${describeReason(reason)}`));
   * unwatch(); // no longer interested
   */
  watch(ref: Ref<never>, onDown: (reason: ExitReason, ref: Ref<never>) => void): () => void {
    const m = cellOf(ref, 'system.watch').addMonitor(onDown);
    return typeof m === 'number' ? () => {} : () => void m.remove();
  }

  /**
   * Sends `msg` to `ref` after `ms` on the system clock (`ms` finite and >= 0, else a `RangeError`).
   * The timer belongs to no actor: it fires even if the sender is gone.
   * @example
   * const timer = system.sendAfter(session, { type: 'expire' }, 30_000);
   * timer.cancel(); // true: it will not fire
   */
  sendAfter<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    assertDelay(ms, 'system.sendAfter(ref, msg, ms)');
    return new Timer(this.clock, ms, () => ref.send(msg), undefined, undefined);
  }

  /**
   * Sends `msg` to `ref` every `ms` (finite and > 0) until cancelled, or until `ref` is dead.
   * @example
   * const tick = system.sendInterval(metrics, { type: 'flush' }, 1_000);
   * // later:
   * tick.cancel();
   */
  sendInterval<T>(ref: Ref<T>, msg: T, ms: number): Timer {
    assertDelay(ms, 'system.sendInterval(ref, msg, ms)', false);
    const t: Timer = new Timer(this.clock, ms, () => void (ref.send(msg) || ref.alive || t.cancel()), ms, undefined);
    return t;
  }

  /**
   * Registers `ref` under `name` in the system registry. A taken name is a result, not an error:
   * `{ ok: false, reason: 'taken', ref }` gives the holder. The entry goes when the actor dies.
   * @example
   * const r = system.register('cache', cache);
   * if (!r.ok && r.reason === 'taken') console.log(`cache is already ${r.ref}`);
   */
  register(name: unknown, ref: Ref<never>): RegisterResult<unknown> {
    return this.registry.register(name, ref);
  }

  /** Removes a name. Returns false if it was not registered. */
  unregister(name: unknown): boolean {
    return this.registry.unregister(name);
  }

  /**
   * The live actor registered under `name`, or undefined; never a dead one. `M` is the caller's claim.
   * @example
   * system.whereis<CacheMsg>('cache')?.send({ type: 'clear' });
   */
  whereis<M>(name: unknown): Ref<M> | undefined {
    return this.registry.whereis<M>(name);
  }

  /**
   * Calls `listener` for every {@link SystemEvent}; returns a function that unsubscribes.
   * @example
   * const unsubscribe = system.subscribe((e) => {
   *   if (e.type === 'restarted') console.log(`${e.ref} restarted (${e.restarts})`);
   * });
   * unsubscribe();
   */
  subscribe(listener: (event: SystemEvent) => void): () => void {
    this.#eventListeners = [...this.#eventListeners, listener];
    this.observed = true;
    return () => {
      this.#eventListeners = this.#eventListeners.filter((l) => l !== listener);
      this.observed = this.#eventListeners.length > 0;
    };
  }

  /** @internal */
  emit(event: SystemEvent): void {
    for (const l of this.#eventListeners) {
      try {
        l(event);
      } catch (e) {
        this.logger.error({ err: e }, 'event listener threw');
      }
    }
  }

  /** @internal Live cells, oldest first. */
  liveCells(): Cell[] {
    const out: Cell[] = [];
    for (let c = this.#last; c !== undefined; c = c.prev) out.push(c);
    return out.reverse();
  }

  /**
   * A snapshot of every live actor as a tree (see {@link ActorInfo}), with dead-letter counts.
   * @example console.dir(system.inspect(), { depth: null });
   */
  inspect(): SystemSnapshot {
    return snapshot(this.liveCells(), this.#deadLetters, this.clock.now(), this.registry);
  }

  /**
   * Replaces the behaviour of a running actor between two messages. `migrate(oldState)` makes the new
   * state (default: the state as it is; for a class, the old instance's fields are copied onto a new
   * instance). No message is lost or handled twice. If `migrate` throws, the old code keeps running
   * and the result says why.
   * @example await system.upgrade(counter, counterV2, { migrate: (n) => ({ count: n }) });
   */
  upgrade(
    ref: Ref<never>,
    behavior: unknown,
    options: { readonly migrate?: (state: never) => unknown } = {},
  ): Promise<UpgradeResult> {
    const cell = cellOf(ref, 'system.upgrade');
    const impl = toImpl(behavior, 'system.upgrade');
    const migrate = options.migrate as ((state: unknown) => unknown) | undefined;
    if (migrate !== undefined && typeof migrate !== 'function') {
      throw new TypeError(
        'system.upgrade(ref, behavior, { migrate }): migrate must be a function (oldState) => newState',
      );
    }
    return new Promise((done) => cell.requestUpgrade({ impl, migrate, done }));
  }

  /**
   * Calls `fn` each time the scheduler finishes a batch of work, before the event loop runs again.
   * Output that actors write during a batch can be flushed here in one go (the uWebSockets.js
   * adapter corks each socket once per batch). Returns a function that removes it.
   */
  onDrained(fn: () => void): () => void {
    return this.scheduler.onDrained(fn);
  }

  /**
   * How long, in milliseconds of real time (`performance.now()`, not the system's clock), the
   * scheduler has had work without once running dry; 0 while idle. A server that keeps up drains its
   * queue every event-loop iteration or so; a backlog that lasts for hundreds of milliseconds means
   * messages arrive faster than actors handle them: the signal to shed load (refuse new work
   * cheaply at the edge) before mailboxes grow without bound.
   */
  get backlogMs(): number {
    return this.scheduler.backlogMs;
  }

  /** Counts of live actors, dead letters and scheduler work. */
  stats(): { actors: number; deadLetters: number; queued: number; turns: number; yields: number } {
    const s = this.scheduler;
    return { actors: this.#live, deadLetters: this.#deadLetters, queued: s.queued, turns: s.turns, yields: s.yields };
  }

  /** Calls `listener` for every dead letter; returns a function that unsubscribes. */
  onDeadLetter(listener: (dl: DeadLetter) => void): () => void {
    this.#deadLetterListeners = [...this.#deadLetterListeners, listener];
    return () => {
      this.#deadLetterListeners = this.#deadLetterListeners.filter((l) => l !== listener);
    };
  }

  /**
   * Stops every actor, one at a time, newest first (children before the parents that spawned them):
   * each is asked to stop with `shutdown`, its `terminate` runs, and if it has not exited within
   * `shutdownTimeoutMs` it is killed before the next one is asked. Supervised actors are stopped by
   * their supervisors, in reverse start order. Afterwards `spawn` throws `SystemShutdownError`.
   * @example
   * process.once('SIGTERM', () => void system.shutdown().then(() => process.exit(0)));
   */
  async shutdown(): Promise<void> {
    this.#closed = true;
    // One at a time, newest first: each actor's terminate has finished (or it was killed after
    // shutdownTimeoutMs) before the next one is asked. A supervised actor is left to its supervisor,
    // which stops it in its own order.
    for (let c = this.#last; c !== undefined; c = this.#last) {
      let next: Cell | undefined = c;
      while (next !== undefined && next.ext?.sup !== undefined) next = next.prev;
      const target = next ?? c;
      const exited = target.whenExited();
      if (next !== undefined) target.signal('shutdown', true);
      let timer: unknown;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = this.clock.setTimeout(() => resolve('timeout'), this.shutdownTimeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      this.clock.clearTimeout(timer);
      if (outcome === 'timeout') {
        const sup = target.ext?.sup;
        if (sup !== undefined) sup.mode = 'final';
        target.retire('killed');
        target.killNow();
      }
    }
  }

  // ---- internal --------------------------------------------------------------------------------

  /** @internal */
  spawnCell(
    behavior: unknown,
    options: SpawnOptions<unknown> | undefined,
    parent: Cell | undefined,
    where: string,
  ): Cell {
    if (this.#closed) throw new SystemShutdownError();
    const impl = toImpl(behavior, where);
    const name = options?.name;
    let naming: { service: NameService<unknown>; key: unknown } | undefined;
    if (name !== undefined) {
      naming =
        typeof name === 'object' && name !== null && 'via' in name
          ? { service: name.via as NameService<unknown>, key: name.key }
          : { service: this.registry, key: name };
      const holder = naming.service.whereis(naming.key);
      if (holder !== undefined) throw new NameTakenError(naming.key, holder);
    }
    let flags = 0;
    const cell = new Cell(this, impl, ++this.#ids, 0, parent);
    if (options !== undefined) {
      if (options.trapExit === true) flags |= F_TRAP;
      if (options.mailbox !== undefined) {
        assertMailboxOptions(options.mailbox, where);
        cell.x().bounded = new Bounded(options.mailbox);
        flags |= F_BOUNDED;
      }
      if (options.label !== undefined) cell.x().label = String(options.label);
      if (options.args !== undefined) cell.x().args = options.args;
      if (options.link === true) {
        if (parent === undefined) throw new TypeError(`${where}: { link: true } needs a spawning actor; use ctx.spawn`);
      }
    }
    this.list(cell);
    if (impl.hasInit) {
      cell.flags = flags | F_INIT | F_SCHEDULED;
      this.scheduler.push(cell);
    } else {
      cell.flags = flags;
    }
    if (options?.link === true && parent !== undefined) parent.link(cell.ref as Ref<never>);
    if (naming !== undefined) naming.service.register(naming.key, cell.ref as Ref<never>);
    if (this.observed) {
      this.emit({
        type: 'spawned',
        ref: cell.ref as Ref<never>,
        parent: parent?.ref as Ref<never> | undefined,
        behavior: impl.name,
      });
    }
    return cell;
  }

  readonly #callTimeouts = new Map<number, TimeoutQueue>();

  /** @internal The timeout queue of calls with this `timeoutMs`. */
  callTimeouts(ms: number): TimeoutQueue {
    let q = this.#callTimeouts.get(ms);
    if (q === undefined) {
      // Forgotten once idle: callers passing a different timeoutMs each time leave nothing behind.
      q = new TimeoutQueue(this.clock, ms, (idle) => {
        if (this.#callTimeouts.get(ms) === idle) this.#callTimeouts.delete(ms);
      });
      this.#callTimeouts.set(ms, q);
    }
    return q;
  }

  /** @internal */
  deadLetter(to: Ref<unknown>, message: unknown, reason: DeadLetterReason, error?: ExitReason): void {
    this.#deadLetters++;
    if (this.observed) this.emit({ type: 'dead_letter', to: to as Ref<never>, message, reason });
    const ls = this.#deadLetterListeners;
    if (ls.length === 0) return;
    const dl: DeadLetter =
      error === undefined
        ? { to: to as Ref<never>, message, reason }
        : { to: to as Ref<never>, message, reason, error };
    for (const l of ls) {
      try {
        l(dl);
      } catch (e) {
        this.logger.error({ err: e }, 'dead-letter listener threw');
      }
    }
  }

  /** @internal */
  reportCrash(cell: Cell, reason: Error, message: unknown, phase: CrashReport['phase']): void {
    const report: CrashReport = {
      actor: cell.describe(),
      id: cell.ref.id,
      label: cell.ext?.label,
      behavior: cell.impl.name,
      phase,
      reason,
      ...(phase === 'receive' ? { message } : {}),
    };
    this.logger.error(report, `actor ${report.actor} crashed in ${phase}: ${describeReason(reason)}`);
  }

  /** @internal */
  nextMonitorId(): MonitorRef {
    return ++this.#monitorIds as MonitorRef;
  }

  /** @internal */
  list(cell: Cell): void {
    this.#live++;
    const last = this.#last;
    cell.prev = last;
    if (last !== undefined) last.next = cell;
    this.#last = cell;
  }

  /** @internal */
  unlist(cell: Cell): void {
    this.#live--;
    const { prev, next } = cell;
    if (prev !== undefined) prev.next = next;
    if (next === undefined) this.#last = prev;
    else next.prev = prev;
    cell.prev = cell.next = undefined;
  }
}
