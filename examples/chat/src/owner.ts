/**
 * A room's owner, when the chat runs as a cluster: one actor in the whole cluster per room, holding
 * the room's name in the cluster registry (a lease claimed with create-if-absent and fenced by its
 * revision, so two owners never answer at once). It gives the room its one order: it numbers every
 * message, keeps the history for resume, and sends each message once to each process's relay
 * (relay.ts), which writes it to that process's sockets. It counts the room's users cluster-wide
 * (`members`, `who`, presence) from what the relays report, and batches presence as a single
 * process's room does.
 *
 * Its history is durable (durable.ts): an owner loads it from JetStream before it answers anything,
 * and a message goes out to the relays only once its record is stored, so a message anybody saw is
 * one every later owner has, with the same id and epoch. The rest of its state is rebuilt from the
 * relays: a relay that finds its owner gone (its process died, or it stopped) claims the name again,
 * and the relays attach to the new owner with their users and the last id they saw; the new owner's
 * welcome carries the stored messages they missed.
 */
import type { Behavior, Context, InfoMessage, MonitorRef, Ref, Timer } from 'troupe';
import { Encoded } from './codec.js';
import { FencedError, type Origin, type Stored } from './durable.js';
import type { ClientRef, Since } from './protocol.js';
import type { RelayMsg } from './relay.js';
import { History, Origins } from './store.js';
import { UserCounts, type WhoRequest, whoAnswer } from './users.js';
import type { ConnMsg, World } from './world.js';

export type OwnerMsg =
  /**
   * A relay with members here: `users` are the users it holds now, `epoch` and `lastId` what it saw
   * last (of an earlier owner). Answered with `o.welcome`.
   */
  | {
      readonly type: 'attach';
      readonly relay: Ref<RelayMsg>;
      /** The relay's token: its messages' origin in the records (`RelayStore.token`). */
      readonly token: string;
      readonly users: readonly string[];
      readonly epoch?: string;
      readonly lastId: number;
      /**
       * The relay has messages whose owner went before it echoed them (`RelayStore.unsure`), each
       * sent after it had seen this id: answered with `o.verdict` once this owner has stored a
       * record of its own (so that no earlier owner can store one after it).
       */
      readonly unsureAfter?: number;
      /** The last of them: the verdict is about those up to it (more may become unsure meanwhile). */
      readonly unsureUpTo?: number;
    }
  | { readonly type: 'detach'; readonly relay: Ref<RelayMsg> }
  /** A relay that attached asks, a few times, whether this owner holds it (`o.unknown` if not). */
  | { readonly type: 'check'; readonly relay: Ref<RelayMsg> }
  /** A user got its first connection in the relay's process (`here`), or lost its last. */
  | { readonly type: 'present'; readonly relay: Ref<RelayMsg>; readonly user: string; readonly here: boolean }
  | {
      readonly type: 'join';
      readonly relay: Ref<RelayMsg>;
      readonly conn: Ref<ConnMsg>;
      /** The relay's number for it, echoed in the answer. */
      readonly n?: number;
      readonly since?: Since;
      readonly ref?: ClientRef;
      /** The bytes of replay the connection's answer budget pays for (it writes no more). */
      readonly limit?: number;
    }
  | {
      readonly type: 'publish';
      readonly relay: Ref<RelayMsg>;
      readonly user: string;
      readonly content: string;
      /** The relay's number for it, echoed back with it so that the relay acks the right sender. */
      readonly seq: number;
    }
  /** Answered to `conn` with the `token` it gave (it watches this owner until then). */
  | WhoRequest
  /** Lost the race for the room's name (or the process is draining): stop, once what is accepted is stored. */
  | { readonly type: 'retire' }
  /** The room's name is this owner's now (the relay that started it claimed it): load, then answer. */
  | { readonly type: 'claimed' }
  | { readonly type: 'loaded'; readonly stored: Stored | undefined }
  | { readonly type: 'load.failed'; readonly reason: string }
  | { readonly type: 'written'; readonly seq: number }
  | { readonly type: 'write.failed'; readonly fenced: boolean; readonly reason: string }
  | { readonly type: 'presence.flush' }
  | { readonly type: 'idle.check' }
  /** Time to tell the relays the last id (if it moved since the last time). */
  | { readonly type: 'position' }
  /** `--test-faults` only: SIGKILL this process once the next messages are stored, before they go on. */
  | { readonly type: 'die.after.store' };

