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

/** A frame for many clients, encoded lazily, once per encoding. */
export class Encoded {
  #json: string | undefined;
  #pack: Uint8Array | undefined;
  constructor(readonly frame: ServerFrame) {}

  sendTo(socket: SocketHandle<Session>): void {
    if (socket.session.binary) {
      this.#pack ??= encodePack(this.frame);
      socket.send(this.#pack, true);
    } else {
      this.#json ??= encodeJson(this.frame);
      socket.send(this.#json, false);
    }
  }
}
