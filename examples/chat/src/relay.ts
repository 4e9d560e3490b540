/**
 * A room's relay, when the chat runs as a cluster: one actor per room in each process that has
 * members of it. It holds the local members (in the `members` registry, with their sockets, as a
 * single process's room does), forwards their joins and messages to the room's owner (owner.ts),
 * and writes what the owner sends (messages, presence, answers to joins) to the local sockets: each
 * message crosses to this process once, whatever the number of its members here.
 *
 * It checks the owner's ids: a message that is not the one after the last leaves a hole, which is
 * announced to the members here with `gap` (they resume with `join` + `since`). A relay that
 * finds no owner claims the room's name in the cluster registry and starts one; the loser of a race
 * uses the winner. When the owner goes (its process died), the relay claims again, attaches to the
 * new owner with its users and sends it the joins still unanswered. The messages the old owner had
 * not echoed may have been stored before it went: the new owner, once it has stored a record of its
 * own (no earlier owner can store one after that), says which (`o.verdict`), and their senders hear
 * `ack` with the id, or `unavailable` for those not stored: nothing is dropped silently, nothing is
 * reordered, and `unavailable` always means not applied (PROTOCOL.md).
 */
import type { SocketHandle } from '@troupe/uws';
import { type Behavior, type Context, type InfoMessage, type MonitorRef, type Ref, spawnChild } from 'troupe';
import { ownerName } from './clustered.js';
import { Encoded, sendFrame } from './codec.js';
import type { OwnerMsg } from './owner.js';
import { type ClientRef, errorFrame, type ServerFrame, withRef } from './protocol.js';
import {
  deliver,
  notMember,
  passLeaveOn,
  type RoomMsg,
  sendUnnumbered,
  unavailable,
  unwatch,
  type WatchedMembers,
  watch,
} from './room.js';
import type { Session } from './session.js';
import { type RelayStore, writeReplay } from './store.js';
import { UserCounts } from './users.js';
import { type ConnMsg, ensureRoom, type Member, OWNER_SUP, ROOMS_FULL, roomsFullError, type World } from './world.js';

/** What a relay accepts: a room's requests from local connections, and what its owner sends. */
export type RelayMsg =
  | RoomMsg
  | { readonly type: 'owner'; readonly ref: Ref<OwnerMsg> }
  | { readonly type: 'owner.failed'; readonly reason: string }
  | { readonly type: 'owner.retry' }
  | {
      readonly type: 'o.welcome';
      readonly owner: Ref<OwnerMsg>;
      readonly epoch: string;
      readonly id: number;
      readonly members: number;
      /** The stored messages after the id this relay attached with (the first has id `first`). */
      readonly missed: readonly Uint8Array[];
      readonly first: number;
      /** The first missed id the owner did not send (0: it sent all it had). */
      readonly gapFrom: number;
    }
  | {
      readonly type: 'o.joined';
      readonly conn: Ref<ConnMsg>;
      /** The number of the join it answers (the relay's). */
      readonly n?: number;
      readonly ref?: ClientRef;
      readonly members: number;
      readonly epoch: string;
      readonly id: number;
      readonly recovered?: boolean;
      /** The messages after `since` (the first has id `first`), at most about the soft limit of them. */
      readonly replay?: readonly Uint8Array[];
      readonly first?: number;
      /** The first id the owner did not send (0: it sent all). */
      readonly gapFrom?: number;
    }
  /** `origin`: the relay's number of the publish it echoes (0: another relay's message). */
  | { readonly type: 'o.msg'; readonly id: number; readonly json: Uint8Array; readonly origin: number }
  | { readonly type: 'o.presence'; readonly joins: readonly string[]; readonly leaves: readonly string[] }
  /** The owner's last id, sent after every message up to it: a higher one than seen is a hole. */
  | { readonly type: 'o.position'; readonly owner: Ref<OwnerMsg>; readonly id: number }
  /** Time to check that the owner still holds this relay (when nothing came from it meanwhile). */
  | { readonly type: 'owner.check' }
  /** The owner does not hold this relay (it saw it go, e.g. its process declared this one down). */
  | { readonly type: 'o.unknown'; readonly owner: Ref<OwnerMsg> }
  /** Fault injection (`--test-faults`): ignore the next message from the owner, as if the bus lost it. */
  | { readonly type: 'drop.next' }
  /** The owner did not take the oldest message in flight (it does not hold this relay). */
  | { readonly type: 'o.refused'; readonly owner: Ref<OwnerMsg>; readonly seq: number }
  /**
   * The owner's answer about the unsure messages (asked in `attach`): `stored` are [number, id];
   * `pending` are queued there (their echo follows); `known`: the owner knows who sent every
   * message after the id asked about, so the rest were not stored. About those numbered up to
   * `upTo` (the last unsure one when the relay asked).
   */
  | {
      readonly type: 'o.verdict';
      readonly owner: Ref<OwnerMsg>;
      readonly upTo: number;
      readonly stored: ReadonlyArray<readonly [seq: number, id: number]>;
      readonly pending: readonly number[];
      readonly known: boolean;
    }
  /** Unsure messages that no owner answered for in time: their senders hear `internal`. */
  | { readonly type: 'unsure.deadline' };

