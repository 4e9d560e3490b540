import { ActorSystem, DuplicateRegistry, dynamicSupervisor, type Ref, silentLogger, UniqueRegistry } from 'troupe';
import { SimulatedClock } from 'troupe/testing';
import { DEFAULTS } from '../../examples/chat/src/options.js';
import { type RoomMsg, room } from '../../examples/chat/src/room.js';
import { newSession } from '../../examples/chat/src/session.js';
import { ensureRoom, memberRegistry, newCounters, ROOM_SUP, type World } from '../../examples/chat/src/world.js';

export class FakeSocket {
  frames: Array<Record<string, unknown>> = [];
  closed = false;
  bufferedAmount = 0;
  constructor(readonly session: ReturnType<typeof newSession>) {}
  send(data: string | Uint8Array) {
    if (!this.closed) this.frames.push(JSON.parse(String(data)));
    return 'queued';
  }
  end() {
    this.closed = true;
  }
}

/** A single process's world for actors under test: every registry empty, no cluster. */
export function testWorld(opts: Partial<typeof DEFAULTS> = {}, now: () => number = () => 0): World {
  const rooms = new UniqueRegistry<string, undefined, RoomMsg>('rooms');
  return {
    options: { ...DEFAULTS, ...opts },
    cluster: undefined,
    rooms,
    members: memberRegistry(rooms),
    users: new DuplicateRegistry('users') as never,
    inboxes: new Map(),
    names: new UniqueRegistry<unknown>('chat'),
    counters: newCounters(),
    fanout: undefined,
    now,
    backlogMs: () => 0,
    faults: undefined,
  };
}

export async function harness(opts: Partial<typeof DEFAULTS> = {}) {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ logger: silentLogger, clock });
  const world = testWorld(opts);
  world.names.register(
    ROOM_SUP,
    await system.start(
      dynamicSupervisor({ child: { behavior: room, restart: 'transient' }, maxRestarts: 1000, withinMs: 1000 }),
    ),
  );
  /**
   * A connection: an actor that keeps what it is sent (`got`) plus a fake socket, registered under
   * its user as a connection's init does.
   */
  const conn = (user: string) => {
    const got: unknown[] = [];
    const ref = system.spawn((m: unknown) => void got.push(m)) as Ref<never>;
    const socket = new FakeSocket(newSession(user, 100, 0));
    world.users.register(user, ref as never, socket as never);
    return { ref, socket, got };
  };
  /** The room of `name`, started if needed; these tests stay under every limit. */
  const roomOf = (name: string): Ref<RoomMsg> => {
    const r = ensureRoom(world, name);
    if (r === undefined || typeof r === 'string') throw new Error(`room ${name} did not start: ${String(r)}`);
    return r;
  };
  const join = (name: string, c: { ref: Ref<never>; socket: FakeSocket }, since?: { epoch: string; id: number }) =>
    roomOf(name).send({
      type: 'join',
      conn: c.ref,
      socket: c.socket,
      ...(since ? { since } : {}),
    } as unknown as RoomMsg);
  const publish = (name: string, c: { ref: Ref<never>; socket: FakeSocket }, content: string) =>
    roomOf(name).send({ type: 'publish', conn: c.ref, socket: c.socket, content } as unknown as RoomMsg);
  return { system, clock, world, conn, join, publish };
}
