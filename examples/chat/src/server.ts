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
  countChildren,
  DuplicateRegistry,
  dynamicSupervisor,
  type Ref,
  supervisor,
  terminateChild,
  UniqueRegistry,
  whichChildren,
} from 'troupe';
import { verifyToken } from './auth.js';
import { type ChatCluster, hostView } from './clustered.js';
import { connection } from './connection.js';
import { FaultLog } from './faults.js';
import { type Health, routes } from './http.js';
import { createMetrics } from './metrics.js';
import { type ChatOptions, profile } from './options.js';
import { isName } from './protocol.js';
import { answerLostRequest, type RoomMsg, room } from './room.js';
import { newSession, type Session } from './session.js';
import {
  type ConnMsg,
  INBOX_HOST,
  memberRegistry,
  newCounters,
  OWNER_SUP,
  RELAY_SUP,
  ROOM_SUP,
  SOCKET_SERVER,
  type World,
} from './world.js';

/** The restart window of the room-like supervisors: a burst of crashes in many rooms is not a reason to give up. */
const BURSTS = { maxRestarts: 1_000, withinMs: 1_000 } as const;

export interface Chat {
  readonly port: number;
  readonly world: World;
  readonly ref: Ref<never>;
  health(): Health;
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
  // The upgrade request's size, about (what uWS shows of it): the first answer budget.
  let sent = req.url.length + req.query.toString().length + 16;
  for (const [k, v] of req.headers) sent += k.length + v.length + 4;
  return { ok: true, session: newSession(user, o.burst, system.clock.now(), sent, o.softLimit, o.answerRatio) };
}

export async function startChat(
  system: ActorSystem,
  options: ChatOptions,
  now: () => number = Date.now,
): Promise<Chat> {
  const p = profile(options);
  if (!p.ok) throw new Error(p.error);
  // The cluster's code (NATS, JetStream, the relays and owners) and the observer load only when used.
  const parts = options.cluster !== undefined && options.cluster.length > 0 ? await import('./join.js') : undefined;
  const observer = options.observer ? await import('@troupe/uws/observer') : undefined;
  const cluster: ChatCluster | undefined =
    parts === undefined ? undefined : await parts.joinChatCluster(system, options);
  const roomNames = new UniqueRegistry<string, undefined, RoomMsg>('rooms');
  const world: World = {
    options,
    cluster,
    rooms: roomNames,
    members: memberRegistry(roomNames),
    users: new DuplicateRegistry<string, SocketHandle<Session>, ConnMsg>('users'),
    inboxes: new Map(),
    names: new UniqueRegistry<unknown>('chat'),
    counters: newCounters(),
    fanout: undefined,
    now,
    backlogMs: () => system.backlogMs,
    faults: options.testFaults ? new FaultLog() : undefined,
  };
  let port = 0;
  let draining = false;
  const metrics = createMetrics(world, system);
  // A room that crashes on a request answers it with `internal` (see answerLostRequest).
  const offDeadLetter = system.onDeadLetter(answerLostRequest);
  world.fanout = metrics.fanout;
  const rooms = dynamicSupervisor({ child: { behavior: room, restart: 'transient', reportMessages: 1 }, ...BURSTS });
  // Clustered: relays (restarted after a crash, as rooms are), room owners (not restarted: a
  // relay that loses its owner claims the room again, here or elsewhere) and the inbox host.
  const clustered =
    cluster === undefined || parts === undefined
      ? []
      : [
          {
            id: 'relays',
            name: { via: world.names, key: RELAY_SUP },
            behavior: dynamicSupervisor({
              child: { behavior: parts.relay, restart: 'transient', reportMessages: 1 },
              ...BURSTS,
            }),
          },
          {
            id: 'owners',
            name: { via: world.names, key: OWNER_SUP },
            behavior: dynamicSupervisor({
              child: { behavior: parts.owner, restart: 'temporary', reportMessages: 1 },
              ...BURSTS,
            }),
          },
          {
            id: 'inboxes',
            name: { via: world.names, key: INBOX_HOST },
            behavior: parts.inboxHost,
            args: { world, cluster },
          },
        ];
  const chat = await system.start(
    supervisor({
      strategy: 'one_for_one',
      children: [
        { id: 'rooms', behavior: rooms, name: { via: world.names, key: ROOM_SUP } },
        ...clustered,
        {
          id: 'server',
          name: { via: world.names, key: SOCKET_SERVER },
          behavior: socketServer<Session, unknown>({
            host: options.host,
            port: options.port,
            // Clustered, processes on one machine may share the port (the kernel spreads the
            // connections); a single process keeps it to itself, so two chats never split one port.
            reusePort: cluster !== undefined,
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
            routes: (app) => {
              routes(app, world, metrics, health);
              if (observer !== undefined) {
                const registry = cluster?.cluster.registry;
                observer.mountObserver(app, system, {
                  ...(options.observerToken === undefined ? {} : { token: options.observerToken }),
                  ...(registry === undefined
                    ? {}
                    : {
                        // Where each room's owner (and every other cluster-wide name) lives.
                        names: function* () {
                          for (const n of registry.names()) yield [n, registry.whereis(n)?.node ?? '?'] as const;
                        },
                      }),
                  log: (line) => console.error(`troupe-chat: ${line}`),
                });
              }
            },
            onListen: (p) => {
              port = p;
            },
            // At the open-file limit the listener closes its listen socket instead of spinning on
            // EMFILE, and listens again once files are free (@troupe/uws FILES_CHECK_MS).
            onAccepting: (accepting) => {
              if (!accepting) world.counters.acceptPaused++;
              console.error(
                accepting
                  ? 'troupe-chat: accepting connections again'
                  : `troupe-chat: out of file descriptors (the open-file limit, ulimit -n): not accepting connections until some close`,
              );
            },
          }),
        },
      ],
    }),
  );
  function health(): Health {
    if (cluster === undefined) return { ok: !draining, node: options.node, cluster: 'off', nodes: 1 };
    // Up when it can serve what needs the cluster: connected, and its registry usable (just after a
    // reconnect, for a round trip or two, it is not yet).
    const up = cluster.cluster.connected && cluster.cluster.registry.available;
    return {
      ok: !draining && up,
      node: cluster.node,
      cluster: up ? 'up' : 'down',
      nodes: cluster.cluster.nodes().length + 1,
    };
  }
  if (cluster !== undefined) await settle(cluster, options.heartbeatMs);
  return {
    port,
    world,
    health,
    ref: chat as Ref<never>,
    async drain() {
      draining = true;
      if (cluster !== undefined) await handOver(world, cluster);
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
      cluster?.history.close();
      await cluster?.cluster.leave();
    },
  };
}

