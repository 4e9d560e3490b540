/**
 * A WebSocket server as a supervision tree. `socketServer(options)` is a supervisor behaviour:
 *
 *     server (rest_for_one)
 *      ├── sockets   dynamicSupervisor: one actor per connection (transient by default)
 *      └── listener  owns the uWS app and its listen socket
 *
 * Start it with `system.start(...)` or as a child of your own tree; `serve()` does the former and
 * hands back the port. Stopping the tree stops the listener first (no new connections), then every
 * socket actor; a socket whose actor ends for good is closed with `closeCode`. A socket actor that
 * crashes is restarted in place by its supervisor and the connection stays open: what must survive
 * lives in the `SocketHandle` (its `session`), not in the actor's state.
 */

import type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { closeSync, openSync } from 'node:fs';
import { devNull } from 'node:os';
import {
  type ActorSystem,
  type Behavior,
  type ChildTemplate,
  type Context,
  countChildren,
  type DynamicSupervisor,
  type DynamicSupervisorRequest,
  dynamicSupervisor,
  type ExitReason,
  isCleanExit,
  type Key,
  key,
  type Ref,
  type RestartLimit,
  type Spawnable,
  type SupervisorBehavior,
  spawnChild,
  supervisor,
  terminateChild,
  UniqueRegistry,
} from 'troupe';
import { assertNativeUws, isNativeUws, uWS } from './native.js';
import { type BufferLimit, type SocketHandle as Handle, SocketHandle, type SocketSlot } from './socket.js';

/** What a socket's actor receives from its connection (besides your own messages). */
export type SocketEvent =
  | {
      readonly type: 'socket.message';
      /** A text frame as a string; a binary frame as a copy of its bytes. */
      readonly data: string | Uint8Array;
      readonly isBinary: boolean;
    }
  | { readonly type: 'socket.drain'; readonly bufferedAmount: number };

/**
 * `unknown` when an actor of messages `M` can take every `SocketEvent` its connection will send it;
 * otherwise a property no behaviour has, named for the mistake, so that the compiler rejects the
 * behaviour and its error says why (and, as the property's type, which events are not accepted).
 * A message type that is a union with `SocketEvent` in it, `SocketEvent` itself, or `unknown` passes.
 */
export type AcceptsSocketEvents<M> = [SocketEvent] extends [M]
  ? unknown
  : { readonly 'a socket actor must accept every SocketEvent; it does not accept': Exclude<SocketEvent, M> };

/** What a socket's actor gets as `init` args, at its first start and every restart. */
export interface SocketArgs<S> {
  readonly socket: Handle<S>;
}

/** What `upgrade` sees of the HTTP upgrade request (copied: uWS's request dies with the callback). */
export interface UpgradeInfo {
  readonly url: string;
  readonly query: URLSearchParams;
  /** Lower-case header names. */
  readonly headers: ReadonlyMap<string, string>;
  readonly remoteAddress: string;
}

/** Accept with the connection's session, or refuse with an HTTP status. */
export type UpgradeDecision<S> =
  | { readonly ok: true; readonly session: S }
  | { readonly ok: false; readonly status: number; readonly message: string };

