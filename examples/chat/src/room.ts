/**
 * A room: one actor per room name, under the rooms dynamic supervisor. It owns the room's order:
 * it numbers messages, keeps the history for resume, writes each broadcast (encoded once per
 * encoding) to every member's socket in id order, batches presence, and hears of a member's end
 * from the members registry (`member.exit`). Its members live in that registry and its history in
 * the `RoomStore` it gets as an argument, so a crash loses neither: the restarted room rebuilds its
 * state from them, and ids continue. Slow members are skipped with one `gap` frame (they resume with `join` + `since`).
 */
import type { SocketHandle } from '@troupe/uws';
import type { Behavior, Context, DeadLetter, Ref, Timer } from 'troupe';
import { Encoded, sendFrame } from './codec.js';
import { type ClientRef, errorFrame, type ServerFrame, type Since, withRef } from './protocol.js';
import type { Session } from './session.js';
import type { RoomStore } from './store.js';
import { type UserCounts, type WhoRequest, whoAnswer } from './users.js';
import {
  type ConnMsg,
  closeIfOverHard,
  ensureRoom,
  type Member,
  ROOMS_FULL,
  roomsFullError,
  type World,
} from './world.js';

export type RoomMsg =
  | {
      readonly type: 'join';
      readonly conn: Ref<ConnMsg>;
      readonly socket: SocketHandle<Session>;
      readonly since?: Since;
      readonly ref?: ClientRef;
    }
  | {
      readonly type: 'leave';
      readonly conn: Ref<ConnMsg>;
      readonly socket: SocketHandle<Session>;
      readonly ref?: ClientRef;
    }
  | {
      readonly type: 'publish';
      readonly conn: Ref<ConnMsg>;
      readonly socket: SocketHandle<Session>;
      readonly content: string;
      readonly ref?: ClientRef;
    }
  | WhoRequest
  /** A member connection ended for good (the members registry's onExit): its entry is gone. */
  | { readonly type: 'member.exit'; readonly conn: Ref<ConnMsg>; readonly user: string }
  | { readonly type: 'presence.flush' }
  | { readonly type: 'idle.check' }
  | { readonly type: 'close' }
  /** Fault injection: throw now, or (`on: 'publish'`) while handling the next publish. */
  | { readonly type: 'crash'; readonly on?: 'publish' };

export interface RoomArgs {
  readonly name: string;
  readonly store: RoomStore;
  readonly world: World;
}

interface RoomState extends LocalMembers {
  readonly store: RoomStore;
  readonly joins: Set<string>;
  readonly leaves: Set<string>;
  presenceTimer: Timer | undefined;
  idleTimer: Timer | undefined;
  /** Unregistered and about to stop; a late join reopens it. */
  closing: boolean;
  /** Fault injection: throw while handling the next publish. */
  crashOnPublish: boolean;
}

/** The `not_member` answer to a request for a room the connection has not joined. */
export function notMember(socket: SocketHandle<Session>, room: string, ref: ClientRef | undefined): void {
  sendFrame(socket, withRef({ type: 'error', code: 'not_member', reason: `not in room ${room}` }, ref));
}

/** `retry_ms` of an `unavailable` answer. */
const RETRY_MS = 1_000;

/** Answers a frame `unavailable` with `retry_ms` (nothing of it was applied). Clustered rooms and their connections use it. */
export function unavailable(socket: SocketHandle<Session>, ref: ClientRef | undefined, why: string): void {
  sendFrame(socket, errorFrame({ code: 'unavailable', reason: why, ...(ref === undefined ? {} : { ref }) }, RETRY_MS));
}

/**
 * What a room and a relay (relay.ts) both keep of the members in this process. A room's members
 * are the members registry's entries under its name (`world.members`), and nothing else: a copy
 * per room would cost every connection another map entry.
 */
export interface LocalMembers {
  readonly name: string;
  readonly world: World;
  /** Connections per user, for `members` (distinct users) and presence. */
  readonly perUser: UserCounts;
  /** Members whose room messages are being dropped until they resume. */
  readonly gapped: Set<Ref<ConnMsg>>;
}

/** A relay's members: those it counts, which for a moment may differ from the registry's. */
export interface WatchedMembers extends LocalMembers {
  readonly watched: Map<Ref<ConnMsg>, Member>;
}

/**
 * Counts a member connection in; returns true if it is the user's first connection here. Its end
 * comes as `member.exit` (the members registry's onExit), not from a monitor of its own.
 */
