import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChatClient, type Frame, greeting, is, join, startServer } from './client.js';

const TS = 1_732_760_000_000;

/** Messages of `room` among `frames`, as [id, from, content]. */
function messages(c: ChatClient, room: string): Array<[number, string, string]> {
  return c
    .received('message')
    .filter((f) => f.room === room)
    .map((f) => [f.id as number, f.from as string, f.content as string]);
}

describe('chat protocol: connecting', () => {
  it('greets a new connection with welcome and its user name', async (t) => {
    const srv = await startServer(t);
    const a = await srv.connect('alice.B-9_');
    assert.deepEqual(greeting(a.all[0]?.frame), { type: 'welcome', user: 'alice.B-9_' });
    assert.equal(a.all[0]?.binary, false);
  });
});

describe('chat protocol: join and leave', () => {
  it('answers join with joined: distinct members, the epoch and the last id', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    const alice2 = await srv.connect('alice');
    const bob = await srv.connect('bob');

    const first = await join(alice, 'lobby');
    assert.equal(first.room, 'lobby');
    assert.equal(first.members, 1);
    assert.equal(first.id, 0, 'id is 0 before the first message');
    assert.equal(typeof first.epoch, 'string');
    assert.ok((first.epoch as string).length > 0);
    assert.equal('recovered' in first, false, 'recovered only when since was given');

    assert.equal((await join(alice2, 'lobby')).members, 1, 'a second connection of alice is not a second member');
    const ack = await alice.request({ type: 'message', room: 'lobby', content: 'one' });
    assert.equal(ack.id, 1, 'the first message is 1');

    const third = await join(bob, 'lobby');
    assert.equal(third.members, 2);
    assert.equal(third.id, 1, 'id is the room last sequence number');
    assert.equal(third.epoch, first.epoch);
  });

  it('answers leave with left and stops sending the room to that connection', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    bob.send({ type: 'leave', room: 'lobby', ref: 'bye' });
    assert.deepEqual(await bob.next(is('left')), { type: 'left', room: 'lobby', ref: 'bye' });
    await alice.request({ type: 'message', room: 'lobby', content: 'after bob left' });
    await bob.sync();
    assert.deepEqual(bob.received('message'), [], 'bob gets no room messages after leaving');
    assert.deepEqual((await bob.request({ type: 'who', room: 'lobby' })).users, ['alice']);
  });

  it('answers leave of a room not joined with not_member', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(bob, 'lobby');
    for (const room of ['lobby', 'nowhere']) {
      const f = await alice.request({ type: 'leave', room });
      assert.equal(f.type, 'error');
      assert.equal(f.code, 'not_member');
    }
    await join(alice, 'lobby');
    assert.equal((await alice.request({ type: 'leave', room: 'lobby' })).type, 'left');
    assert.equal((await alice.request({ type: 'leave', room: 'lobby' })).code, 'not_member', 'not twice');
  });

  it('answers a message to a room not joined with not_member and broadcasts nothing', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(bob, 'lobby');
    const f = await alice.request({ type: 'message', room: 'lobby', content: 'let me in' });
    assert.equal(f.type, 'error');
    assert.equal(f.code, 'not_member');
    assert.equal(typeof f.reason, 'string');
    await join(alice, 'lobby');
    const ack = await alice.request({ type: 'message', room: 'lobby', content: 'now' });
    assert.equal(ack.id, 1, 'the refused message took no id');
    await bob.next(is('message', { id: 1 }));
    assert.deepEqual(messages(bob, 'lobby'), [[1, 'alice', 'now']]);
  });
});

