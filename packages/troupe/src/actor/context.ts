/**
 * What an actor can do from inside its handlers: its own ref, spawning, links, monitors, trapping
 * exits, timers. Function and object behaviours get it as `ctx`; class actors as `this.ctx`.
 */
import type { ExitReason } from '../exit-reason.js';
import type { MailboxOptions } from '../mailbox/bounded.js';
import type { Timer } from '../timers/timer.js';
import type { ActorClass, Behavior, ReceiveFn } from './behavior.js';
import type { InfoMessage, MonitorRef } from './messages.js';
import type { Name } from './names.js';
import type { Outcome } from './pipe.js';
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
  /**
   * Sends the actor `toMessage(outcome)` when `promise` settles (Akka's `pipeToSelf`; Elixir's
   * `Task` and `handle_info`): the actor goes on taking mail meanwhile, and the result comes back as
   * a message, so that only handlers change the state. The message goes to the actor's ref, so
   * after a restart in place the new incarnation gets it; after death it is a dead letter. A
   * `toMessage` that throws is logged, and nothing is sent.
   * @example
   * case 'load':
   *   ctx.pipeToSelf(fetchUser(msg.id), (r) => (r.ok ? { type: 'loaded', user: r.value } : { type: 'failed', error: r.error }));
   *   return state;
   */
  pipeToSelf<T>(promise: PromiseLike<T>, toMessage: (outcome: Outcome<T>) => M): void;
  /**
   * Sends the actor `msg` after `ms` (finite, > 0) without a message, and again after every further
   * idle `ms` (GenServer's timeout; Akka's `setReceiveTimeout`). Every message it takes counts as
   * activity, and so does the time an async handler runs (the idle period starts when it settles);
   * setting it again replaces it. A restart drops it: set it in `init`.
   * @example
   * init(ctx) {
   *   ctx.setReceiveTimeout(60_000, { type: 'idle' }); // then: case 'idle': ctx.stop();
   *   return {};
   * },
   */
  setReceiveTimeout(ms: number, msg: M): void;
  /** Cancels the receive timeout; `false` if none was set. */
  cancelReceiveTimeout(): boolean;
  /**
   * Starts the timer `key`: `msg` to this actor after `ms`. A timer started with a key that has one
   * replaces it, and a replaced or cancelled timer never delivers, even when its message is already
   * queued (Akka's `TimerScheduler`). A restart cancels every keyed timer.
   * @example
   * ctx.startTimer('retry', { type: 'retry' }, 1_000); // again: the old 'retry' is gone
   */
  startTimer(key: unknown, msg: M, ms: number): void;
  /** Like `startTimer`, then every `ms` (finite, > 0) until cancelled. */
  startIntervalTimer(key: unknown, msg: M, ms: number): void;
  /** Cancels the timer `key` and any of its messages already queued; `false` if it was not active. */
  cancelTimer(key: unknown): boolean;
  /** Whether the timer `key` will still deliver (a one-shot that fired, until its message is taken). */
  isTimerActive(key: unknown): boolean;
  /**
   * Puts a message aside until `unstashAll()` (Akka's stash): for an actor that must wait for
   * something (a connection, a reply) before it takes some of its mail. Throws a `RangeError` past
   * 10,000 stashed messages, which crashes the actor.
   * @example
   * receive(state, msg, ctx) {
   *   if (!state.connected && msg.type === 'query') { ctx.stash(msg); return state; }
   *   if (msg.type === 'connected') { ctx.unstashAll(); return { ...state, connected: true }; }
   * },
   */
  stash(msg: M | InfoMessage): void;
  /** Puts every stashed message back at the front of the mailbox, in stash order; returns how many. */
  unstashAll(): number;
  /** How many messages are stashed. */
  readonly stashed: number;
}
