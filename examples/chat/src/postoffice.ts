/**
 * The inbox host, when the chat runs as a cluster: one actor per process, in the process group
 * `INBOX_HOSTS`, with two roles.
 *
 * - **Owner** of the DM inboxes that rendezvous hashing places on this process: it numbers each
 *   DM of such an inbox (one order cluster-wide), keeps the last `--history` of them, and knows
 *   which processes hold connections of the user (they attach). A DM to a user no process holds
 *   is answered `no_such_user`.
 * - **Post office** for the users connected here: it attaches them to their inbox's owner, tells
 *   their connections the inbox position for the welcome, writes each DM the owner sends to every
 *   local connection of the user (once per process), checks the ids (a hole is announced with a
 *   `gap`, `"inbox":true`), and passes `inbox` + `since` resumes to the owner.
 *
 * Every half second it compares the hosts it sees with the last time: when a process came or went,
 * each local user whose owner moved attaches to the new one, and inboxes no longer placed here are
 * dropped. Inboxes are not durable yet: one that moves starts a new epoch, and the connections of
 * its user get a `gap` (they resume and learn the new epoch).
 */
import type { SocketHandle } from '@troupe/uws';
import type { Behavior, Context, Ref } from 'troupe';
import { type ChatCluster, hostView, INBOX_HOSTS, inboxOwner } from './clustered.js';
import { Encoded, sendFrame } from './codec.js';
import { fanOutDm, writeInboxReplay } from './inbox.js';
import { type ClientRef, errorFrame, type Since } from './protocol.js';
import type { Session } from './session.js';
import { History, newEpoch } from './store.js';
import type { ConnMsg, World } from './world.js';

export type HostMsg =
  // From this process's connections.
  | { readonly type: 'hello'; readonly user: string; readonly conn: Ref<ConnMsg> }
  | { readonly type: 'bye'; readonly user: string }
  | {
      readonly type: 'resume';
      readonly user: string;
      readonly conn: Ref<ConnMsg>;
      readonly since: Since;
      readonly ref?: ClientRef;
    }
  // To an inbox's owner.
  | { readonly type: 'attach'; readonly user: string; readonly host: Ref<HostMsg> }
  | { readonly type: 'detach'; readonly user: string; readonly host: Ref<HostMsg> }
  | {
      readonly type: 'dm';
      readonly to: string;
      readonly from: string;
      readonly content: string;
      readonly conn: Ref<ConnMsg>;
      readonly ref?: ClientRef;
    }
  | {
      readonly type: 'replay';
      readonly user: string;
      readonly since: Since;
      readonly host: Ref<HostMsg>;
      readonly conn: Ref<ConnMsg>;
      readonly ref?: ClientRef;
    }
  // From an inbox's owner to the post offices of its user.
  | {
      readonly type: 'attached';
      readonly user: string;
      readonly owner: Ref<HostMsg>;
      readonly epoch: string;
      readonly id: number;
    }
  | { readonly type: 'deliver'; readonly user: string; readonly id: number; readonly json: Uint8Array }
  | {
      readonly type: 'replayed';
      readonly user: string;
      readonly conn: Ref<ConnMsg>;
      readonly ref?: ClientRef;
      readonly epoch: string;
      readonly id: number;
      readonly recovered: boolean;
      readonly replay: readonly Uint8Array[];
      readonly first: number;
      readonly gapFrom: number;
    }
  | { readonly type: 'tick' };

export interface HostArgs {
  readonly world: World;
  readonly cluster: ChatCluster;
}

/** An inbox this process owns. Its history is made on its first DM (most users never get one). */
interface Owned {
  readonly epoch: string;
  store: History | undefined;
  /** The post offices (one per process) of the user's connections. */
  readonly hosts: Set<Ref<HostMsg>>;
  /** When its last post office detached (clock ms), or -1 while it has one. */
  idleSince: number;
}

/** A user with connections in this process. */
interface Local {
  owner: Ref<HostMsg> | undefined;
  epoch: string | undefined;
  lastId: number;
  /** Connections waiting for the inbox position (their welcome). */
  readonly waiting: Ref<ConnMsg>[];
  gapped: WeakSet<SocketHandle<Session>> | undefined;
}

interface HostState {
  readonly world: World;
  readonly cluster: ChatCluster;
  readonly owned: Map<string, Owned>;
  readonly local: Map<string, Local>;
  view: string;
}

const TICK_MS = 500;
const RETRY_MS = 1_000;

