/**
 * The three ways to write an actor, and the adapters that give the runtime one shape to call.
 *
 * - A function `(msg, ctx) => void`: stateless, or state in a closure.
 * - A behaviour object `{ init?, receive, info?, terminate? }` in the functional style: `receive`
 *   gets the state and returns the next one (returning `undefined` keeps it).
 * - A class extending {@link Actor}: gen_server's shape, state in fields, `init`/`receive`/`terminate`
 *   as methods, the context as `this.ctx`.
 *
 * Any handler may return a promise: the actor takes its next message only after it settles.
 */
import type { ExitReason } from '../exit-reason.js';
import type { Context } from './context.js';
import type { InfoMessage } from './messages.js';
import type { Ref } from './ref.js';

type Maybe<T> = T | Promise<T>;

/** An actor as a single function of its messages. */
export type ReceiveFn<M> = (msg: M, ctx: Context<M>) => void | Promise<void>;

/**
 * An actor in the functional style.
 * @typeParam M the messages it accepts
 * @typeParam S its state; starts as what `init` returns (`undefined` without `init`)
 * @typeParam A what `spawn(behavior, { args })` passes to `init`
 * @example
 * const counter: Behavior<{ type: 'inc' } | { type: 'get'; reply: Reply<number> }, number> = {
 *   init: () => 0,
 *   receive(count, msg) {
 *     switch (msg.type) {
 *       case 'inc': return count + 1;
 *       case 'get': msg.reply(count); return count;
 *     }
 *   },
 * };
 */
export interface Behavior<M, S = undefined, A = undefined> {
  /** Runs before the first message; may be async. A throw fails `start()` with an `InitError`. */
  init?(ctx: Context<M>, args: A): Maybe<S>;
  /** Handles one message; returns the next state (`undefined` keeps the current one). */
  receive(state: S, msg: M, ctx: Context<M>): Maybe<S | undefined | void>;
  /** Handles `EXIT` (when trapping exits) and `DOWN` (from monitors). Ignored when absent. */
  info?(state: S, msg: InfoMessage, ctx: Context<M>): Maybe<S | undefined | void>;
  /** Runs once when the actor stops or crashes (not when killed, not after a failed init). */
  terminate?(state: S, reason: ExitReason, ctx: Context<M>): Maybe<void>;
  /** What `inspect()` and the observer call the behaviour. Default `'behavior'`. */
  readonly name?: string;
  /**
   * A one-line summary of the state, for `inspect({ summaries: true })` and the observer: the only
   * way an actor's state is shown (without it, none is). Keep it short and cheap; it is called only
   * when someone asks.
   */
  summary?(state: S): string;
}

/**
 * An actor as a class, in gen_server's shape. `this.ctx` is set before `init` runs (it is not
 * available in the constructor). The constructor takes no arguments: pass them via `init(args)`.
 * @example
 * type CounterMsg = { type: 'inc' } | { type: 'get'; reply: Reply<number> };
 * class Counter extends Actor<CounterMsg> {
 *   count = 0;
 *   receive(msg: CounterMsg) {
 *     if (msg.type === 'inc') this.count++;
 *     else msg.reply(this.count);
 *   }
 * }
 * const ref = system.spawn(Counter);
 */
export abstract class Actor<M, A = undefined> {
  /** The actor's context: self, spawn, link, monitor, timers. Set before `init`. */
  declare readonly ctx: Context<M>;

  /** This actor's own ref. */
  get self(): Ref<M> {
    return this.ctx.self;
  }

  /** Runs before the first message; may be async. A throw fails `start()` with an `InitError`. */
  init?(args: A): Maybe<void>;
  /** Handles one message. */
  abstract receive(msg: M): Maybe<void>;
  /** Handles `EXIT` (when trapping exits) and `DOWN` (from monitors). Ignored when absent. */
  info?(msg: InfoMessage): Maybe<void>;
  /** Runs once when the actor stops or crashes (not when killed, not after a failed init). */
  terminate?(reason: ExitReason): Maybe<void>;
  /** A one-line summary of the actor's state, for `inspect({ summaries: true })` and the observer. */
  summary?(): string;
}

