/**
 * A connection without a network, for unit tests of socket actors: `createFakeSocket()` makes a real
 * `SocketHandle` (the same class, so the same type and the same batching, limits and close rules)
 * over a fake uWebSockets.js socket that records what is written to it. `open(system, behavior)`
 * starts the connection's actor as the server does, and the peer's side (`receive`, `stopReading`,
 * `drain`, `close`) sends it the events the server would. Nothing here loads uWebSockets.js.
 */

import type { WebSocket } from 'uWebSockets.js';
import { type ActorSystem, type ExitReason, isCleanExit, type Ref, type Spawnable } from 'troupe';
import type { AcceptsSocketEvents, SocketArgs, SocketEvent } from './server.js';
import { type BufferLimit, type CloseInfo, SocketHandle, type SocketSlot } from './socket.js';

/** A frame as it was written to the socket: text as a string, binary as a copy of its bytes. */
export interface SentFrame {
  readonly data: string | Uint8Array;
  readonly isBinary: boolean;
}

/** A frame published to a uWS topic through the socket. */
export interface PublishedFrame extends SentFrame {
  readonly topic: string;
}

/** Options of {@link createFakeSocket}; every field optional. */
export interface FakeSocketOptions<S> {
  /** The connection's session, as `upgrade` would have returned it. Default `{}`. */
  readonly session?: S;
  /** Default `'127.0.0.1'`. */
  readonly remoteAddress?: string;
  /** As the server's `bufferLimit` option. Default: none. */
  readonly bufferLimit?: BufferLimit;
  /** The close code when the actor ends for good cleanly, as the server's `closeCode`. Default 1001. */
  readonly closeCode?: number;
}

/** How the connection closed: `end` (a close frame from our side), `terminate`, or the `peer`. */
export type ClosedBy = 'end' | 'terminate' | 'peer';

/** A fake connection: the handle an actor writes to, what was written, and the peer's side. */
export interface FakeSocket<S> {
  /** The handle, a real `SocketHandle`: give it to the actor under test. */
  readonly socket: SocketHandle<S>;
  /** `{ socket }`: the `init` args of a socket actor. */
  readonly args: SocketArgs<S>;
  /**
   * Every frame written to the socket, oldest first. Frames the actor sends are batched as on a
   * real socket: they are written at the end of the event-loop turn (`settle` lets it turn), or at
   * once by `flush()`.
   */
  readonly sent: readonly SentFrame[];
  /** What was published to topics through the socket, oldest first. */
  readonly published: readonly PublishedFrame[];
  /** The topics the socket is subscribed to. */
  readonly topics: ReadonlySet<string>;
  /** How the connection closed, with the code and reason; `undefined` while open. */
  readonly closed: (CloseInfo & { readonly by: ClosedBy }) | undefined;
  /**
   * Starts the connection's actor as the server's `open` does: spawned with `{ socket }` as `init`
   * args; when it ends for good, the connection is closed (`closeCode` after a clean exit, 1011
   * after a crash); when the connection closes, it is stopped with reason `shutdown`. Unsupervised:
   * a crash is the end of it (the server's sockets supervisor would restart it in place). Once.
   */
  open<M>(
    system: ActorSystem,
    behavior: Spawnable<M, unknown, SocketArgs<S>> & AcceptsSocketEvents<M>,
    options?: { readonly label?: string },
  ): Ref<M>;
  /**
   * The peer sends a frame (text for a string, binary for bytes, unless `isBinary` says otherwise):
   * the actor gets `socket.message`. Returns `false` (and sends nothing) once the connection is closed.
   */
  receive(data: string | Uint8Array, isBinary?: boolean): boolean;
  /**
   * The peer stops reading: from now on every frame written stays in uWS's buffer, so
   * `socket.bufferedAmount` grows (as of the next flush, as on a real socket) and a `bufferLimit`
   * can be reached.
   */
  stopReading(): void;
  /**
   * The peer reads everything and goes on reading: the buffer is empty, and the actor gets
   * `socket.drain` with `bufferedAmount: 0`, as uWS's `drain` callback sends it.
   */
  drain(): void;
  /** The peer closes the connection: the handle is closed, and the actor is stopped. */
  close(code?: number, reason?: string): void;
  /** Writes the frames of the current batch now, instead of at the end of the event-loop turn. */
  flush(): void;
}

function byteLength(data: string | Uint8Array): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

function copy(data: string | Uint8Array): string | Uint8Array {
  // uWS copies what it is given; the actor may reuse its buffer.
  return typeof data === 'string' ? data : new Uint8Array(data);
}