export interface OwnerArgs {
  readonly name: string;
  readonly world: World;
}

interface Attached {
  readonly users: Set<string>;
  readonly monitor: MonitorRef;
  readonly token: string;
}

/** A queued or written message's sender: the relay, its token and its number for the message. */
interface Sender {
  readonly relay: Ref<RelayMsg>;
  readonly token: string;
  readonly seq: number;
}

/** A relay's question about its unsure messages, waiting for this owner's first record. */
interface Asked {
  readonly relay: Ref<RelayMsg>;
  readonly token: string;
  readonly after: number;
  readonly upTo: number;
  readonly epoch: string | undefined;
}

interface OwnerState {
  readonly name: string;
  readonly world: World;
  readonly store: History;
  /** Until the history is loaded, everything waits here. */
  stash: OwnerMsg[] | undefined;
  /** The stream sequence of the room's last record (0: none yet). */
  seq: number;
  /** Accepted messages not stored yet, and the batch being stored: their ids follow `store.lastId`. */
  queue: Encoded[];
  writing: Encoded[] | undefined;
  /** The relay each queued or written message came from, in the same order. */
  senders: Sender[];
  /** Who sent the stored messages this owner knows of (loaded, then written). */
  origins: Origins;
  /**
   * Whether this owner has stored a record: from then on no earlier owner can store one (each
   * write expects the subject's last sequence), so what it does not hold was not stored.
   */
  sealed: boolean;
  /** Relays asking about their unsure messages before the first record was stored. */
  asked: Asked[];
  /** Fault injection: the process dies once the next messages are stored. */
  dieAfterStore: boolean;
  retiring: boolean;
  readonly relays: Map<Ref<RelayMsg>, Attached>;
  /** User -> how many relays hold it: the room's users cluster-wide are the keys. */
  readonly users: UserCounts;
  readonly joins: Set<string>;
  readonly leaves: Set<string>;
  presenceTimer: Timer | undefined;
  idleTimer: Timer | undefined;
  /** The id the relays were last told, and whether a position beacon is armed. */
  told: number;
  positionArmed: boolean;
}

function presence(s: OwnerState, ctx: Context<OwnerMsg>, user: string, joined: boolean): void {
  const [add, cancel] = joined ? [s.joins, s.leaves] : [s.leaves, s.joins];
  if (cancel.has(user)) cancel.delete(user);
  else add.add(user);
  if (s.presenceTimer === undefined) {
    s.presenceTimer = ctx.sendAfter(ctx.self, { type: 'presence.flush' }, s.world.options.presenceMs);
  }
}

function userIn(s: OwnerState, user: string): boolean {
  return s.users.add(user);
}