/** A logger with an info level too (pino's shape). */
export interface InfoLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * Logs what an operator of a cluster wants to see: processes coming and going, and the bus (NATS)
 * going away and coming back. Returns the function that stops it.
 */
export function logCluster(chat: Chat, system: ActorSystem, logger: InfoLogger): () => void {
  const c = chat.world.cluster;
  if (c === undefined) return () => {};
  const off = system.subscribe((e) => {
    if (e.type === 'nodeup') logger.info({ node: e.node }, 'chat process up');
    else if (e.type === 'nodedown') logger.warn({ node: e.node, reason: e.reason }, 'chat process down');
  });
  let stopped = false;
  void (async () => {
    for await (const st of c.cluster.connection.status()) {
      if (stopped) return;
      if (st.type === 'disconnect') logger.warn({ server: st.server }, 'cluster bus (NATS) disconnected');
      else if (st.type === 'reconnect') logger.info({ server: st.server }, 'cluster bus (NATS) reconnected');
      else if (st.type === 'slowConsumer' || st.type === 'error') logger.warn({ status: st.type }, 'cluster bus');
    }
  })().catch(() => {});
  return () => {
    stopped = true;
    off();
  };
}

/**
 * Clustered drain, before the sockets close: this process claims no room from now on, leaves the
 * inbox hosts (the others place its inboxes anew and read them from the stream), and retires the
 * room owners it holds, each once what it accepted is stored; the relays of other processes then
 * claim those rooms and carry on from the stream.
 */
async function handOver(world: World, c: ChatCluster): Promise<void> {
  c.draining = true;
  world.names.whereis(INBOX_HOST)?.send({ type: 'drain' });
  const owners = world.names.whereis(OWNER_SUP);
  if (owners === undefined) return;
  for (const child of await whichChildren(owners)) child.ref?.send({ type: 'retire' });
  const end = Date.now() + 3_000;
  while (Date.now() < end && (await countChildren(owners)).active > 0) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Waits (up to a few heartbeats) until this process has heard the others and sees an inbox host on
 * each: until then it would place inboxes on itself alone.
 */
async function settle(c: ChatCluster, heartbeatMs: number): Promise<void> {
  const end = Date.now() + Math.max(1_000, 8 * heartbeatMs);
  await new Promise((r) => setTimeout(r, 2 * heartbeatMs));
  while (Date.now() < end) {
    const view = hostView(c).split(',');
    if (c.cluster.nodes().every((n) => view.includes(n))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
