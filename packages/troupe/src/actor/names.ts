/**
 * Naming, as the actor layer sees it: the `NameService` interface a spawn's `name: { via, key }`
 * registers with (OTP's `via`), and the list of entries an actor holds, so that every entry goes in
 * the same step that marks the actor dead. The registries themselves live in `registry/`.
 */
import type { Cell } from './cell.js';
import type { Ref } from './ref.js';

/** The result of `register`: a taken key is an expected outcome, not an exception. */
export type RegisterResult<M = never> =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'taken'; readonly ref: Ref<M> }
  | { readonly ok: false; readonly reason: 'dead' };

declare const keyType: unique symbol;

/**
 * A registry key that carries the message type of the actor registered under it, as Akka's
 * `ServiceKey[T]`: a lookup by it returns a `Ref<M>`, and registering a ref that does not accept
 * `M` is a compile error. Two keys with the same `name` are the same key (they match by value, as
 * every structured key does); `name` is a string, a number, or an array or plain object of them.
 * @example
 * const COUNTER = key<CounterMsg>('counter');
 * system.register(COUNTER, counterRef);
 * system.whereis(COUNTER)?.send({ type: 'inc', by: 1 }); // typed: Ref<CounterMsg> | undefined
 */
export class Key<M> {
  /** @internal Only for the type checker: the messages of the actor behind the key. */
  declare readonly [keyType]?: (msg: M) => void;
  constructor(readonly name: unknown) {}

  toString(): string {
    return `Key(${typeof this.name === 'string' ? this.name : JSON.stringify(this.name)})`;
  }
}

/**
 * Makes a typed registry key. `key<CounterMsg>('counter')` and `key<UserMsg>(['user', 42])`.
 * @example
 * const USER = (id: number) => key<UserMsg>(['user', id]);
 * system.whereis(USER(42))?.send({ type: 'ping' });
 */
export function key<M>(name: unknown): Key<M> {
  return new Key<M>(name);
}

/** A name without a message type: a primitive, or an array or plain object (matched by value). */
export type PlainName =
  | string
  | number
  | bigint
  | boolean
  | symbol
  | readonly unknown[]
  | Readonly<Record<string, unknown>>;

/**
 * What the `name` option of `spawn` and of a child spec accepts: a name in the system registry (a
 * string, a typed `Key`, or a structured key), or `{ via, key }` for another naming service.
 */
export type Name =
  | string
  | Key<never>
  | readonly unknown[]
  | { readonly via: NameService<never>; readonly key: unknown };

/**
 * A pluggable naming service (OTP's `via`): anything that can register, unregister and resolve a
 * name. `UniqueRegistry` is one; a cluster-wide registry can be another.
 */
export interface NameService<K = string> {
  register(key: K, ref: Ref<never>): RegisterResult<unknown>;
  unregister(key: K): boolean;
  whereis(key: K): Ref<never> | undefined;
}

/** @internal Where an entry lives: it removes the dead actor's entry under `key`. */
export interface EntryOwner {
  drop(key: unknown, cell: Cell): void;
}

/**
 * @internal One entry an actor holds, in a list, newest first (most actors hold one or two
 * entries; an array would cost a backing store too).
 */
export interface Registration {
  readonly registry: EntryOwner;
  readonly key: unknown;
  next: Registration | undefined;
}

/** @internal Every name the actor holds, in any registry, oldest first (for crash reports). */
export function namesHeld(cell: Cell): unknown[] {
  const out: unknown[] = [];
  for (let r = cell.registrations; r !== undefined; r = r.next) out.push(r.key);
  return out.reverse();
}

/** @internal Removes every entry of a dying actor, before anything else sees it dead. */
export function dropRegistrations(cell: Cell): void {
  const regs = cell.registrations;
  if (regs === undefined) return;
  cell.registrations = undefined;
  for (let r: Registration | undefined = regs; r !== undefined; r = r.next) r.registry.drop(r.key, cell);
}
