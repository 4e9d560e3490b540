/**
 * A connection: one actor per WebSocket, under the sockets supervisor of `@troupe/uws`. It parses
 * and checks every frame (rate limit, protocol, limits), answers what it can itself (ping, who, dm,
 * errors) and hands room work to the room actors. What must survive its restarts (user, rooms,
 * encoding, rate bucket) lives in the socket's session; a crash while handling a frame answers that
 * frame with `internal` and the connection stays open.
 */
import { isLoopbackAddress, type SocketArgs, type SocketEvent, type SocketHandle } from '@troupe/uws';
import type { Behavior, Context, MonitorRef, Ref } from 'troupe';
import { ownerName } from './clustered.js';
import { sendFrame } from './codec.js';
import type { FaultLog } from './faults.js';
import { deliverDm, inboxPosition, lastConnectionGone, resumeInbox } from './inbox.js';
import type { OwnerMsg } from './owner.js';
import { type ClientFrame, type ClientRef, errorFrame, parseClientFrame, readRef, withRef } from './protocol.js';
import { notMember, type RoomMsg, unavailable } from './room.js';
import {
  addRoom,
  earnAnswers,
  inRoom,
  recordLimited,
  removeRoom,
  roomCount,
  roomList,
  type Session,
  takeToken,
} from './session.js';
import { type MembersFrame, namesWithin } from './users.js';
import {
  type ConnMsg,
  closeIfOverHard,
  ensureRoom,
  INBOX_HOST,
  ROOMS_FULL,
  roomsFullError,
  type World,
} from './world.js';

/** Clustered: frames a connection holds while it waits for its welcome; more are answered `unavailable`. */
const EARLY_LIMIT = 256;

/** `retry_ms` of an `unavailable` answer. */
const RETRY_MS = 1_000;

/** What a shed message's `retry_ms` says: long enough for a backlog of a second or so to clear. */
const SHED_RETRY_MS = 1_000;

type Msg = SocketEvent | ConnMsg;