/** A concrete subclass of {@link Actor}. */
export type ActorClass<M, A = undefined> = new () => Actor<M, A>;

/** Anything `spawn` accepts. */
export type Spawnable<M, S = unknown, A = undefined> = ReceiveFn<M> | Behavior<M, S, A> | ActorClass<M, A>;

/** The context an adapter needs to run a behaviour; implemented by the runtime's actor cell. */
export interface Host {
  state: unknown;
  /**
   * Changes when the actor dies or a supervisor ends its incarnation: a promise that settles later
   * must not write its state into a dead actor or into the next incarnation.
   */
  incarnation(): number;
  /**
   * Whether a handler that just returned may set the state: not if the actor died or ended its
   * incarnation during it (`ctx.kill()` on itself, say), whose state is its exit reason then.
   */
  takesState(): boolean;
}

/**
 * @internal The uniform shape the scheduler calls. Each method returns `undefined` when it finished
 * synchronously, or a promise that settles when it is done.
 */
export interface Impl {
  readonly hasInit: boolean;
  readonly hasTerminate: boolean;
  readonly name: string;
  init(host: Host, ctx: Context<unknown>, args: unknown): PromiseLike<unknown> | undefined;
  receive(host: Host, msg: unknown, ctx: Context<unknown>): PromiseLike<unknown> | undefined;
  info(host: Host, msg: InfoMessage, ctx: Context<unknown>): PromiseLike<unknown> | undefined;
  terminate(host: Host, reason: ExitReason, ctx: Context<unknown>): PromiseLike<unknown> | undefined;
  /** Hot upgrade: the state this behaviour runs on, from what `migrate` returned. */
  adopt(ctx: Context<unknown>, migrated: unknown): unknown;
  /** The behaviour's summary of `state`, or undefined when it has none. */
  summary(state: unknown): string | undefined;
  /** What was spawned. */
  readonly source: unknown;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v !== null &&
    (typeof v === 'object' || typeof v === 'function') &&
    typeof (v as { then?: unknown }).then === 'function'
  );
}

class FnImpl implements Impl {
  readonly hasInit = false;
  readonly hasTerminate = false;
  readonly name: string;
  constructor(readonly source: ReceiveFn<unknown>) {
    this.name = source.name || 'anonymous';
  }
  summary(): undefined {
    return undefined;
  }
  init(): undefined {
    return undefined;
  }
  receive(_host: Host, msg: unknown, ctx: Context<unknown>): PromiseLike<unknown> | undefined {
    const r = this.source(msg, ctx);
    return isThenable(r) ? r : undefined;
  }
  info(): undefined {
    return undefined;
  }
  terminate(): undefined {
    return undefined;
  }
  adopt(_ctx: Context<unknown>, migrated: unknown): unknown {
    return migrated;
  }
}

function keepState(host: Host, r: unknown): PromiseLike<unknown> | undefined {
  if (r === undefined) return undefined;
  if (isThenable(r)) {
    const incarnation = host.incarnation();
    return r.then((s) => {
      if (s !== undefined && host.incarnation() === incarnation) host.state = s;
    });
  }
  if (host.takesState()) host.state = r;
  return undefined;
}

class ObjectImpl implements Impl {
  readonly hasInit: boolean;
  readonly hasTerminate: boolean;
  readonly name: string;
  constructor(readonly source: Behavior<unknown, unknown, unknown>) {
    this.hasInit = typeof source.init === 'function';
    this.hasTerminate = typeof source.terminate === 'function';
    this.name = typeof source.name === 'string' && source.name !== '' ? source.name : 'behavior';
  }
  summary(state: unknown): string | undefined {
    return this.source.summary?.(state);
  }
  init(host: Host, ctx: Context<unknown>, args: unknown): PromiseLike<unknown> | undefined {
    const r = (this.source.init as NonNullable<Behavior<unknown, unknown, unknown>['init']>)(ctx, args);
    if (isThenable(r)) {
      const incarnation = host.incarnation();
      return r.then((s) => {
        if (host.incarnation() === incarnation) host.state = s;
      });
    }
    if (host.takesState()) host.state = r;
    return undefined;
  }
  receive(host: Host, msg: unknown, ctx: Context<unknown>): PromiseLike<unknown> | undefined {
    return keepState(host, this.source.receive(host.state, msg, ctx));
  }
  info(host: Host, msg: InfoMessage, ctx: Context<unknown>): PromiseLike<unknown> | undefined {
    const fn = this.source.info;
    return fn === undefined ? undefined : keepState(host, fn.call(this.source, host.state, msg, ctx));
  }
  terminate(host: Host, reason: ExitReason, ctx: Context<unknown>): PromiseLike<unknown> | undefined {
    const r = this.source.terminate?.(host.state, reason, ctx);
    return isThenable(r) ? r : undefined;
  }
  adopt(_ctx: Context<unknown>, migrated: unknown): unknown {
    return migrated;
  }
}