/** Options of `socketServer` and `serve`. Only `socket` is required. */
export interface ServerOptions<S, M> {
  /** Listen address. Default `127.0.0.1`. */
  readonly host?: string;
  /** Listen port; 0 picks a free one. Default 0. */
  readonly port?: number;
  /**
   * Share the port with other processes that listen on it with `reusePort` too (`SO_REUSEPORT`:
   * the kernel spreads new connections over them). Default false: the port is this server's alone,
   * and listening fails if another process has it (uWS's own default would share it silently).
   * Only a port asked for is shared: with port 0 every server gets a port of its own.
   */
  readonly reusePort?: boolean;
  /** The WebSocket route. Default `/ws`. */
  readonly path?: string;
  /**
   * The actor of each connection. `restart` defaults to `transient` (restarted after a crash, not
   * after a close) and `restartLimit` to `DEFAULT_SOCKET_RESTART_LIMIT` (5 in 5 s; past it the
   * connection is closed with 1011).
   */
  readonly socket: ChildTemplate<SocketArgs<S>> & {
    // The connection sends it SocketEvents: a behaviour whose messages cannot be one is a compile error.
    readonly behavior: Spawnable<M, unknown, SocketArgs<S>> & AcceptsSocketEvents<M>;
  };
  /** Decide an upgrade: accept with a session, or refuse with a status. Default: accept with an empty session. */
  readonly upgrade?: (req: UpgradeInfo) => UpgradeDecision<S>;
  /** Add HTTP routes to the app (called once per listener start). */
  readonly routes?: (app: TemplatedApp) => void;
  /**
   * Largest accepted message in bytes (one frame, or the sum of its fragments). A bigger one closes
   * the connection with 1009 if it is at most `min(maxPayload, 64 KiB)` over; uWS drops the TCP
   * connection without a close frame as soon as a header or the fragments so far announce more than
   * that. Default 64 KiB.
   */
  readonly maxPayload?: number;
  /** Seconds without traffic before uWS closes the connection; pings keep it alive. Default 120. */
  readonly idleTimeoutS?: number;
  /** Send pings automatically to keep idle connections alive. Default true. */
  readonly sendPings?: boolean;
  /**
   * The most bytes that may wait to go out to one socket; past it the socket is closed (1013 by
   * default) whoever is writing. Default: no limit (the application watches `bufferedAmount`).
   */
  readonly bufferLimit?: BufferLimit;
  /** Connections at once; more are refused at upgrade with 503. Default Infinity. */
  readonly maxConnections?: number;
  /** Connections at once from one remote address; more are refused at upgrade with 503. Default Infinity. */
  readonly maxConnectionsPerAddress?: number;
  /** The close code for a connection whose actor ended for good (server shutdown). Default 1001 (going away). */
  readonly closeCode?: number;
  /** Called once the listener is listening. */
  readonly onListen?: (port: number) => void;
  /**
   * Called with `false` when the listener stops accepting because the process has run out of file
   * descriptors, and with `true` when it accepts again (see {@link FILES_CHECK_MS}).
   */
  readonly onAccepting?: (accepting: boolean) => void;
  /** Run on uWebSockets.js's JavaScript fallback instead of refusing to start. Default false. */
  readonly allowFallback?: boolean;
}

/**
 * A started server, from `serve`. `S` is the connections' session and `M` their actors' messages;
 * a plain `Server` stands for any server.
 */
// biome-ignore lint/suspicious/noExplicitAny: a plain `Server` must accept a server of any session and messages.
export interface Server<S = any, M = any> {
  readonly port: number;
  /** The server's supervisor. */
  readonly ref: Ref<never>;
  /** The dynamic supervisor of the socket actors. */
  readonly sockets: DynamicSupervisor<M, SocketArgs<S>>;
  /** Open connections (socket actors running). */
  connections(): Promise<number>;
  /** False while the server does not accept, for want of file descriptors (`onAccepting`). */
  accepting(): boolean;
  /** Stops accepting, then stops every socket actor (closing its connection), then the tree. */
  stop(): Promise<void>;
}

type ListenerMsg =
  | { readonly type: 'listener.port'; readonly reply: (port: number) => void }
  | { readonly type: 'listener.files' };

/**
 * How often (ms) the listener checks that the process can still open a file. uWS accepts in a loop
 * until accept() fails, and at the open-file limit it fails at once with EMFILE while the connection
 * stays queued: the listen socket stays readable and the event loop spins at 100% CPU. So when no
 * file can be opened, the listener closes its listen socket (new connections are refused, not
 * queued) and listens again on the same port once {@link FILES_HEADROOM} files can be opened.
 */
export const FILES_CHECK_MS = 100;

/** Files that must be free before a listener that ran out of them accepts again. */
export const FILES_HEADROOM = 32;

/**
 * Whether the process can open `n` more files (it opens and closes the null device). Any failure but
 * EMFILE/ENFILE (no null device, a sandbox) counts as yes: the check must never stop a server.
 */
