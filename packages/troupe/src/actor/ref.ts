/**
 * `Ref<M>`: the address of an actor that accepts messages of type `M`. It is all a holder can do
 * with an actor: send, call, compare ids. It never exposes the actor's state or behaviour, so the
 * same ref can later stand for an actor in another process. `Ref` is contravariant in `M`: a
 * `Ref<A | B>` can be used where a `Ref<A>` is expected, never the other way round, and `Ref<never>`
 * is "any actor" (for links and monitors, which send nothing).
 *
 * `Ref` is abstract: the runtime's actor record is the ref of a local actor (one object per actor,
 * not two), and a remote actor has a ref of its own kind.
 */
import type { ReplyOf, RequestOf } from './messages.js';

/** Options of `call`. */
export interface CallOptions {
  /**
   * How long to wait for the reply before rejecting with a `TimeoutError`. Default 5,000 ms. While
   * it waits, the call keeps the process alive. `Infinity` waits as long as it takes and arms no
   * timer, so it keeps nothing alive: for replies an event sends later.
   */
  readonly timeoutMs?: number;
}

/** Options of `sendWait`. */
export interface SendWaitOptions {
  /** Give up (reject with a `TimeoutError`, message not queued) after this long. Default: wait as long as it takes. */
  readonly timeoutMs?: number;
}

/**
 * The typed address of an actor.
 * @example
 * const account: Ref<AccountMsg> = system.spawn(accountBehavior);
 * account.send({ type: 'deposit', amount: 10 });
 * const balance = await account.call({ type: 'balance' }); // typed by the member's Reply<number>
 * function payInterest(to: Ref<Deposit>) {} // accepts any ref whose messages include Deposit
 * payInterest(account);
 */
export abstract class Ref<in M> {
  /** Unique within its node (`node`): two refs with the same `node` and `id` are the same actor. */
  readonly id: number;

  /** For the runtime and distribution layers (`@troupe/cluster`): a ref is made by spawning, not by `new`. */
  protected constructor(id: number) {
    this.id = id;
  }

  /**
   * The node the actor runs on: `system.node` for a local actor (`'nonode@nohost'` outside a
   * cluster), the remote node's name for a ref that came from another node.
   */
  abstract get node(): string;

  /**
   * Queues `msg` in the actor's mailbox; never runs the actor synchronously and never throws.
   * Returns `false` when the message was not queued: the actor is dead (the message goes to dead
   * letters) or its bounded mailbox refused it.
   *
   * For an actor on another node, `true` means the message left for its node (as Erlang's `!`, not
   * that it arrived), `false` that the node cannot be reached (a dead letter `noconnection`); a
   * message that cannot travel (it holds a function, a symbol or a cycle) throws a `TypeError` here,
   * at the sender.
   * @example counter.send({ type: 'inc', by: 2 });
   */
  abstract send(msg: M): boolean;

  /**
   * Like `send`, but waits for room in a bounded mailbox (an unbounded one always has room).
   * Resolves `true` once queued, `false` if the actor is or becomes dead.
   * @example
   * for (const chunk of chunks) {
   *   if (!(await writer.sendWait(chunk, { timeoutMs: 1_000 }))) break; // the writer died
   * }
   */
  abstract sendWait(msg: M, options?: SendWaitOptions): Promise<boolean>;

  /**
   * Sends a request and resolves with the typed reply: the member of `M` whose `type` matches the
   * request and has `reply: Reply<T>` makes this a `Promise<T>`. Rejects with `TimeoutError` after
   * `timeoutMs` (default 5,000; a late reply is dropped) and with `ExitError` carrying the exit
   * reason if the actor is dead or dies before replying.
   * @example const n = await counter.call({ type: 'get' }); // n: number
   */
  abstract call<Q extends RequestOf<M>>(request: Q, options?: CallOptions): Promise<ReplyOf<M, Q>>;

  /**
   * `true` until the actor exits (a supervised actor that is restarted stays alive). For an actor on
   * another node, `true` until this node learns of its exit (a link or monitor of it fired, or its
   * node went down).
   */
  abstract get alive(): boolean;

  /** `Ref<id>`, or `Ref<id label>` for an actor spawned with a label. */
  abstract toString(): string;

  toJSON(): { ref: number } {
    return { ref: this.id };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
