/**
 * The actor system: the public face of one runtime. It spawns and stops actors, sends exit signals,
 * watches, names, timers, upgrades, inspection, events and dead letters, and it shuts every actor
 * down in reverse spawn order. Most programs create one. What it owns lives in modules of its own
 * beside this file (`runtime.ts` and the parts it holds); this file is the API and the lifecycle.
 */
import type { ActorClass, Behavior, ReceiveFn } from '../actor/behavior.js';
import type { Spawner, SpawnOptions } from '../actor/context.js';
import type { SystemEvent } from '../actor/events.js';
import {
  addMonitor,
  Cell,
  cellOf,
  exitSignal,
  kill,
  queueSignal,
  remoteActors,
  remoteDown,
  requestUpgrade,
  retire,
  toImpl,
} from '../actor/internal.js';
import type { Key, PlainName, RegisterResult } from '../actor/names.js';
import type { Ref } from '../actor/ref.js';
import type { DistributionHooks, DistributionLayer } from '../actor/remote.js';
import type { UpgradeResult } from '../actor/upgrade.js';
import type { ExitReason } from '../exit-reason.js';
import { assertReason, describeReason } from '../exit-reason.js';
import { type ActorInfo, infoOf, relationsOf, type SystemSnapshot, snapshot } from '../introspection/inspect.js';
import { consoleLogger, type Logger } from '../logger.js';
import type { UniqueRegistry } from '../registry/registry.js';
import type { Scheduler, SchedulerOptions } from '../scheduler/scheduler.js';
import { Child } from '../supervisor/child.js';
import { SUPERVISOR_BEHAVIOR } from '../supervisor/child-spec.js';
import { shouldRestart } from '../supervisor/core.js';
import { type Clock, realClock } from '../timers/clock.js';
import { assertDelay, assertInterval, Timer } from '../timers/timer.js';
import type { DeadLetter } from './dead-letters.js';
import { SystemRuntime } from './runtime.js';

/** Erlang's name for the node of a system that is not distributed. */
const NO_NODE = 'nonode@nohost';

/** @internal The runtime behind a system, for the runtime's own modules (`troupe/testing`). */
export let runtimeOf: (system: ActorSystem) => SystemRuntime;

