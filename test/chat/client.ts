/**
 * A small test client for the chat protocol (examples/chat/PROTOCOL.md) and the helpers the chat suite
 * shares: start a real server in-process on 127.0.0.1 port 0, connect clients in JSON or
 * MessagePack mode, send frames, and wait for the next frame that matches a predicate. Waits are
 * bounded by a timeout that only guards against a hang: nothing here sleeps for a fixed time.
 */
import { once } from 'node:events';
import { request } from 'node:http';
import type { TestContext } from 'node:test';
import { Packr } from 'msgpackr';
import {
  ActorSystem,
  type Clock,
  type DynamicSupervisor,
  type SupervisorRef,
  silentLogger,
  whichChildren,
} from 'troupe';
import WebSocket from 'ws';
import { type Chat, type ChatOptions, DEFAULTS, startChat } from '../../examples/chat/src/index.js';

/** A decoded server frame. */
export type Frame = { readonly type: string } & Record<string, unknown>;

/** A frame as it arrived: decoded, and whether it came as MessagePack (binary). */
export interface Received {
  readonly frame: Frame;
  readonly binary: boolean;
  /** The raw bytes of a binary frame. */
  readonly raw: Buffer | undefined;
}

export type Mode = 'json' | 'msgpack';

/** The failure guard of every wait; a passing test never waits this long. */
export const WAIT_MS = 3_000;

// Plain maps, no msgpackr extensions: what any MessagePack client would send.
const packr = new Packr({ useRecords: false });

export function pack(value: unknown): Buffer {
  return packr.pack(value);
}

export function unpack(data: Buffer): unknown {
  return packr.unpack(data);
}

type Predicate = (f: Frame, r: Received) => boolean;

/** Matches frames by type and, optionally, by a subset of their fields. */
export function is(type: string, fields: Record<string, unknown> = {}): Predicate {
  return (f) => f.type === type && Object.entries(fields).every(([k, v]) => f[k] === v);
}

export class ChatClient {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly all: Received[] = [];
  /** Frames not yet taken by `next`. */
  readonly pending: Received[] = [];
  /** The encoding `send` uses. */
  mode: Mode;
  closed: { readonly code: number; readonly reason: string } | undefined;
  readonly label: string;
  #waiters: Array<() => void> = [];
  #refs = 0;