/**
 * A connection without a network, for unit tests of socket actors.
 * @example
 * const fake = createFakeSocket({ session: { name: 'ada' } });
 * fake.open(system, greeter);
 * fake.receive('hi');
 * await settle(system);
 * assert.deepEqual(fake.sent, [{ data: 'hello ada: hi', isBinary: false }]);
 */
export function createFakeSocket<S = {}>(options: FakeSocketOptions<S> = {}): FakeSocket<S> {
  const sent: SentFrame[] = [];
  const published: PublishedFrame[] = [];
  const topics = new Set<string>();
  const handle = new SocketHandle<S>(
    options.session ?? ({} as S),
    options.remoteAddress ?? '127.0.0.1',
    options.bufferLimit,
  );
  let reading = true;
  let buffered = 0;
  let closed: (CloseInfo & { by: ClosedBy }) | undefined;
  let actor: Ref<SocketEvent> | undefined;
  let stopActor: (() => void) | undefined;

  /** uWS's `close` callback: it runs inside `end` and `close`, as in uWS. */
  const onClose = (code: number, reason: string, by: ClosedBy): void => {
    if (closed !== undefined) return;
    closed = { code, reason, by };
    handle.detach(code, reason);
    buffered = 0;
    topics.clear();
    stopActor?.();
  };

  // The part of uWS's WebSocket that SocketHandle uses.
  const ws = {
    send(data: string | Uint8Array, isBinary: boolean): number {
      sent.push({ data: copy(data), isBinary });
      if (reading) return 1;
      buffered += byteLength(data);
      return 0; // sent, with backpressure building
    },
    cork(cb: () => void) {
      cb();
      return ws;
    },
    getBufferedAmount: () => buffered,
    end(code: number, reason: string) {
      onClose(code, reason, 'end');
    },
    close() {
      onClose(1006, '', 'terminate');
    },
    subscribe(topic: string): boolean {
      topics.add(topic);
      return true;
    },
    unsubscribe(topic: string): boolean {
      return topics.delete(topic);
    },
    publish(topic: string, data: string | Uint8Array, isBinary: boolean): boolean {
      published.push({ topic, data: copy(data), isBinary });
      return true;
    },
  };
  handle.attach(ws as unknown as WebSocket<SocketSlot>);

  const deliver = (event: SocketEvent): boolean => {
    if (closed !== undefined) return false;
    if (actor === undefined) {
      throw new Error('fake socket: no actor to deliver to; start one with fake.open(system, behavior) first');
    }
    actor.send(event);
    return true;
  };

  return {
    socket: handle,
    // As the server: the handle is its own args.
    args: handle,
    sent,
    published,
    topics,
    get closed() {
      return closed;
    },
    open(system, behavior, spawnOptions) {
      if (actor !== undefined) throw new Error('fake socket: open() was called already; one actor per connection');
      const ref = system.spawn(behavior as never, {
        args: handle,
        ...(spawnOptions?.label === undefined ? {} : { label: spawnOptions.label }),
      }) as unknown as Ref<never>;
      actor = ref as unknown as Ref<SocketEvent>;
      let running = true;
      system.watch(ref, (reason: ExitReason) => {
        running = false;
        // As the server: an actor that ended for good takes its connection with it.
        if (isCleanExit(reason)) handle.end(options.closeCode ?? 1001, 'server shutting down');
        else handle.end(1011, 'internal error');
      });
      stopActor = () => {
        if (running) void system.stop(ref, 'shutdown');
      };
      // The behaviour's own message type, as system.spawn would give it.
      return ref as never;
    },
    receive(data, isBinary = typeof data !== 'string') {
      // As the server: a text frame arrives as a string, a binary one as a copy of its bytes.
      const payload = isBinary
        ? new Uint8Array(typeof data === 'string' ? Buffer.from(data) : data)
        : typeof data === 'string'
          ? data
          : Buffer.from(data).toString('utf8');
      return deliver({ type: 'socket.message', data: payload, isBinary });
    },
    stopReading() {
      reading = false;
    },
    drain() {
      reading = true;
      buffered = 0;
      if (closed !== undefined) return;
      handle.drained();
      if (actor !== undefined) actor.send({ type: 'socket.drain', bufferedAmount: 0 });
    },
    close(code = 1000, reason = '') {
      onClose(code, reason, 'peer');
    },
    flush() {
      handle.flush();
    },
  };
}
