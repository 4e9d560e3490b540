/**
 * Registries: names and keys that lead to actors. `UniqueRegistry` maps a key to one actor (OTP's
 * registered names, and the system's own `name` option); `DuplicateRegistry` maps a key to many
 * actors, each with a value (Elixir's `Registry` with `keys: :duplicate`: every connection of a
 * user, every member of a room). An actor's entries are removed synchronously when it dies, inside
 * the same step that marks it dead, so a lookup never returns a dead actor (Elixir's registry cleans
 * up lazily, after the DOWN message). A supervised actor that is restarted in place keeps its ref,
 * and so keeps its entries.
 *
 * Keys match by value (`keys.ts`): a string or number as a `Map` key does, an array or plain
 * object by its contents (`['user', 42]`), a typed `Key<M>` by its name, so `whereis(key<M>(...))`
 * returns a `Ref<M>`. A string lookup is one `Map.get`: `whereis` returns the ref, `lookup` on a
 * duplicate registry returns the live inner map (read-only), so the hot path allocates nothing.
 */

import { type Cell, cellOf, type EntryOwner, type Registration } from '../actor/internal.js';
import { Key, type NameService, type RegisterResult } from '../actor/names.js';
import type { Ref } from '../actor/ref.js';
import { KeyTable, sameKey } from './keys.js';

/** The keys `regs` holds in `registry`, oldest first. */
function keysIn(regs: Registration | undefined, registry: EntryOwner): unknown[] {
  const keys: unknown[] = [];
  for (let r = regs; r !== undefined; r = r.next) if (r.registry === registry) keys.push(r.key);
  return keys.reverse();
}

/** A typed key is remembered by its name: `keysOf`, `inspect()` and crash reports show the name. */
function remembered(key: unknown): unknown {
  return key instanceof Key ? key.name : key;
}

/** An actor's entries in `registry` remember it, so that its death removes them. */
function remember(registry: EntryOwner, cell: Cell, key: unknown): void {
  cell.registrations = { registry, key: remembered(key), next: cell.registrations };
}

function forget(registry: EntryOwner, cell: Cell, key: unknown): void {
  let prev: Registration | undefined;
  for (let r = cell.registrations; r !== undefined; prev = r, r = r.next) {
    if (r.registry !== registry || !sameKey(r.key, key)) continue;
    if (prev === undefined) cell.registrations = r.next;
    else prev.next = r.next;
    return;
  }
}

/** Options of a registry (`UniqueRegistry`, `DuplicateRegistry`). */
export interface RegistryOptions<K, V, M> {
  /**
   * Called for each entry removed because its actor died (not for `unregister`), with the key, the
   * actor and the entry's value, once the entry is gone: what a monitor on every registered actor
   * would tell, without one per actor (Elixir's `Registry` has `listeners` for the same). It runs
   * inside the runtime as the actor dies: keep it short, send a message if there is work to do;
   * it must not throw (a throw is logged and ignored).
   */
  readonly onExit?: (key: K, ref: Ref<M>, value: V) => void;
}

/** Calls a registry's `onExit`; one that throws is logged, and the death goes on. */
function tellExit<K, V, M>(
  onExit: RegistryOptions<K, V, M>['onExit'],
  label: string,
  key: unknown,
  cell: Cell,
  value: V,
): void {
  if (onExit === undefined) return;
  try {
    onExit(key as K, cell as Ref<M>, value);
  } catch (e) {
    cell.runtime.logger.error({ err: e, actor: cell.toString() }, `${label}: onExit threw`);
  }
}

function checkOptions(options: RegistryOptions<never, never, never>, where: string): void {
  if (options === null || typeof options !== 'object') throw new TypeError(`${where}: options must be an object`);
  if (options.onExit !== undefined && typeof options.onExit !== 'function') {
    throw new TypeError(`${where}: onExit must be a function (key, ref, value) => void`);
  }
}

/**
 * A unique registry's entry, which is also the registration its actor remembers (`Registration`):
 * one object per name, not two.
 */
class UniqueEntry<V> implements Registration {
  constructor(
    readonly registry: EntryOwner,
    readonly key: unknown,
    public next: Registration | undefined,
    readonly cell: Cell,
    public value: V,
  ) {}
}

/**
 * One actor per key.
 * @example
 * const CACHE = key<CacheMsg>('cache');
 * const names = new UniqueRegistry<string>();
 * names.register(CACHE, cacheRef);            // { ok: true }
 * names.register(CACHE, otherRef);            // { ok: false, reason: 'taken', ref: cacheRef }
 * names.whereis(CACHE)?.send({ type: 'clear' }); // typed: Ref<CacheMsg> | undefined
 */
export class UniqueRegistry<K = string, V = undefined, M = never> implements NameService<K> {
  readonly #entries = new KeyTable<UniqueEntry<V>>();
  readonly #owner: EntryOwner = { drop: (key, cell) => this.#drop(key as K, cell) };
  readonly #onExit: RegistryOptions<K, V, M>['onExit'];
  /** Names the registry in error messages. */
  readonly label: string;