function handleFrame(socket: SocketHandle<Session>, world: World, ctx: Context<Msg>, frame: ClientFrame): void {
  const session = socket.session;
  const self = ctx.self as Ref<ConnMsg>;
  switch (frame.type) {
    case 'ping':
      sendFrame(socket, withRef({ type: 'pong' }, frame.ref));
      return;

    case 'join': {
      if (!inRoom(session, frame.room) && roomCount(session) >= world.options.maxRooms) {
        world.counters.errors++;
        sendFrame(
          socket,
          withRef(
            { type: 'error', code: 'too_many_rooms', reason: `at most ${world.options.maxRooms} rooms per connection` },
            frame.ref,
          ),
        );
        return;
      }
      const room = ensureRoom(world, frame.room);
      if (room === ROOMS_FULL) {
        world.counters.errors++;
        sendFrame(socket, withRef({ type: 'error', ...roomsFullError(world) }, frame.ref));
        return;
      }
      if (room === undefined) {
        sendFrame(socket, withRef({ type: 'error', code: 'internal', reason: 'the room could not start' }, frame.ref));
        return;
      }
      // The name as the rooms registry holds it: one string per room, not one per member.
      addRoom(session, (world.rooms.keysOf(room as Ref<never>)[0] as string | undefined) ?? frame.room);
      room.send(
        withRef<RoomMsg>(
          frame.since === undefined
            ? { type: 'join', conn: self, socket }
            : { type: 'join', conn: self, socket, since: frame.since },
          frame.ref,
        ),
      );
      return;
    }

    case 'leave': {
      if (!removeRoom(session, frame.room)) {
        world.counters.errors++;
        notMember(socket, frame.room, frame.ref);
        return;
      }
      const room = world.rooms.whereis(frame.room);
      if (room === undefined) {
        // No room to do it (it stopped for good): leave its members here, or its next one would
        // count this connection in.
        world.members.unregister(frame.room, self);
        sendFrame(socket, withRef({ type: 'left', room: frame.room }, frame.ref));
      } else room.send(withRef<RoomMsg>({ type: 'leave', conn: self, socket }, frame.ref));
      return;
    }

    case 'message': {
      world.counters.messagesIn++;
      if (!inRoom(session, frame.room)) {
        world.counters.errors++;
        notMember(socket, frame.room, frame.ref);
        return;
      }
      // More than shedAfterMs behind: refuse the message here, cheaply, instead of queueing
      // its fan-out behind a backlog that only grows. Not counted as abuse: the server is the cause.
      const shedAfter = world.options.shedAfterMs;
      if (shedAfter > 0 && world.backlogMs() > shedAfter) {
        world.counters.shed++;
        sendFrame(socket, errorFrame({ code: 'rate_limited', reason: 'server busy', ...refOf(frame) }, SHED_RETRY_MS));
        return;
      }
      // Still a member when the room stopped for good (its supervisor gave up): a new room takes
      // the name, tells its members the new epoch, and takes the message.
      const room = ensureRoom(world, frame.room);
      if (room === ROOMS_FULL) {
        world.counters.errors++;
        sendFrame(socket, withRef({ type: 'error', ...roomsFullError(world) }, frame.ref));
        return;
      }
      if (room === undefined) {
        sendFrame(socket, withRef({ type: 'error', code: 'internal', reason: 'the room could not start' }, frame.ref));
        return;
      }
      room.send(withRef<RoomMsg>({ type: 'publish', conn: self, socket, content: frame.content }, frame.ref));
      return;
    }

    case 'dm': {
      world.counters.dmsIn++;
      if (world.cluster !== undefined) {
        // Through this process's post office, to the inbox's owner, which numbers it, stores it
        // and sends it to every process of the user.
        world.names.whereis(INBOX_HOST)?.send({
          type: 'send',
          to: frame.to,
          from: session.user,
          content: frame.content,
          conn: self,
          ...refOf(frame),
        });
        return;
      }
      const targets = world.users.lookup(frame.to);
      if (targets.size === 0) {
        world.counters.errors++;
        sendFrame(
          socket,
          withRef({ type: 'error', code: 'no_such_user', reason: `${frame.to} is not connected` }, frame.ref),
        );
        return;
      }
      // In the inbox first: the ack means it is kept, whether it goes out now or on resume.
      deliverDm(
        world,
        frame.to,
        targets as ReadonlyMap<Ref<ConnMsg>, SocketHandle<Session>>,
        session.user,
        frame.content,
      );
      if (frame.ref !== undefined) sendFrame(socket, { type: 'ack', ref: frame.ref });
      return;
    }

    case 'inbox':
      if (world.cluster !== undefined) {
        world.names
          .whereis(INBOX_HOST)
          ?.send({ type: 'resume', user: session.user, conn: self, since: frame.since, ...refOf(frame) });
        return;
      }
      resumeInbox(world, self, socket, frame.since, frame.ref);
      return;

    case 'who': {
      let room: Ref<OwnerMsg> | Ref<RoomMsg> | undefined;
      if (world.cluster !== undefined) {
        const c = world.cluster.cluster;
        if (!c.connected) {
          unavailable(socket, frame.ref, 'the cluster bus is down');
          return;
        }
        // Users cluster-wide: the room's owner knows them.
        room = c.registry.whereis(ownerName(frame.room)) as Ref<OwnerMsg> | undefined;
        // Not found just after a reconnect, when this process does not answer for its own names
        // (its rooms' owners among them) until its leases are checked: "nobody" could be wrong.
        if (room === undefined && !c.registry.available) {
          unavailable(socket, frame.ref, 'the cluster registry is not ready yet');
          return;
        }
      } else {
        room = world.rooms.whereis(frame.room);
        if (room === undefined) {
          // No room actor, for a moment, yet maybe members (its supervisor gave up on it, and the
          // next message starts it again): the members registry says who they are.
          const users = new Set<string>();
          for (const m of world.members.lookup(frame.room).values()) users.add(m.session.user);
          sendFrame(socket, withRef(membersAnswer(session, frame.room, [...users].sort()), frame.ref));
          return;
        }
      }
      // No owner: nobody is in the room.
      if (room === undefined) {
        sendFrame(socket, withRef(membersAnswer(session, frame.room, []), frame.ref));
        return;
      }
      // The room keeps its names in order, and sends those the answer budget pays for (a flood of
      // `who` in a big room costs the names it gets, not a sort of the room each). Watched until it
      // answers: a room that ends first makes it `unavailable`, not silence.
      const token = ctx.monitor(room as Ref<never>) as number;
      session.waits ??= new Map();
      session.waits.set(token, frame.ref);
      (room as Ref<RoomMsg>).send({ type: 'who', conn: self, token, budget: session.answerBudget, ...refOf(frame) });
      return;
    }
  }
}

/**
 * A `members` answer: the first names of `sorted`, at most WHO_LIMIT of them and as many as the
 * connection's answer budget pays for (which they spend), with `more` when some are left out
 * (PROTOCOL.md).
 */