export interface RelayArgs {
  readonly name: string;
  readonly world: World;
  /** What the relay keeps across its restarts (one per relay, made with it). */
  readonly kept: RelayStore;
}

/** A local request waiting for an owner. */
export type Held = Extract<RoomMsg, { type: 'join' | 'publish' | 'leave' }>;

/** A message sent to the owner and not yet seen back: its number, its sender, and the ref to ack. */
export interface InFlight {
  readonly seq: number;
  readonly socket: SocketHandle<Session>;
  readonly ref: ClientRef | undefined;
  /** The last id this relay had seen when it sent the message, and its epoch: its id, if stored, is higher. */
  readonly after: number;
  readonly epoch: string | undefined;
}

interface RelayState extends WatchedMembers {
  readonly kept: RelayStore;
  owner: Ref<OwnerMsg> | undefined;
  ownerMonitor: MonitorRef | undefined;
  /** Claiming or looking up the owner: requests wait in `held`. */
  resolving: boolean;
  readonly held: Held[];
  readonly pending: RelayStore['pending'];
  readonly inflight: InFlight[];
  idle: boolean;
  closing: boolean;
  /** Its owner went and no new one is attached yet: requests are answered `unavailable`. */
  lostOwner: boolean;
  /** Fault injection: the next `o.msg` is ignored. */
  dropNext: boolean;
  /** Questions left to ask the owner since the last attach (`owner.check`). */
  checksLeft: number;
}

/** How long a relay waits before claiming again after its owner went (lets the registry settle). */
const RECLAIM_MS = 50;
/** How long a relay waits before it looks for an owner again after it could not find or claim one. */
const RETRY_LOOK_MS = 250;
/** At most this many requests wait for an owner; more are answered `unavailable`. */
const MAX_HELD = 10_000;
/**
 * How long the senders of unsure messages wait for an owner to say whether they were stored
 * (failover takes about 2 s): then they hear `internal`, which, unlike `unavailable`, does not
 * promise that nothing was applied.
 */
export const UNSURE_MS = 10_000;
/**
 * After it attaches, a relay asks its owner `OWNER_CHECKS` times, `OWNER_CHECK_MS` apart, whether
 * the owner holds it. An owner drops a relay whose process it saw go down (and drops what that
 * process sent it meanwhile, an attach too); the owner's process then tells the relay's with a
 * `RESYNC`, which ends the relay's monitor of its owner, and the relay attaches again. The bus is
 * at-most-once, so a `RESYNC` or an attach can still be lost: without asking, such a relay would
 * wait for messages that never come. Three questions per attach, not one per period: quiet rooms
 * cost nothing.
 */
export const OWNER_CHECK_MS = 3_000;
export const OWNER_CHECKS = 3;

/** Counts a member out (and forgets its unanswered join). */
function leaveHere(s: RelayState, conn: Ref<ConnMsg>): string | undefined {
  s.pending.delete(conn);
  s.kept.fresh.delete(conn);
  return unwatch(s, conn);
}

/** Finds the room's owner in the cluster registry, or starts one here and claims the name for it. */
function resolveOwner(s: RelayState, ctx: Context<RelayMsg>): void {
  if (s.resolving || s.closing) return;
  const cluster = s.world.cluster;
  if (cluster === undefined || cluster.draining) return;
  s.resolving = true;
  const self = ctx.self;
  const name = ownerName(s.name);
  const registry = cluster.cluster.registry;
  const found = registry.whereis(name) as Ref<OwnerMsg> | undefined;
  if (found !== undefined) {
    self.send({ type: 'owner', ref: found });
    return;
  }
  // Just after a reconnect this process's own names look up as nobody's until its leases are
  // checked: an owner started then would only lose the claim to the one this process has.
  if (!registry.available) {
    self.send({ type: 'owner.failed', reason: 'the cluster registry is not ready yet' });
    return;
  }
  const sup = s.world.names.whereis(OWNER_SUP);
  if (sup === undefined) {
    self.send({ type: 'owner.failed', reason: 'the owners supervisor is down' });
    return;
  }
  const started = spawnChild(sup, { name: s.name, world: s.world });
  if (!started.ok) {
    self.send({ type: 'owner.failed', reason: 'the room owner could not start' });
    return;
  }
  const mine = started.ref;
  registry.register(name, mine as Ref<never>).then(
    (r) => {
      if (r.ok) {
        mine.send({ type: 'claimed' });
        self.send({ type: 'owner', ref: mine });
      } else {
        mine.send({ type: 'retire' });
        if (r.reason === 'taken') self.send({ type: 'owner', ref: r.ref as Ref<OwnerMsg> });
        else self.send({ type: 'owner.failed', reason: `the room name could not be claimed (${r.reason})` });
      }
    },
    (e: unknown) => {
      mine.send({ type: 'retire' });
      self.send({ type: 'owner.failed', reason: `the cluster is unreachable (${String(e)})` });
    },
  );
}