  constructor(label = 'registry', options: RegistryOptions<K, V, M> = {}) {
    checkOptions(options as unknown as RegistryOptions<never, never, never>, 'new UniqueRegistry(label, options)');
    this.label = label;
    this.#onExit = options.onExit;
  }

  /**
   * Registers `ref` under `key` (with an optional value). Registering the same ref again is `ok` and
   * updates the value; a key held by another actor is `taken`; a dead ref is `dead`.
   */
  register<T>(key: Key<T>, ref: Ref<T>, value?: V): RegisterResult<unknown>;
  register(key: K, ref: Ref<M>, value?: V): RegisterResult<unknown>;
  register(key: unknown, ref: Ref<never>, value?: V): RegisterResult<unknown> {
    const cell = cellOf(ref, `${this.label}.register`);
    if (!cell.alive) return { ok: false, reason: 'dead' };
    const existing = this.#entries.get(key);
    if (existing !== undefined) {
      if (existing.cell !== cell) return { ok: false, reason: 'taken', ref: existing.cell };
      existing.value = value as V;
      return { ok: true };
    }
    const entry = new UniqueEntry(this.#owner, remembered(key), cell.registrations, cell, value as V);
    cell.registrations = entry;
    this.#entries.set(key, entry);
    return { ok: true };
  }

  /** Removes `key`. Returns false if it was not registered. */
  unregister(key: K | Key<never>): boolean {
    const e = this.#entries.get(key);
    if (e === undefined) return false;
    this.#entries.delete(key);
    forget(this.#owner, e.cell, key);
    return true;
  }

  /** The live actor under `key`, or undefined. `M` is the caller's claim about its messages. */
  whereis<T>(key: Key<T>): Ref<T> | undefined;
  /**
   * By a plain key, the ref is a `Ref<M>`: the registry's own message type, which every ref
   * registered under a plain key accepts (`new UniqueRegistry<string, undefined, RoomMsg>()`). With
   * the default `M = never` it is any actor's ref: linked or monitored, not sent to.
   */
  whereis(key: K): Ref<M> | undefined;
  whereis(key: unknown): Ref<never> | undefined {
    return this.#entries.get(key)?.cell as Ref<never> | undefined;
  }

  /** The actor and value under `key`. */
  lookup<T>(key: Key<T>): { readonly ref: Ref<T>; readonly value: V } | undefined;
  lookup(key: K): { readonly ref: Ref<M>; readonly value: V } | undefined;
  lookup(key: unknown): { readonly ref: Ref<never>; readonly value: V } | undefined {
    const e = this.#entries.get(key);
    return e === undefined ? undefined : { ref: e.cell as Ref<never>, value: e.value };
  }

  /** How many keys are registered. */
  get size(): number {
    return this.#entries.size;
  }

  /** Every registered key. */
  keys(): K[] {
    return this.#entries.keys() as K[];
  }

  /** Every key `ref` is registered under here. */
  keysOf(ref: Ref<never>): K[] {
    return keysIn(cellOf(ref, `${this.label}.keysOf`).registrations, this.#owner) as K[];
  }

  #drop(key: K, cell: Cell): void {
    const e = this.#entries.get(key);
    if (e?.cell !== cell) return;
    this.#entries.delete(key);
    tellExit(this.#onExit, this.label, key, cell, e.value);
  }
}

const EMPTY: ReadonlyMap<unknown, unknown> = new Map();

/**
 * A key's only entry: a read-only map of one, without a `Map` and its hash table, and the
 * registration its actor remembers (`Registration`: one object, not two). Most keys of a duplicate
 * registry hold one actor (every connection of a user is usually one connection); the second
 * registration under the key replaces it with a `Map`, and it stays its actor's registration.
 */
class One<K, V> implements ReadonlyMap<K, V>, Registration {
  constructor(
    readonly registry: EntryOwner,
    /** The registry's key (the registration's). */
    readonly key: unknown,
    public next: Registration | undefined,
    /** The map's only key: the actor. */
    readonly only: K,
    public value: V,
  ) {}
  get size(): number {
    return 1;
  }
  get(key: K): V | undefined {
    return key === this.only ? this.value : undefined;
  }
  has(key: K): boolean {
    return key === this.only;
  }
  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    fn.call(thisArg, this.value, this.only, this);
  }
  *entries(): IterableIterator<[K, V]> {
    yield [this.only, this.value];
  }
  *keys(): IterableIterator<K> {
    yield this.only;
  }
  *values(): IterableIterator<V> {
    yield this.value;
  }
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }
}

/**
 * Many actors per key, each with a value: pub/sub and "every connection of a user".
 * @example
 * const rooms = new DuplicateRegistry<string, string>();
 * rooms.register('lobby', socketRef, 'alice');
 * rooms.dispatch('lobby', (ref, user) => ref.send({ type: 'joined', user }));
 */
export class DuplicateRegistry<K = string, V = undefined, M = never> {
  readonly #entries = new KeyTable<Map<Ref<M>, V> | One<Ref<M>, V>>();
  readonly #owner: EntryOwner = { drop: (key, cell) => this.#dropped(key as K, cell) };
  readonly #onExit: RegistryOptions<K, V, M>['onExit'];
  #count = 0;
  /** Names the registry in error messages. */
  readonly label: string;

