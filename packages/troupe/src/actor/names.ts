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

/**
 * A pluggable naming service (OTP's `via`): anything that can register, unregister and resolve a
 * name. `UniqueRegistry` is one; a cluster-wide registry can be another.
 */
export interface NameService<K = string> {
  register(key: K, ref: Ref<never>): RegisterResult<unknown>;
  unregister(key: K): boolean;
  whereis<M>(key: K): Ref<M> | undefined;
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

/** @internal Removes every entry of a dying actor, before anything else sees it dead. */
export function dropRegistrations(cell: Cell): void {
  const ext = cell.ext;
  const regs = ext?.registrations;
  if (regs === undefined) return;
  (ext as NonNullable<typeof ext>).registrations = undefined;
  for (let r: Registration | undefined = regs; r !== undefined; r = r.next) r.registry.drop(r.key, cell);
}