/** Every member here that takes room messages now (joined, answered, not gapped). */
function* live(s: RelayState): Generator<[Ref<ConnMsg>, Member]> {
  for (const e of s.watched) if (!s.pending.has(e[0]) && !s.gapped.has(e[0])) yield e;
}

/** A request from a local connection, once there is an owner to take it (`n`: a join sent again). */
function forward(s: RelayState, ctx: Context<RelayMsg>, msg: Held, n?: number): void {
  const owner = s.owner as Ref<OwnerMsg>;
  const self = ctx.self;
  switch (msg.type) {
    case 'join': {
      const m = s.watched.get(msg.conn);
      // Left (or ended) while it waited for an owner.
      if (m === undefined) return;
      const req = {
        ...(msg.since === undefined ? {} : { since: msg.since }),
        ...(msg.ref === undefined ? {} : { ref: msg.ref }),
        n: n ?? ++s.kept.joins,
      };
      s.pending.set(msg.conn, req);
      // A replay travels no further than the connection's answer budget lets it be written.
      const budget = m.session.answerBudget;
      const limit = Number.isFinite(budget) ? { limit: budget } : {};
      owner.send({ type: 'join', relay: self, conn: msg.conn, ...req, ...(msg.since === undefined ? {} : limit) });
      return;
    }
    case 'publish': {
      if (!s.watched.has(msg.conn)) {
        notMember(msg.socket, s.name, msg.ref);
        return;
      }
      const seq = ++s.kept.seq;
      s.kept.sentTo = owner;
      s.inflight.push({ seq, socket: msg.socket, ref: msg.ref, after: s.kept.lastId, epoch: s.kept.epoch });
      owner.send({ type: 'publish', relay: self, user: msg.socket.session.user, content: msg.content, seq });
      return;
    }
    case 'leave':
      return;
  }
}

/**
 * The owner echoed (id > 0) or refused (0) message `seq`: its sender hears `ack` or `unavailable`.
 * Earlier ones still in flight never reached the owner (the bus is at-most-once, and in order):
 * their senders hear `unavailable`, nothing of them was applied.
 */
function settle(s: RelayState, seq: number, id: number): void {
  while (s.inflight.length > 0 && (s.inflight[0] as InFlight).seq <= seq) {
    const f = s.inflight.shift() as InFlight;
    if (f.seq === seq && id > 0) {
      if (f.ref !== undefined) sendFrame(f.socket, { type: 'ack', ref: f.ref, id });
    } else unavailable(f.socket, f.ref, `room ${s.name}: the message did not reach its owner`);
  }
}

/**
 * The messages in flight (those numbered below `below`, or all) can no longer be echoed by the
 * owner they went to (it went, or dropped this relay): stored or not, the next owner says.
 */
function unsure(s: RelayState, ctx: Context<RelayMsg>, below = Number.POSITIVE_INFINITY): void {
  let n = 0;
  while (n < s.inflight.length && (s.inflight[n] as InFlight).seq < below) n++;
  if (n === 0) return;
  const start = s.kept.unsure.length === 0;
  s.kept.unsure.push(...s.inflight.splice(0, n));
  // In number order (messages put back in flight may become unsure again behind later ones).
  s.kept.unsure.sort((a, b) => a.seq - b.seq);
  if (start) deadline(s, ctx);
}

/** Arms the deadline of the messages unsure now (those that become unsure later get the next one). */
function deadline(s: RelayState, ctx: Context<RelayMsg>): void {
  s.kept.deadlineUpTo = (s.kept.unsure.at(-1) as InFlight).seq;
  ctx.startTimer('unsure.deadline', { type: 'unsure.deadline' }, UNSURE_MS);
}