function attach(s: HostState, ctx: Context<HostMsg>, user: string, lu: Local): void {
  const owner = inboxOwner(s.cluster, user);
  lu.owner = owner;
  owner?.send({ type: 'attach', user, host: ctx.self });
}

function localOf(s: HostState, user: string): Local {
  let lu = s.local.get(user);
  if (lu === undefined) {
    lu = { owner: undefined, epoch: undefined, lastId: 0, waiting: [], gapped: undefined };
    s.local.set(user, lu);
  }
  return lu;
}

/** The local connections of `user` that take DMs now: a hole from `from` on, announced. */
function announceHole(s: HostState, user: string, lu: Local, from: number): void {
  for (const socket of s.world.users.lookup(user).values()) {
    if (lu.gapped?.has(socket) === true) continue;
    lu.gapped ??= new WeakSet();
    lu.gapped.add(socket);
    s.world.counters.gaps++;
    sendFrame(socket, { type: 'gap', inbox: true, from });
  }
}

export const inboxHost: Behavior<HostMsg, HostState, HostArgs> = {
  init(ctx, { world, cluster }) {
    cluster.cluster.groups.join(INBOX_HOSTS, ctx.self as Ref<never>);
    ctx.sendAfter(ctx.self, { type: 'tick' }, TICK_MS);
    const s: HostState = { world, cluster, owned: new Map(), local: new Map(), view: hostView(cluster) };
    // After a restart: the users connected here attach again (and their connections are welcomed).
    for (const user of world.users.keys()) attach(s, ctx, user, localOf(s, user));
    return s;
  },

  receive(s, msg, ctx) {
    const world = s.world;
    switch (msg.type) {
      case 'hello': {
        const lu = localOf(s, msg.user);
        if (lu.epoch !== undefined) {
          msg.conn.send({ type: 'welcome', inbox: { epoch: lu.epoch, id: lu.lastId } });
          return s;
        }
        lu.waiting.push(msg.conn);
        if (lu.owner === undefined) attach(s, ctx, msg.user, lu);
        return s;
      }

      case 'bye': {
        if (world.users.count(msg.user) > 0) return s;
        const lu = s.local.get(msg.user);
        if (lu === undefined) return s;
        s.local.delete(msg.user);
        lu.owner?.send({ type: 'detach', user: msg.user, host: ctx.self });
        return s;
      }

      case 'resume': {
        const lu = s.local.get(msg.user);
        if (lu?.owner === undefined) {
          const socket = world.users.lookup(msg.user).get(msg.conn);
          if (socket !== undefined) {
            const ref = msg.ref === undefined ? {} : { ref: msg.ref };
            sendFrame(socket, errorFrame({ code: 'unavailable', reason: 'the inbox is moving', ...ref }, RETRY_MS));
          }
          return s;
        }
        lu.owner.send({
          type: 'replay',
          user: msg.user,
          since: msg.since,
          host: ctx.self,
          conn: msg.conn,
          ...(msg.ref === undefined ? {} : { ref: msg.ref }),
        });
        return s;
      }

      case 'attach': {
        let inbox = s.owned.get(msg.user);
        if (inbox === undefined) {
          inbox = { epoch: newEpoch(), store: undefined, hosts: new Set(), idleSince: -1 };
          s.owned.set(msg.user, inbox);
        }
        inbox.hosts.add(msg.host);
        inbox.idleSince = -1;
        msg.host.send({
          type: 'attached',
          user: msg.user,
          owner: ctx.self,
          epoch: inbox.store?.epoch ?? inbox.epoch,
          id: inbox.store?.lastId ?? 0,
        });
        return s;
      }

      case 'detach': {
        const inbox = s.owned.get(msg.user);
        if (inbox === undefined) return s;
        inbox.hosts.delete(msg.host);
        // Kept for roomIdleMs, so that the user's reconnect resumes it.
        if (inbox.hosts.size === 0) inbox.idleSince = ctx.system.clock.now();
        return s;
      }

      case 'dm': {
        const inbox = s.owned.get(msg.to);
        if (inbox === undefined || inbox.hosts.size === 0) {
          world.counters.errors++;
          msg.conn.send({
            type: 'frame',
            frame: {
              type: 'error',
              code: 'no_such_user',
              reason: `${msg.to} is not connected`,
              ...(msg.ref === undefined ? {} : { ref: msg.ref }),
            },
          });
          return s;
        }
        const o = world.options;
        inbox.store ??= new History(o.history, o.historyBytes, inbox.epoch);
        const store = inbox.store;
        const id = store.lastId + 1;
        const dm = new Encoded({ type: 'dm', from: msg.from, content: msg.content, ts: world.now(), id });
        store.append(dm, dm.jsonBytes());
        const json = dm.json();
        for (const host of inbox.hosts) host.send({ type: 'deliver', user: msg.to, id, json });
        dm.compact();
        // In the inbox, and on its way to every process of the user: acknowledged (PROTOCOL.md).
        if (msg.ref !== undefined) msg.conn.send({ type: 'frame', frame: { type: 'ack', ref: msg.ref } });
        return s;
      }

      case 'replay': {
        const inbox = s.owned.get(msg.user);
        const store = inbox?.store;
        const epoch = store?.epoch ?? inbox?.epoch ?? newEpoch();
        const lastId = store?.lastId ?? 0;
        const recovered =
          msg.since.epoch === epoch && (store === undefined ? msg.since.id === 0 : store.covers(msg.since.id));
        const replay: Buffer[] = [];
        let gapFrom = 0;
        if (recovered && store !== undefined) {
          let bytes = 0;
          for (const m of store.after(msg.since.id)) {
            if (bytes > world.options.softLimit) {
              gapFrom = msg.since.id + replay.length + 1;
              break;
            }
            const json = m.json();
            replay.push(json);
            bytes += json.byteLength;
          }
        }
        msg.host.send({
          type: 'replayed',
          user: msg.user,
          conn: msg.conn,
          ...(msg.ref === undefined ? {} : { ref: msg.ref }),
          epoch,
          id: lastId,
          recovered,
          replay,
          first: msg.since.id + 1,
          gapFrom,
        });
        return s;
      }

      case 'attached': {
        const lu = s.local.get(msg.user);
        if (lu === undefined || lu.owner !== msg.owner) return s;
        if (lu.epoch !== undefined && lu.epoch !== msg.epoch) {
          // The inbox moved and lost its history: the connections hear a gap, resume, and learn
          // the new epoch.
          announceHole(s, msg.user, lu, lu.lastId + 1);
        }
        lu.epoch = msg.epoch;
        lu.lastId = msg.id;
        for (const conn of lu.waiting.splice(0))
          conn.send({ type: 'welcome', inbox: { epoch: msg.epoch, id: msg.id } });
        return s;
      }

      case 'deliver': {
        const lu = s.local.get(msg.user);
        if (lu === undefined) return s;
        if (msg.id !== lu.lastId + 1 && msg.id > lu.lastId) announceHole(s, msg.user, lu, lu.lastId + 1);
        if (msg.id > lu.lastId) lu.lastId = msg.id;
        fanOutDm(world, lu, world.users.lookup(msg.user), Encoded.fromJson(msg.json), msg.id);
        return s;
      }

      case 'replayed': {
        const lu = s.local.get(msg.user);
        const socket = world.users.lookup(msg.user).get(msg.conn);
        if (lu === undefined || socket === undefined) return s;
        const answer = { type: 'inbox', epoch: msg.epoch, id: msg.id, recovered: msg.recovered } as const;
        sendFrame(socket, msg.ref === undefined ? answer : { ...answer, ref: msg.ref });
        lu.gapped?.delete(socket);
        if (msg.recovered) {
          writeInboxReplay(
            world,
            lu,
            msg.conn,
            socket,
            msg.replay.map((j) => Encoded.fromJson(j)),
            msg.first,
            msg.gapFrom,
          );
        }
        return s;
      }

      case 'tick': {
        ctx.sendAfter(ctx.self, { type: 'tick' }, TICK_MS);
        const view = hostView(s.cluster);
        const now = ctx.system.clock.now();
        if (view !== s.view) {
          s.view = view;
          const live = new Set(s.cluster.cluster.groups.members(INBOX_HOSTS));
          // Users whose inbox is placed elsewhere now attach there.
          for (const [user, lu] of s.local) {
            if (inboxOwner(s.cluster, user) !== lu.owner) attach(s, ctx, user, lu);
          }
          for (const [user, inbox] of s.owned) {
            if (inboxOwner(s.cluster, user) !== ctx.self) {
              s.owned.delete(user);
              continue;
            }
            // Post offices of processes that are gone.
            for (const h of inbox.hosts) if (!live.has(h)) inbox.hosts.delete(h);
            if (inbox.hosts.size === 0 && inbox.idleSince < 0) inbox.idleSince = now;
          }
        }
        for (const [user, inbox] of s.owned) {
          if (inbox.idleSince >= 0 && now - inbox.idleSince >= world.options.roomIdleMs) s.owned.delete(user);
        }
        return s;
      }
    }
  },
};
