/**
 * `SocketHandle`: how actors write to a WebSocket. It lives with the connection, not with the actor
 * that serves it, so it survives that actor's restarts along with `session` (whatever must outlive a
 * crash: identity, subscriptions, rate-limit state). It knows uWebSockets.js's rules:
 *
 * - The native `ws` object is valid only until `close`; after that every method here is a no-op that
 *   reports `closed`, never a crash.
 * - Writes are queued and flushed once per event-loop iteration (`setImmediate`), one cork per socket:
 *   everything written to a socket while the frames that arrived in this iteration were handled
 *   goes out in one write, as uWS's own pub/sub does. Under light load that is the same single
 *   write, a few microseconds later; under heavy load it is what keeps the syscalls per delivery low.
 * - `bufferedAmount` is what uWS holds for the socket that the peer has not taken yet, as of the last
 *   flush, drain or received ping (uWS answers pings with pongs itself, so a ping reads it again; it
 *   only shrinks between them, so no native call per read): the measure of a slow peer. Frames queued in this iteration are `pendingBytes`; a `BufferLimit` counts both.
 */

import type { WebSocket } from 'uWebSockets.js';
import type { Ref } from 'troupe';

/** What `send` did: written to the socket, queued for this batch's flush, or refused. */
export type SendStatus = 'queued' | 'closed';

/** Why and how a connection ended. */
export interface CloseInfo {
  /** The WebSocket close code (1006 when the connection dropped without a close frame). */
  readonly code: number;
  readonly reason: string;
}

interface Frame {
  readonly data: string | Uint8Array;
  readonly isBinary: boolean;
}

/** @internal What uWS keeps per socket (it copies these properties onto its own `WebSocket` object). */
export interface SocketSlot {
  readonly handle: SocketHandle<unknown>;
}

let nextId = 0;
/** Pending bytes at which a socket's batch is written at once instead of at the end of the iteration. */
const FLUSH_AT_BYTES = 64 * 1024;
const dirty: SocketHandle<unknown>[] = [];
let flushQueued = false;

function flushAll(): void {
  flushQueued = false;
  // A flush can write more (nothing does today), so drain by index.
  for (let i = 0; i < dirty.length; i++) (dirty[i] as SocketHandle<unknown>).flush();
  dirty.length = 0;
}

/**
 * A hard cap on what may wait to go out to one socket. Past it the socket is closed with `code` (the
 * frames still queued in this batch are dropped, not sent), whoever was writing: nothing can grow a
 * slow client's buffer without bound.
 */
export interface BufferLimit {
  readonly bytes: number;
  /** Default 1013 (try again later). */
  readonly code?: number;
  readonly reason?: string;
  /** Called once when a socket is closed for it (for metrics). */
  readonly onExceeded?: (socket: SocketHandle<unknown>) => void;
}

/** The counters of one socket, for metrics. */
export interface SocketStats {
  framesOut: number;
  bytesOut: number;
  /** Frames uWS refused because the socket was over its backpressure limit. */
  dropped: number;
}

/** A connection's write side and its long-lived state. */
export class SocketHandle<S = unknown> {
  /** Unique within the process. */
  readonly id = ++nextId;
  /** State that belongs to the connection and survives restarts of its actor. */
  readonly session: S;
  /** The peer's address, as text. */
  readonly remoteAddress: string;
  /**
   * @internal The connection's actor, from its start until the connection closes (dead, once it
   * ended for good and the connection is closing).
   */
  actor: Ref<never> | undefined = undefined;
  #ws: WebSocket<SocketSlot> | undefined = undefined;
  #outbox: Frame[] | undefined = undefined;
  #pendingBytes = 0;
  /** Set when it closed, or when we started closing it (then `#ws` is still there until uWS's close). */
  #closeInfo: CloseInfo | undefined = undefined;
  readonly #limit: BufferLimit | undefined;
  #framesOut = 0;
  #bytesOut = 0;
  #dropped = 0;
  /** uWS's buffer as last seen (after a flush): with the pending bytes, a cheap bound per send. */
  #uwsBuffered = 0;

  /** @internal */
  constructor(session: S, remoteAddress: string, limit?: BufferLimit) {
    this.session = session;
    this.remoteAddress = remoteAddress;
    this.#limit = limit;
  }

  /**
   * The handle itself: a handle is its own `SocketArgs` (`{ socket }`), so the args of a socket's
   * actor cost no object of their own.
   */
  get socket(): this {
    return this;
  }

  /** Frames handed to uWS. */
  get framesOut(): number {
    return this.#framesOut;
  }

  /** Bytes of those frames (UTF-16 units for strings). */
  get bytesOut(): number {
    return this.#bytesOut;
  }

  /** Frames uWS refused because the socket was over its backpressure limit. */
  get dropped(): number {
    return this.#dropped;
  }

