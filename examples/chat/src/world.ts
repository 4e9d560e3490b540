/**
 * What every chat actor shares: the options, the registries (rooms by name, room members, the
 * connections of each user), the room supervisor and the counters. Registries are plain objects, not
 * actors: their entries belong to the actors registered in them and vanish when those die.
 */
import type { SocketHandle } from '@troupe/uws';
import {
  DuplicateRegistry,
  type DynamicSupervisorRequest,
  key,
  type Ref,
  type SupervisorRequest,
  spawnChild,
  type UniqueRegistry,
} from 'troupe';
import type { ChatCluster } from './clustered.js';
import type { FaultLog } from './faults.js';
import type { Inbox } from './inbox.js';
import type { ChatOptions } from './options.js';
import type { OwnerArgs, OwnerMsg } from './owner.js';
import type { HostMsg } from './postoffice.js';
import type { ServerFrame } from './protocol.js';
import type { RelayArgs, RelayMsg } from './relay.js';
import type { RoomArgs, RoomMsg } from './room.js';
import type { Session } from './session.js';
import { RelayStore, RoomStore } from './store.js';

/** A connection's actor accepts these (besides socket events). */
export type ConnMsg =
  /** A frame to write to the socket, from an actor that has no socket handle (another process's). */
  | { readonly type: 'frame'; readonly frame: ServerFrame; readonly token?: number }
  /** Clustered: the inbox position arrived; send the welcome and handle the frames held for it. */
  | { readonly type: 'welcome'; readonly inbox: { readonly epoch: string; readonly id: number } }
  | { readonly type: 'crash' }
  | { readonly type: 'slow'; readonly room: string }
  | { readonly type: 'slow.check' };

/** What a room knows of a member connection (the `members` registry's value). */
export type Member = SocketHandle<Session>;

/** Counters for /metrics. */
export interface Counters {
  framesIn: number;
  messagesIn: number;
  dmsIn: number;
  deliveries: number;
  gaps: number;
  droppedForSlow: number;
  slowClosed: number;
  rateLimited: number;
  abuseClosed: number;
  errors: number;
  roomCrashes: number;
  /** Room messages refused because the server was behind (load shedding). */
  shed: number;
  /** Times the server stopped accepting connections for want of file descriptors. */
  acceptPaused: number;
}

/** The room supervisor's name in `World.names`, in every incarnation. */
export const ROOM_SUP = key<DynamicSupervisorRequest<RoomArgs, RoomMsg>>('rooms');
/** Clustered: the supervisor of this process's relays (relay.ts). */
export const RELAY_SUP = key<DynamicSupervisorRequest<RelayArgs, RelayMsg>>('relays');
/** Clustered: the supervisor of the room owners this process holds (owner.ts). */
export const OWNER_SUP = key<DynamicSupervisorRequest<OwnerArgs, OwnerMsg>>('owners');
/** Clustered: this process's inbox host and post office (postoffice.ts). */
export const INBOX_HOST = key<HostMsg>('inboxes');
/** The socket server's supervisor (listener and sockets) in `World.names`. */
export const SOCKET_SERVER = key<SupervisorRequest>('server');

export interface World {
  readonly options: ChatOptions;
  /** Room name -> room actor (clustered: the room's relay in this process). */
  readonly rooms: UniqueRegistry<string, undefined, RoomMsg>;
  /** The cluster, when the chat runs as one (`--cluster`). */
  readonly cluster: ChatCluster | undefined;
  /** Room name -> member connections, with their user and socket. */
  readonly members: DuplicateRegistry<string, Member, ConnMsg>;
  /** User name -> that user's connections, with their socket. */
  readonly users: DuplicateRegistry<string, SocketHandle<Session>, ConnMsg>;
  /** User name -> that user's DM inbox, from its first DM (before it, its epoch is in the sessions: inbox.ts). */
  readonly inboxes: Map<string, Inbox>;
  /** Where the chat's own supervisors are registered, so that they find each other (`ROOM_SUP`). */
  readonly names: UniqueRegistry<unknown>;
  readonly counters: Counters;
  /** The room fan-out histogram (seconds); set once metrics exist. */
  fanout: { observe(seconds: number): void } | undefined;
  /** Wall-clock ms for `ts`; injectable for tests. */
  readonly now: () => number;
  /** How long the actor system has been behind (`system.backlogMs`): the load-shedding signal. */
  readonly backlogMs: () => number;
  /** `--test-faults` only: injected crashes and the first delivery after each (faults.ts). */
  readonly faults: FaultLog | undefined;
}

