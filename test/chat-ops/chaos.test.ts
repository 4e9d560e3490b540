/**
 * Chaos: steady traffic in several rooms while room and socket actors are crashed at random through
 * the fault-injection endpoints. Every member of every room must see every message id of that room
 * exactly once and in order, every sender gets an ack per message, and no socket closes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type ChatClient, type Frame, startServer } from '../chat/client.js';

const ROOMS = ['red', 'green', 'blue'];
const PER_ROOM = 4;
const MESSAGES_PER_CLIENT = 40;

describe('chaos', () => {
  it('loses and reorders nothing and closes no socket while random room and socket actors crash', async (t) => {
    const server = await startServer(t, { testFaults: true, rate: 10_000, burst: 10_000 });
    const members = new Map<string, ChatClient[]>();
    for (const room of ROOMS) {
      const list: ChatClient[] = [];
      for (let i = 0; i < PER_ROOM; i++) {
        const c = await server.connect(`${room}-${i}`);
        await c.request({ type: 'join', room });
        list.push(c);
      }
      members.set(room, list);
    }
    const everyone = [...members.values()].flat();
    // A seeded schedule of crashes: after which message round, which kind, which target.
    const rng = fc.sample(
      fc.record({ kind: fc.constantFrom('room', 'user'), room: fc.constantFrom(...ROOMS), i: fc.nat(PER_ROOM - 1) }),
      { numRuns: MESSAGES_PER_CLIENT, seed: 42 },
    );
    let crashed = 0;
    for (let round = 0; round < MESSAGES_PER_CLIENT; round++) {
      for (const [room, list] of members) {
        for (const c of list)
          c.send({ type: 'message', room, content: `${c.label} ${round}`, ref: `${c.label}-${round}` });
      }
      if (round % 4 === 1) {
        const x = rng[round] as { kind: string; room: string; i: number };
        const target = x.kind === 'room' ? `room=${x.room}` : `user=${x.room}-${x.i}`;
        const r = await server.http('POST', `/_test/crash?${target}`);
        crashed += (JSON.parse(r.body) as { crashed: number }).crashed;
      }
    }
    assert.ok(crashed >= 8, `crashed ${crashed} actors`);
    const total = PER_ROOM * MESSAGES_PER_CLIENT;
    for (const [room, list] of members) {
      for (const c of list) {
        const msgs: Frame[] = await c.take(
          total,
          (f) => f.type === 'message' && f.room === room,
          `${total} messages of ${room}`,
        );
        assert.deepEqual(
          msgs.map((m) => m.id),
          Array.from({ length: total }, (_, i) => i + 1),
          `${c.label} sees every id of ${room} once, in order`,
        );
        const acks = await c.take(MESSAGES_PER_CLIENT, (f) => f.type === 'ack', 'an ack per message');
        assert.equal(new Set(acks.map((a) => a.ref)).size, MESSAGES_PER_CLIENT);
      }
    }
    for (const c of everyone) {
      assert.equal(c.ws.readyState, c.ws.OPEN, `${c.label} is still connected`);
      assert.deepEqual(c.received('gap'), []);
      assert.deepEqual(
        c.received('error').filter((e) => e.code !== 'internal'),
        [],
      );
    }
  });
});

describe('room crash with mail queued behind it', () => {
  it('keeps the messages queued behind the crash: the restarted room publishes them, ids continuing', async (t) => {
    const server = await startServer(t, { testFaults: true });
    const alice = await server.connect('alice');
    const bob = await server.connect('bob');
    await alice.request({ type: 'join', room: 'lobby' });
    await bob.request({ type: 'join', room: 'lobby' });
    await alice.request({ type: 'message', room: 'lobby', content: 'before' });
    const world = server.chat.world;
    const room = world.rooms.whereis('lobby');
    const [conn, member] = [...world.members.lookup('lobby')].find(([, m]) => m.session.user === 'alice') ?? [];
    assert.ok(room && conn && member);
    // In one synchronous step: the crash, then two publishes queued behind it in the room's mailbox.
    room.send({ type: 'crash' });
    room.send({ type: 'publish', conn, socket: member, content: 'queued 1' });
    room.send({ type: 'publish', conn, socket: member, content: 'queued 2' });
    const got = await bob.take(3, (f) => f.type === 'message', 'three messages');
    assert.deepEqual(
      got.map((m) => [m.id, m.content]),
      [
        [1, 'before'],
        [2, 'queued 1'],
        [3, 'queued 2'],
      ],
    );
    assert.equal(bob.ws.readyState, bob.ws.OPEN);
    assert.equal(world.rooms.whereis('lobby'), room, 'the same room ref, restarted in place');
  });
});