/** An owner's verdict on the unsure messages: `ack`, back in flight, `unavailable` or `internal`. */
function judge(s: RelayState, ctx: Context<RelayMsg>, v: Extract<RelayMsg, { type: 'o.verdict' }>): void {
  const stored = new Map(v.stored);
  const pending = new Set(v.pending);
  const back: InFlight[] = [];
  const later: InFlight[] = [];
  for (const f of s.kept.unsure.splice(0)) {
    // Unsure since the relay asked: the answer to its next attach is about it.
    if (f.seq > v.upTo) {
      later.push(f);
      continue;
    }
    const id = stored.get(f.seq);
    if (id !== undefined) {
      if (f.ref !== undefined) sendFrame(f.socket, { type: 'ack', ref: f.ref, id });
    } else if (pending.has(f.seq)) back.push(f);
    else if (v.known) unavailable(f.socket, f.ref, `room ${s.name}: the message did not reach its owner`);
    else unknownOutcome(s, f);
  }
  // Sent before anything now in flight: their echoes come first.
  if (back.length > 0) s.inflight.unshift(...back);
  s.kept.unsure.push(...later);
  if (later.length === 0) ctx.cancelTimer('unsure.deadline');
}

function unknownOutcome(s: RelayState, f: InFlight): void {
  sendFrame(
    f.socket,
    errorFrame({
      code: 'internal',
      reason: `room ${s.name}: its owner went before it confirmed this message, and no owner could say whether it was stored (it may be in the room's history)`,
      ...(f.ref === undefined ? {} : { ref: f.ref }),
    }),
  );
}

/**
 * Sends the joins still unanswered to the owner (again: the last one may be gone, or never have got
 * them). Each keeps its number, so whichever answer comes first is the one taken.
 */
function askAgain(s: RelayState, ctx: Context<RelayMsg>): void {
  for (const [conn, { n, ...req }] of [...s.pending]) {
    const m = s.watched.get(conn);
    if (m !== undefined) forward(s, ctx, { type: 'join', conn, socket: m, ...req }, n);
  }
}

/** Tells `owner` this relay's users and the last id it saw (answered with `o.welcome`). */
function attachTo(s: RelayState, ctx: Context<RelayMsg>, owner: Ref<OwnerMsg>): void {
  s.checksLeft = OWNER_CHECKS;
  ctx.startTimer('owner.check', { type: 'owner.check' }, OWNER_CHECK_MS);
  // A message sent in another epoch than the relay's now is asked about from the epoch's start.
  const unsureAfter = s.kept.unsure.reduce(
    (m, f) => Math.min(m, f.epoch === s.kept.epoch ? f.after : 0),
    Number.POSITIVE_INFINITY,
  );
  owner.send({
    type: 'attach',
    relay: ctx.self,
    token: s.kept.token,
    users: [...s.perUser.keys()],
    lastId: s.kept.lastId,
    ...(s.kept.epoch === undefined ? {} : { epoch: s.kept.epoch }),
    ...(s.kept.unsure.length === 0 ? {} : { unsureAfter, unsureUpTo: (s.kept.unsure.at(-1) as InFlight).seq }),
  });
}

/** A request that came to a relay on its way out goes to the room's next relay (made if need be). */
function handOn(s: RelayState, msg: Held): void {
  const next = ensureRoom(s.world, s.name);
  if (next === ROOMS_FULL) sendFrame(msg.socket, withRef({ type: 'error', ...roomsFullError(s.world) }, msg.ref));
  else if (next === undefined) unavailable(msg.socket, msg.ref, `room ${s.name} could not start here`);
  else next.send(msg);
}

/** Why a request cannot be taken now (answered `unavailable`), or undefined. */
function refusal(s: RelayState): string | undefined {
  const cluster = s.world.cluster;
  if (cluster !== undefined && !cluster.cluster.connected) return 'the cluster bus is down';
  if (s.lostOwner) return `room ${s.name} is moving to another process`;
  return undefined;
}

function hold(s: RelayState, ctx: Context<RelayMsg>, msg: Held): void {
  if (s.held.length >= MAX_HELD) {
    unavailable(msg.socket, msg.ref, `room ${s.name} is looking for its owner`);
    return;
  }
  s.held.push(msg);
  resolveOwner(s, ctx);
}

/**
 * Answers every request waiting for an owner `unavailable`. A join among them that made its
 * connection a member is undone: an `unavailable` join was not applied (PROTOCOL.md), so the
 * connection gets no room messages, and its client joins again.
 */
function refuseHeld(s: RelayState, why: string): void {
  for (const h of s.held.splice(0)) {
    unavailable(h.socket, h.ref, why);
    if (h.type === 'join' && s.kept.fresh.has(h.conn) && !s.pending.has(h.conn)) {
      s.world.members.unregister(s.name, h.conn);
      leaveHere(s, h.conn);
    }
  }
}