  constructor(url: string, mode: Mode = 'json', headers: Record<string, string> = {}) {
    this.mode = mode;
    this.label = url.slice(url.indexOf('?'));
    this.ws = new WebSocket(url, { headers });
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = (isBinary ? unpack(data) : JSON.parse(data.toString('utf8'))) as Frame;
      const r: Received = { frame, binary: isBinary, raw: isBinary ? data : undefined };
      this.all.push(r);
      this.pending.push(r);
      this.#wake();
    });
    this.ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    // Errors show up as a close or as a failed `open`.
    this.ws.on('error', () => {});
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** A fresh `ref` for a request. */
  ref(prefix = 'r'): string {
    return `${prefix}${++this.#refs}`;
  }

  /** Sends one frame in the client's mode (or `mode`). */
  send(frame: Record<string, unknown>, mode: Mode = this.mode): void {
    this.mode = mode;
    if (mode === 'msgpack') this.ws.send(pack(frame), { binary: true });
    else this.ws.send(JSON.stringify(frame), { binary: false });
  }

  /** Sends raw text or bytes, unchecked. */
  sendRaw(data: string | Buffer, binary: boolean): void {
    this.ws.send(data, { binary });
  }

  /** Waits until `cond` holds, re-checked on every frame and on close; fails after `timeoutMs`. */
  async until<T>(cond: () => T | undefined, what: string, timeoutMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = cond();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed !== undefined) {
        const seen = this.pending.map((r) => JSON.stringify(r.frame).slice(0, 200)).join('\n  ');
        const state = this.closed ? `closed with ${this.closed.code}` : `no match in ${timeoutMs} ms`;
        throw new Error(`${this.label}: waiting for ${what}: ${state}; unread frames:\n  ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Takes the first unread frame matching `pred` (other frames stay unread), waiting for it. */
  async next(pred: Predicate = () => true, what = 'a frame', timeoutMs = WAIT_MS): Promise<Frame> {
    return (await this.nextReceived(pred, what, timeoutMs)).frame;
  }

  /** Like `next`, but answers the frame with its encoding. */
  async nextReceived(pred: Predicate = () => true, what = 'a frame', timeoutMs = WAIT_MS): Promise<Received> {
    return this.until(
      () => {
        const i = this.pending.findIndex((x) => pred(x.frame, x));
        return i < 0 ? undefined : (this.pending.splice(i, 1)[0] as Received);
      },
      what,
      timeoutMs,
    );
  }

  /** Takes `n` unread frames matching `pred`, in arrival order. */
  async take(n: number, pred: Predicate, what = `${n} frames`): Promise<Frame[]> {
    await this.until(() => (this.pending.filter((x) => pred(x.frame, x)).length >= n ? true : undefined), what);
    const out: Frame[] = [];
    for (let i = 0; i < this.pending.length && out.length < n; ) {
      const r = this.pending[i] as Received;
      if (pred(r.frame, r)) {
        out.push(r.frame);
        this.pending.splice(i, 1);
      } else i++;
    }
    return out;
  }

  /** Sends a request with a fresh ref and waits for the answer that echoes it. */
  async request(frame: Record<string, unknown>, mode: Mode = this.mode): Promise<Frame> {
    const ref = this.ref();
    this.send({ ...frame, ref }, mode);
    return this.next((f) => f.ref === ref, `the answer to ${JSON.stringify(frame).slice(0, 80)} (ref ${ref})`);
  }

  /**
   * A round trip through this connection's actor: every frame the server wrote to this socket
   * before it handled the ping has arrived once the pong is here.
   */
  async sync(): Promise<void> {
    const pong = await this.request({ type: 'ping' });
    if (pong.type !== 'pong') throw new Error(`expected a pong, got ${JSON.stringify(pong)}`);
  }

  /**
   * A round trip through the actor of `room` (this connection has joined it): a join of a room
   * already joined changes nothing and is answered by the room, behind everything queued there.
   */
  async syncRoom(room: string): Promise<void> {
    const joined = await this.request({ type: 'join', room });
    if (joined.type !== 'joined') throw new Error(`expected joined, got ${JSON.stringify(joined)}`);
  }

  /** Unread frames of a type (does not take them). */
  unread(type: string): Frame[] {
    return this.pending.filter((r) => r.frame.type === type).map((r) => r.frame);
  }

  /** Every frame of a type received so far, read or not. */
  received(type: string): Frame[] {
    return this.all.filter((r) => r.frame.type === type).map((r) => r.frame);
  }

  async closedWith(): Promise<{ readonly code: number; readonly reason: string }> {
    return this.until(() => this.closed, 'the close');
  }

  /** Closes (or drops) the connection and waits until it is closed. */
  async close(): Promise<void> {
    if (this.closed !== undefined) return;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
    try {
      await this.until(() => this.closed, 'the close', 1_000);
    } catch {
      this.ws.terminate();
      await this.until(() => this.closed, 'the close after terminate', 1_000);
    }
  }
}

/** What the upgrade answered: an open client, or the HTTP status it was refused with. */
export type Attempt =
  | { readonly ok: true; readonly client: ChatClient }
  | { readonly ok: false; readonly status: number };

export interface Server {
  readonly system: ActorSystem;
  readonly chat: Chat;
  readonly port: number;
  readonly options: ChatOptions;
  /** Connects `?user=NAME` (or any query) and waits for the welcome. */
  connect(user: string, mode?: Mode): Promise<ChatClient>;
  /** Tries an upgrade with a raw query string and headers. */
  attempt(query: string, headers?: Record<string, string>, mode?: Mode): Promise<Attempt>;
  /** An HTTP request to the server. */
  http(method: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }>;
  /** Closes every client, then stops the server and the actor system. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly clock?: Clock;
  /** The server's wall clock for `ts`. */
  readonly now?: () => number;
  /** Crash reports (default: dropped). */
  readonly onError?: (obj: object, msg?: string) => void;
}

/**
 * Starts the chat server on 127.0.0.1, port 0, and stops it (clients first) after the test.
 * @example const srv = await startServer(t, { maxRooms: 2 });
 */
export async function startServer(
  t: TestContext,
  overrides: Partial<ChatOptions> = {},
  start: StartOptions = {},
): Promise<Server> {
  const system = new ActorSystem({
    logger: start.onError === undefined ? silentLogger : { error: start.onError, warn() {} },
    ...(start.clock === undefined ? {} : { clock: start.clock }),
  });
  // Load shedding is wall-clock based: a test process that a busy machine stops for a second would
  // shed. Only the test of shedding turns it on, with a backlog it makes on purpose.
  const options: ChatOptions = { ...DEFAULTS, port: 0, host: '127.0.0.1', shedAfterMs: 0, ...overrides };
  const chat = await startChat(system, options, start.now);
  const port = chat.port;
  const clients: ChatClient[] = [];
  let stopped = false;

  const attempt = async (query: string, headers: Record<string, string> = {}, mode: Mode = 'json') => {
    const client = new ChatClient(`ws://127.0.0.1:${port}/ws${query}`, mode, headers);
    clients.push(client);
    // Both settle (a failed one as its error), so neither can reject unhandled after the race.
    const opened = once(client.ws, 'open').then(
      () => true as const,
      (e: Error) => e,
    );
    const refused = once(client.ws, 'unexpected-response').then(
      ([, res]) => (res as { statusCode: number }).statusCode,
      (e: Error) => e,
    );
    const r = await Promise.race([opened, refused]);
    if (r instanceof Error) throw r;
    if (r === true) return { ok: true, client } as const;
    client.ws.terminate();
    return { ok: false, status: r } as const;
  };

  const server: Server = {
    system,
    chat,
    port,
    options,
    attempt,
    async connect(user, mode = 'json') {
      const a = await attempt(`?user=${encodeURIComponent(user)}`, {}, mode);
      if (!a.ok) throw new Error(`connect ${user}: refused with ${a.status}`);
      await a.client.next(is('welcome'), 'the welcome');
      return a.client;
    },
    http: (method, path) => http(port, method, path),
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(clients.map((c) => c.close()));
      // A clustered chat leaves its cluster in the drain (its NATS connection would keep the
      // test process alive).
      if (options.cluster !== undefined) await chat.drain();
      await system.shutdown();
    },
  };
  t.after(() => server.stop());
  return server;
}

