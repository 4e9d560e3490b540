import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SupervisorRef, whichChildren } from 'troupe';
import { SimulatedClock } from 'troupe/testing';
import { is, join, metric, startServer, supervisors } from './client.js';
import { assertSawAll, stream } from './stream.js';

describe('chat fault injection', () => {
  it('answers 404 on the crash endpoints without testFaults', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    await join(alice, 'lobby');
    for (const path of ['/_test/crash?room=lobby', '/_test/crash?user=alice']) {
      const r = await srv.http('POST', path);
      assert.equal(r.status, 404, path);
    }
    const { rooms, sockets } = await supervisors(srv);
    assert.deepEqual(
      (await whichChildren(rooms)).map((c) => c.restarts),
      [0],
      'nothing crashed',
    );
    assert.deepEqual(
      (await whichChildren(sockets)).map((c) => c.restarts),
      [0],
    );
    await alice.sync();
  });

  it('takes a _crash frame only with testFaults, and times each crash to the first delivery after it', async (t) => {
    const off = await startServer(t);
    const eve = await off.connect('eve');
    const unknown = await eve.request({ type: '_crash' });
    assert.equal(unknown.code, 'bad_request', 'without testFaults it is an unknown type');
    assert.match(String(unknown.reason), /unknown type "_crash"/);
    assert.equal(off.chat.world.faults, undefined, 'and nothing is timed');

    const srv = await startServer(t, { testFaults: true });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    const faults = srv.chat.world.faults;
    assert.ok(faults !== undefined);
    faults.take();
    // The crash of the room, and right behind it on the same socket a message: the restarted room
    // handles the message, nothing is answered for the crash itself.
    alice.send({ type: '_crash', room: 'lobby' });
    const first = await alice.request({ type: 'message', room: 'lobby', content: 'after the room crashed' });
    assert.equal(first.type, 'ack');
    assert.equal((await bob.next(is('message'))).content, 'after the room crashed');
    // The crash of alice's own socket actor: the connection stays, the next frame is handled.
    alice.send({ type: '_crash' });
    const second = await alice.request({ type: 'message', room: 'lobby', content: 'after alice crashed' });
    assert.equal(second.type, 'ack');
    assert.equal(second.id, (first.id as number) + 1);
    assert.equal((await bob.next(is('message'))).content, 'after alice crashed');
    const { rooms, sockets } = await supervisors(srv);
    assert.deepEqual(
      (await whichChildren(rooms)).map((c) => c.restarts),
      [1],
    );
    assert.deepEqual(
      (await whichChildren(sockets)).map((c) => c.restarts).sort(),
      [0, 1],
      "alice's socket actor restarted, bob's did not",
    );
    const timed = faults.take();
    assert.deepEqual(
      timed.map((r) => r[2]),
      ['room', 'socket'],
      'one recovery per crash, in order',
    );
    for (const [crash, written] of timed) assert.ok(written >= crash, `${written} >= ${crash}`);
    assert.deepEqual(faults.take(), [], 'read once');
    const missing = await alice.request({ type: '_crash', room: 'nowhere' });
    assert.equal(missing.code, 'bad_request');
  });

  it('answers how many actors it crashed', async (t) => {
    const srv = await startServer(t, { testFaults: true });
    const a1 = await srv.connect('alice');
    await srv.connect('alice');
    await join(a1, 'lobby');
    const call = async (q: string) => {
      const r = await srv.http('POST', `/_test/crash?${q}`);
      assert.equal(r.status, 200, q);
      return JSON.parse(r.body) as unknown;
    };
    assert.deepEqual(await call('room=lobby'), { crashed: 1 });
    assert.deepEqual(await call('room=nowhere'), { crashed: 0 });
    assert.deepEqual(await call('user=alice'), { crashed: 2 }, 'every connection of the user');
    assert.deepEqual(await call('user=nobody'), { crashed: 0 });
    assert.equal((await srv.http('GET', '/_test/crash?room=lobby')).status, 404, 'POST only');
  });

  it('keeps every socket, member and message when a room crashes in the middle of a stream', async (t) => {
    const crashes: string[] = [];
    const srv = await startServer(t, { testFaults: true }, { onError: (_o, msg) => crashes.push(msg ?? '') });
    const users = ['ann', 'ben', 'cat', 'dan'];
    const clients = await Promise.all(users.map((u) => srv.connect(u)));
    let epoch = '';
    for (const c of clients) epoch = (await join(c, 'lobby')).epoch as string;
    const senders = clients.slice(0, 3); // dan only listens
    const before = await senders[0]!.request({ type: 'message', room: 'lobby', content: 'warm-up' });
    assert.equal(before.id, 1);

    let answer = '';
    const result = await stream(senders, {
      room: 'lobby',
      perSender: 40,
      window: 4,
      at: {
        acks: 45,
        run: async () => {
          answer = (await srv.http('POST', '/_test/crash?room=lobby')).body;
        },
      },
    });
    assert.deepEqual(JSON.parse(answer), { crashed: 1 });
    assert.equal(result.acksBeforeAt, 45, 'the crash came in the middle of the stream');
    const { rooms } = await supervisors(srv);
    assert.deepEqual(
      (await whichChildren(rooms)).map((c) => c.restarts),
      [1],
      'the room restarted once',
    );
    assert.ok(
      crashes.some((m) => m.includes('injected crash in room lobby')),
      crashes.join('\n'),
    );

    // Every id accounted for: 2..121 went to every member once, in order; acks name each of them.
    for (const c of clients) await assertSawAll(c, 'lobby', result, 2);
    for (const c of clients) assert.equal(c.closed, undefined);

    // Nobody was lost: the restarted room knows all four, and the history survived the restart.
    assert.deepEqual((await clients[3]!.request({ type: 'who', room: 'lobby' })).users, users);
    const rejoin = await join(clients[3]!, 'lobby');
    assert.deepEqual([rejoin.members, rejoin.epoch, rejoin.id], [4, epoch, 121]);
    const late = await srv.connect('eve');
    const resumed = await join(late, 'lobby', { since: { epoch, id: 1 } });
    assert.equal(resumed.recovered, true, 'the history survived the crash');
    await late.take(120, is('message'));

    // The room goes on as before, for old and new members.
    const after = await clients[3]!.request({ type: 'message', room: 'lobby', content: 'after' });
    assert.equal(after.id, 122);
    for (const c of [...clients, late]) await c.next(is('message', { id: 122 }));
  });

  it('answers internal for the message a room crashed on, and the room carries on with its history', async (t) => {
    const srv = await startServer(t, { testFaults: true, presenceMs: 1 });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    const before = await alice.request({ type: 'message', room: 'lobby', content: 'before' });
    assert.equal(before.type, 'ack');
    const r = await srv.http('POST', '/_test/crash?room=lobby&on=publish');
    assert.deepEqual(JSON.parse(r.body), { crashed: 1 });

    const lost = await alice.request({ type: 'message', room: 'lobby', content: 'the one it crashed on' });
    assert.equal(lost.type, 'error');
    assert.equal(lost.code, 'internal');
    assert.equal(lost.reason, 'the room failed on this request; the message may have reached some members');

    const after = await alice.request({ type: 'message', room: 'lobby', content: 'after' });
    assert.equal(after.type, 'ack');
    assert.equal(after.id, (before.id as number) + 1, 'the lost message took no id');
    await bob.next(is('message', { id: after.id, content: 'after' }));
    assert.equal(
      bob.received('message').some((f) => f.content === 'the one it crashed on'),
      false,
      'nobody got the lost message',
    );
    assert.equal(alice.closed, undefined);
  });

  it('keeps the connection and its rooms when the actor of a socket crashes', async (t) => {
    const srv = await startServer(t, { testFaults: true, presenceMs: 1 });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(alice, 'games');
    await join(bob, 'lobby');
    await bob.next((f) => f.type === 'presence' && (f.joins as string[]).includes('bob'));

    const r = await srv.http('POST', '/_test/crash?user=alice');
    assert.deepEqual(JSON.parse(r.body), { crashed: 1 });
    await alice.sync(); // handled by the restarted actor
    const { sockets } = await supervisors(srv);
    assert.deepEqual((await whichChildren(sockets)).map((c) => c.restarts).sort(), [0, 1]);

    // alice still sends to the rooms she joined, and gets their broadcasts.
    const ack = await alice.request({ type: 'message', room: 'lobby', content: 'after my crash' });
    assert.equal(ack.type, 'ack');
    await bob.next(is('message', { id: ack.id, from: 'alice' }));
    await alice.next(is('message', { id: ack.id }));
    bob.send({ type: 'message', room: 'lobby', content: 'welcome back' });
    await alice.next(is('message', { content: 'welcome back' }));
    assert.equal((await alice.request({ type: 'message', room: 'games', content: 'x' })).type, 'ack');
    assert.equal((await alice.request({ type: 'dm', to: 'bob', content: 'dm' })).type, 'ack');
    await bob.next(is('dm', { from: 'alice' }));
    assert.equal((await bob.request({ type: 'dm', to: 'alice', content: 'dm back' })).type, 'ack');
    await alice.next(is('dm', { from: 'bob' }));

    // No trace of the crash on the wire: no close, no second welcome, no presence change.
    assert.equal(alice.closed, undefined);
    assert.equal(alice.received('welcome').length, 1);
    assert.deepEqual((await bob.request({ type: 'who', room: 'lobby' })).users, ['alice', 'bob']);
    await bob.syncRoom('lobby');
    assert.ok(
      bob.received('presence').every((f) => (f.leaves as string[]).length === 0),
      'alice never left the room',
    );
    const rejoin = await join(alice, 'lobby');
    assert.equal(rejoin.members, 2);
  });

  it('keeps the members of a room its supervisor gave up on, and tells them the new epoch', async (t) => {
    // The simulated clock stands still, so every crash falls in one restart window and the rooms
    // supervisor gives up after its 1,000 restarts. The crashes are the message /_test/crash sends,
    // sent here directly: a thousand HTTP requests would only make the test slow.
    const clock = new SimulatedClock(1_000_000);
    const srv = await startServer(t, { testFaults: true }, { clock });
    const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map((u) => srv.connect(u)));
    const first = await join(alice!, 'lobby');
    await join(bob!, 'lobby');
    await join(carol!, 'lobby');
    assert.equal((await alice!.request({ type: 'message', room: 'lobby', content: 'old' })).id, 1);

    const room = srv.chat.world.rooms.whereis('lobby');
    assert.ok(room);
    for (let i = 0; i <= 1_000; i++) room.send({ type: 'crash' });
    const deadline = Date.now() + 3_000;
    for (;;) {
      const rows = await whichChildren(srv.chat.ref as unknown as SupervisorRef);
      if (rows.find((c) => c.id === 'rooms')?.restarts === 1) break;
      assert.ok(Date.now() < deadline, 'the rooms supervisor restarts');
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(srv.chat.world.rooms.whereis('lobby'), undefined, 'the room is gone, with its history');

    // carol leaves meanwhile; alice and bob are still members.
    assert.equal((await carol!.request({ type: 'leave', room: 'lobby' })).type, 'left');
    assert.deepEqual((await dave!.request({ type: 'who', room: 'lobby' })).users, ['alice', 'bob']);

    // The next message starts a new room: its members learn the new epoch first, then ids restart.
    const ack = await alice!.request({ type: 'message', room: 'lobby', content: 'new' });
    assert.deepEqual(ack, { type: 'ack', ref: ack.ref, id: 1 });
    for (const c of [alice!, bob!]) {
      const joined = await c.next(is('joined', { room: 'lobby', id: 0 }), 'the unprompted joined');
      assert.equal(joined.members, 2);
      assert.equal('ref' in joined, false);
      assert.notEqual(joined.epoch, first.epoch);
      const msg = await c.next(is('message', { content: 'new' }));
      assert.equal(msg.id, 1);
      const frames = c.all.map((r) => r.frame);
      assert.ok(frames.indexOf(joined) < frames.indexOf(msg), 'the new epoch before its first message');
    }
    for (const c of [carol!, dave!]) {
      await c.sync();
      const told = c.all.filter((r) => (r.frame.type === 'joined' && !('ref' in r.frame)) || r.frame.content === 'new');
      assert.deepEqual(told, [], 'non-members are not told');
    }
    const resumed = await join(dave!, 'lobby', { since: { epoch: first.epoch, id: 1 } });
    assert.equal(resumed.recovered, false);
    for (const c of [alice, bob, carol, dave]) assert.equal(c!.closed, undefined);
  });

  it('counts crashes and restarts in /metrics, with connections, rooms and actors unchanged', async (t) => {
    const srv = await startServer(t, { testFaults: true });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    const scrape = async () => {
      const r = await srv.http('GET', '/metrics');
      assert.equal(r.status, 200);
      return r.body;
    };
    const before = await scrape();
    for (const q of ['room=lobby', 'user=alice', 'user=bob']) await srv.http('POST', `/_test/crash?${q}`);
    await alice.syncRoom('lobby'); // both restarted actors have answered
    await bob.syncRoom('lobby');
    const after = await scrape();
    const delta = (name: string) => (metric(after, name) ?? Number.NaN) - (metric(before, name) ?? Number.NaN);
    assert.equal(delta('chat_room_crashes_injected_total'), 1);
    assert.equal(delta('troupe_actor_crashes_total'), 3, 'one room and two socket actors');
    assert.equal(delta('troupe_actor_restarts_total'), 3);
    for (const name of ['chat_connections', 'chat_rooms', 'troupe_actors']) assert.equal(delta(name), 0, name);
    assert.equal(metric(after, 'chat_connections'), 2);
    assert.equal(metric(after, 'chat_rooms'), 1);
  });
});