  constructor(label = 'registry', options: RegistryOptions<K, V, M> = {}) {
    checkOptions(options as unknown as RegistryOptions<never, never, never>, 'new DuplicateRegistry(label, options)');
    this.label = label;
    this.#onExit = options.onExit;
  }

  /** Adds `ref` under `key`; registering the same (key, ref) again updates its value. */
  register(key: K, ref: Ref<M>, value?: V): RegisterResult<M> {
    const cell = cellOf(ref, `${this.label}.register`);
    if (!cell.alive) return { ok: false, reason: 'dead' };
    const r = cell as Ref<M>;
    const inner = this.#entries.get(key);
    if (inner === undefined) {
      const one = new One(this.#owner, remembered(key), cell.registrations, r, value as V);
      cell.registrations = one;
      this.#entries.set(key, one);
      this.#count++;
      return { ok: true };
    }
    if (inner instanceof One && inner.only === r) {
      inner.value = value as V;
      return { ok: true };
    }
    if (inner instanceof One) {
      // The map takes over; `inner` stays its actor's registration (its value is the map's now).
      this.#entries.set(
        key,
        new Map([
          [inner.only, inner.value],
          [r, value as V],
        ]),
      );
    } else {
      const had = inner.has(r);
      inner.set(r, value as V);
      if (had) return { ok: true };
    }
    this.#count++;
    remember(this.#owner, cell, key);
    return { ok: true };
  }

  /** Removes `ref` from `key`. Returns false if it was not there. */
  unregister(key: K, ref: Ref<M>): boolean {
    const cell = cellOf(ref, `${this.label}.unregister`);
    if (!this.#remove(key, cell)) return false;
    forget(this.#owner, cell, key);
    return true;
  }

  /**
   * The actors under `key` with their values: a live read-only view; do not keep it across awaits
   * (nor across a `register` under the same key, which may replace it).
   */
  lookup(key: K): ReadonlyMap<Ref<M>, V> {
    return this.#entries.get(key) ?? (EMPTY as ReadonlyMap<Ref<M>, V>);
  }

  /** How many actors are under `key`. */
  count(key: K): number {
    return this.#entries.get(key)?.size ?? 0;
  }

  /** Calls `fn` for every actor under `key`; returns how many. */
  dispatch(key: K, fn: (ref: Ref<M>, value: V) => void): number {
    const inner = this.#entries.get(key);
    if (inner === undefined) return 0;
    // forEach tolerates fn unregistering entries as it goes, and allocates no iterator.
    const n = inner.size;
    inner.forEach((v, r) => {
      fn(r, v);
    });
    return n;
  }

  /** Every key with at least one actor. */
  keys(): K[] {
    return this.#entries.keys() as K[];
  }

  /** Total entries over all keys. */
  get size(): number {
    return this.#count;
  }

  /** Every key `ref` is registered under here. */
  keysOf(ref: Ref<never>): K[] {
    return keysIn(cellOf(ref, `${this.label}.keysOf`).registrations, this.#owner) as K[];
  }

  /** Its actor died: the entry goes, and `onExit` is told. */
  #dropped(key: K, cell: Cell): void {
    const onExit = this.#onExit;
    if (onExit === undefined) {
      this.#remove(key, cell);
      return;
    }
    const inner = this.#entries.get(key);
    if (inner === undefined || !inner.has(cell as Ref<M>)) return;
    const value = inner.get(cell as Ref<M>) as V;
    this.#remove(key, cell);
    tellExit(onExit, this.label, key, cell, value);
  }

  /** Removes the cell's entry under `key`; false if there was none. */
  #remove(key: K, cell: Cell): boolean {
    const inner = this.#entries.get(key);
    const r = cell as Ref<M>;
    if (inner === undefined) return false;
    if (inner instanceof One) {
      if (inner.only !== r) return false;
      this.#entries.delete(key);
    } else {
      if (!inner.delete(r)) return false;
      if (inner.size === 0) this.#entries.delete(key);
    }
    this.#count--;
    return true;
  }
}

/** @internal The keys an actor holds in `registry` (a `UniqueRegistry`), oldest first, for introspection. */
export function namesOf(cell: Cell, registry: UniqueRegistry<unknown, unknown>): unknown[] {
  return registry.keysOf(cell as Ref<never>);
}
