import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Ref } from 'troupe';
import { settle } from 'troupe/testing';
import { type RoomMsg, room } from '../../examples/chat/src/room.js';
import { RoomStore } from '../../examples/chat/src/store.js';
import { harness } from './harness.js';

/** alice and bob in the lobby, their joins' presence batch sent; then what alice sees next. */
async function aliceAndBob() {
  const h = await harness();
  const alice = h.conn('alice');
  const bob = h.conn('bob');
  h.join('lobby', alice);
  h.join('lobby', bob);
  /** Lets the room work and its presence batch go out (250 ms). */
  const batch = async () => {
    await settle(h.system);
    h.clock.advance(300);
    await settle(h.system);
  };
  await batch();
  /** The presence frames alice got since the last call. */
  const presenceSeen = () => {
    const seen = alice.socket.frames.filter((f) => f.type === 'presence');
    alice.socket.frames.length = 0;
    return seen;
  };
  presenceSeen();
  return { ...h, alice, bob, batch, presenceSeen };
}

test('a member that leaves while its room restarts still produces a presence leave', async () => {
  const { system, world, bob, batch, presenceSeen } = await aliceAndBob();
  world.rooms.whereis('lobby')?.send({ type: 'crash' }); // fault injection: the room crashes...
  system.kill(bob.ref); // ...while bob's connection goes away
  await batch();
  assert.deepEqual(presenceSeen(), [{ type: 'presence', room: 'lobby', joins: [], leaves: ['bob'] }]);
});

test('a member whose connection ends while its room runs is counted out, and its leave is sent once', async () => {
  const { system, world, conn, join, alice, bob, batch, presenceSeen } = await aliceAndBob();
  system.kill(bob.ref);
  await batch();
  assert.deepEqual(presenceSeen(), [{ type: 'presence', room: 'lobby', joins: [], leaves: ['bob'] }]);
  assert.deepEqual([...world.members.lookup('lobby').keys()], [alice.ref]);
  // Counted out: bob's next connection is his first here again, so it is a join.
  join('lobby', conn('bob'));
  await batch();
  assert.deepEqual(presenceSeen(), [{ type: 'presence', room: 'lobby', joins: ['bob'], leaves: [] }]);
});

test("a user's other connection keeps the user present, also when one ends while the room restarts", async () => {
  const { system, world, conn, join, alice, bob, batch, presenceSeen } = await aliceAndBob();
  const bob2 = conn('bob');
  join('lobby', bob2);
  await batch();
  assert.deepEqual(presenceSeen(), [], "bob's second connection is no join: he is here already");
  // The restarted room counts the registry without bob's first connection, then gets its exit.
  world.rooms.whereis('lobby')?.send({ type: 'crash' });
  system.kill(bob.ref);
  await batch();
  assert.deepEqual(presenceSeen(), [], 'bob is still here on his second connection');
  /** The room's distinct users, as a repeated join of alice's is answered. */
  const members = async () => {
    alice.socket.frames.length = 0;
    join('lobby', alice);
    await batch();
    return alice.socket.frames.find((f) => f.type === 'joined')?.members;
  };
  assert.equal(await members(), 2, 'alice and bob');
  system.kill(bob2.ref);
  await batch();
  assert.deepEqual(presenceSeen(), [{ type: 'presence', room: 'lobby', joins: [], leaves: ['bob'] }]);
  assert.equal(await members(), 1, 'alice alone');
  assert.deepEqual([...world.members.lookup('lobby').keys()], [alice.ref]);
});

test('a join from a connection that ended before the room took it makes no member', async () => {
  const { system, clock, world, conn, join, alice, bob, batch, presenceSeen } = await aliceAndBob();
  const carol = conn('carol');
  system.kill(carol.ref); // the client went at once; its join was still on its way
  join('lobby', carol);
  await batch();
  assert.deepEqual(presenceSeen(), [], 'carol never joined: no presence for her, and nothing to undo');
  assert.equal(world.members.lookup('lobby').has(carol.ref as never), false);
  // The room counts alice and bob only: once both are gone it is empty, and closes after roomIdleMs.
  system.kill(alice.ref);
  system.kill(bob.ref);
  await batch();
  clock.advance(world.options.roomIdleMs + 1_000);
  await settle(system);
  assert.equal(world.rooms.whereis('lobby'), undefined, 'the empty room closed');
});

test('a leave that reaches a room on its way out goes to the room that holds the name now', async () => {
  const { system, clock, world, conn, join } = await harness();
  // A room of the lobby's name that is not the registered one, and counts nobody: what a room that
  // unregistered itself (idle, closing) is to a leave queued behind its close.
  const stale = system.spawn(room, {
    args: { name: 'lobby', store: new RoomStore(10, 1_000_000), world },
  }) as unknown as Ref<RoomMsg>;
  await settle(system);
  const alice = conn('alice');
  const bob = conn('bob');
  join('lobby', alice);
  join('lobby', bob);
  await settle(system);
  clock.advance(300);
  await settle(system);
  alice.socket.frames.length = 0;
  stale.send({ type: 'leave', conn: bob.ref, socket: bob.socket } as unknown as RoomMsg);
  await settle(system);
  clock.advance(300);
  await settle(system);
  assert.deepEqual(
    alice.socket.frames.filter((f) => f.type === 'presence'),
    [{ type: 'presence', room: 'lobby', joins: [], leaves: ['bob'] }],
  );
  assert.deepEqual(
    bob.socket.frames.filter((f) => f.type === 'left' || f.type === 'error'),
    [{ type: 'left', room: 'lobby' }],
  );
  assert.deepEqual([...world.members.lookup('lobby').keys()], [alice.ref]);
});

test('a member over the soft limit still gets presence but is told it is slow; over the hard limit it is closed', async () => {
  const { world, conn, join, alice, batch, presenceSeen } = await aliceAndBob();
  const o = world.options;
  // alice stopped reading: past the soft limit, the frame still goes (it is not numbered, so
  // nothing could say it was missed) and her connection starts its grace period.
  alice.socket.bufferedAmount = o.softLimit + 1;
  join('lobby', conn('carol'));
  await batch();
  assert.deepEqual(presenceSeen(), [{ type: 'presence', room: 'lobby', joins: ['carol'], leaves: [] }]);
  assert.deepEqual(alice.got, [{ type: 'slow', room: '' }]);
  // Past the hard limit: closed, as a room message would close it.
  alice.socket.bufferedAmount = o.hardLimit + 1;
  join('lobby', conn('dave'));
  await batch();
  assert.equal(alice.socket.closed, true);
  assert.deepEqual(presenceSeen(), []);
});
