/**
 * What an actor can do from inside its handlers: its own ref, spawning, links, monitors, trapping
 * exits, timers. Function and object behaviours get it as `ctx`; class actors as `this.ctx`.
 */
import type { ExitReason } from '../exit-reason.js';
import type { MailboxOptions } from '../mailbox/bounded.js';
import type { Timer } from '../timers/timer.js';
import type { ActorClass, Behavior, ReceiveFn } from './behavior.js';
import type { MonitorRef } from './messages.js';
import type { Name } from './names.js';
import type { Ref } from './ref.js';

/**
 * The system an actor runs in, as `ctx.system` gives it: the `ActorSystem` class with all of its
 * public API. It is declared empty here and completed where the class is defined (`system.ts`
 * adds `ActorSystem` as its base), so that this layer does not import the system above it.
 */
// biome-ignore lint/suspicious/noEmptyInterface: completed by declaration merging in system/system.ts.
export interface SystemHandle {}

/** Options of `spawn` and `start`. Every field is optional. */
export interface SpawnOptions<A = undefined> {
  /** Passed to `init`. */
  readonly args?: A;
  /** Link the new actor to the spawning one (only from `ctx.spawn`). Default false. */
  readonly link?: boolean;
  /** Start with exits trapped. Default false. */
  readonly trapExit?: boolean;
  /** Bound the mailbox. Default: unbounded. */
  readonly mailbox?: MailboxOptions;
  /** A label for logs and introspection (not a registered name). */
  readonly label?: string;
  /**
   * Register the actor under this name in the system registry (a string, a typed `Key`, or a
   * structured key such as `['user', 42]`), or in another naming service with `{ via, key }`. If the
   * name is taken, spawn throws `NameTakenError` and nothing is started.
   */
  readonly name?: Name;
}

/** The spawning verbs shared by the system and every context. */
export interface Spawner {
  /**
   * Starts an actor and returns its ref at once. `init`, if any, runs before its first message;
   * if it fails, the actor exits with the error (links and monitors see it).
   */
  spawn<M>(behavior: ReceiveFn<M>, options?: SpawnOptions): Ref<M>;
  spawn<M, S, A = undefined>(behavior: Behavior<M, S, A>, options?: SpawnOptions<A>): Ref<M>;
  spawn<M, A = undefined>(behavior: ActorClass<M, A>, options?: SpawnOptions<A>): Ref<M>;
  /**
   * Starts an actor and resolves once its `init` has finished; rejects with an `InitError` when
   * `init` throws or rejects (the actor is then dead).
   */
  start<M>(behavior: ReceiveFn<M>, options?: SpawnOptions): Promise<Ref<M>>;
  start<M, S, A = undefined>(behavior: Behavior<M, S, A>, options?: SpawnOptions<A>): Promise<Ref<M>>;
  start<M, A = undefined>(behavior: ActorClass<M, A>, options?: SpawnOptions<A>): Promise<Ref<M>>;
}

/** An actor's view of the runtime. */
export interface Context<M> extends Spawner {
  /** This actor's ref. */
  readonly self: Ref<M>;
  /** The system the actor runs in (an `ActorSystem`). */
  readonly system: SystemHandle;
  /** The actor that spawned this one, if any. */
  readonly parent: Ref<never> | undefined;
  /**
   * Links this actor and `ref` both ways. When either exits abnormally, the other gets the exit
   * signal: it dies with the same reason, or gets an `EXIT` message if it traps exits. A `normal`
   * exit does not kill. Linking to a dead actor delivers `noproc` at once.
   * @example
   * case 'adopt':
   *   ctx.link(msg.worker); // if the worker crashes, so does this actor (unless it traps exits)
   *   return;
   */
  link(ref: Ref<never>): void;
  /** Removes a link, both ways. No-op without one. */
  unlink(ref: Ref<never>): void;
  /**
   * Watches `ref`: one `DOWN` message arrives when it exits (`noproc` if it is already dead).
   * @example
   * receive(state, msg, ctx) {
   *   if (msg.type === 'watch') ctx.monitor(msg.target);
   * },
   * info(state, msg) {
   *   if (msg.type === 'DOWN') console.log(`${msg.actor} exited: ${describeReason(msg.reason)}`);
   * },
   */
  monitor(ref: Ref<never>): MonitorRef;
  /** Stops a monitor; returns `false` if it had already fired or did not exist. */
  demonitor(monitor: MonitorRef): boolean;
  /**
   * Turns exit signals into `EXIT` messages (`on`, default true) or back into deaths.
   * @example
   * init(ctx) {
   *   ctx.trapExit(); // a linked worker's crash arrives as an EXIT message in `info`
   *   return [];
   * },
   */
  trapExit(on?: boolean): void;
  /**
   * Sends an exit signal to `ref` (OTP's `exit/2`): a trapping target gets an `EXIT` message; a
   * non-trapping one dies with `reason` unless it is `normal`. Use `kill` for an untrappable stop.
   * @example
   * ctx.exit(worker, 'shutdown'); // the EXIT message a trapping worker gets names this actor as `from`
   */
  exit(ref: Ref<never>, reason: ExitReason): void;
  /** Kills `ref` (or this actor) at once: untrappable, no `terminate`; links see `killed`. */
  kill(ref?: Ref<never>): void;
  /**
   * Stops this actor after the current message: `terminate` runs, links and monitors see `reason`
   * (default `normal`).
   * @example
   * case 'quit':
   *   ctx.stop(); // or ctx.stop({ shutdown: 'idle' })
   *   return state;
   */
  stop(reason?: ExitReason): void;
  /**
   * Sends `msg` to `ref` after `ms`. Cancelled if this actor exits first.
   * @example
   * const timer = ctx.sendAfter(ctx.self, { type: 'timeout' }, 5_000);
   * return { ...state, timer }; // timer.cancel() when the answer comes first
   */
  sendAfter<T>(ref: Ref<T>, msg: T, ms: number): Timer;
  /**
   * Sends `msg` to `ref` every `ms` until cancelled or this actor exits.
   * @example
   * init(ctx) {
   *   ctx.sendInterval(ctx.self, { type: 'tick' }, 1_000);
   *   return { ticks: 0 };
   * },
   */
  sendInterval<T>(ref: Ref<T>, msg: T, ms: number): Timer;
}
