/**
 * How registries compare keys. A string, number or other primitive matches by value, as a `Map`
 * key does; a typed `Key` matches by its name; an array or plain object matches by value too
 * (`['user', 42]` registered is found by a fresh `['user', 42]`), through a canonical encoding;
 * any other object (a ref, a class instance) matches by identity. String keys, the common case,
 * take the first branch and cost one `typeof`.
 */
import { Key } from '../actor/names.js';

/** A table of entries by key, by the rules above. Iterates plain keys first, then structured ones. */
export class KeyTable<E> {
  readonly #plain = new Map<unknown, E>();
  /** Structured keys, by canonical encoding; with the key as first given, for `keys()`. */
  readonly #structured = new Map<string, { readonly key: unknown; entry: E }>();

  get(key: unknown): E | undefined {
    if (typeof key === 'string') return this.#plain.get(key);
    const k = unwrap(key);
    return structured(k) ? this.#structured.get(encode(k, 'a registry key'))?.entry : this.#plain.get(k);
  }

  set(key: unknown, entry: E): void {
    if (typeof key === 'string') {
      this.#plain.set(key, entry);
      return;
    }
    const k = unwrap(key);
    if (!structured(k)) {
      this.#plain.set(k, entry);
      return;
    }
    const c = encode(k, 'a registry key');
    const had = this.#structured.get(c);
    if (had !== undefined) had.entry = entry;
    else this.#structured.set(c, { key, entry });
  }

  delete(key: unknown): boolean {
    if (typeof key === 'string') return this.#plain.delete(key);
    const k = unwrap(key);
    return structured(k) ? this.#structured.delete(encode(k, 'a registry key')) : this.#plain.delete(k);
  }

  get size(): number {
    return this.#plain.size + this.#structured.size;
  }

  keys(): unknown[] {
    const out: unknown[] = [...this.#plain.keys()];
    for (const s of this.#structured.values()) out.push(s.key);
    return out;
  }
}

/** Whether two keys are the same key by the rules above. */
export function sameKey(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'string' && typeof b === 'string') return false;
  const ka = unwrap(a);
  const kb = unwrap(b);
  if (structured(ka) && structured(kb)) return encode(ka, 'a registry key') === encode(kb, 'a registry key');
  return Object.is(ka, kb) || (ka === 0 && kb === 0);
}

function unwrap(key: unknown): unknown {
  return key instanceof Key ? key.name : key;
}

/** An array or plain object: matched by value. */
function structured(k: unknown): k is object {
  return k !== null && typeof k === 'object' && isStructured(k);
}

function isStructured(v: object): boolean {
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Encodes a structured key; the tags keep `1`, `'1'` and `true` apart. */
function encode(v: unknown, where: string): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return `n${String(v)}`;
    case 'boolean':
      return v ? 't' : 'f';
    case 'object': {
      if (v === null) return 'z';
      if (Array.isArray(v)) return `[${v.map((x) => encode(x, where)).join(',')}]`;
      if (isStructured(v)) {
        const o = v as Record<string, unknown>;
        return `{${Object.keys(o)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${encode(o[k], where)}`)
          .join(',')}}`;
      }
      break;
    }
    default:
      break;
  }
  throw new TypeError(
    `${where}: a structured key holds only strings, numbers, booleans, null, arrays and plain objects; got ${
      v === null ? 'null' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v
    }`,
  );
}
