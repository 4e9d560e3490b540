import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedClock } from 'troupe/testing';
import { type ChatClient, is, join, startServer } from './client.js';

// Presence is batched on the actor system's clock: a simulated clock decides exactly which events
// fall into which batch. Events are in a batch once the room has answered them (joined, left).

const BATCH_MS = 250;

/** Ends the batch and takes the presence frame it produced. */
async function flush(clock: SimulatedClock, observer: ChatClient, room = 'lobby') {
  clock.advance(BATCH_MS);
  const f = await observer.next(is('presence', { room }), 'a presence frame');
  return { joins: [...(f.joins as string[])].sort(), leaves: [...(f.leaves as string[])].sort() };
}

/** Ends the batch and checks that the room sent no presence frame for it. */
async function flushNothing(clock: SimulatedClock, observer: ChatClient, room = 'lobby') {
  clock.advance(BATCH_MS);
  // The flush is queued in the room before this join: if it wrote a frame, it is here before the answer.
  await observer.syncRoom(room);
  assert.deepEqual(observer.unread('presence'), [], 'no presence frame');
}

/** Waits until the server no longer lists `user` in `room` (a closed connection's actor stopped). */
async function gone(observer: ChatClient, user: string, room = 'lobby'): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (((await observer.request({ type: 'who', room })).users as string[]).includes(user)) {
    assert.ok(Date.now() < deadline, `${user} is still listed in ${room}`);
  }
}

async function setup(t: import('node:test').TestContext) {
  const clock = new SimulatedClock(1_000_000);
  const srv = await startServer(t, { presenceMs: BATCH_MS }, { clock });
  const alice = await srv.connect('alice');
  await join(alice, 'lobby');
  assert.deepEqual(await flush(clock, alice), { joins: ['alice'], leaves: [] }, 'a member sees its own join');
  return { clock, srv, alice };
}

describe('chat presence', () => {
  it('batches the joins of one window into one frame, sent to every member', async (t) => {
    const { clock, srv, alice } = await setup(t);
    const bob = await srv.connect('bob');
    const carol = await srv.connect('carol');
    await join(bob, 'lobby');
    await join(carol, 'lobby');
    clock.advance(BATCH_MS - 1);
    await alice.syncRoom('lobby');
    assert.deepEqual(alice.unread('presence'), [], 'not before the window ends');
    assert.deepEqual(await flush(clock, alice, 'lobby'), { joins: ['bob', 'carol'], leaves: [] });
    const seenByBob = await bob.next(is('presence'));
    assert.deepEqual([...(seenByBob.joins as string[])].sort(), ['bob', 'carol']);
    await alice.syncRoom('lobby');
    assert.equal(alice.received('presence').length, 2, 'one frame per window');
  });

  it('reports leaves, by leave and by disconnect, in one frame', async (t) => {
    const { clock, srv, alice } = await setup(t);
    const bob = await srv.connect('bob');
    const carol = await srv.connect('carol');
    await join(bob, 'lobby');
    await join(carol, 'lobby');
    await flush(clock, alice);
    await bob.request({ type: 'leave', room: 'lobby' });
    await carol.close();
    await gone(alice, 'carol');
    await alice.syncRoom('lobby'); // the room has handled carol's DOWN
    assert.deepEqual(await flush(clock, alice), { joins: [], leaves: ['bob', 'carol'] });
    await bob.sync();
    assert.deepEqual(
      bob.received('presence').map((f) => f.leaves),
      [[]],
      'a member that left gets no more presence',
    );
  });

  it('cancels out a join and a leave of the same user within one batch', async (t) => {
    const { clock, srv, alice } = await setup(t);
    const bob = await srv.connect('bob');
    await join(bob, 'lobby');
    await flush(clock, alice);

    // dave joins and leaves, bob leaves and comes back, erin joins: only erin is news.
    const dave = await srv.connect('dave');
    await join(dave, 'lobby');
    await dave.request({ type: 'leave', room: 'lobby' });
    await bob.request({ type: 'leave', room: 'lobby' });
    await join(bob, 'lobby');
    const erin = await srv.connect('erin');
    await join(erin, 'lobby');
    assert.deepEqual(await flush(clock, alice), { joins: ['erin'], leaves: [] });

    // A batch where everything cancels out sends nothing at all.
    await join(dave, 'lobby');
    await dave.close();
    await gone(alice, 'dave');
    await alice.syncRoom('lobby');
    await flushNothing(clock, alice);
  });

  it('joins a user with its first connection and leaves it with its last', async (t) => {
    const { clock, srv, alice } = await setup(t);
    const bob1 = await srv.connect('bob');
    const bob2 = await srv.connect('bob');
    await join(bob1, 'lobby');
    await join(bob2, 'lobby');
    assert.deepEqual(await flush(clock, alice), { joins: ['bob'], leaves: [] });

    await bob1.request({ type: 'leave', room: 'lobby' });
    await flushNothing(clock, alice);
    assert.deepEqual((await alice.request({ type: 'who', room: 'lobby' })).users, ['alice', 'bob']);

    await bob2.request({ type: 'leave', room: 'lobby' });
    assert.deepEqual(await flush(clock, alice), { joins: [], leaves: ['bob'] });
  });

  it('sends a pending batch after the room crashed and restarted', async (t) => {
    const clock = new SimulatedClock(1_000_000);
    const srv = await startServer(t, { presenceMs: BATCH_MS, testFaults: true }, { clock });
    const alice = await srv.connect('alice');
    const carol = await srv.connect('carol');
    await join(alice, 'lobby');
    await join(carol, 'lobby');
    await flush(clock, alice);
    const bob = await srv.connect('bob');
    await join(bob, 'lobby');
    await carol.request({ type: 'leave', room: 'lobby' });
    assert.equal((await srv.http('POST', '/_test/crash?room=lobby')).body, '{"crashed":1}');
    await alice.syncRoom('lobby'); // the restarted room answers
    assert.deepEqual(await flush(clock, alice), { joins: ['bob'], leaves: ['carol'] });
    await flushNothing(clock, alice);
  });

  it('batches each room on its own', async (t) => {
    const { clock, srv, alice } = await setup(t);
    await join(alice, 'games');
    const bob = await srv.connect('bob');
    await join(bob, 'games');
    clock.advance(BATCH_MS);
    const games = await alice.next(is('presence', { room: 'games' }));
    assert.deepEqual([...(games.joins as string[])].sort(), ['alice', 'bob']);
    await alice.syncRoom('lobby');
    assert.deepEqual(alice.unread('presence'), [], 'lobby had nothing to report');
  });
});