describe('chat protocol: room messages', () => {
  it('broadcasts a message to every member, the sender included, with ids increasing by one', async (t) => {
    const srv = await startServer(t, {}, { now: () => TS });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    const bob2 = await srv.connect('bob');
    const carol = await srv.connect('carol');
    for (const c of [alice, bob, bob2]) await join(c, 'lobby');
    await join(carol, 'elsewhere');

    alice.send({ type: 'message', room: 'lobby', content: 'hi' });
    const f = await bob.next(is('message'));
    assert.deepEqual(f, { type: 'message', room: 'lobby', from: 'alice', content: 'hi', ts: TS, id: 1 });

    bob.send({ type: 'message', room: 'lobby', content: 'hello' });
    alice.send({ type: 'message', room: 'lobby', content: 'how are you' });
    bob2.send({ type: 'message', room: 'lobby', content: 'from my phone' });
    for (const [c, n] of [
      [alice, 4],
      [bob, 3],
      [bob2, 4],
    ] as const)
      await c.take(n, is('message', { room: 'lobby' }));
    const seen = messages(alice, 'lobby');
    assert.deepEqual(
      seen.map(([id]) => id),
      [1, 2, 3, 4],
    );
    assert.deepEqual(messages(bob, 'lobby'), seen, 'every member sees the same messages in the same order');
    assert.deepEqual(messages(bob2, 'lobby'), seen, 'every connection of a member gets them');
    assert.deepEqual(seen.map(([, from, content]) => `${from}:${content}`).sort(), [
      'alice:hi',
      'alice:how are you',
      'bob:from my phone',
      'bob:hello',
    ]);
    await carol.sync();
    assert.deepEqual(carol.received('message'), [], 'a non-member gets nothing');
  });

  it('numbers each room on its own', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    await join(alice, 'a');
    await join(alice, 'b');
    const ids = [];
    for (const room of ['a', 'a', 'b', 'a', 'b'])
      ids.push((await alice.request({ type: 'message', room, content: room })).id);
    assert.deepEqual(ids, [1, 2, 1, 3, 2]);
  });

  it('acks a message with its id only when the message had a ref', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    await join(alice, 'lobby');
    alice.send({ type: 'message', room: 'lobby', content: 'no ref' });
    await alice.next(is('message', { id: 1 }));
    await alice.syncRoom('lobby');
    assert.deepEqual(alice.received('ack'), [], 'no ack without a ref');

    alice.send({ type: 'message', room: 'lobby', content: 'with ref', ref: 'm-1' });
    const [msg, ack] = [await alice.next(is('message')), await alice.next(is('ack'))];
    assert.equal(msg.id, 2);
    assert.deepEqual(ack, { type: 'ack', ref: 'm-1', id: 2 });
    assert.equal('ref' in msg, false, 'the broadcast itself carries no ref');
  });
});

describe('chat protocol: direct messages', () => {
  it('delivers a dm to every connection of the user and acks only with a ref', async (t) => {
    const srv = await startServer(t, {}, { now: () => TS });
    const alice = await srv.connect('alice');
    const bob1 = await srv.connect('bob');
    const bob2 = await srv.connect('bob');
    const carol = await srv.connect('carol');

    alice.send({ type: 'dm', to: 'bob', content: 'psst', ref: 'd1' });
    // Numbered in bob's inbox: the first DM to bob is 1, on each of his connections.
    const expected = { type: 'dm', from: 'alice', content: 'psst', ts: TS, id: 1 };
    assert.deepEqual(await bob1.next(is('dm')), expected);
    assert.deepEqual(await bob2.next(is('dm')), expected);
    assert.deepEqual(await alice.next(is('ack')), { type: 'ack', ref: 'd1' }, 'a dm ack has no id');

    alice.send({ type: 'dm', to: 'bob', content: 'again' });
    await bob1.next(is('dm', { content: 'again' }));
    await bob2.next(is('dm', { content: 'again' }));
    await alice.sync();
    assert.equal(alice.received('ack').length, 1, 'no ack without a ref');
    await carol.sync();
    assert.deepEqual(carol.received('dm'), []);
    assert.deepEqual(alice.received('dm'), [], 'the sender gets no copy');
  });

  it('answers a dm to a user with no connection with no_such_user', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    const f = await alice.request({ type: 'dm', to: 'nobody', content: 'hello?' });
    assert.equal(f.type, 'error');
    assert.equal(f.code, 'no_such_user');

    const bob = await srv.connect('bob');
    assert.equal((await alice.request({ type: 'dm', to: 'bob', content: 'there?' })).type, 'ack');
    await bob.close();
    // The server forgets bob once his connection's actor has stopped: ask until then (round
    // trips, not sleeps), bounded.
    let answer: Frame;
    const deadline = Date.now() + 3_000;
    do answer = await alice.request({ type: 'dm', to: 'bob', content: 'still there?' });
    while (answer.type === 'ack' && Date.now() < deadline);
    assert.equal(answer.code, 'no_such_user');
  });
});