/** One HTTP request without keep-alive, so nothing outlives the test. */
export function http(
  port: number,
  method: string,
  path: string,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.setTimeout(WAIT_MS, () => req.destroy(new Error(`${method} ${path}: no answer in ${WAIT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A `welcome` frame without its inbox position, after checking that position's shape (PROTOCOL.md:
 * `"inbox":{"epoch":E,"id":N}`), for tests that compare the rest.
 */
export function greeting(f: Frame | undefined): Frame {
  const inbox = f?.inbox as { epoch?: unknown; id?: unknown } | undefined;
  if (typeof inbox?.epoch !== 'string' || typeof inbox.id !== 'number') {
    throw new Error(`a welcome carries its inbox position; got ${JSON.stringify(f)}`);
  }
  const { inbox: _, ...rest } = f as Frame;
  return rest as Frame;
}

/** Joins `room` and waits for `joined`. */
export async function join(c: ChatClient, room: string, extra: Record<string, unknown> = {}): Promise<Frame> {
  const f = await c.request({ type: 'join', room, ...extra });
  if (f.type !== 'joined') throw new Error(`join ${room}: got ${JSON.stringify(f)}`);
  return f;
}

/** Reads one value of a Prometheus text exposition. */
export function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The rooms supervisor and the sockets supervisor of a running chat. */
export async function supervisors(
  srv: Server,
): Promise<{ rooms: DynamicSupervisor<unknown, unknown>; sockets: DynamicSupervisor<unknown, unknown> }> {
  const top = await whichChildren(srv.chat.ref as unknown as SupervisorRef);
  const rooms = top.find((c) => c.id === 'rooms')?.ref;
  const server = top.find((c) => c.id === 'server')?.ref;
  if (rooms === undefined || server === undefined) throw new Error('the chat tree has no rooms or server child');
  const sockets = (await whichChildren(server as unknown as SupervisorRef)).find((c) => c.id === 'sockets')?.ref;
  if (sockets === undefined) throw new Error('the server has no sockets child');
  return {
    rooms: rooms as unknown as DynamicSupervisor<unknown, unknown>,
    sockets: sockets as unknown as DynamicSupervisor<unknown, unknown>,
  };
}
