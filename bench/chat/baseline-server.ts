/**
 * The yardstick: examples/chat/PROTOCOL.md's subset that the load uses, on uWebSockets.js directly, with native
 * pub/sub and plain maps, no actors. `welcome` on open; `join` -> `joined` (members, epoch, id);
 * `message` -> published to the room's topic (every member, the sender included) with the next id,
 * then `ack` with the id; `dm` -> every connection of the user, then `ack`; `ping` -> `pong`; the
 * protocol's `bad_request`, `invalid_name`, `not_member`, `no_such_user`, `too_many_rooms` and
 * `payload_too_large` errors. Frames are validated as the chat validates them (names, content size,
 * refs), and the uWS settings are the chat's (1 MiB uWS payload limit with the 64 KiB limit enforced
 * as a 1009 close, 120 s idle timeout with automatic pings, backpressure never dropping frames).
 *
 * What it leaves out because the load never exercises it: history and resume (`since` answers
 * `recovered: false`), presence, `leave`, `who`, rate limits, slow-consumer gaps, auth, and the
 * `_test` fault endpoints: recovery is measured on the Troupe server only.
 *
 * `fault` (tests only) makes it misbehave on purpose (or shed load, as the Troupe chat does when it is
 * behind: refuse every Nth room message with `rate_limited` "server busy"): drop, duplicate or reorder every Nth room
 * message, or drop every Nth DM, so a test can show that the load generator's checks catch it.
 *
 * Run as a process (`--port 0`, prints `{"listening":PORT}`) or call `startBaseline` in-process.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { HttpResponse, TemplatedApp, WebSocket } from '@troupe/uws';
import { Packr, unpack } from 'msgpackr';
import { serveServerRequests } from './ipc.js';

// uWebSockets.js itself, as @troupe/uws resolves it (the same native build), without loading
// @troupe/uws or Troupe.
const uWS = createRequire(createRequire(import.meta.url).resolve('@troupe/uws/package.json'))(
  'uWebSockets.js',
) as typeof import('@troupe/uws').uWS;

export type Fault =
  | { readonly kind: 'drop' | 'duplicate' | 'reorder'; readonly every: number }
  | { readonly kind: 'drop-dm'; readonly every: number }
  /** Refuse every Nth room message as the Troupe chat does when it sheds load. */
  | { readonly kind: 'shed'; readonly every: number };

export interface BaselineOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly fault?: Fault | undefined;
}

export interface Baseline {
  readonly port: number;
  /** Stops listening and closes every connection. */
  close(): void;
}

interface UserData {
  readonly user: string;
  readonly rooms: Set<string>;
  binary: boolean;
}

interface Room {
  lastId: number;
  readonly epoch: string;
  /** Connections per user, for `members` (distinct users). */
  readonly users: Map<string, number>;
  /** A message held back by the reorder fault. */
  held: { json: string; obj: object } | undefined;
}

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_PAYLOAD = 65_536;
const MAX_CONTENT = 16_384;
const MAX_ROOMS = 100;
const packr = new Packr({ useRecords: false });

type Ws = WebSocket<UserData>;

function isRef(v: unknown): v is string | number {
  return (typeof v === 'string' && v.length <= 128) || (typeof v === 'number' && Number.isFinite(v));
}

function tooLong(content: string): boolean {
  return content.length * 3 > MAX_CONTENT && Buffer.byteLength(content) > MAX_CONTENT;
}