describe('chat protocol: who and ping', () => {
  it('lists the distinct users of a room, sorted, without joining it', async (t) => {
    const srv = await startServer(t);
    const clients = await Promise.all(['zed', 'alice', 'mike', 'alice'].map((u) => srv.connect(u)));
    for (const c of clients) await join(c, 'lobby');
    const outsider = await srv.connect('outsider');
    assert.deepEqual(await outsider.request({ type: 'who', room: 'lobby' }), {
      type: 'members',
      room: 'lobby',
      ref: 'r1',
      users: ['alice', 'mike', 'zed'],
    });
    assert.deepEqual((await outsider.request({ type: 'who', room: 'unknown' })).users, [], 'an unknown room is empty');
    assert.deepEqual(outsider.received('message'), []);
  });

  it('answers ping with pong, echoing the ref if there is one', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    assert.deepEqual(await alice.request({ type: 'ping' }), { type: 'pong', ref: 'r1' });
    alice.send({ type: 'ping' });
    assert.deepEqual(await alice.next(), { type: 'pong' });
    alice.send({ type: 'ping', ref: 42 });
    assert.deepEqual(await alice.next(), { type: 'pong', ref: 42 }, 'a numeric ref comes back as a number');
  });

  it('echoes the ref on every answer, of every request type', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    await srv.connect('bob');
    await join(alice, 'lobby');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ type: 'join', room: 'lobby' }, 'joined'],
      [{ type: 'join', room: 'lobby', since: { epoch: 'x', id: 0 } }, 'joined'],
      [{ type: 'message', room: 'lobby', content: 'hi' }, 'ack'],
      [{ type: 'dm', to: 'bob', content: 'hi' }, 'ack'],
      [{ type: 'who', room: 'lobby' }, 'members'],
      [{ type: 'ping' }, 'pong'],
      [{ type: 'leave', room: 'lobby' }, 'left'],
      [{ type: 'leave', room: 'other' }, 'error'],
      [{ type: 'message', room: 'other', content: 'hi' }, 'error'],
      [{ type: 'dm', to: 'nobody', content: 'hi' }, 'error'],
      [{ type: 'join', room: 'bad room' }, 'error'],
      [{ type: 'dm', to: 'bad name', content: 'hi' }, 'error'],
      [{ type: 'nonsense' }, 'error'],
      [{ type: 'join', room: 7 }, 'error'],
      [{ type: 'join', room: 'lobby', since: { epoch: 1 } }, 'error'],
    ];
    for (const [frame, type] of cases) {
      for (const ref of [`s-${frame.type}`, 0.5, 0]) {
        alice.send({ ...frame, ref });
        const answer = await alice.next(
          (f) => f.type !== 'message' && f.type !== 'presence',
          `the answer to ${JSON.stringify(frame)}`,
        );
        assert.equal(answer.type, type, JSON.stringify(frame));
        assert.equal(answer.ref, ref, `ref echoed on ${JSON.stringify(frame)} -> ${JSON.stringify(answer)}`);
        // Join again, so that every ref of the leave case finds alice in the room.
        if (type === 'left') await join(alice, 'lobby');
      }
    }
  });
});