export function watch(s: WatchedMembers, conn: Ref<ConnMsg>, m: Member): boolean {
  s.watched.set(conn, m);
  return s.perUser.add(m.session.user);
}

/**
 * A `leave` for a connection this actor does not count: if another room (or relay) holds the name
 * now, the connection's join went there (this one was on its way out), and so does its leave, in
 * the order it sent them. False when nobody else holds the name: the leave is `not_member`.
 */
export function passLeaveOn(s: LocalMembers, self: Ref<never>, msg: Extract<RoomMsg, { type: 'leave' }>): boolean {
  const holder = s.world.rooms.whereis(s.name);
  if (holder === undefined || holder === (self as Ref<RoomMsg>)) return false;
  holder.send(msg);
  return true;
}

/** Counts a member out; returns its user if it was the user's last connection here. */
export function unwatch(s: WatchedMembers, conn: Ref<ConnMsg>): string | undefined {
  const w = s.watched.get(conn);
  if (w === undefined) return undefined;
  s.watched.delete(conn);
  s.gapped.delete(conn);
  return s.perUser.remove(w.session.user) ? w.session.user : undefined;
}

/**
 * Whether `conn` is a member of this room: an entry under its name in the members registry, while
 * this room holds the name. A room on its way out (idle, unregistered) may still get requests
 * while a new room of its name has members; those are not its members.
 */
function isMember(s: RoomState, self: Ref<RoomMsg>, conn: Ref<ConnMsg>): boolean {
  return s.world.rooms.whereis(s.name) === self && s.world.members.lookup(s.name).has(conn);
}

/** Counts a new member's user in; true if it is the user's first connection here. */
function countIn(s: RoomState, user: string): boolean {
  return s.perUser.add(user);
}

/**
 * Counts `user`'s connections that are members here again, from the registries (the user's
 * connections, this room's members): true if the user was counted here and is not any more. So a
 * `member.exit` for a connection this incarnation never counted (it ended while the room was
 * restarting, and the new incarnation counted the registry without it) changes nothing.
 */
function recount(s: RoomState, user: string): boolean {
  const members = s.world.members.lookup(s.name);
  let n = 0;
  for (const conn of s.world.users.lookup(user).keys()) if (members.has(conn)) n++;
  return s.perUser.set(user, n);
}

function presence(s: RoomState, ctx: Context<RoomMsg>, user: string, joined: boolean): void {
  const [add, cancel] = joined ? [s.joins, s.leaves] : [s.leaves, s.joins];
  if (cancel.has(user)) cancel.delete(user);
  else add.add(user);
  if (s.presenceTimer === undefined) {
    s.presenceTimer = ctx.sendAfter(ctx.self, { type: 'presence.flush' }, s.world.options.presenceMs);
  }
}

function becameEmpty(s: RoomState, ctx: Context<RoomMsg>): void {
  if (s.perUser.size > 0) return;
  s.idleTimer?.cancel();
  s.idleTimer = ctx.sendAfter(ctx.self, { type: 'idle.check' }, s.world.options.roomIdleMs);
}

/** Writes a room frame to one member, unless it is too slow to take it. */
export function deliver(s: LocalMembers, conn: Ref<ConnMsg>, m: Member, frame: Encoded, id: number): void {
  const socket = m;
  const o = s.world.options;
  const buffered = socket.bufferedAmount;
  if (buffered > o.softLimit || s.gapped.has(conn)) {
    const c = s.world.counters;
    c.droppedForSlow++;
    if (closeIfOverHard(s.world, socket)) return;
    if (s.gapped.has(conn)) return;
    s.gapped.add(conn);
    c.gaps++;
    sendFrame(socket, { type: 'gap', room: s.name, from: id });
    // The connection closes itself if it stays over the soft limit for the grace period.
    conn.send({ type: 'slow', room: s.name });
    return;
  }
  s.world.counters.deliveries++;
  frame.sendTo(socket);
}

/**
 * Writes a frame that is not numbered (presence, an unprompted `joined`) to one member. It is not
 * dropped at the soft limit as a room message is (nothing could say it was missed), but a member
 * over the hard limit is closed, and one over the soft limit is told `slow` (it closes itself if it
 * stays there for the grace period): a client that never reads is bounded by these frames too.
 */
export function sendUnnumbered(world: World, conn: Ref<ConnMsg>, m: Member, frame: Encoded): void {
  if (closeIfOverHard(world, m)) return;
  frame.sendTo(m);
  if (m.bufferedAmount > world.options.softLimit && !m.session.slowCheck) conn.send({ type: 'slow', room: '' });
}

