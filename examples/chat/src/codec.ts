/**
 * Encoding server frames: JSON text or MessagePack binary, whichever the client used last. A frame
 * sent to many clients is encoded at most once per encoding (`Encoded`).
 */
import type { SocketHandle } from '@troupe/uws';
import { Packr } from 'msgpackr';
import type { ServerFrame } from './protocol.js';
import type { Session } from './session.js';

// Plain maps and records, no msgpackr extensions, so any MessagePack client can read the frames.
const packr = new Packr({ useRecords: false });

export function encodeJson(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

export function encodePack(frame: ServerFrame): Uint8Array {
  return packr.pack(frame);
}

/** Sends one frame to one client in its encoding. */
export function sendFrame(socket: SocketHandle<Session>, frame: ServerFrame): void {
  if (socket.session.binary) socket.send(encodePack(frame), true);
  else socket.send(encodeJson(frame), false);
}

/**
 * A frame for many clients, encoded lazily, once per encoding. JSON goes out as UTF-8 bytes (a text
 * frame): uWS would otherwise convert the same string once per recipient. `compact()` keeps only
 * bytes, for frames that are kept (the room history): off the V8 heap, and nothing for the
 * scavenger to copy.
 */
export class Encoded {
  #frame: ServerFrame | undefined;
  #text: Buffer | undefined = undefined;
  #pack: Uint8Array | undefined = undefined;
  constructor(frame: ServerFrame | undefined) {
    this.#frame = frame;
  }

  /** A frame that arrives already encoded as JSON (from another process of the cluster). */
  static fromJson(json: Uint8Array): Encoded {
    const e = new Encoded(undefined);
    e.#text = Buffer.isBuffer(json) ? json : Buffer.from(json.buffer, json.byteOffset, json.byteLength);
    return e;
  }

  /** Its JSON encoding, made now if it was not (what travels to the other processes of a cluster). */
  json(): Buffer {
    this.jsonBytes();
    return this.#text as Buffer;
  }

  /** Sends the frame in the socket's encoding; returns its size in bytes. */
  sendTo(socket: SocketHandle<Session>): number {
    if (socket.session.binary) {
      if (this.#pack === undefined) {
        const frame = this.#frame;
        // Compacted (kept in the history): decode the JSON, and keep the packed bytes as its own.
        this.#pack =
          frame !== undefined
            ? encodePack(frame)
            : own(encodePack(JSON.parse((this.#text as Buffer).toString('utf8')) as ServerFrame));
      }
      socket.send(this.#pack, true);
      return this.#pack.byteLength;
    }
    this.#text ??= Buffer.from(encodeJson(this.#frame as ServerFrame), 'utf8');
    socket.send(this.#text, false);
    return this.#text.byteLength;
  }

  /**
   * The size of its JSON encoding, for a frame that goes into a history: the encoding is made now,
   * straight into a block of its own (so `compact` keeps it without a copy).
   */
  jsonBytes(): number {
    if (this.#text === undefined) {
      const json = encodeJson(this.#frame as ServerFrame);
      const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(json, 'utf8'));
      bytes.write(json, 'utf8');
      this.#text = bytes;
    }
    return this.#text.byteLength;
  }

  /** Drops the frame object, keeping its encoded bytes (JSON at least, MessagePack if made). */
  compact(): void {
    if (this.#frame === undefined) return;
    this.#text = own(this.#text ?? Buffer.from(encodeJson(this.#frame), 'utf8'));
    if (this.#pack !== undefined) this.#pack = own(this.#pack);
    this.#frame = undefined;
  }
}

/**
 * Bytes in a memory block of their own. Node serves small `Buffer.from` strings out of a shared 8 KiB
 * pool, and msgpackr packs into a shared buffer: a slice kept for long (the history) would keep the
 * whole block alive.
 */
function own(bytes: Uint8Array): Buffer {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength && Buffer.isBuffer(bytes)) return bytes;
  // Not `slice()`: on a Buffer it is a view. allocUnsafeSlow never uses the pool.
  const out = Buffer.allocUnsafeSlow(bytes.byteLength);
  out.set(bytes);
  return out;
}