export function startBaseline(options: BaselineOptions): Promise<Baseline> {
  const rooms = new Map<string, Room>();
  const users = new Map<string, Set<Ws>>();
  const open = new Set<Ws>();
  const fault = options.fault;
  let roomMessages = 0;
  let dms = 0;
  let app: TemplatedApp;

  function send(ws: Ws, frame: object): void {
    const ud = ws.getUserData();
    if (ud.binary) ws.send(packr.pack(frame), true);
    else ws.send(JSON.stringify(frame), false);
  }

  function error(ws: Ws, code: string, reason: string, ref: unknown): void {
    send(ws, ref === undefined ? { type: 'error', code, reason } : { type: 'error', code, reason, ref });
  }

  function publish(name: string, json: string, obj: object): void {
    app.publish(`j:${name}`, json, false);
    // MessagePack subscribers only exist when a client sent binary: encode for them only then.
    if (app.numSubscribers(`b:${name}`) > 0) app.publish(`b:${name}`, packr.pack(obj), true);
  }

  function topic(binary: boolean, room: string): string {
    return `${binary ? 'b' : 'j'}:${room}`;
  }

  function handle(ws: Ws, f: Record<string, unknown>): void {
    const ud = ws.getUserData();
    const ref = f.ref;
    if (ref !== undefined && !isRef(ref)) {
      error(ws, 'bad_request', 'ref must be a string of at most 128 characters or a finite number', undefined);
      return;
    }
    switch (f.type) {
      case 'message': {
        const { room: name, content } = f;
        if (typeof name !== 'string' || typeof content !== 'string') {
          error(ws, 'bad_request', 'room and content must be strings', ref);
          return;
        }
        if (!NAME.test(name)) {
          error(ws, 'invalid_name', 'room must be 1 to 64 of A-Z a-z 0-9 _ . -', ref);
          return;
        }
        if (tooLong(content)) {
          error(ws, 'payload_too_large', `content is longer than ${MAX_CONTENT}`, ref);
          return;
        }
        const room = ud.rooms.has(name) ? rooms.get(name) : undefined;
        if (room === undefined) {
          error(ws, 'not_member', `not in room ${name}`, ref);
          return;
        }
        if (fault?.kind === 'shed' && (roomMessages + 1) % fault.every === 0) {
          roomMessages++;
          send(ws, { type: 'error', code: 'rate_limited', reason: 'server busy', retry_ms: 1000, ref });
          return;
        }
        const id = ++room.lastId;
        const obj = { type: 'message', room: name, from: ud.user, content, ts: Date.now(), id };
        const json = JSON.stringify(obj);
        const n = ++roomMessages;
        if (fault !== undefined && fault.kind !== 'drop-dm' && fault.kind !== 'shed' && n % fault.every === 0) {
          if (fault.kind === 'duplicate') publish(name, json, obj);
          if (fault.kind === 'reorder') {
            room.held = { json, obj };
            if (ref !== undefined) send(ws, { type: 'ack', ref, id });
            return;
          }
          if (fault.kind !== 'drop') publish(name, json, obj);
        } else publish(name, json, obj);
        if (room.held !== undefined) {
          // The reorder fault: the held message goes out after the one that followed it.
          const held = room.held;
          room.held = undefined;
          publish(name, held.json, held.obj);
        }
        if (ref !== undefined) send(ws, { type: 'ack', ref, id });
        return;
      }
      case 'dm': {
        const { to, content } = f;
        if (typeof to !== 'string' || typeof content !== 'string') {
          error(ws, 'bad_request', 'to and content must be strings', ref);
          return;
        }
        if (!NAME.test(to)) {
          error(ws, 'invalid_name', 'to must be 1 to 64 of A-Z a-z 0-9 _ . -', ref);
          return;
        }
        if (tooLong(content)) {
          error(ws, 'payload_too_large', `content is longer than ${MAX_CONTENT}`, ref);
          return;
        }
        const targets = users.get(to);
        if (targets === undefined) {
          error(ws, 'no_such_user', `${to} is not connected`, ref);
          return;
        }
        const obj = { type: 'dm', from: ud.user, content, ts: Date.now() };
        const dropped = fault?.kind === 'drop-dm' && ++dms % fault.every === 0;
        if (!dropped) {
          let json: string | undefined;
          let pack: Uint8Array | undefined;
          for (const t of targets) {
            if (t.getUserData().binary) {
              pack ??= packr.pack(obj);
              t.send(pack, true);
            } else {
              json ??= JSON.stringify(obj);
              t.send(json, false);
            }
          }
        }
        if (ref !== undefined) send(ws, { type: 'ack', ref });
        return;
      }
      case 'join': {
        const name = f.room;
        if (typeof name !== 'string') {
          error(ws, 'bad_request', 'room must be a string', ref);
          return;
        }
        if (!NAME.test(name)) {
          error(ws, 'invalid_name', 'room must be 1 to 64 of A-Z a-z 0-9 _ . -', ref);
          return;
        }
        if (!ud.rooms.has(name) && ud.rooms.size >= MAX_ROOMS) {
          error(ws, 'too_many_rooms', `at most ${MAX_ROOMS} rooms per connection`, ref);
          return;
        }
        let room = rooms.get(name);
        if (room === undefined) {
          room = { lastId: 0, epoch: randomBytes(6).toString('base64url'), users: new Map(), held: undefined };
          rooms.set(name, room);
        }
        if (!ud.rooms.has(name)) {
          ud.rooms.add(name);
          room.users.set(ud.user, (room.users.get(ud.user) ?? 0) + 1);
          ws.subscribe(topic(ud.binary, name));
        }
        const joined: Record<string, unknown> = {
          type: 'joined',
          room: name,
          members: room.users.size,
          epoch: room.epoch,
          id: room.lastId,
        };
        if (ref !== undefined) joined.ref = ref;
        // No history here: a resume can never be filled.
        if (f.since !== undefined) joined.recovered = false;
        send(ws, joined);
        return;
      }
      case 'ping':
        send(ws, ref === undefined ? { type: 'pong' } : { type: 'pong', ref });
        return;
      default:
        error(ws, 'bad_request', 'unknown type', ref);
    }
  }

  function leaveAll(ws: Ws): void {
    const ud = ws.getUserData();
    for (const name of ud.rooms) {
      const room = rooms.get(name);
      if (room === undefined) continue;
      const n = (room.users.get(ud.user) ?? 1) - 1;
      if (n > 0) room.users.set(ud.user, n);
      else room.users.delete(ud.user);
    }
    const mine = users.get(ud.user);
    mine?.delete(ws);
    if (mine?.size === 0) users.delete(ud.user);
  }

  app = uWS.App();
  app.ws<UserData>('/ws', {
    maxPayloadLength: 1024 * 1024,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    maxBackpressure: 1024 * 1024 * 1024,
    closeOnBackpressureLimit: 0,
    upgrade(res, req, context) {
      const user = new URLSearchParams(req.getQuery() ?? '').get('user');
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      if (user === null || !NAME.test(user)) {
        res.writeStatus('400 Bad Request').end('user must be 1 to 64 characters of A-Z a-z 0-9 _ . -');
        return;
      }
      res.upgrade<UserData>({ user, rooms: new Set(), binary: false }, key, protocol, extensions, context);
    },
    open(ws) {
      const ud = ws.getUserData();
      open.add(ws);
      let mine = users.get(ud.user);
      if (mine === undefined) {
        mine = new Set();
        users.set(ud.user, mine);
      }
      mine.add(ws);
      ws.send(JSON.stringify({ type: 'welcome', user: ud.user }), false);
    },
    message(ws, message, isBinary) {
      if (message.byteLength > MAX_PAYLOAD) {
        ws.end(1009, 'frame too large');
        return;
      }
      const ud = ws.getUserData();
      if (isBinary !== ud.binary) {
        // The client switched encodings: answer in the new one, room messages included.
        for (const name of ud.rooms) {
          ws.unsubscribe(topic(ud.binary, name));
          ws.subscribe(topic(isBinary, name));
        }
        ud.binary = isBinary;
      }
      let f: unknown;
      try {
        // Parsed before the callback returns: uWS reuses `message` afterwards.
        f = isBinary ? unpack(Buffer.from(message)) : JSON.parse(Buffer.from(message).toString('utf8'));
      } catch {
        error(ws, 'bad_request', isBinary ? 'not MessagePack' : 'not JSON', undefined);
        return;
      }
      if (f === null || typeof f !== 'object' || Array.isArray(f)) {
        error(ws, 'bad_request', 'a frame must be an object', undefined);
        return;
      }
      handle(ws, f as Record<string, unknown>);
    },
    close(ws) {
      open.delete(ws);
      leaveAll(ws);
    },
  });
  app.any('/*', (res: HttpResponse) => {
    res.writeStatus('404 Not Found').end('not found');
  });
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', options.port, (listenSocket) => {
      if (listenSocket === false) {
        reject(new Error(`baseline: could not listen on 127.0.0.1:${options.port}`));
        return;
      }
      resolve({
        port: uWS.us_socket_local_port(listenSocket as never),
        close() {
          uWS.us_listen_socket_close(listenSocket);
          for (const ws of [...open]) ws.close();
        },
      });
    });
  });
}

function parseFault(v: string | undefined): Fault | undefined {
  if (v === undefined) return undefined;
  const [kind, every] = v.split(':');
  const n = Number(every);
  if (!['drop', 'duplicate', 'reorder', 'drop-dm', 'shed'].includes(kind as string) || !Number.isInteger(n) || n < 1) {
    throw new Error(`--fault=KIND:N with KIND drop, duplicate, reorder, drop-dm or shed; got ${v}`);
  }
  return { kind: kind as Fault['kind'], every: n } as Fault;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // As in troupe-server.ts: no source maps, as in production.
  process.setSourceMapsEnabled(false);
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const server = await startBaseline({ port: Number(arg('port') ?? 0), fault: parseFault(arg('fault')) });
  if (process.send !== undefined) serveServerRequests(3_600_000);
  // The runner's SIGINT: exit normally, so that --cpu-prof and --heap-prof write their files.
  process.on('SIGINT', () => process.exit(0));
  console.log(JSON.stringify({ listening: server.port }));
}