/**
 * Forgets the request a crashed incarnation was handling, so that its `internal` answer is its only
 * one: not held (it would hear `unavailable`), not in flight (`ack` or `unavailable`), not a pending
 * join (`joined`; a member it made is undone below, with the other unanswered fresh ones).
 */
function forgetLost(s: RelayState, lost: Held): void {
  const kept = s.kept;
  const i = kept.held.indexOf(lost);
  if (i >= 0) kept.held.splice(i, 1);
  if (lost.type === 'publish') {
    // Numbered last, if it got as far as that: an echo of it later settles nobody.
    const f = kept.inflight.at(-1);
    if (f !== undefined && f.socket === lost.socket && f.ref === lost.ref && f.seq === kept.seq) kept.inflight.pop();
  } else if (lost.type === 'join') kept.pending.delete(lost.conn);
}

/** Whether anything here waits for an owner: requests held, members, or messages whose fate it tells. */
function needsOwner(s: RelayState): boolean {
  return s.held.length > 0 || s.perUser.size > 0 || s.kept.unsure.length > 0;
}

function becameEmpty(s: RelayState, ctx: Context<RelayMsg>): void {
  if (s.perUser.size > 0 || s.idle) return;
  s.idle = true;
  ctx.sendAfter(ctx.self, { type: 'idle.check' }, s.world.options.roomIdleMs);
}

