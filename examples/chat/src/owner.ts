/**
 * A room's owner, when the chat runs as a cluster: one actor in the whole cluster per room, holding
 * the room's name in the cluster registry (a lease claimed with create-if-absent and fenced by its
 * revision, so two owners never answer at once). It gives the room its one order: it numbers every
 * message, keeps the history for resume, and sends each message once to each process's relay
 * (relay.ts), which writes it to that process's sockets. It counts the room's users cluster-wide
 * (`members`, `who`, presence) from what the relays report, and batches presence as a single
 * process's room does.
 *
 * Its state is rebuilt from the relays: a relay that finds its owner gone (its process died, or it
 * stopped) claims the name again, and the relays attach to the new owner with their users.
 */
import type { Behavior, Context, InfoMessage, MonitorRef, Ref, Timer } from 'troupe';
import { Encoded } from './codec.js';
import type { ClientRef, ServerFrame, Since } from './protocol.js';
import type { RelayMsg } from './relay.js';
import { History } from './store.js';
import type { ConnMsg, World } from './world.js';

export type OwnerMsg =
  /** A relay with members here: `users` are the users it holds now. Answered with `o.welcome`. */
  | { readonly type: 'attach'; readonly relay: Ref<RelayMsg>; readonly users: readonly string[] }
  | { readonly type: 'detach'; readonly relay: Ref<RelayMsg> }
  /** A user got its first connection in the relay's process (`here`), or lost its last. */
  | { readonly type: 'present'; readonly relay: Ref<RelayMsg>; readonly user: string; readonly here: boolean }
  | {
      readonly type: 'join';
      readonly relay: Ref<RelayMsg>;
      readonly conn: Ref<ConnMsg>;
      readonly since?: Since;
      readonly ref?: ClientRef;
    }
  | {
      readonly type: 'publish';
      readonly relay: Ref<RelayMsg>;
      readonly user: string;
      readonly content: string;
    }
  | { readonly type: 'who'; readonly conn: Ref<ConnMsg>; readonly ref?: ClientRef }
  /** Lost the race for the room's name: stop. */
  | { readonly type: 'retire' }
  | { readonly type: 'presence.flush' }
  | { readonly type: 'idle.check' };

export interface OwnerArgs {
  readonly name: string;
  readonly world: World;
}

interface Attached {
  readonly users: Set<string>;
  readonly monitor: MonitorRef;
}

interface OwnerState {
  readonly name: string;
  readonly world: World;
  readonly store: History;
  readonly relays: Map<Ref<RelayMsg>, Attached>;
  /** User -> how many relays hold it: the room's users cluster-wide are the keys. */
  readonly users: Map<string, number>;
  readonly joins: Set<string>;
  readonly leaves: Set<string>;
  presenceTimer: Timer | undefined;
  idleTimer: Timer | undefined;
}

/** The most names a `who` answers with (PROTOCOL.md). */
const WHO_LIMIT = 1_000;

function presence(s: OwnerState, ctx: Context<OwnerMsg>, user: string, joined: boolean): void {
  const [add, cancel] = joined ? [s.joins, s.leaves] : [s.leaves, s.joins];
  if (cancel.has(user)) cancel.delete(user);
  else add.add(user);
  if (s.presenceTimer === undefined) {
    s.presenceTimer = ctx.sendAfter(ctx.self, { type: 'presence.flush' }, s.world.options.presenceMs);
  }
}

function userIn(s: OwnerState, user: string): boolean {
  const n = s.users.get(user) ?? 0;
  s.users.set(user, n + 1);
  return n === 0;
}

function userOut(s: OwnerState, user: string): boolean {
  const n = (s.users.get(user) ?? 1) - 1;
  if (n > 0) {
    s.users.set(user, n);
    return false;
  }
  s.users.delete(user);
  return true;
}

/** A relay goes: its users leave unless another relay holds them; the room idles when none is left. */
function detach(s: OwnerState, ctx: Context<OwnerMsg>, relay: Ref<RelayMsg>): void {
  const a = s.relays.get(relay);
  if (a !== undefined) {
    s.relays.delete(relay);
    ctx.demonitor(a.monitor);
    for (const u of a.users) if (userOut(s, u)) presence(s, ctx, u, false);
  }
  if (s.relays.size === 0 && s.idleTimer === undefined) {
    s.idleTimer = ctx.sendAfter(ctx.self, { type: 'idle.check' }, s.world.options.roomIdleMs);
  }
}