type AnyActor = Actor<unknown, unknown> & { ctx: Context<unknown> };

class ClassImpl implements Impl {
  readonly hasInit = true;
  readonly hasTerminate: boolean;
  readonly name: string;
  constructor(readonly source: ActorClass<unknown, unknown>) {
    this.hasTerminate = typeof source.prototype.terminate === 'function';
    this.name = source.name || 'Actor';
  }
  summary(state: unknown): string | undefined {
    const instance = state as AnyActor | undefined;
    return typeof instance?.summary === 'function' ? instance.summary() : undefined;
  }
  private create(ctx: Context<unknown>): AnyActor {
    const instance = new this.source() as AnyActor;
    Object.defineProperty(instance, 'ctx', { value: ctx, enumerable: false });
    return instance;
  }
  /** A fresh instance of the new class, with the migrated fields (by default the old instance's own fields). */
  adopt(ctx: Context<unknown>, migrated: unknown): unknown {
    const instance = this.create(ctx);
    if (migrated !== null && typeof migrated === 'object') Object.assign(instance, migrated);
    return instance;
  }
  init(host: Host, ctx: Context<unknown>, args: unknown): PromiseLike<unknown> | undefined {
    const instance = this.create(ctx);
    host.state = instance;
    const r = instance.init?.(args);
    return isThenable(r) ? r : undefined;
  }
  receive(host: Host, msg: unknown): PromiseLike<unknown> | undefined {
    const r = (host.state as AnyActor).receive(msg);
    return isThenable(r) ? r : undefined;
  }
  info(host: Host, msg: InfoMessage): PromiseLike<unknown> | undefined {
    const r = (host.state as AnyActor).info?.(msg);
    return isThenable(r) ? r : undefined;
  }
  terminate(host: Host, reason: ExitReason): PromiseLike<unknown> | undefined {
    const r = (host.state as AnyActor | undefined)?.terminate?.(reason);
    return isThenable(r) ? r : undefined;
  }
}

/** @internal Builds the adapter for anything `spawn` accepts; throws a teaching error otherwise. */
export function toImpl(b: unknown, where: string): Impl {
  // Adapters hold nothing per actor: one per behaviour, made on first spawn.
  if ((typeof b === 'function' || typeof b === 'object') && b !== null) {
    const cached = impls.get(b);
    if (cached !== undefined) return cached;
    const made = makeImpl(b, where);
    impls.set(b, made);
    return made;
  }
  return makeImpl(b, where);
}

const impls = new WeakMap<object, Impl>();

function makeImpl(b: unknown, where: string): Impl {
  if (typeof b === 'function') {
    if (b.prototype instanceof Actor) return new ClassImpl(b as ActorClass<unknown, unknown>);
    if (b.prototype !== undefined && /^class[\s{]/.test(Function.prototype.toString.call(b))) {
      throw new TypeError(`${where}: class ${b.name} must extend Actor from 'troupe' to be spawned`);
    }
    return new FnImpl(b as ReceiveFn<unknown>);
  }
  if (b !== null && typeof b === 'object' && typeof (b as { receive?: unknown }).receive === 'function') {
    return new ObjectImpl(b as Behavior<unknown, unknown, unknown>);
  }
  throw new TypeError(
    `${where}: expected a function (msg, ctx) => void, a behaviour object with a receive(state, msg, ctx) method, or a class extending Actor; got ${
      b === null ? 'null' : typeof b
    }`,
  );
}

export { isThenable };
