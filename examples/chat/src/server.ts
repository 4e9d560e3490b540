/**
 * The chat server's supervision tree:
 *
 *     chat (one_for_one)
 *      ├── rooms    dynamicSupervisor of room actors (transient: restarted after a crash)
 *      └── server   socketServer from @troupe/uws
 *           ├── sockets   dynamicSupervisor of connection actors (transient)
 *           └── listener  the uWS app and its listen socket
 *
 * plus three registries (rooms by name, room members, each user's connections). `startChat`
 * starts it under a system and returns the port and a graceful `drain`.
 */
import { type SocketHandle, socketServer, type UpgradeDecision, type UpgradeInfo } from '@troupe/uws';
import {
  type ActorSystem,
  DuplicateRegistry,
  dynamicSupervisor,
  type Ref,
  supervisor,
  terminateChild,
  UniqueRegistry,
} from 'troupe';
import { verifyToken } from './auth.js';
import { connection } from './connection.js';
import { routes } from './http.js';
import { createMetrics } from './metrics.js';
import { type ChatOptions, profile } from './options.js';
import { isName } from './protocol.js';
import { answerLostRequest, type RoomMsg, room } from './room.js';
import { newSession, type Session } from './session.js';
import { type ConnMsg, type Member, newCounters, ROOM_SUP, SOCKET_SERVER, type World } from './world.js';

export interface Chat {
  readonly port: number;
  readonly world: World;
  readonly ref: Ref<never>;
  /**
   * Graceful drain: stop accepting, close every connection with 1012 in batches (their queued
   * frames are flushed first), then stop the tree in order. Resolves when everything is stopped.
   */
  drain(): Promise<void>;
}

function decideUpgrade(o: ChatOptions, system: ActorSystem, req: UpgradeInfo): UpgradeDecision<Session> {
  const origin = req.headers.get('origin');
  if (origin !== undefined && o.allowedOrigins !== undefined && !o.allowedOrigins.includes(origin)) {
    return { ok: false, status: 403, message: 'origin not allowed' };
  }
  let user: string;
  if (o.authSecret !== undefined) {
    const token = req.query.get('token');
    if (token === null) return { ok: false, status: 401, message: 'token required' };
    const check = verifyToken(o.authSecret, token);
    if (!check.ok) return { ok: false, status: 401, message: `bad token (${check.reason})` };
    user = check.user;
  } else {
    const u = req.query.get('user');
    if (u === null || !isName(u))
      return { ok: false, status: 400, message: 'user must be 1 to 64 characters of A-Z a-z 0-9 _ . -' };
    user = u;
  }
  return { ok: true, session: newSession(user, o.burst, system.clock.now()) };
}

export async function startChat(
  system: ActorSystem,
  options: ChatOptions,
  now: () => number = Date.now,
): Promise<Chat> {
  const p = profile(options);
  if (!p.ok) throw new Error(p.error);
  const world: World = {
    options,
    rooms: new UniqueRegistry<string, undefined, RoomMsg>('rooms'),
    members: new DuplicateRegistry<string, Member, ConnMsg>('members'),
    users: new DuplicateRegistry<string, SocketHandle<Session>, ConnMsg>('users'),
    inboxes: new Map(),
    names: new UniqueRegistry<unknown>('chat'),
    counters: newCounters(),
    fanout: undefined,
    now,
    backlogMs: () => system.backlogMs,
  };
  let port = 0;
  let draining = false;
  const metrics = createMetrics(world, system);
  // A room that crashes on a request answers it with `internal` (see answerLostRequest).
  const offDeadLetter = system.onDeadLetter(answerLostRequest);
  world.fanout = metrics.fanout;
  const rooms = dynamicSupervisor({
    child: { behavior: room, restart: 'transient', reportMessages: 1 },
    maxRestarts: 1_000,
    withinMs: 1_000,
  });
  const chat = await system.start(
    supervisor({
      strategy: 'one_for_one',
      children: [
        { id: 'rooms', behavior: rooms, name: { via: world.names, key: ROOM_SUP } },
        {
          id: 'server',
          name: { via: world.names, key: SOCKET_SERVER },
          behavior: socketServer<Session, unknown>({
            host: options.host,
            port: options.port,
            path: '/ws',
            maxPayload: options.maxPayload,
            closeCode: 1012,
            idleTimeoutS: options.idleTimeoutS,
            maxConnections: options.maxConnections,
            maxConnectionsPerAddress: options.maxConnectionsPerIp,
            // No recent messages kept per connection (a report shows the frame that crashed it):
            // it would keep every connection's last frame alive.
            socket: { behavior: connection(world), reportMessages: 0, shutdown: 1_000 },
            // The hard limit holds for every write (room messages, replays, DMs, answers).
            bufferLimit: {
              bytes: options.hardLimit,
              code: 1013,
              reason: 'slow consumer',
              onExceeded: () => {
                world.counters.slowClosed++;
              },
            },
            upgrade: (req) => decideUpgrade(options, system, req),
            routes: (app) => routes(app, world, metrics, () => !draining),
            onListen: (p) => {
              port = p;
            },
          }),
        },
      ],
    }),
  );
  return {
    port,
    world,
    ref: chat as Ref<never>,
    async drain() {
      draining = true;
      const server = world.names.whereis(SOCKET_SERVER);
      if (server !== undefined) {
        // Stop accepting first: the listener goes for good (terminateChild, not stop: a supervised
        // actor that is merely stopped is restarted), the sockets supervisor stays.
        await terminateChild(server, 'listener');
        // Close connections in batches so a large server does not stall its loop.
        const batch = options.drainBatch;
        const sockets = [...world.users.keys()].flatMap((u) => [...world.users.lookup(u).values()]);
        for (let i = 0; i < sockets.length; i += batch) {
          for (const s of sockets.slice(i, i + batch)) s.end(1012, 'server restarting');
          await new Promise((r) => setImmediate(r));
        }
      }
      await system.stop(chat, 'shutdown');
      offDeadLetter();
      metrics.close();
    },
  };
}
