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

test('a member whose connection ends while its room runs is counted out, and its leave is sent once', async () => {
  const { system, clock, world, conn, join } = await harness();
  const alice = conn('alice');
  const bob = conn('bob');
  join('lobby', alice);
  join('lobby', bob);
  await settle(system);
  clock.advance(300);
  await settle(system);
  alice.socket.frames.length = 0;
  system.kill(bob.ref);
  await settle(system);
  clock.advance(300);
  await settle(system);
  const presence = alice.socket.frames.filter((f) => f.type === 'presence');
  assert.deepEqual(presence, [{ type: 'presence', room: 'lobby', joins: [], leaves: ['bob'] }]);
  assert.deepEqual([...world.members.lookup('lobby').keys()], [alice.ref]);
  // Counted out: bob's next connection is his first here again, so it is a join.
  alice.socket.frames.length = 0;
  join('lobby', conn('bob'));
  await settle(system);
  clock.advance(300);
  await settle(system);
  assert.deepEqual(
    alice.socket.frames.filter((f) => f.type === 'presence'),
    [{ type: 'presence', room: 'lobby', joins: ['bob'], leaves: [] }],
  );
});
