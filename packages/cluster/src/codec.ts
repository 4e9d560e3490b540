/**
 * The wire encoding: msgpackr records, with refs as a small extension record `[node, boot, id]`
 * that decodes back into a working ref (the local actor itself when it comes home, else the
 * interned remote ref). Messages are data: a function, a symbol or a cycle cannot travel, and the
 * sender gets a `TypeError` that says so instead of a message that arrives with a hole in it.
 *
 * msgpackr's extensions are process-wide, while a process may hold several clustered systems (the
 * tests do): the extension asks whichever codec is packing or unpacking right now, which is set
 * around each synchronous `encode` / `decode`.
 */
import { addExtension, Packr } from 'msgpackr';
import { Ref } from 'troupe';

/** The ref extension's type code. */
const REF_EXT = 0x52;

/** What a codec needs to write and read refs. */
export interface RefTable {
  /** The wire record of a ref (a local actor is exported on the way). */
  write(ref: Ref<never>): [string, string, number];
  /** The working ref of a wire record. */
  read(node: string, boot: string, id: number): Ref<never>;
}

let current: RefTable | undefined;

addExtension({
  Class: Ref,
  type: REF_EXT,
  write(ref: Ref<never>) {
    if (current === undefined) throw new TypeError(`${String(ref)} can only be encoded by @troupe/cluster`);
    return current.write(ref);
  },
  read(data: unknown) {
    const d = data as [unknown, unknown, unknown];
    if (
      current === undefined ||
      !Array.isArray(d) ||
      typeof d[0] !== 'string' ||
      typeof d[1] !== 'string' ||
      typeof d[2] !== 'number'
    ) {
      throw new TypeError('a malformed ref record');
    }
    return current.read(d[0], d[1], d[2]);
  },
});

class NotData extends TypeError {}

/** Encodes and decodes frames for one node. */
export class Codec {
  readonly #packr = new Packr({
    mapsAsObjects: false,
    moreTypes: true,
    writeFunction: () => {
      throw new NotData('it holds a function');
    },
  });

  constructor(private readonly refs: RefTable) {}

  /**
   * Packs `value`; an error that says what cannot travel, with `what` naming the API
   * (`.send(msg)`, after `of` when given: the hot path builds no string), for anything that is not data.
   */
  encode(value: unknown, what: string, of?: unknown): Uint8Array {
    const prev = current;
    current = this.refs;
    try {
      return this.#packr.pack(value);
    } catch (e) {
      const api = of === undefined ? what : `${String(of)}${what}`;
      throw new TypeError(`${api}: the message cannot travel to another node: ${why(e)}`, { cause: e });
    } finally {
      current = prev;
    }
  }

  /** Unpacks a frame; throws for bytes that are not one. */
  decode(data: Uint8Array): unknown {
    const prev = current;
    current = this.refs;
    try {
      return this.#packr.unpack(data);
    } finally {
      current = prev;
    }
  }
}

function why(e: unknown): string {
  const tail =
    '; messages to other nodes are data: objects, arrays, strings, numbers, booleans, null, bigints, ' +
    'Dates, Maps, Sets, byte arrays, Errors and refs';
  if (e instanceof NotData) return `${e.message}${tail}`;
  if (e instanceof RangeError) return `it holds a cycle, or is nested too deeply${tail}`;
  if (e instanceof Error && /Unknown type: symbol/.test(e.message)) return `it holds a symbol${tail}`;
  return `${e instanceof Error ? e.message : String(e)}${tail}`;
}