  /** A snapshot of the counters, for metrics (`framesOut`, `bytesOut` and `dropped` read them live). */
  get stats(): SocketStats {
    return { framesOut: this.#framesOut, bytesOut: this.#bytesOut, dropped: this.#dropped };
  }

  /**
   * Closing at our end: `end`, `terminate` or the buffer limit, before uWS's close. This and the
   * other private methods are TypeScript's `private`, not `#` methods: a class with `#` methods
   * keeps a brand in every instance (8 bytes, and there is a handle per connection).
   */
  private get ending(): boolean {
    return this.#closeInfo !== undefined;
  }

  /** @internal Called from uWS's `open`. */
  attach(ws: WebSocket<SocketSlot>): void {
    this.#ws = ws;
  }

  /** @internal Called from uWS's `close`: from here on the native socket must not be touched. */
  detach(code: number, reason: string): void {
    this.#ws = undefined;
    this.#outbox = undefined;
    this.#pendingBytes = 0;
    this.#closeInfo ??= { code, reason };
  }

  /** `true` once the connection is closed (or closing at our end). */
  get closed(): boolean {
    return this.#ws === undefined || this.ending;
  }

  /** How it closed; undefined while open. */
  get closeInfo(): CloseInfo | undefined {
    return this.#closeInfo;
  }

  /** Bytes uWS holds that the peer has not taken yet (as of the last flush or drain). 0 once closed. */
  get bufferedAmount(): number {
    return this.#ws === undefined ? 0 : this.#uwsBuffered;
  }

  /** Bytes queued in this iteration, not yet handed to uWS (approximate for strings: UTF-16 units). */
  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** @internal uWS drained some of the socket's buffer (its `drain` callback): read it again. */
  drained(): void {
    const ws = this.#ws;
    if (ws !== undefined) this.#uwsBuffered = ws.getBufferedAmount();
  }

  /**
   * @internal uWS answered a ping with a pong on its own (its `ping` callback): what it holds for the
   * peer grew outside `send`. Reads it again, and closes the socket like any other write if that
   * puts it over the limit, so a peer that sends pings and never reads cannot grow the server.
   */
  pinged(): void {
    const ws = this.#ws;
    if (ws === undefined || this.ending) return;
    this.#uwsBuffered = ws.getBufferedAmount();
    const limit = this.#limit;
    if (limit !== undefined && this.#uwsBuffered + this.#pendingBytes > limit.bytes) this.overflow(limit);
  }

  /**
   * Queues a frame (text for a string, binary for bytes, unless `isBinary` says otherwise); it is
   * written with the other frames of this batch. Returns `closed` (and writes nothing) once closed.
   */
  send(data: string | Uint8Array, isBinary: boolean = typeof data !== 'string'): SendStatus {
    if (this.#ws === undefined || this.ending) return 'closed';
    let box = this.#outbox;
    if (box === undefined) {
      box = this.#outbox = [];
      dirty.push(this as SocketHandle<unknown>);
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flushAll);
      }
    }
    box.push({ data, isBinary });
    this.#pendingBytes += typeof data === 'string' ? data.length : data.byteLength;
    // A big batch goes out at once: what waits in JS per socket stays small, and the limit below
    // then judges what the peer has not taken, not the size of a burst.
    if (this.#pendingBytes >= FLUSH_AT_BYTES) {
      this.flush();
      return this.ending ? 'closed' : 'queued';
    }
    const limit = this.#limit;
    if (limit !== undefined && this.#pendingBytes + this.#uwsBuffered > limit.bytes) {
      this.overflow(limit);
      return 'closed';
    }
    return 'queued';
  }

  private overflow(limit: BufferLimit): void {
    const ws = this.#ws;
    if (ws === undefined || this.ending) return;
    // Drop what is still queued: sending it would only grow the buffer that is already too big.
    this.#outbox = undefined;
    this.#pendingBytes = 0;
    const code = limit.code ?? 1013;
    const reason = limit.reason ?? 'send buffer limit';
    this.#closeInfo = { code, reason };
    ws.end(code, reason);
    limit.onExceeded?.(this as SocketHandle<unknown>);
  }

  /** Subscribes the socket to a uWS topic (for `publish`). `false` if closed. */
  subscribe(topic: string): boolean {
    return this.#ws?.subscribe(topic) ?? false;
  }

  /** Unsubscribes from a topic. `false` if closed or not subscribed. */
  unsubscribe(topic: string): boolean {
    return this.#ws?.unsubscribe(topic) ?? false;
  }

  /** Publishes to every subscriber of `topic` (uWS's native fan-out), after this socket's queued frames. */
  publish(topic: string, data: string | Uint8Array, isBinary: boolean = typeof data !== 'string'): boolean {
    const ws = this.#ws;
    if (ws === undefined) return false;
    this.flush();
    let ok = false;
    ws.cork(() => {
      ok = ws.publish(topic, data, isBinary);
    });
    return ok;
  }

  /**
   * Closes the connection with a close frame, after the frames already queued. Later sends report
   * `closed`. A no-op when already closed.
   */
  end(code = 1000, reason = ''): void {
    const ws = this.#ws;
    if (ws === undefined || this.ending) return;
    this.#closeInfo = { code, reason };
    this.flush();
    // end() writes the close frame and half-closes by itself; no cork needed.
    ws.end(code, reason);
  }

  /** Drops the connection at once, without a close frame. */
  terminate(): void {
    const ws = this.#ws;
    if (ws === undefined) return;
    this.#closeInfo ??= { code: 1006, reason: 'terminated' };
    ws.close();
  }

  /** @internal Writes the queued frames in one cork. */
  flush(): void {
    const box = this.#outbox;
    if (box === undefined) return;
    this.#outbox = undefined;
    this.#pendingBytes = 0;
    const ws = this.#ws;
    if (ws === undefined) return;
    // One frame is one write either way; several go out in one cork (one syscall).
    if (box.length === 1) this.writeOne(ws, box[0] as Frame);
    else
      ws.cork(() => {
        for (let i = 0; i < box.length; i++) this.writeOne(ws, box[i] as Frame);
      });
    this.#uwsBuffered = ws.getBufferedAmount();
    const limit = this.#limit;
    if (limit !== undefined && !this.ending && this.#uwsBuffered > limit.bytes) this.overflow(limit);
  }

  private writeOne(ws: WebSocket<SocketSlot>, f: Frame): void {
    // 1: sent, 0: sent with backpressure building, 2: dropped over maxBackpressure.
    if (ws.send(f.data, f.isBinary) === 2) this.#dropped++;
    else {
      this.#framesOut++;
      this.#bytesOut += typeof f.data === 'string' ? f.data.length : f.data.byteLength;
    }
  }
}