function userOut(s: OwnerState, user: string): boolean {
  return s.users.remove(user);
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

/** Stores the queued messages as one record, unless a record is being stored already. */
function flush(s: OwnerState, ctx: Context<OwnerMsg>): void {
  if (s.writing !== undefined || s.queue.length === 0) return;
  const batch = s.queue.splice(0);
  s.writing = batch;
  write(s, ctx, batch);
}

function write(s: OwnerState, ctx: Context<OwnerMsg>, batch: Encoded[]): void {
  const self = ctx.self;
  const history = s.world.cluster?.history;
  if (history === undefined) return;
  // The batch is the first of the queued messages (flush takes them all, and more queue after).
  const origins: Origin[] = [];
  for (let i = 0; i < batch.length; i++) {
    const from = s.senders[i] as Sender;
    origins.push([from.token, from.seq]);
  }
  history
    .append(
      'r',
      s.name,
      s.store.epoch,
      s.store.lastId + batch.length,
      batch.map((e) => e.json()),
      s.seq,
      origins,
    )
    .then(
      (seq) => self.send({ type: 'written', seq }),
      (e: unknown) => self.send({ type: 'write.failed', fenced: e instanceof FencedError, reason: String(e) }),
    );
}

/**
 * Tells a relay which of its unsure messages (sent after it had seen id `after`) are stored, with
 * their ids, which are still queued here (their echo follows), and whether this owner knows the
 * sender of every message after `after` (then the others were not stored).
 */
function verdict(s: OwnerState, self: Ref<OwnerMsg>, a: Asked): void {
  // A relay that had no epoch yet had seen nothing: `after` is 0, and `covers(0)` is strict.
  const same = a.epoch === undefined || a.epoch === s.store.epoch;
  a.relay.send({
    type: 'o.verdict',
    owner: self,
    upTo: a.upTo,
    stored: same ? s.origins.from(a.token, a.after) : [],
    pending: s.senders.filter((x) => x.relay === a.relay).map((x) => x.seq),
    known: same && s.origins.covers(a.after),
  });
}

export const owner: Behavior<OwnerMsg, OwnerState, OwnerArgs> = {
  name: 'room owner',
  summary: (s) =>
    `#${s.name}: last id ${s.store.lastId}, ${s.relays.size} relays, ${s.users.size} users${s.stash === undefined ? '' : ', loading'}`,
  init(ctx, { name, world }) {
    const o = world.options;
    const s: OwnerState = {
      name,
      world,
      store: new History(o.history, o.historyBytes),
      stash: [],
      seq: 0,
      queue: [],
      writing: undefined,
      senders: [],
      origins: new Origins(o.history),
      sealed: false,
      asked: [],
      dieAfterStore: false,
      retiring: false,
      relays: new Map(),
      users: new UserCounts(),
      joins: new Set(),
      leaves: new Set(),
      presenceTimer: undefined,
      idleTimer: ctx.sendAfter(ctx.self, { type: 'idle.check' }, o.roomIdleMs),
      told: 0,
      positionArmed: false,
    };
    return s;
  },

  receive(s, msg, ctx) {
    const self = ctx.self;
    if (msg.type === 'claimed') {
      s.world.cluster?.history.load('r', s.name).then(
        (stored) => self.send({ type: 'loaded', stored }),
        (e: unknown) => self.send({ type: 'load.failed', reason: String(e) }),
      );
      return s;
    }
    if (s.stash !== undefined && msg.type === 'retire') {
      // Lost the race for the name before loading anything.
      ctx.stop('normal');
      return s;
    }
    if (s.stash !== undefined && msg.type !== 'loaded' && msg.type !== 'load.failed') {
      s.stash.push(msg);
      return s;
    }
    switch (msg.type) {
      case 'loaded': {
        const stash = s.stash ?? [];
        s.stash = undefined;
        const stored = msg.stored;
        let store = s.store;
        if (stored === undefined) {
          // A new room: its epoch is stored first (an empty record), so that it survives this owner.
          s.writing = [];
          write(s, ctx, []);
        } else {
          const o = s.world.options;
          store = new History(o.history, o.historyBytes, stored.epoch);
          store.startAfter(stored.lastId - stored.frames.length);
          s.origins.startAfter(store.lastId);
          for (let i = 0; i < stored.frames.length; i++) {
            const f = stored.frames[i] as Buffer;
            store.append(Encoded.fromJson(f), f.byteLength);
            const from = stored.origins[i];
            s.origins.push(from?.[0], from?.[1] ?? 0);
          }
          s.seq = stored.seq;
        }
        const next: OwnerState = { ...s, store };
        for (const m of stash) owner.receive(next, m, ctx);
        return next;
      }

      case 'load.failed':
        // Not able to answer for the room: the relays find another owner (or answer `unavailable`).
        throw new Error(`room ${s.name}: its history could not be loaded: ${msg.reason}`);

      case 'written': {
        const batch = s.writing ?? [];
        if (s.dieAfterStore && batch.length > 0) process.kill(process.pid, 'SIGKILL');
        s.writing = undefined;
        s.seq = msg.seq;
        s.sealed = true;
        const store = s.store;
        for (const frame of batch) {
          const id = store.lastId + 1;
          const origin = s.senders.shift() as Sender;
          store.append(frame, frame.jsonBytes());
          s.origins.push(origin.token, origin.seq);
          const json = frame.json();
          for (const relay of s.relays.keys()) {
            relay.send({ type: 'o.msg', id, json, origin: relay === origin.relay ? origin.seq : 0 });
          }
          frame.compact();
        }
        for (const a of s.asked.splice(0)) verdict(s, self, a);
        flush(s, ctx);
        if (!s.positionArmed) {
          s.positionArmed = true;
          ctx.sendAfter(self, { type: 'position' }, s.world.options.positionMs);
        }
        if (s.retiring && s.writing === undefined) ctx.stop('normal');
        return s;
      }

      case 'position': {
        // A relay that lost the last messages of a burst (the bus is at-most-once) sees no later id
        // to find the hole by: this tells it, after everything sent before.
        s.positionArmed = false;
        const id = s.store.lastId;
        if (id === s.told) return s;
        s.told = id;
        for (const relay of s.relays.keys()) relay.send({ type: 'o.position', owner: self, id });
        return s;
      }

      case 'write.failed':
        // Another owner wrote (fenced), or NATS did not take it: what is not stored was not
        // applied; the relays answer its senders `unavailable` when this owner is DOWN.
        throw new Error(`room ${s.name}: a record could not be stored (${msg.fenced ? 'fenced' : msg.reason})`);

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
        s.relays.set(msg.relay, { users, monitor: ctx.monitor(msg.relay as Ref<never>), token: msg.token });
        s.idleTimer?.cancel();
        s.idleTimer = undefined;
        const store = s.store;
        // What the relay missed (an earlier owner stored it and died before sending it on), when
        // it is still held: a hole repaired, not announced.
        const missed =
          msg.epoch === store.epoch && msg.lastId < store.lastId && store.covers(msg.lastId)
            ? store.framesAfter(msg.lastId, s.world.options.softLimit)
            : { frames: [], gapFrom: 0 };
        msg.relay.send({
          type: 'o.welcome',
          owner: self,
          epoch: store.epoch,
          id: store.lastId,
          members: s.users.size,
          missed: missed.frames,
          first: msg.lastId + 1,
          gapFrom: missed.gapFrom,
        });
        if (msg.unsureAfter !== undefined) {
          const a: Asked = {
            relay: msg.relay,
            token: msg.token,
            after: msg.unsureAfter,
            upTo: msg.unsureUpTo ?? Number.POSITIVE_INFINITY,
            epoch: msg.epoch,
          };
          if (s.sealed) verdict(s, self, a);
          else {
            // Not before this owner's first record: an earlier owner's write could still land.
            s.asked.push(a);
            if (s.writing === undefined && s.queue.length === 0) {
              s.writing = [];
              write(s, ctx, []);
            }
          }
        }
        return s;
      }

      case 'detach':
        detach(s, ctx, msg.relay);
        return s;

      case 'check':
        if (!s.relays.has(msg.relay)) msg.relay.send({ type: 'o.unknown', owner: self });
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
          ...(msg.n === undefined ? {} : { n: msg.n }),
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
        // Nor more than the connection's answer budget: the bus carries what its socket will take.
        const limit = Math.min(s.world.options.softLimit, msg.limit ?? Number.POSITIVE_INFINITY);
        const { frames, gapFrom } = store.framesAfter(since.id, limit);
        msg.relay.send({ ...answer, recovered, replay: frames, first: since.id + 1, gapFrom });
        return s;
      }

      case 'publish': {
        const from = s.relays.get(msg.relay);
        if (from === undefined || s.retiring) {
          // Not applied: the relay answers its sender `unavailable` (and attaches again if it must).
          ctx.system.logger.warn(
            { room: s.name, retiring: s.retiring },
            'room owner refused a message from a relay it does not hold',
          );
          msg.relay.send({ type: 'o.refused', owner: self, seq: msg.seq });
          return s;
        }
        const store = s.store;
        // Its id once stored: after the stored ones, the one being stored and the queued ones.
        const id = store.lastId + (s.writing?.length ?? 0) + s.queue.length + 1;
        const frame = new Encoded({
          type: 'message',
          room: s.name,
          from: msg.user,
          content: msg.content,
          ts: s.world.now(),
          id,
        });
        frame.jsonBytes();
        s.queue.push(frame);
        s.senders.push({ relay: msg.relay, token: from.token, seq: msg.seq });
        flush(s, ctx);
        return s;
      }

      case 'who':
        whoAnswer(s.name, s.users, msg);
        return s;

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
        // Nobody in any process for roomIdleMs: the owner goes (its name with it, on exit); the
        // history stays stored, and the room's next owner continues it.
        if (s.relays.size === 0 && s.writing === undefined && s.queue.length === 0) ctx.stop('normal');
        return s;

      case 'die.after.store':
        s.dieAfterStore = s.world.options.testFaults;
        return s;

      case 'retire':
        s.retiring = true;
        if (s.writing === undefined && s.queue.length === 0) ctx.stop('normal');
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