/** What the relay does with one message (`relay.receive`, which notes the request it handles). */
function handle(s: RelayState, msg: RelayMsg, ctx: Context<RelayMsg>): RelayState {
  const world = s.world;
  const self = ctx.self;
  switch (msg.type) {
    case 'join': {
      if (s.closing) {
        // This relay is on its way out (unregistered already): the join goes to the next one.
        handOn(s, msg);
        return s;
      }
      const socket = msg.socket;
      const user = socket.session.user;
      const why = refusal(s);
      if (why !== undefined) {
        // Not a member yet: it is not made one (nothing was applied); a member keeps its place.
        unavailable(socket, msg.ref, why);
        return s;
      }
      s.idle = false;
      if (!s.watched.has(msg.conn)) {
        const member: Member = socket;
        // A connection that ended before its join got here is not made a member (room.ts).
        if (!world.members.register(s.name, msg.conn, member).ok) return s;
        s.kept.fresh.add(msg.conn);
        if (watch(s, msg.conn, member) && s.owner !== undefined) {
          s.owner.send({ type: 'present', relay: self, user, here: true });
        }
      }
      s.gapped.delete(msg.conn);
      if (s.owner === undefined) hold(s, ctx, msg);
      else forward(s, ctx, msg);
      return s;
    }

    case 'leave': {
      if (!s.watched.has(msg.conn)) {
        if (!passLeaveOn(s, self as Ref<never>, msg)) notMember(msg.socket, s.name, msg.ref);
        return s;
      }
      world.members.unregister(s.name, msg.conn);
      const gone = leaveHere(s, msg.conn);
      if (gone !== undefined) s.owner?.send({ type: 'present', relay: self, user: gone, here: false });
      sendFrame(msg.socket, withRef({ type: 'left', room: s.name }, msg.ref));
      becameEmpty(s, ctx);
      return s;
    }

    case 'publish': {
      if (s.closing) {
        handOn(s, msg);
        return s;
      }
      const why = refusal(s);
      if (why !== undefined) unavailable(msg.socket, msg.ref, why);
      else if (s.owner === undefined) hold(s, ctx, msg);
      else forward(s, ctx, msg);
      return s;
    }

    case 'owner': {
      s.resolving = false;
      s.lostOwner = false;
      if (s.closing) return s;
      s.owner = msg.ref;
      s.ownerMonitor = ctx.monitor(msg.ref as Ref<never>);
      // Messages a crashed incarnation sent an owner that is gone now: this one says what of them
      // was stored.
      if (s.kept.sentTo !== undefined && s.kept.sentTo !== msg.ref) unsure(s, ctx);
      s.kept.sentTo = msg.ref;
      attachTo(s, ctx, msg.ref);
      // Joins that were waiting for an answer from the previous owner (or from this one, before
      // a restart of this relay) go to this one.
      askAgain(s, ctx);
      const held = s.held.splice(0);
      for (const h of held) forward(s, ctx, h);
      return s;
    }

    case 'owner.failed': {
      s.resolving = false;
      refuseHeld(s, `room ${s.name} has no owner: ${msg.reason}`);
      becameEmpty(s, ctx);
      // Members keep their membership here, and the relay looks again in a moment.
      if (needsOwner(s)) ctx.sendAfter(ctx.self, { type: 'owner.retry' }, RETRY_LOOK_MS);
      else s.lostOwner = false;
      return s;
    }

    case 'owner.retry':
      if (s.owner !== undefined || s.resolving || s.closing) return s;
      if (needsOwner(s)) resolveOwner(s, ctx);
      // Nobody here waits for an owner: the next request looks for one (refusing it as "moving"
      // would last until the relay closes as idle).
      else s.lostOwner = false;
      return s;

    case 'o.welcome': {
      if (msg.owner !== s.owner) return s;
      if (s.kept.epoch !== undefined && msg.epoch !== s.kept.epoch) {
        // The room lost its history (its records are gone from the stream): as a single process
        // does, the members stay and hear the new epoch unprompted (PROTOCOL.md).
        const joined = new Encoded({
          type: 'joined',
          room: s.name,
          members: msg.members,
          epoch: msg.epoch,
          id: msg.id,
        });
        for (const [conn, m] of s.watched) if (!s.pending.has(conn)) sendUnnumbered(s.world, conn, m, joined);
        s.gapped.clear();
      } else if (s.kept.epoch !== undefined && msg.id > s.kept.lastId) {
        // Same epoch, messages this relay never saw (stored by an owner that died before it sent
        // them on): repaired with what the owner sent along, and what it could not is a gap.
        // From the one after the last written here: the owner sent what follows the id this
        // relay attached with, and messages may have come between. Each counted once written
        // (a crash on one does not write the ones before it again).
        const before = s.kept.lastId;
        const hole = msg.gapFrom > 0 ? Math.max(msg.gapFrom, before + 1) : msg.missed.length === 0 ? before + 1 : 0;
        for (let i = Math.max(0, before + 1 - msg.first); i < msg.missed.length; i++) {
          const frame = Encoded.fromJson(msg.missed[i] as Uint8Array);
          s.kept.writing = msg.first + i;
          for (const [conn, m] of s.watched) if (!s.pending.has(conn)) deliver(s, conn, m, frame, msg.first + i);
          s.kept.writing = 0;
          s.kept.lastId = msg.first + i;
        }
        if (hole > 0) {
          for (const [conn, m] of live(s)) {
            s.gapped.add(conn);
            world.counters.gaps++;
            sendFrame(m, { type: 'gap', room: s.name, from: hole });
          }
        }
      }
      // In the same epoch, never back: an owner whose read of the stream is behind what was
      // written here (its writes will be fenced) must not make those ids be written again.
      s.kept.lastId = s.kept.epoch === msg.epoch ? Math.max(s.kept.lastId, msg.id) : msg.id;
      s.kept.epoch = msg.epoch;
      return s;
    }

    case 'o.joined': {
      const asked = s.pending.get(msg.conn);
      // Answered already (a join asked twice), or an answer to an earlier join of the connection.
      if (asked === undefined || (msg.n !== undefined && msg.n !== asked.n)) return s;
      s.pending.delete(msg.conn);
      s.kept.fresh.delete(msg.conn);
      const m = s.watched.get(msg.conn);
      if (m === undefined) return s;
      const socket = m;
      const joined: ServerFrame = withRef(
        { type: 'joined', room: s.name, members: msg.members, epoch: msg.epoch, id: msg.id },
        msg.ref,
      );
      if (msg.recovered === undefined) {
        sendFrame(socket, joined);
        return s;
      }
      sendFrame(socket, { ...joined, recovered: msg.recovered } as ServerFrame);
      // Each frame decoded only when it is written (the budget may cut the replay short).
      const replay = msg.replay ?? [];
      const at = (i: number) => Encoded.fromJson(replay[i] as Uint8Array);
      const cut = writeReplay(socket, replay.length, at, msg.first ?? 0, world.options.softLimit);
      if (socket.closed) return s;
      const gapFrom = cut === 0 ? (msg.gapFrom ?? 0) : cut;
      if (gapFrom > 0) {
        world.counters.gaps++;
        s.gapped.add(msg.conn);
        sendFrame(socket, { type: 'gap', room: s.name, from: gapFrom });
        msg.conn.send({ type: 'slow', room: s.name });
      }
      return s;
    }

    case 'o.msg': {
      if (s.dropNext) {
        s.dropNext = false;
        return s;
      }
      const id = msg.id;
      if (s.kept.epoch !== undefined && id <= s.kept.lastId) {
        // Written here already (repaired from a welcome, say), and this copy comes late from an
        // owner this relay left in a flap: not written twice. Its sender may still wait for it.
        if (msg.origin > 0) settle(s, msg.origin, id);
        return s;
      }
      if (s.kept.epoch !== undefined && id !== s.kept.lastId + 1) {
        for (const [conn, m] of live(s)) {
          s.gapped.add(conn);
          world.counters.gaps++;
          sendFrame(m, { type: 'gap', room: s.name, from: s.kept.lastId + 1 });
        }
      }
      const frame = Encoded.fromJson(msg.json);
      // Stored by the owner: if this relay crashes while writing it, its sender still hears `ack`.
      s.kept.echoSeq = msg.origin;
      s.kept.writing = id;
      const t0 = performance.now();
      for (const [conn, m] of s.watched) if (!s.pending.has(conn)) deliver(s, conn, m, frame, id);
      world.fanout?.observe((performance.now() - t0) / 1000);
      s.kept.writing = 0;
      s.kept.echoSeq = 0;
      // Counted once written: a crash while writing it is a gap from it on restart (init).
      if (id > s.kept.lastId) s.kept.lastId = id;
      if (msg.origin > 0) settle(s, msg.origin, id);
      return s;
    }

    case 'o.position':
      if (msg.owner !== s.owner || s.kept.epoch === undefined || msg.id <= s.kept.lastId) return s;
      // Messages after lastId were sent and never arrived: a hole, announced (the members resume
      // from the owner's history with join + since).
      for (const [conn, m] of live(s)) {
        s.gapped.add(conn);
        world.counters.gaps++;
        sendFrame(m, { type: 'gap', room: s.name, from: s.kept.lastId + 1 });
      }
      s.kept.lastId = msg.id;
      return s;

    case 'drop.next':
      s.dropNext = true;
      return s;

    case 'owner.check': {
      const owner = s.owner;
      if (owner === undefined || s.closing || s.checksLeft <= 0) return s;
      owner.send({ type: 'check', relay: self });
      if (--s.checksLeft > 0) ctx.startTimer('owner.check', { type: 'owner.check' }, OWNER_CHECK_MS);
      return s;
    }

    case 'o.unknown':
      // Attached again: the welcome brings what this relay missed meanwhile (or a gap), and the
      // verdict what of the messages in flight it stored before it dropped this relay.
      if (msg.owner === s.owner) {
        unsure(s, ctx);
        attachTo(s, ctx, msg.owner);
        askAgain(s, ctx);
      }
      return s;

    case 'o.refused': {
      // Against the owner the messages went to: after a restart, before `owner` is handled.
      if (msg.owner !== s.kept.sentTo) return s;
      // The refused one was not applied; the ones before it may have been stored before the owner
      // dropped this relay (it echoes only to the relays it holds): the verdict says.
      unsure(s, ctx, msg.seq);
      settle(s, msg.seq, 0);
      const i = s.kept.unsure.findIndex((f) => f.seq === msg.seq);
      if (i >= 0) {
        const [f] = s.kept.unsure.splice(i, 1) as [InFlight];
        unavailable(f.socket, f.ref, `room ${s.name}: the message did not reach its owner`);
      }
      // Attached again: the owner lost track of this relay (it saw it go).
      if (msg.owner === s.owner) {
        attachTo(s, ctx, msg.owner);
        askAgain(s, ctx);
      }
      return s;
    }

    case 'o.verdict':
      if (msg.owner === s.owner) judge(s, ctx, msg);
      return s;

    case 'unsure.deadline': {
      const due = s.kept.unsure.filter((f) => f.seq <= s.kept.deadlineUpTo);
      const rest = s.kept.unsure.filter((f) => f.seq > s.kept.deadlineUpTo);
      s.kept.unsure.splice(0, s.kept.unsure.length, ...rest);
      for (const f of due) unknownOutcome(s, f);
      if (rest.length > 0) deadline(s, ctx);
      return s;
    }

    case 'o.presence': {
      const frame = new Encoded({ type: 'presence', room: s.name, joins: [...msg.joins], leaves: [...msg.leaves] });
      for (const [conn, m] of live(s)) sendUnnumbered(s.world, conn, m, frame);
      return s;
    }

    case 'idle.check': {
      if (s.perUser.size > 0 || !s.idle) {
        s.idle = false;
        return s;
      }
      if (world.rooms.whereis(s.name) === (self as Ref<never>)) world.rooms.unregister(s.name);
      s.closing = true;
      s.owner?.send({ type: 'detach', relay: self });
      ctx.self.send({ type: 'close' });
      return s;
    }

    case 'close':
      if (!s.closing) return s;
      // Its members left: the senders of what is still unsure hear about it now, not never.
      for (const f of s.kept.unsure.splice(0)) unknownOutcome(s, f);
      ctx.stop('normal');
      return s;

    case 'presence.flush':
      return s;

    case 'who':
      // Connections ask the owner (it counts the room's users cluster-wide); one that asks here is
      // passed on, or, with no owner yet, told nobody is known to be in the room.
      if (s.owner !== undefined) s.owner.send(msg);
      else
        msg.conn.send({
          type: 'frame',
          frame: withRef({ type: 'members', room: s.name, users: [] }, msg.ref),
          token: msg.token,
        });
      return s;

    case 'member.exit': {
      // A member connection ended for good (the members registry's onExit); one not counted
      // here left before it ended, or this relay started after its end.
      if (!s.watched.has(msg.conn)) return s;
      const gone = leaveHere(s, msg.conn);
      if (gone !== undefined) s.owner?.send({ type: 'present', relay: ctx.self, user: gone, here: false });
      becameEmpty(s, ctx);
      return s;
    }

    case 'crash':
      world.counters.roomCrashes++;
      throw new Error(`injected crash in the relay of room ${s.name}`);
  }
}

