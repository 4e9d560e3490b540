import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settle } from 'troupe/testing';
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