/**
 * Replays the messages after `sinceId` under the soft limit (it counts every byte queued for a
 * client, replays too: PROTOCOL.md). What does not fit is a `gap` whose `from` is the first id not
 * sent, and the member gets no room messages until it resumes from there: each `join` + `since`
 * queues at most the soft limit and one message.
 */
function replay(s: RoomState, conn: Ref<ConnMsg>, socket: SocketHandle<Session>, sinceId: number): void {
  const from = s.store.replayTo(socket, sinceId, s.world.options.softLimit);
  if (from === 0) return;
  s.world.counters.gaps++;
  s.gapped.add(conn);
  sendFrame(socket, { type: 'gap', room: s.name, from });
  // Closed with 1013 if it is still over the soft limit after the grace period (a client that
  // reads has long taken it all by then).
  conn.send({ type: 'slow', room: s.name });
}

export const room: Behavior<RoomMsg, RoomState, RoomArgs> = {
  name: 'room',
  summary: (s) =>
    `#${s.name}: ${s.perUser.size} users, ${s.world.members.count(s.name)} connections, last id ${s.store.lastId}, ${s.store.held} kept`,
  init(ctx, { name, store, world }) {
    const s: RoomState = {
      name,
      store,
      world,
      perUser: store.present,
      joins: store.joins,
      leaves: store.leaves,
      presenceTimer: undefined,
      idleTimer: undefined,
      gapped: store.gapped as Set<Ref<ConnMsg>>,
      closing: false,
      crashOnPublish: false,
    };
    // After a restart the members are still in the registry: count them again. Users the last
    // incarnation knew who are gone now (their connection ended while the room was down) leave.
    const before = new Set(s.perUser.keys());
    s.perUser.clear();
    for (const m of world.members.lookup(name).values()) countIn(s, m.session.user);
    for (const user of before) if (!s.perUser.has(user)) presence(s, ctx, user, false);
    // A batch the previous incarnation did not get to send.
    if (s.presenceTimer === undefined && (s.joins.size > 0 || s.leaves.size > 0)) {
      s.presenceTimer = ctx.sendAfter(ctx.self, { type: 'presence.flush' }, world.options.presenceMs);
    }
    if (!store.started) {
      store.started = true;
      // A new store, yet members: an earlier room of this name stopped for good with them in it
      // (its supervisor gave up) and its history is gone. PROTOCOL.md: they stay members and get
      // an unprompted `joined` with the new epoch.
      if (s.perUser.size > 0) {
        const joined = new Encoded({
          type: 'joined',
          room: name,
          members: s.perUser.size,
          epoch: store.epoch,
          id: store.lastId,
        });
        for (const [conn, m] of world.members.lookup(name)) sendUnnumbered(world, conn, m, joined);
      }
    }
    becameEmpty(s, ctx);
    return s;
  },

  receive(s, msg, ctx) {
    const world = s.world;
    switch (msg.type) {
      case 'join': {
        if (s.closing) {
          // Reopen, unless a new room took the name meanwhile: then the join belongs there.
          const reg = world.rooms.register(s.name, ctx.self);
          if (!reg.ok) {
            const there = reg.reason === 'taken' ? (reg.ref as Ref<RoomMsg>) : ensureRoom(world, s.name);
            if (there === ROOMS_FULL)
              sendFrame(msg.socket, withRef({ type: 'error', ...roomsFullError(world) }, msg.ref));
            else there?.send(msg);
            return s;
          }
          s.closing = false;
        }
        const socket = msg.socket;
        const user = socket.session.user;
        if (!isMember(s, ctx.self, msg.conn)) {
          const member: Member = socket;
          // A connection that ended before its join got here is not made a member: nothing would
          // ever count it out (its end has passed; the registry refuses a dead actor).
          if (!world.members.register(s.name, msg.conn, member).ok) return s;
          if (countIn(s, user)) presence(s, ctx, user, true);
          s.idleTimer?.cancel();
          s.idleTimer = undefined;
        }
        s.gapped.delete(msg.conn);
        const store = s.store;
        const joined: ServerFrame = withRef(
          { type: 'joined', room: s.name, members: s.perUser.size, epoch: store.epoch, id: store.lastId },
          msg.ref,
        );
        const since = msg.since;
        if (since === undefined) {
          sendFrame(socket, joined);
          return s;
        }
        const recovered = since.epoch === store.epoch && store.covers(since.id);
        sendFrame(socket, { ...joined, recovered } as ServerFrame);
        if (recovered) replay(s, msg.conn, socket, since.id);
        return s;
      }

      case 'leave': {
        if (!isMember(s, ctx.self, msg.conn)) {
          if (!passLeaveOn(s, ctx.self as Ref<never>, msg)) notMember(msg.socket, s.name, msg.ref);
          return s;
        }
        world.members.unregister(s.name, msg.conn);
        s.gapped.delete(msg.conn);
        const user = msg.socket.session.user;
        if (recount(s, user)) presence(s, ctx, user, false);
        sendFrame(msg.socket, withRef({ type: 'left', room: s.name }, msg.ref));
        becameEmpty(s, ctx);
        return s;
      }

      case 'publish': {
        if (!isMember(s, ctx.self, msg.conn)) {
          notMember(msg.socket, s.name, msg.ref);
          return s;
        }
        if (s.crashOnPublish) {
          world.counters.roomCrashes++;
          world.faults?.crashed(s.name);
          throw new Error(`injected crash in room ${s.name} while publishing`);
        }
        const store = s.store;
        const id = store.lastId + 1;
        const frame = new Encoded({
          type: 'message',
          room: s.name,
          from: msg.socket.session.user,
          content: msg.content,
          ts: world.now(),
          id,
        });
        store.append(frame, frame.jsonBytes());
        const t0 = performance.now();
        const faults = world.faults;
        if (faults === undefined) for (const [conn, m] of world.members.lookup(s.name)) deliver(s, conn, m, frame, id);
        else {
          let first = true;
          for (const [conn, m] of world.members.lookup(s.name)) {
            deliver(s, conn, m, frame, id);
            if (first) faults.delivered(s.name, msg.socket);
            first = false;
          }
        }
        world.fanout?.observe((performance.now() - t0) / 1000);
        // The history keeps bytes, not the frame and its strings.
        frame.compact();
        if (msg.ref !== undefined) sendFrame(msg.socket, { type: 'ack', ref: msg.ref, id });
        return s;
      }

      case 'who':
        whoAnswer(s.name, s.perUser, msg);
        return s;

      case 'member.exit': {
        // Its entry is gone already. Counted here or not (it left before it ended, or this room
        // started after its end), the recount makes the user's count the registries' again.
        s.gapped.delete(msg.conn);
        if (recount(s, msg.user)) presence(s, ctx, msg.user, false);
        becameEmpty(s, ctx);
        return s;
      }

      case 'presence.flush': {
        s.presenceTimer = undefined;
        if (s.joins.size === 0 && s.leaves.size === 0) return s;
        const frame = new Encoded({ type: 'presence', room: s.name, joins: [...s.joins], leaves: [...s.leaves] });
        s.joins.clear();
        s.leaves.clear();
        for (const [conn, m] of world.members.lookup(s.name)) {
          if (!s.gapped.has(conn)) sendUnnumbered(world, conn, m, frame);
        }
        return s;
      }

      case 'idle.check': {
        s.idleTimer = undefined;
        if (s.perUser.size > 0) return s;
        // Unregister first, then stop behind whatever is already queued: a join that found this
        // room before the unregister is still handled (it reopens the room).
        if (world.rooms.whereis(s.name) === (ctx.self as Ref<never>)) world.rooms.unregister(s.name);
        s.closing = true;
        ctx.self.send({ type: 'close' });
        return s;
      }

      case 'close':
        if (s.closing && s.perUser.size === 0) ctx.stop('normal');
        return s;

      case 'crash':
        if (msg.on === 'publish') {
          s.crashOnPublish = true;
          return s;
        }
        world.counters.roomCrashes++;
        world.faults?.crashed(s.name);
        throw new Error(`injected crash in room ${s.name}`);
    }
  },
};

/**
 * A room that crashes while handling a client's request loses that request: it is the dead letter
 * of the restart (the room itself comes back at once, members and history intact). Its sender gets
 * `internal` for it, as for a crash of its own connection, instead of waiting for an answer that
 * never comes. Installed with `system.onDeadLetter` by `startChat`.
 */
export function answerLostRequest(d: DeadLetter): void {
  if (d.reason !== 'crashed') return;
  const m = d.message as RoomMsg | null;
  if (typeof m !== 'object' || m === null) return;
  if (m.type !== 'publish' && m.type !== 'join' && m.type !== 'leave') return;
  // A crash in the middle of a fan-out may have reached some members: say so, so that a client that
  // retries knows a copy may already be out.
  const reason =
    m.type === 'publish'
      ? 'the room failed on this request; the message may have reached some members'
      : 'the room failed on this request';
  sendFrame(m.socket, withRef({ type: 'error', code: 'internal', reason }, m.ref));
}