export const relay: Behavior<RelayMsg, RelayState, RelayArgs> = {
  name: 'relay',
  summary: (s) =>
    `#${s.name}: ${s.perUser.size} users here, last id ${s.kept.lastId}, owner ${s.owner === undefined ? 'none yet' : String(s.owner)}`,
  init(ctx, { name, world, kept }) {
    const s: RelayState = {
      name,
      world,
      kept,
      owner: undefined,
      ownerMonitor: undefined,
      resolving: false,
      held: kept.held,
      watched: new Map(),
      perUser: new UserCounts(),
      pending: kept.pending,
      inflight: kept.inflight,
      gapped: kept.gapped,
      idle: false,
      closing: false,
      lostOwner: false,
      dropNext: false,
      checksLeft: 0,
    };
    // After a restart the members are still in the registry: watch them again. The owner learns
    // them when this relay attaches.
    for (const [conn, m] of world.members.lookup(name)) watch(s, conn, m);
    if (kept.pending.size + kept.gapped.size + kept.fresh.size > 0) {
      // Members that ended while the relay was down are forgotten with them.
      for (const set of [kept.pending, kept.gapped, kept.fresh])
        for (const conn of set.keys()) if (!s.watched.has(conn)) set.delete(conn);
    }
    // The request the last incarnation crashed on was answered `internal` (answerLostRequest): it
    // is not answered again, whether it waited for an owner, went to one, or was half applied.
    const lost = kept.current;
    kept.current = undefined;
    if (lost !== undefined) forgetLost(s, lost);
    // Requests that waited for an owner when the last incarnation crashed are answered, not
    // replayed; the senders try again.
    refuseHeld(s, `room ${name} restarted; try again`);
    // A member made by a join that is neither held nor sent (the last incarnation crashed between
    // the two: that join is answered `internal`) is not a member.
    for (const conn of [...kept.fresh]) {
      if (kept.pending.has(conn)) continue;
      world.members.unregister(name, conn);
      leaveHere(s, conn);
    }
    // The own message it crashed writing was stored: its sender hears `ack`, not `unavailable`.
    if (kept.echoSeq > 0) {
      settle(s, kept.echoSeq, kept.writing);
      kept.echoSeq = 0;
    }
    // The message it crashed writing reached some members and not others: a gap from it for all
    // (each resumes from the last id it has), and it is not written again.
    if (kept.writing > 0) {
      const from = kept.writing;
      kept.writing = 0;
      if (from > kept.lastId) kept.lastId = from;
      for (const [conn, m] of live(s)) {
        s.gapped.add(conn);
        world.counters.gaps++;
        sendFrame(m, { type: 'gap', room: name, from });
      }
    }
    // The timer went with the last incarnation; the messages still wait for a verdict.
    if (kept.unsure.length > 0) deadline(s, ctx);
    resolveOwner(s, ctx);
    becameEmpty(s, ctx);
    return s;
  },

  receive(s, msg, ctx) {
    if (msg.type !== 'join' && msg.type !== 'publish') return handle(s, msg, ctx);
    // Noted until it is handled: if the relay crashes on it, the next incarnation knows which
    // request was answered `internal` (the dead letter) and answers it no second time.
    s.kept.current = msg;
    const next = handle(s, msg, ctx);
    s.kept.current = undefined;
    return next;
  },

  info(s, msg: InfoMessage, ctx) {
    if (msg.type !== 'DOWN') return s;
    if (msg.monitor === s.ownerMonitor) {
      // The owner went: what it had not echoed may have been stored just before (a record stored
      // and not yet sent on), so those senders wait for the next owner's verdict; joins are asked
      // again.
      s.owner = undefined;
      s.ownerMonitor = undefined;
      s.lostOwner = true;
      unsure(s, ctx);
      if (!s.closing) ctx.sendAfter(ctx.self, { type: 'owner.retry' }, RECLAIM_MS);
      return s;
    }
    return s;
  },
};
