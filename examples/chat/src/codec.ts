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
  /** Compacted: kept in a history, as its JSON alone. */
  #kept = false;
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
        const packed =
          frame !== undefined
            ? encodePack(frame)
            : encodePack(JSON.parse((this.#text as Buffer).toString('utf8')) as ServerFrame);
        if (this.#kept) {
          // In a history (a replay): packed for this send only, so that the history holds what
          // --history-bytes counts, its JSON, whatever its readers speak.
          socket.send(packed, true);
          return packed.byteLength;
        }
        // Live, from another process as JSON: kept for the other binary members of the fan-out.
        this.#pack = frame !== undefined ? packed : own(packed);
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

  /**
   * For a frame kept in a history, once its fan-out is done: drops the frame object and its
   * MessagePack encoding, keeping its JSON bytes (what the history's `--history-bytes` counts). A
   * replay to a MessagePack client packs it again for that send.
   */
  compact(): void {
    this.#text = own(this.#text ?? Buffer.from(encodeJson(this.#frame as ServerFrame), 'utf8'));
    this.#frame = undefined;
    this.#pack = undefined;
    this.#kept = true;
  }

  /** @internal The encoded bytes it holds now (JSON and MessagePack), for tests. */
  get heldBytes(): number {
    return (this.#text?.byteLength ?? 0) + (this.#pack?.byteLength ?? 0);
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