function canOpenFiles(n: number): boolean {
  const fds: number[] = [];
  try {
    for (let i = 0; i < n; i++) fds.push(openSync(devNull, 'r'));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return !(code === 'EMFILE' || code === 'ENFILE');
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/** @internal Per server: the live connection count, shared by listener incarnations. */
interface Shared {
  connections: number;
  /** Open connections by remote address (only while a per-address limit is set). */
  readonly perAddress: Map<string, number>;
  port: number;
  /** False while the listener has closed its listen socket for want of file descriptors. */
  accepting: boolean;
  /**
   * The listen socket, while one is open. Here, not in the listener's state, so that whatever ends
   * an incarnation (even a kill, which skips `terminate`) the next one closes a socket left open.
   */
  listenSocket: us_listen_socket | undefined;
}

/** Calls an application's callback; one that throws is reported, not let through to uWS or the actor. */
function notify<T>(what: string, cb: ((v: T) => void) | undefined, v: T): void {
  try {
    cb?.(v);
  } catch (e) {
    console.error(`[troupe/uws] ${what} threw:`, e);
  }
}

/**
 * Per server: the registry its children find each other in (a server's own, since one system may
 * run several servers), and the key the sockets supervisor holds there, in every incarnation.
 */
interface Siblings<S, M> {
  readonly names: UniqueRegistry<unknown>;
  readonly sockets: Key<DynamicSupervisorRequest<SocketArgs<S>, M>>;
}

const UPGRADE_NEEDS =
  'a WebSocket upgrade needs GET with Upgrade: websocket, Connection: Upgrade, a Sec-WebSocket-Key of 16 bytes in base64 and Sec-WebSocket-Version: 13';

/** What is wrong with an upgrade request's headers (RFC 6455 4.2.1), or undefined. */
export function badUpgrade(headers: ReadonlyMap<string, string>): string | undefined {
  const upgrade = headers.get('upgrade') ?? '';
  const connection = headers.get('connection') ?? '';
  const key = headers.get('sec-websocket-key') ?? '';
  const version = headers.get('sec-websocket-version') ?? '';
  const tokens = (v: string) => v.split(',').map((t) => t.trim().toLowerCase());
  if (!tokens(upgrade).includes('websocket')) return UPGRADE_NEEDS;
  if (!tokens(connection).includes('upgrade')) return UPGRADE_NEEDS;
  if (!/^[A-Za-z0-9+/]{21}[AQgw]==$/.test(key)) return UPGRADE_NEEDS;
  if (version.trim() !== '13') return UPGRADE_NEEDS;
  return undefined;
}

/**
 * Whether a remote address, as uWebSockets.js spells it (`getRemoteAddressAsText`), is this
 * machine's loopback: 127.0.0.0/8 or ::1, IPv4-mapped or not, short or long form.
 */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase();
  if (a.startsWith('127.')) return true;
  if (a === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(a)) return true;
  const mapped = /^(?:::ffff:|(?:0{1,4}:){5}ffff:)(.*)$/.exec(a);
  if (mapped === null) return false;
  const rest = mapped[1] as string;
  // ::ffff:127.0.0.1, or ::ffff:7f00:1 (127.x.x.x in hex)
  return rest.startsWith('127.') || /^7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(rest);
}

/** Slots of `internAddress`'s table: a power of two. */
const ADDRESS_SLOTS = 256;
const recentAddresses: Array<string | undefined> = new Array<string | undefined>(ADDRESS_SLOTS).fill(undefined);

/**
 * The same string for the same address as the last connection from it that hashed to its slot:
 * the connections that come through one proxy or NAT, or one load balancer, share one string in
 * their handles instead of holding a copy each (32 bytes a connection). A fixed table of recent
 * addresses, so addresses seen once cost nothing but their slot.
 */
function internAddress(text: string): string {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  const slot = (h ^ (h >>> 16)) & (ADDRESS_SLOTS - 1);
  const held = recentAddresses[slot];
  if (held === text) return held;
  recentAddresses[slot] = text;
  return text;
}

function copyRequest(req: HttpRequest, res: HttpResponse): UpgradeInfo {
  // MUST copy everything out of req here: it is invalid after this callback returns.
  const url = req.getUrl();
  const query = new URLSearchParams(req.getQuery() ?? '');
  const headers = new Map<string, string>();
  req.forEach((k, v) => {
    headers.set(k, v);
  });
  const remoteAddress = internAddress(Buffer.from(res.getRemoteAddressAsText()).toString());
  return { url, query, headers, remoteAddress };
}

function listener<S, M>(
  options: ServerOptions<S, M>,
  shared: Shared,
  siblings: Siblings<S, M>,
): Behavior<ListenerMsg, ListenerState> {
  const maxPayload = options.maxPayload ?? 64 * 1024;
  return {
    name: 'listener',
    summary: (state) =>
      `${shared.listenSocket === undefined ? 'not accepting (out of files)' : 'accepting'} on port ${state.port}`,
    async init(ctx: Context<ListenerMsg>) {
      // By name, not by a call to our supervisor: it is still starting us, and would not answer.
      const sockets = siblings.names.whereis(siblings.sockets);
      if (sockets === undefined) throw new Error('socketServer: the sockets supervisor is not running');
      const system = ctx.system;
      /** The connection's actor, while it runs. */
      const actorOf = (handle: SocketHandle<unknown>): Ref<SocketEvent> | undefined => {
        const ref = handle.actor;
        return ref?.alive ? (ref as Ref<SocketEvent>) : undefined;
      };
      const app = uWS.App();
      app.ws<SocketSlot>(options.path ?? '/ws', {
        // uWS drops the TCP connection without a close frame above maxPayloadLength (for one frame as
        // soon as its header announces the length, for fragments as soon as their sum does), and JS
        // sees a message only once it is complete. So uWS's cap is the limit plus a little room
        // (maxPayload again, at most 64 KiB): a message over the limit but within that room is read
        // and closed with a proper 1009 below; anything larger is dropped by uWS at once. Either way
        // no connection holds more than maxPayloadLength bytes of an incoming message.
        maxPayloadLength: uwsMaxPayloadLength(maxPayload),
        idleTimeout: options.idleTimeoutS ?? 120,
        sendPingsAutomatically: options.sendPings ?? true,
        // Never let uWS drop frames silently: slow consumers are the application's call.
        maxBackpressure: 1024 * 1024 * 1024,
        closeOnBackpressureLimit: 0,
        upgrade(res, req, context) {
          const info = copyRequest(req, res);
          const key = req.getHeader('sec-websocket-key');
          // uWS checks the key's length and the Upgrade header, not the version or Connection.
          const bad = badUpgrade(info.headers);
          if (bad !== undefined) {
            res.writeStatus('400 Bad Request').writeHeader('sec-websocket-version', '13').end(bad);
            return;
          }
          const protocol = req.getHeader('sec-websocket-protocol');
          const extensions = req.getHeader('sec-websocket-extensions');
          if (shared.connections >= (options.maxConnections ?? Number.POSITIVE_INFINITY)) {
            res.writeStatus('503 Service Unavailable').end('too many connections');
            return;
          }
          const perAddress = options.maxConnectionsPerAddress;
          if (perAddress !== undefined && (shared.perAddress.get(info.remoteAddress) ?? 0) >= perAddress) {
            res.writeStatus('503 Service Unavailable').end('too many connections from this address');
            return;
          }
          let decision: UpgradeDecision<S>;
          try {
            decision = options.upgrade ? options.upgrade(info) : { ok: true, session: {} as S };
          } catch (e) {
            system.logger.error({ err: e }, 'socketServer: upgrade callback threw');
            decision = { ok: false, status: 500, message: 'internal error' };
          }
          if (!decision.ok) {
            res.writeStatus(`${decision.status} ${statusText(decision.status)}`).end(decision.message);
            return;
          }
          const handle = new SocketHandle<S>(decision.session, info.remoteAddress, options.bufferLimit);
          const slot: SocketSlot = { handle: handle as SocketHandle<unknown> };
          res.upgrade<SocketSlot>(slot, key, protocol, extensions, context);
        },
        open(ws) {
          const slot = ws.getUserData();
          const handle = slot.handle as SocketHandle<S>;
          handle.attach(ws);
          let r: ReturnType<typeof spawnChild<SocketArgs<S>, M>>;
          try {
            // The handle is its own args ({ socket }): no object per connection for them.
            r = spawnChild(sockets, handle);
          } catch (e) {
            // The sockets supervisor is between incarnations: refuse this one, keep the server up.
            system.logger.error({ err: e }, 'socketServer: could not start a socket actor');
            handle.end(1011, 'server error');
            return;
          }
          if (!r.ok) {
            handle.end(1013, r.reason);
            return;
          }
          // Counted from here until its close, whether the client or the actor ends it.
          shared.connections++;
          if (options.maxConnectionsPerAddress !== undefined) {
            const a = handle.remoteAddress;
            shared.perAddress.set(a, (shared.perAddress.get(a) ?? 0) + 1);
          }
          // Its end for good closes the connection: the sockets supervisor's onChildExit (socketExited).
          handle.actor = r.ref as Ref<never>;
        },
        message(ws, message, isBinary) {
          const handle = ws.getUserData().handle;
          const ref = actorOf(handle);
          if (ref === undefined) return;
          if (message.byteLength > maxPayload) {
            handle.end(1009, 'frame too large');
            return;
          }
          // MUST copy: uWS reuses the ArrayBuffer after this callback returns.
          const data = isBinary ? new Uint8Array(message.slice(0)) : Buffer.from(message).toString('utf8');
          ref.send({ type: 'socket.message', data, isBinary });
        },
        ping(ws) {
          // uWS has already queued the pong itself, outside send(): count it against the limit.
          ws.getUserData().handle.pinged();
        },
        drain(ws) {
          const handle = ws.getUserData().handle;
          handle.drained();
          actorOf(handle)?.send({ type: 'socket.drain', bufferedAmount: ws.getBufferedAmount() });
        },
        close(ws, code, message) {
          const handle = ws.getUserData().handle;
          handle.detach(code, Buffer.from(message).toString('utf8'));
          const ref = handle.actor;
          if (ref === undefined) return;
          handle.actor = undefined;
          shared.connections--;
          if (options.maxConnectionsPerAddress !== undefined) {
            const a = handle.remoteAddress;
            const n = (shared.perAddress.get(a) ?? 1) - 1;
            if (n > 0) shared.perAddress.set(a, n);
            else shared.perAddress.delete(a);
          }
          // Its actor still runs (the client closed): stop it. If the sockets supervisor has gone
          // meanwhile (the server is shutting down), so have its children: nothing to do, and the
          // rejected call must not become an unhandled rejection (Node ends the process on one).
          if (ref.alive) terminateChild(sockets, ref).catch(() => {});
        },
      });
      // A request to the socket path that uWS did not take for an upgrade (no Upgrade header, a key
      // it refused): HTTP 400 that says what an upgrade needs, before any route of the application.
      app.any(options.path ?? '/ws', (res) => {
        res.cork(() => {
          res.writeStatus('400 Bad Request').writeHeader('sec-websocket-version', '13');
          res.end(UPGRADE_NEEDS);
        });
      });
      options.routes?.(app);
      const host = options.host ?? '127.0.0.1';
      // uWS takes (host, port, options, cb) and calls cb before returning: LIBUS_LISTEN_EXCLUSIVE_PORT
      // (1) unless the port is shared.
      const listenOn = (port: number): us_listen_socket | false => {
        const listen = app.listen as unknown as (
          host: string,
          port: number,
          options: number,
          cb: (ls: us_listen_socket | false) => void,
        ) => void;
        let got: us_listen_socket | false = false;
        listen.call(app, host, port, options.reusePort === true ? 0 : 1, (ls) => {
          got = ls;
        });
        return got;
      };
      // An incarnation that was killed (no `terminate`) left its listen socket open: close it first.
      if (shared.listenSocket !== undefined) {
        uWS.us_listen_socket_close(shared.listenSocket);
        shared.listenSocket = undefined;
      }
      // A restarted listener takes the port its first incarnation got, so the port serve() returned holds.
      let port = shared.port !== 0 ? shared.port : (options.port ?? 0);
      let listenSocket = listenOn(port);
      // Port 0: uSockets sets SO_REUSEADDR only on a socket bound to a port asked for, and the
      // connections accepted inherit it. Without it, listening on that port again (this listener
      // restarted, or back from the open-file limit) fails while any of them is open. So the port
      // the kernel picked is taken again at once as a port asked for (another one if it went meanwhile).
      for (let tries = 0; port === 0 && listenSocket !== false && tries < 5; tries++) {
        const picked = uWS.us_socket_local_port(listenSocket as never);
        uWS.us_listen_socket_close(listenSocket);
        listenSocket = listenOn(picked);
        if (listenSocket !== false) port = picked;
        else listenSocket = listenOn(0);
      }
      if (listenSocket === false) {
        throw new Error(
          `could not listen on ${host}:${port}` +
            (options.reusePort === true ? '' : ' (in use? it is not shared without reusePort)'),
        );
      }
      shared.port = uWS.us_socket_local_port(listenSocket as never);
      shared.listenSocket = listenSocket;
      shared.accepting = true;
      ctx.sendInterval(ctx.self, { type: 'listener.files' }, FILES_CHECK_MS);
      notify('onListen', options.onListen, shared.port);
      return { port: shared.port, listenOn, failedRelistens: 0 };
    },
    receive(state, msg) {
      if (msg.type === 'listener.port') {
        msg.reply(state.port);
        return state;
      }
      const open = shared.listenSocket;
      if (open !== undefined) {
        if (canOpenFiles(1)) return state;
        // Out of file descriptors: stop accepting rather than spin on EMFILE (FILES_CHECK_MS).
        shared.listenSocket = undefined;
        shared.accepting = false;
        uWS.us_listen_socket_close(open);
        notify('onAccepting', options.onAccepting, false);
        return state;
      }
      if (!canOpenFiles(FILES_HEADROOM)) return state;
      const listenSocket = state.listenOn(state.port);
      if (listenSocket === false) {
        // The port taken meanwhile by another process: say so once, and try again at the next check.
        if (state.failedRelistens === 0) {
          console.error(
            `[troupe/uws] cannot listen on port ${state.port} again (in use?); retrying every ${FILES_CHECK_MS} ms`,
          );
        }
        return { ...state, failedRelistens: state.failedRelistens + 1 };
      }
      shared.listenSocket = listenSocket;
      shared.accepting = true;
      notify('onAccepting', options.onAccepting, true);
      return { ...state, failedRelistens: 0 };
    },
    terminate() {
      // Stop accepting; open connections are closed as their actors stop.
      const open = shared.listenSocket;
      shared.listenSocket = undefined;
      shared.accepting = false;
      if (open !== undefined) uWS.us_listen_socket_close(open);
    },
  };
}

/**
 * A socket's actor ended for good: its connection goes with it, unless the connection went first
 * (then the handle has no actor, or a newer one). A shutdown says so (the server stopping, or the
 * sockets supervisor giving up: it stops its children with `shutdown`); a crash that was not
 * restarted (its own restart limit) is a server error. The actor stays on the handle until uWS
 * closes the connection, which counts it out.
 */
function socketExited(ref: Ref<never>, reason: ExitReason, handle: SocketHandle<unknown>, closeCode: number): void {
  if (handle.actor !== ref) return;
  if (isCleanExit(reason)) handle.end(closeCode, 'server shutting down');
  else handle.end(1011, 'internal error');
}

/** uWS's own cap on an incoming message: `maxPayload` plus room for a proper 1009 (see `listener`). */
function uwsMaxPayloadLength(maxPayload: number): number {
  return maxPayload + Math.min(maxPayload, 64 * 1024);
}

interface ListenerState {
  readonly port: number;
  readonly listenOn: (port: number) => us_listen_socket | false;
  /** Checks in a row at which listening again failed (the port taken by another process). */
  readonly failedRelistens: number;
}

const STATUS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function statusText(status: number): string {
  return STATUS[status] ?? 'Error';
}

/**
 * A socket actor that crashes a sixth time within 5 s is not restarted again: its connection is
 * closed with 1011. Without a limit of its own, an actor whose `init` always throws would restart in
 * a hot loop (the sockets supervisor's intensity is shared by every connection, so it cannot be low).
 */
export const DEFAULT_SOCKET_RESTART_LIMIT: RestartLimit = { maxRestarts: 5, withinMs: 5_000 };

/**
 * The server's supervision tree as a behaviour: start it, or put it in your own tree.
 * @example
 * const sup = await system.start(socketServer({ port: 9001, socket: { behavior: Echo } }));
 */
export function socketServer<S, M>(options: ServerOptions<S, M>): SupervisorBehavior {
  return buildServer(options).behavior;
}

/** The server's tree, and where its children are registered. */
function buildServer<S, M>(
  options: ServerOptions<S, M>,
): { behavior: SupervisorBehavior; siblings: Siblings<S, M>; shared: Shared } {
  if (!isNativeUws()) {
    if (options.allowFallback !== true) assertNativeUws();
    console.warn(
      '[troupe/uws] WARNING: running on the slow JavaScript fallback of uWebSockets.js (allowFallback: true)',
    );
  }
  if (options.socket === null || typeof options.socket !== 'object') {
    throw new TypeError('socketServer(options): socket must be a child template like { behavior: Connection }');
  }
  const maxPayload = options.maxPayload ?? 64 * 1024;
  if (!Number.isInteger(maxPayload) || maxPayload < 1) {
    throw new RangeError(`socketServer(options): maxPayload must be an integer >= 1; got ${String(maxPayload)}`);
  }
  const shared: Shared = { connections: 0, perAddress: new Map(), port: 0, accepting: false, listenSocket: undefined };
  const siblings: Siblings<S, M> = { names: new UniqueRegistry<unknown>('socketServer'), sockets: key('sockets') };
  const closeCode = options.closeCode ?? 1001;
  const sockets = dynamicSupervisor<M, unknown, SocketArgs<S>>({
    child: { restart: 'transient', restartLimit: DEFAULT_SOCKET_RESTART_LIMIT, ...options.socket },
    onChildExit: (ref, reason, args) => socketExited(ref as Ref<never>, reason, args.socket, closeCode),
    maxChildren: options.maxConnections ?? Number.POSITIVE_INFINITY,
    maxRestarts: 1_000_000,
    withinMs: 1_000,
  });
  const behavior = supervisor({
    strategy: 'rest_for_one',
    children: [
      { id: 'sockets', behavior: sockets, name: { via: siblings.names, key: siblings.sockets } },
      { id: 'listener', behavior: listener(options, shared, siblings), shutdown: 'infinity' },
    ],
  });
  return { behavior, siblings, shared };
}

/**
 * Starts a socket server under `system` and resolves once it listens.
 * @example
 * const server = await serve(system, { port: 0, socket: { behavior: Echo } });
 * console.log(`listening on ${server.port}`);
 * await server.stop();
 */
export async function serve<S, M>(system: ActorSystem, options: ServerOptions<S, M>): Promise<Server<S, M>> {
  let port = 0;
  const { behavior, siblings, shared } = buildServer({
    ...options,
    onListen: (p) => {
      port = p;
      options.onListen?.(p);
    },
  });
  const ref = await system.start(behavior);
  const sockets = siblings.names.whereis(siblings.sockets);
  if (sockets === undefined) throw new Error('serve: the sockets supervisor is not running');
  return {
    port,
    ref,
    sockets,
    connections: async () => (await countChildren(sockets)).active,
    accepting: () => shared.accepting,
    async stop() {
      await system.stop(ref, 'shutdown');
    },
  };
}
