import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settle } from 'troupe/testing';
import { harness } from './harness.js';

test('a member that leaves while its room restarts still produces a presence leave', async () => {
  const { system, clock, world, conn, join } = await harness();
  const alice = conn('alice');
  const bob = conn('bob');
  join('lobby', alice);
  join('lobby', bob);
  await settle(system);
  clock.advance(300);
  await settle(system);
  alice.socket.frames.length = 0;
  world.rooms.whereis('lobby')?.send({ type: 'crash' }); // fault injection: the room crashes...
  system.kill(bob.ref); // ...while bob's connection goes away
  await settle(system);
  clock.advance(300);
  await settle(system);
  const presence = alice.socket.frames.filter((f) => f.type === 'presence');
  assert.deepEqual(presence, [{ type: 'presence', room: 'lobby', joins: [], leaves: ['bob'] }]);
});