export function newCounters(): Counters {
  return {
    framesIn: 0,
    messagesIn: 0,
    dmsIn: 0,
    deliveries: 0,
    gaps: 0,
    droppedForSlow: 0,
    slowClosed: 0,
    rateLimited: 0,
    abuseClosed: 0,
    errors: 0,
    roomCrashes: 0,
    shed: 0,
    acceptPaused: 0,
  };
}

/**
 * The members registry: who is in each room here. A member that ends for good is told to its room
 * (or relay) as `member.exit`, as a monitor on every member would, without a monitor per member.
 */
export function memberRegistry(
  rooms: UniqueRegistry<string, undefined, RoomMsg>,
): DuplicateRegistry<string, Member, ConnMsg> {
  return new DuplicateRegistry<string, Member, ConnMsg>('members', {
    onExit: (room, conn, m) => void rooms.whereis(room)?.send({ type: 'member.exit', conn, user: m.session.user }),
  });
}

/** `ensureRoom`'s answer when the server holds `--max-total-rooms` rooms already. */
export const ROOMS_FULL = 'full';

/**
 * The room actor of `name`, started (synchronously, under the room supervisor) if there is none;
 * `ROOMS_FULL` if starting one would pass `--max-total-rooms`; undefined if it could not start.
 * Registering here, in the same step as the start, means two joins can never start two rooms.
 */
export function ensureRoom(world: World, name: string): Ref<RoomMsg> | typeof ROOMS_FULL | undefined {
  const existing = world.rooms.whereis(name);
  if (existing !== undefined) return existing;
  if (world.rooms.size >= world.options.maxTotalRooms) return ROOMS_FULL;
  if (world.cluster !== undefined) {
    // Clustered: this process's relay of the room; the room's order is its owner's, somewhere.
    const relays = world.names.whereis(RELAY_SUP);
    if (relays === undefined) return undefined;
    const r = spawnChild(relays, { name, world, kept: new RelayStore() });
    if (!r.ok) return undefined;
    // A relay takes every request a room takes (RelayMsg includes RoomMsg).
    const ref = r.ref as unknown as Ref<RoomMsg>;
    world.rooms.register(name, ref);
    return ref;
  }
  const sup = world.names.whereis(ROOM_SUP);
  if (sup === undefined) return undefined;
  const o = world.options;
  const r = spawnChild(sup, { name, store: new RoomStore(o.history, o.historyBytes), world });
  if (!r.ok) return undefined;
  world.rooms.register(name, r.ref);
  return r.ref;
}

/** The `server_full` answer to a frame that would have created a room past `--max-total-rooms`. */
export function roomsFullError(world: World): { code: 'server_full'; reason: string } {
  return { code: 'server_full', reason: `the server holds its limit of ${world.options.maxTotalRooms} rooms` };
}

/**
 * Closes a socket with 1013 when its buffer is over the hard limit, whatever is being written to it
 * (room messages stop at the soft limit; DMs and answers do not). Returns true if it closed it.
 */
export function closeIfOverHard(world: World, socket: SocketHandle<Session>): boolean {
  if (socket.closed || socket.bufferedAmount <= world.options.hardLimit) return false;
  world.counters.slowClosed++;
  socket.end(1013, 'slow consumer');
  return true;
}