export function membersAnswer(session: Session, room: string, sorted: readonly string[]): MembersFrame {
  const [frame, bytes] = namesWithin(room, sorted, session.answerBudget);
  session.answerBudget = Math.max(0, session.answerBudget - bytes);
  return frame;
}

/**
 * The connection behaviour; `world` is bound by `connection(world)`. Its state is the socket: all
 * it keeps lives in the socket's session (whether a slow-consumer check is armed too).
 */
export function connection(world: World): Behavior<Msg, SocketHandle<Session>, SocketArgs<Session>> {
  return {
    name: 'connection',
    summary: (socket) =>
      `${socket.session.user}: ${
        roomCount(socket.session) === 0
          ? 'no rooms'
          : roomList(socket.session)
              .map((r) => `#${r}`)
              .join(' ')
      }, ${socket.bufferedAmount} B buffered`,
    init(ctx, { socket }) {
      // Idempotent: after a restart the same ref is registered already.
      world.users.register(socket.session.user, ctx.self as Ref<ConnMsg>, socket);
      if (!socket.session.welcomed && world.cluster !== undefined) {
        // The inbox position comes from the inbox's owner, somewhere in the cluster; frames that
        // arrive before it wait (the welcome is the first frame a client gets).
        world.names
          .whereis(INBOX_HOST)
          ?.send({ type: 'hello', user: socket.session.user, conn: ctx.self as Ref<ConnMsg> });
      } else if (!socket.session.welcomed) {
        socket.session.welcomed = true;
        sendFrame(socket, {
          type: 'welcome',
          user: socket.session.user,
          inbox: inboxPosition(world, socket.session),
        });
      }
      // A slow-consumer check the previous incarnation had armed is armed again.
      if (socket.session.slowCheck) ctx.sendAfter(ctx.self, { type: 'slow.check' }, world.options.softLimitGraceMs);
      return socket;
    },

    terminate(socket) {
      if (world.users.count(socket.session.user) > 1) return;
      // The user's last connection here: clustered, this process's post office lets it go once it
      // is gone; else its inbox waits roomIdleMs for a reconnect, then goes.
      if (world.cluster !== undefined)
        world.names.whereis(INBOX_HOST)?.send({ type: 'bye', user: socket.session.user });
      else lastConnectionGone(world, socket.session.user);
    },

    info(socket, msg, _ctx) {
      // A room owner that had a request of this connection went before it answered.
      if (msg.type !== 'DOWN') return socket;
      const waits = socket.session.waits;
      if (waits === undefined || !waits.has(msg.monitor as number)) return socket;
      const ref = waits.get(msg.monitor as number);
      waits.delete(msg.monitor as number);
      sendFrame(
        socket,
        errorFrame(
          {
            code: 'unavailable',
            reason:
              world.cluster === undefined
                ? 'the room restarted before it answered'
                : 'the room is moving to another process',
            ...(ref === undefined ? {} : { ref }),
          },
          RETRY_MS,
        ),
      );
      return socket;
    },

    receive(socket, msg, ctx) {
      const session = socket.session;
      const o = world.options;
      switch (msg.type) {
        case 'socket.message': {
          if (!session.welcomed) {
            // Clustered, before the welcome: held, in order, until it is sent.
            session.early ??= [];
            if (session.early.length < EARLY_LIMIT) session.early.push(msg);
            else {
              const ref = readRef(msg.data, msg.isBinary);
              sendFrame(socket, errorFrame({ code: 'unavailable', reason: 'not welcomed yet', ...ref }, RETRY_MS));
            }
            return socket;
          }
          onFrame(socket, msg, ctx, world);
          // Its own answers (pongs, acks, errors, who) fill its buffer too, if it does not read:
          // over the soft limit, the grace period starts, as for room messages.
          if (socket.bufferedAmount > o.softLimit) armSlowCheck(session, ctx, o.softLimitGraceMs);
          return socket;
        }
        case 'welcome': {
          if (session.welcomed) return socket;
          session.welcomed = true;
          sendFrame(socket, { type: 'welcome', user: session.user, inbox: msg.inbox });
          const early = session.early ?? [];
          session.early = undefined;
          for (const m of early) onFrame(socket, m, ctx, world);
          return socket;
        }
        case 'frame': {
          if (msg.token !== undefined) {
            session.waits?.delete(msg.token);
            ctx.demonitor(msg.token as MonitorRef);
          }
          // A room's owner elsewhere sends the names it has; this connection's budget cuts them.
          const f = msg.frame;
          if (closeIfOverHard(world, socket)) return socket;
          sendFrame(socket, f.type === 'members' ? { ...f, ...membersAnswer(session, f.room, f.users) } : f);
          if (socket.bufferedAmount > o.softLimit) armSlowCheck(session, ctx, o.softLimitGraceMs);
          return socket;
        }
        case 'socket.drain':
          return socket;
        case 'slow':
          armSlowCheck(session, ctx, o.softLimitGraceMs);
          return socket;
        case 'crash':
          world.faults?.crashed(socket);
          throw new Error(`injected crash in a connection of ${session.user}`);
        case 'slow.check': {
          // Still over the soft limit after the grace period: close with 1013.
          session.slowCheck = false;
          if (socket.bufferedAmount > o.softLimit) {
            world.counters.slowClosed++;
            socket.end(1013, 'slow consumer');
          }
          return socket;
        }
      }
    },
  };
}

/** Over the soft limit: closed with 1013 if it is still over it after `graceMs` (once armed, armed). */
function armSlowCheck(session: Session, ctx: Context<Msg>, graceMs: number): void {
  if (session.slowCheck) return;
  session.slowCheck = true;
  ctx.sendAfter(ctx.self, { type: 'slow.check' }, graceMs);
}

/** One frame from the client: rate limit, parse, handle. */
/**
 * `--test-faults` only, from loopback clients only (else the frame is an unknown type, as without
 * the flag): crash this connection's actor, or a room's, now. Not answered: the frames after it
 * queue behind the crash, the first of them is what the restarted actor handles first.
 */
function injectCrash(
  socket: SocketHandle<Session>,
  world: World,
  frame: Extract<ClientFrame, { type: '_crash' }>,
): SocketHandle<Session> {
  const faults = world.faults as FaultLog;
  if (!isLoopbackAddress(socket.remoteAddress)) {
    world.counters.errors++;
    sendFrame(socket, errorFrame({ code: 'bad_request', reason: 'unknown type "_crash"', ...refOf(frame) }));
    return socket;
  }
  if (frame.room === undefined) {
    faults.crashed(socket);
    throw new Error(`injected crash in a connection of ${socket.session.user}`);
  }
  if (world.rooms.whereis(frame.room)?.send({ type: 'crash' }) !== true) {
    sendFrame(socket, errorFrame({ code: 'bad_request', reason: `no room ${frame.room}`, ...refOf(frame) }));
  }
  return socket;
}

function onFrame(
  socket: SocketHandle<Session>,
  msg: Extract<SocketEvent, { type: 'socket.message' }>,
  ctx: Context<Msg>,
  world: World,
): SocketHandle<Session> {
  const session = socket.session;
  const o = world.options;
  // Closed for abuse already: under load hundreds of its frames can still be queued here,
  // behind the decision. Dropped, so that the socket counts once in chat_abuse_closed_total.
  if (session.abusive) return socket;
  world.counters.framesIn++;
  session.binary = msg.isBinary;
  // Every byte it sends (and the frame's header) earns it answers: --answer-ratio (session.ts).
  const bytes = (typeof msg.data === 'string' ? msg.data.length : msg.data.byteLength) + 6;
  earnAnswers(session, bytes, o.answerRatio, o.softLimit);
  const now = ctx.system.clock.now();
  const wait = takeToken(session, now, o.rate, o.burst);
  if (wait > 0) {
    world.counters.rateLimited++;
    if (recordLimited(session, now, o.abuseLimit, o.abuseWindowMs)) {
      session.abusive = true;
      world.counters.abuseClosed++;
      socket.end(1008, 'rate limit abuse');
      return socket;
    }
    const ref = readRef(msg.data, msg.isBinary);
    sendFrame(socket, errorFrame({ code: 'rate_limited', reason: 'too many frames', ...ref }, wait));
    return socket;
  }
  const parsed = parseClientFrame(msg.data, msg.isBinary, o.maxContent, world.faults !== undefined);
  if (!parsed.ok) {
    world.counters.errors++;
    sendFrame(socket, errorFrame(parsed.error));
    return socket;
  }
  if (parsed.frame.type === '_crash') return injectCrash(socket, world, parsed.frame);
  try {
    handleFrame(socket, world, ctx, parsed.frame);
  } catch (e) {
    // Answer the request, then let the actor crash and restart: the connection stays.
    sendFrame(
      socket,
      errorFrame({ code: 'internal', reason: 'the server failed on this request', ...refOf(parsed.frame) }),
    );
    throw e;
  }
  return socket;
}

function refOf(frame: ClientFrame): { ref?: ClientRef } {
  return frame.ref === undefined ? {} : { ref: frame.ref };
}