declare module '../actor/context.js' {
  // `ctx.system` is the `ActorSystem` the actor runs in (documented where SystemHandle is declared).
  interface SystemHandle extends ActorSystem {}
}

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
  /** Time source for timers and call timeouts. */
  readonly clock: Clock;
  /** Where crash reports and runtime warnings go. */
  readonly logger: Logger;
  /** How long `shutdown` waits for each actor's `terminate` before killing it. */
  readonly shutdownTimeoutMs: number;
  /** Registered names (the `name` spawn option, `register`, `whereis`). */
  readonly registry: UniqueRegistry<unknown, unknown>;
  readonly #runtime: SystemRuntime;
  #distribution: DistributionLayer | undefined = undefined;

  static {
    runtimeOf = (system) => system.#runtime;
  }

  constructor(options: SystemOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? consoleLogger;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
    this.#runtime = new SystemRuntime(this, this.clock, this.logger, options.scheduler);
    this.registry = this.#runtime.registry;
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
    return this.#runtime.spawn(behavior, options, undefined, 'system.spawn');
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
      cell = this.#runtime.spawn(behavior, options, undefined, 'system.start');
    } catch (e) {
      return Promise.reject(e);
    }
    return cell.whenStarted().then(() => cell);
  }

  /**
   * Asks the actor to stop after its current message: `terminate` runs, links and monitors see
   * `reason` (default `normal`). Resolves with the reason it exited with once it is dead (at once
   * for a dead actor). Messages still queued go to dead letters.
   *
   * A supervised child stops for good only if its supervisor would not restart it after `reason`
   * (a `temporary` child, or a `transient` one stopped with a clean reason). For a child its
   * supervisor would restart (a `permanent` one; a `transient` one with an abnormal reason) the
   * promise rejects at once with a `TypeError` and nothing happens: such a stop would only restart
   * the child in place, and the promise would never settle. Use `terminateChild` to stop a child for
   * good, and `kill` to make it restart.
   * @example
   * const reason = await system.stop(worker); // 'normal'
   * await system.stop(cache, { shutdown: 'maintenance' });
   */
  stop(ref: Ref<never>, reason: ExitReason = 'normal'): Promise<ExitReason> {
    assertReason(reason, 'system.stop(ref, reason)');
    if (!(ref instanceof Cell) && this.#runtime.remote?.owns(ref) === true) {
      return Promise.reject(
        new TypeError(
          `system.stop: ${String(ref)} runs on node '${ref.node}'; stop it there, or send it an exit signal: system.exit(ref, 'shutdown')`,
        ),
      );
    }
    const cell = cellOf(ref, 'system.stop');
    const hook = cell.hook;
    if (hook instanceof Child && cell.alive && hook.whenEnded !== 'die' && shouldRestart(hook.spec.restart, reason)) {
      return Promise.reject(new TypeError(restartedByItsSupervisor(cell, hook, reason)));
    }
    const done = cell.whenExited();
    queueSignal(cell, reason, 'stop');
    return done;
  }

  /**
   * Kills the actor at once: untrappable, no `terminate`; links and monitors see `killed`.
   * @example
   * system.kill(stuck); // stuck.alive is false from here on
   */
  kill(ref: Ref<never>): void {
    if (!(ref instanceof Cell)) remoteActors(this.#runtime, ref, 'system.kill').exit(undefined, ref, 'kill');
    else kill(cellOf(ref, 'system.kill'));
  }

  /**
   * Sends an exit signal from outside any actor (OTP's `exit/2`); see `Context.exit`. There is no
   * sending actor, so a trapping target's `EXIT` message names the target itself as `from`. An
   * actor on another node gets the signal there, by the same rules.
   * @example
   * system.exit(worker, 'shutdown'); // dies with shutdown, or gets an EXIT message if it traps exits
   */
  exit(ref: Ref<never>, reason: ExitReason): void {
    assertReason(reason, 'system.exit(ref, reason)');
    if (!(ref instanceof Cell)) {
      remoteActors(this.#runtime, ref, 'system.exit').exit(undefined, ref, reason);
      return;
    }
    const cell = cellOf(ref, 'system.exit');
    exitSignal(cell, cell, reason);
  }

  /**
   * Resolves with the actor's exit reason once it has exited (at once for an actor already dead).
   * @example
   * const reason = await system.exited(job);
   * if (!isCleanExit(reason)) console.error(`job failed: ${describeReason(reason)}`);
   */
  exited(ref: Ref<never>): Promise<ExitReason> {
    if (!(ref instanceof Cell)) {
      try {
        remoteActors(this.#runtime, ref, 'system.exited');
      } catch (e) {
        return Promise.reject(e);
      }
      return new Promise((resolve) => this.monitor(ref, (reason) => resolve(reason)));
    }
    return cellOf(ref, 'system.exited').whenExited();
  }

  /**
   * Monitors an actor from outside any actor, as `ctx.monitor` does from inside one: calls
   * `onDown(reason, ref)` once when the actor exits (`noproc` at once if it is already dead).
   * Returns a function that removes the monitor. One `onDown` can serve many actors: it is told
   * which one exited. An actor on another node is watched through the cluster: `noconnection` if
   * its node goes down.
   * @example
   * const demonitor = system.monitor(worker, (reason) => console.log(`worker exited: ${describeReason(reason)}`));
   * demonitor(); // no longer interested
   */
  monitor(ref: Ref<never>, onDown: (reason: ExitReason, ref: Ref<never>) => void): () => void {
    if (typeof onDown !== 'function') throw new TypeError('system.monitor(ref, onDown): onDown must be a function');
    if (!(ref instanceof Cell)) {
      const remote = remoteActors(this.#runtime, ref, 'system.monitor');
      const id = this.#runtime.nextMonitorId();
      remote.monitor(id, onDown, ref);
      return () => remote.demonitor(id, ref);
    }
    const m = addMonitor(cellOf(ref, 'system.monitor'), onDown as (reason: ExitReason, ref: Cell) => void);
    return typeof m === 'number' ? () => {} : () => void m.remove();
  }
  /**
   * @deprecated The same as {@link ActorSystem.monitor}, by its old name: monitors are `monitor`
   * inside actors (`ctx.monitor`) and outside them.
   */
  watch(ref: Ref<never>, onDown: (reason: ExitReason, ref: Ref<never>) => void): () => void {
    return this.monitor(ref, onDown);
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
    assertInterval(ms, 'system.sendInterval(ref, msg, ms)');
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
  register<M>(name: Key<M>, ref: Ref<M>): RegisterResult<unknown>;
  register(name: PlainName, ref: Ref<never>): RegisterResult<unknown>;
  register(name: unknown, ref: Ref<never>): RegisterResult<unknown> {
    return this.registry.register(name, ref);
  }

  /** Removes a name. Returns false if it was not registered. */
  unregister(name: unknown): boolean {
    return this.registry.unregister(name);
  }

  /**
   * The live actor registered under `name`, or undefined; never a dead one. With a typed `Key<M>`
   * the ref is a `Ref<M>`; with a plain name it is any actor's (`Ref<never>`). Names match by value
   * (`['user', 42]` finds what `['user', 42]` registered).
   * @example
   * const CACHE = key<CacheMsg>('cache');
   * system.whereis(CACHE)?.send({ type: 'clear' });
   */
  whereis<M>(name: Key<M>): Ref<M> | undefined;
  /** By a plain name: any actor's ref (`Ref<never>`), to link or monitor; to send, use a `Key<M>`. */
  whereis(name: PlainName): Ref<never> | undefined;
  whereis(name: unknown): Ref<never> | undefined {
    return this.registry.whereis(name);
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
    return this.#runtime.events.subscribe(listener);
  }

  /**
   * A snapshot of every live actor as a tree (see {@link ActorInfo}), with dead-letter counts. With
   * `summaries`, each actor whose behaviour has a `summary` carries its one-line summary of its state.
   * @example console.dir(system.inspect(), { depth: null });
   */
  inspect(options: { readonly summaries?: boolean } = {}): SystemSnapshot {
    const rt = this.#runtime;
    return snapshot(rt.live.toArray(), rt.deadLetters.count, this.clock.now(), rt.registry, options.summaries === true);
  }

  /**
   * Visits every live actor, newest first, with the actor that spawned it (undefined for a root: none,
   * or no longer alive), its mailbox length and the messages it has handled, and returns how many it
   * visited. Unlike `inspect()` it builds nothing: a sampler that looks at every actor often (the
   * observer) walks 20,000 actors in about a millisecond. `visit` must not spawn or stop actors.
   * @example
   * let deepest = 0;
   * system.survey((_ref, _spawner, mailbox) => { deepest = Math.max(deepest, mailbox); });
   */
  survey(visit: (ref: Ref<never>, spawner: Ref<never> | undefined, mailbox: number, handled: number) => void): number {
    let n = 0;
    for (let c = this.#runtime.live.last; c !== undefined; c = c.prev) {
      const p = c.spawner;
      visit(c as Ref<never>, p?.alive ? (p as Ref<never>) : undefined, c.mailboxSize(), c.handled);
      n++;
    }
    return n;
  }

  /**
   * One live local actor as `inspect()` shows it, without its children (`children` is empty), or
   * undefined when it is not alive here. With `summaries`, its behaviour's summary of its state; with
   * `relations`, its links and monitors (`relations`).
   * @example const info = system.describe(ref, { summaries: true, relations: true });
   */
  describe(
    ref: Ref<never>,
    options: { readonly summaries?: boolean; readonly relations?: boolean } = {},
  ): ActorInfo | undefined {
    if (!(ref instanceof Cell) || !ref.alive || ref.runtime !== this.#runtime) return undefined;
    const info = infoOf(ref, this.clock.now(), this.#runtime.registry, options.summaries === true);
    if (options.relations === true) info.relations = relationsOf(ref);
    return info;
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
    return new Promise((done) => requestUpgrade(cell, { impl, migrate, done }));
  }

  /**
   * This system's node name: `'nonode@nohost'` (as Erlang's) until a distribution layer such as
   * `@troupe/cluster` names it.
   */
  get node(): string {
    return this.#distribution?.node ?? NO_NODE;
  }

  /**
   * The other nodes this system can reach, as its distribution layer knows them (Erlang's
   * `nodes()`): empty for a system that never joined a cluster.
   * @example
   * system.subscribe((e) => {
   *   if (e.type === 'nodedown') console.log(`${e.node} is gone (${e.reason}); left: ${system.nodes()}`);
   * });
   */
  nodes(): readonly string[] {
    return this.#distribution?.nodes() ?? [];
  }

  /**
   * For a distribution layer (`@troupe/cluster`), not for applications: names this system's node,
   * answers `nodes()`, carries the refs it makes to actors on other nodes (`layer.remote`), and
   * returns the hooks through which the layer tells the system what happened elsewhere: a node came
   * up or went down, a remote actor sent an exit signal or went down. One layer at a time: a second
   * attach throws until `detach()`.
   */
  attachDistribution(layer: DistributionLayer): DistributionHooks {
    if (this.#distribution !== undefined) {
      throw new Error(
        `system.attachDistribution: this system is already node '${this.#distribution.node}'; detach it first`,
      );
    }
    if (
      layer === null ||
      typeof layer !== 'object' ||
      typeof layer.node !== 'string' ||
      typeof layer.nodes !== 'function'
    ) {
      throw new TypeError('system.attachDistribution(layer): layer must be { node: string, nodes(): string[] }');
    }
    this.#distribution = layer;
    const rt = this.#runtime;
    rt.remote = layer.remote;
    let attached = true;
    /** A live local actor of this system, or undefined. */
    const local = (ref: Ref<never>): Cell | undefined =>
      ref instanceof Cell && ref.runtime === rt && ref.alive ? ref : undefined;
    return {
      nodeUp: (node) => {
        if (attached && rt.observed) rt.emit({ type: 'nodeup', node });
      },
      nodeDown: (node, reason) => {
        if (attached && rt.observed) rt.emit({ type: 'nodedown', node, reason });
      },
      exitSignal: (to, from, reason) => {
        const cell = local(to);
        if (cell === undefined) return false;
        if (reason === 'kill') kill(cell);
        else exitSignal(cell, from, reason);
        return true;
      },
      down: (watcher, id, remote, reason) => {
        const cell = local(watcher);
        if (cell !== undefined) remoteDown(cell, id, remote, reason);
      },
      undelivered: (to, message, reason) => rt.deadLetter(to as Ref<unknown>, message, reason),
      detach: () => {
        if (!attached) return;
        attached = false;
        if (this.#distribution === layer) {
          this.#distribution = undefined;
          rt.remote = undefined;
        }
      },
    };
  }

  /**
   * Calls `fn` each time the scheduler finishes a batch of work, before the event loop runs again.
   * Output that actors write during a batch can be flushed here in one go (the uWebSockets.js
   * adapter corks each socket once per batch). Returns a function that removes it.
   */
  onDrained(fn: () => void): () => void {
    return this.#runtime.scheduler.onDrained(fn);
  }

  /**
   * How long, in milliseconds of real time (`performance.now()`, not the system's clock), the
   * scheduler has had work without once running dry; 0 while idle. A server that keeps up drains its
   * queue every event-loop iteration or so; a backlog that lasts for hundreds of milliseconds means
   * messages arrive faster than actors handle them: the signal to shed load (refuse new work
   * cheaply at the edge) before mailboxes grow without bound.
   */
  get backlogMs(): number {
    return this.#runtime.scheduler.backlogMs;
  }

  /** Counts of live actors, dead letters and scheduler work. */
  stats(): { actors: number; deadLetters: number; queued: number; turns: number; yields: number } {
    const rt = this.#runtime;
    const s = rt.scheduler;
    return {
      actors: rt.live.count,
      deadLetters: rt.deadLetters.count,
      queued: s.queued,
      turns: s.turns,
      yields: s.yields,
    };
  }

  /** Calls `listener` for every dead letter; returns a function that unsubscribes. */
  onDeadLetter(listener: (dl: DeadLetter) => void): () => void {
    return this.#runtime.deadLetters.listen(listener);
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
    const live = this.#runtime.live;
    this.#runtime.closed = true;
    // One at a time, newest first: each actor's terminate has finished (or it was killed after
    // shutdownTimeoutMs) before the next one is asked. A supervised actor is left to its supervisor,
    // which stops it in its own order.
    for (let c = live.last; c !== undefined; c = live.last) {
      let next: Cell | undefined = c;
      while (next !== undefined && next.hook !== undefined) next = next.prev;
      const target = next ?? c;
      const exited = target.whenExited();
      if (next !== undefined) queueSignal(target, 'shutdown', 'stop');
      let timer: unknown;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = this.clock.setTimeout(() => resolve('timeout'), this.shutdownTimeoutMs);
      });
      const outcome = await Promise.race([exited, timedOut]);
      this.clock.clearTimeout(timer);
      if (outcome === 'timeout') {
        const hook = target.hook;
        if (hook !== undefined) hook.whenEnded = 'die';
        retire(target, 'killed');
        kill(target);
      }
    }
    // Crash reports still waiting for the check phase are written before shutdown resolves.
    this.#runtime.scheduler.runLaters();
  }
}

/** Why `system.stop` refuses a child its supervisor would restart, and what to use instead. */
function restartedByItsSupervisor(cell: Cell, child: Child, reason: ExitReason): string {
  const source = child.supervisor.impl.source;
  const dynamic =
    typeof source === 'object' &&
    source !== null &&
    (source as Record<symbol, unknown>)[SUPERVISOR_BEHAVIOR] === 'dynamic';
  const restart = child.spec.restart;
  const why =
    restart === 'permanent'
      ? 'which restarts it in place whatever its exit reason'
      : `which restarts it in place after an abnormal exit such as ${describeReason(reason)}`;
  return (
    `system.stop(ref): ${cell} is a ${restart} child of the supervisor ${child.supervisor}, ${why}, so it would ` +
    'never stop for good and this promise would never settle. Stop it for good with ' +
    `terminateChild(sup, ${dynamic ? 'ref' : `'${child.id}'`})${restart === 'transient' ? " or with a clean reason ('normal', 'shutdown')" : ''}; ` +
    'to make it restart, kill it (system.kill(ref))'
  );
}

/** @internal The scheduler of a system (tests drain it by hand). */
export function schedulerOf(system: ActorSystem): Scheduler {
  return runtimeOf(system).scheduler;
}