export const owner: Behavior<OwnerMsg, OwnerState, OwnerArgs> = {
  init(ctx, { name, world }) {
    const o = world.options;
    const s: OwnerState = {
      name,
      world,
      store: new History(o.history, o.historyBytes),
      relays: new Map(),
      users: new Map(),
      joins: new Set(),
      leaves: new Set(),
      presenceTimer: undefined,
      idleTimer: ctx.sendAfter(ctx.self, { type: 'idle.check' }, o.roomIdleMs),
    };
    return s;
  },

  receive(s, msg, ctx) {
    const self = ctx.self;
    switch (msg.type) {
      case 'attach': {
        const old = s.relays.get(msg.relay);
        const users = new Set(msg.users);
        if (old !== undefined) {
          // Attached again (it restarted): the difference is presence.
          s.relays.delete(msg.relay);
          ctx.demonitor(old.monitor);
          for (const u of old.users) if (!users.has(u) && userOut(s, u)) presence(s, ctx, u, false);
          for (const u of users) if (!old.users.has(u) && userIn(s, u)) presence(s, ctx, u, true);
        } else {
          for (const u of users) if (userIn(s, u)) presence(s, ctx, u, true);
        }
        s.relays.set(msg.relay, { users, monitor: ctx.monitor(msg.relay as Ref<never>) });
        s.idleTimer?.cancel();
        s.idleTimer = undefined;
        msg.relay.send({
          type: 'o.welcome',
          owner: self,
          epoch: s.store.epoch,
          id: s.store.lastId,
          members: s.users.size,
        });
        return s;
      }

      case 'detach':
        detach(s, ctx, msg.relay);
        return s;

      case 'present': {
        const a = s.relays.get(msg.relay);
        if (a === undefined) return s;
        if (msg.here) {
          if (!a.users.has(msg.user)) {
            a.users.add(msg.user);
            if (userIn(s, msg.user)) presence(s, ctx, msg.user, true);
          }
        } else if (a.users.delete(msg.user) && userOut(s, msg.user)) presence(s, ctx, msg.user, false);
        return s;
      }

      case 'join': {
        const store = s.store;
        const answer = {
          type: 'o.joined' as const,
          conn: msg.conn,
          members: s.users.size,
          epoch: store.epoch,
          id: store.lastId,
          ...(msg.ref === undefined ? {} : { ref: msg.ref }),
        };
        const since = msg.since;
        if (since === undefined) {
          msg.relay.send(answer);
          return s;
        }
        const recovered = since.epoch === store.epoch && store.covers(since.id);
        if (!recovered) {
          msg.relay.send({ ...answer, recovered });
          return s;
        }
        // At most the soft limit of replay travels: the relay writes what fits its socket and
        // sends a gap from the first id it could not (PROTOCOL.md: every byte queued is bounded).
        const replay: Buffer[] = [];
        let bytes = 0;
        let gapFrom = 0;
        const limit = s.world.options.softLimit;
        for (const m of store.after(since.id)) {
          if (bytes > limit) {
            gapFrom = since.id + replay.length + 1;
            break;
          }
          const json = m.json();
          replay.push(json);
          bytes += json.byteLength;
        }
        msg.relay.send({ ...answer, recovered, replay, first: since.id + 1, gapFrom });
        return s;
      }

      case 'publish': {
        if (!s.relays.has(msg.relay)) return s;
        const store = s.store;
        const id = store.lastId + 1;
        const frame = new Encoded({
          type: 'message',
          room: s.name,
          from: msg.user,
          content: msg.content,
          ts: s.world.now(),
          id,
        });
        store.append(frame, frame.jsonBytes());
        const json = frame.json();
        for (const relay of s.relays.keys()) relay.send({ type: 'o.msg', id, json, origin: relay === msg.relay });
        frame.compact();
        return s;
      }

      case 'who': {
        const sorted = [...s.users.keys()].sort();
        const frame: ServerFrame =
          sorted.length > WHO_LIMIT
            ? { type: 'members', room: s.name, users: sorted.slice(0, WHO_LIMIT), more: true }
            : { type: 'members', room: s.name, users: sorted };
        msg.conn.send({ type: 'frame', frame: msg.ref === undefined ? frame : { ...frame, ref: msg.ref } });
        return s;
      }

      case 'presence.flush': {
        s.presenceTimer = undefined;
        if (s.joins.size === 0 && s.leaves.size === 0) return s;
        const joins = [...s.joins];
        const leaves = [...s.leaves];
        s.joins.clear();
        s.leaves.clear();
        for (const relay of s.relays.keys()) relay.send({ type: 'o.presence', joins, leaves });
        return s;
      }

      case 'idle.check':
        s.idleTimer = undefined;
        // Nobody in any process for roomIdleMs: the room goes (its name with it, on exit).
        if (s.relays.size === 0) ctx.stop('normal');
        return s;

      case 'retire':
        ctx.stop('normal');
        return s;
    }
  },

  info(s, msg: InfoMessage, ctx) {
    if (msg.type !== 'DOWN') return s;
    // A relay ended (its room closed, or its process died): its users leave.
    detach(s, ctx, msg.actor as Ref<RelayMsg>);
    return s;
  },
};
