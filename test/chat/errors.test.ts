import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { whichChildren } from 'troupe';
import { SimulatedClock } from 'troupe/testing';
import { type ChatClient, type Frame, is, join, pack, startServer, supervisors } from './client.js';

/** Sends a raw frame and takes the next error; the socket must stay open. */
async function errorFor(c: ChatClient, data: string | Buffer, binary: boolean): Promise<Frame> {
  c.sendRaw(data, binary);
  const f = await c.next(is('error'), `an error for ${String(data).slice(0, 60)}`);
  assert.equal(typeof f.reason, 'string');
  return f;
}

/** The connection still answers, and was never closed. */
async function stillOpen(c: ChatClient): Promise<void> {
  await c.sync();
  assert.equal(c.closed, undefined);
}

describe('chat errors', () => {
  it('answers bad_request to text that is not JSON and bytes that are not MessagePack', async (t) => {
    const srv = await startServer(t);
    const c = await srv.connect('alice');
    for (const text of ['{nope', '', 'ping', '{"type":"ping"']) {
      assert.equal((await errorFor(c, text, false)).code, 'bad_request', JSON.stringify(text));
    }
    for (const bytes of [Buffer.from([0x92, 0x01]), Buffer.from([0xdb, 0xff, 0xff]), Buffer.alloc(0)]) {
      const f = await errorFor(c, bytes, true);
      assert.equal(f.code, 'bad_request', bytes.toString('hex'));
    }
    await stillOpen(c);
  });

  it('answers bad_request to a frame that is not an object', async (t) => {
    const srv = await startServer(t);
    const c = await srv.connect('alice');
    for (const v of [42, '"ping"', 'null', 'true', '[]', '[{"type":"ping"}]']) {
      assert.equal((await errorFor(c, String(v), false)).code, 'bad_request', String(v));
    }
    for (const v of [42, 'ping', null, [{ type: 'ping' }]]) {
      assert.equal((await errorFor(c, pack(v), true)).code, 'bad_request', JSON.stringify(v));
    }
    await stillOpen(c);
  });

  it('answers bad_request to an unknown, missing or mistyped type', async (t) => {
    const srv = await startServer(t);
    const c = await srv.connect('alice');
    for (const frame of [{ type: 'nonsense' }, {}, { type: 5 }, { type: null }, { type: 'PING' }, { room: 'lobby' }]) {
      const f = await c.request(frame);
      assert.equal(f.code, 'bad_request', JSON.stringify(frame));
    }
    await stillOpen(c);
  });

  it('answers bad_request to a missing or mistyped field', async (t) => {
    const srv = await startServer(t);
    const c = await srv.connect('alice');
    await join(c, 'lobby');
    const frames = [
      { type: 'join' },
      { type: 'join', room: 5 },
      { type: 'join', room: ['lobby'] },
      { type: 'join', room: 'lobby', since: 'yesterday' },
      { type: 'join', room: 'lobby', since: null },
      { type: 'join', room: 'lobby', since: { epoch: 'E' } },
      { type: 'join', room: 'lobby', since: { id: 3 } },
      { type: 'join', room: 'lobby', since: { epoch: 'E', id: -1 } },
      { type: 'join', room: 'lobby', since: { epoch: 'E', id: 1.5 } },
      { type: 'join', room: 'lobby', since: { epoch: 'E', id: '3' } },
      { type: 'leave' },
      { type: 'leave', room: false },
      { type: 'who' },
      { type: 'who', room: {} },
      { type: 'message', room: 'lobby' },
      { type: 'message', content: 'hi' },
      { type: 'message', room: 'lobby', content: 5 },
      { type: 'message', room: 'lobby', content: null },
      { type: 'dm', content: 'hi' },
      { type: 'dm', to: 'bob' },
      { type: 'dm', to: 7, content: 'hi' },
      { type: 'dm', to: 'bob', content: { text: 'hi' } },
    ];
    for (const frame of frames) {
      const f = await c.request(frame);
      assert.equal(f.type, 'error', JSON.stringify(frame));
      assert.equal(f.code, 'bad_request', JSON.stringify(frame));
    }
    // A ref that is not a string or number cannot be echoed: the frame is refused as a whole.
    for (const ref of [{}, [1], true, 'x'.repeat(129)]) {
      c.send({ type: 'ping', ref });
      const f = await c.next();
      assert.deepEqual([f.type, f.code, 'ref' in f], ['error', 'bad_request', false], JSON.stringify(ref));
    }
    // The same checks apply to MessagePack frames, answered in MessagePack.
    c.send({ type: 'message', room: 'lobby', content: 5, ref: 'mp' }, 'msgpack');
    const r = await c.nextReceived(is('error'));
    assert.deepEqual([r.frame.code, r.frame.ref, r.binary], ['bad_request', 'mp', true]);
    await stillOpen(c);
    assert.deepEqual(c.received('message'), [], 'nothing was published');
  });

  it('answers not_member to a message for a room the connection has not joined', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    const alice2 = await srv.connect('alice');
    await join(alice2, 'lobby');
    const f = await alice.request({ type: 'message', room: 'lobby', content: 'hi' });
    assert.equal(f.code, 'not_member', 'membership is per connection, not per user');
    assert.equal((await alice.request({ type: 'leave', room: 'lobby' })).code, 'not_member');
    await stillOpen(alice);
  });

  it('answers no_such_user to a dm for a user with no connection', async (t) => {
    const srv = await startServer(t);
    const alice = await srv.connect('alice');
    assert.equal((await alice.request({ type: 'dm', to: 'ghost', content: 'boo' })).code, 'no_such_user');
    await stillOpen(alice);
  });

  it('answers too_many_rooms to a join beyond maxRooms, and counts rooms per connection', async (t) => {
    const srv = await startServer(t, { maxRooms: 2 });
    const alice = await srv.connect('alice');
    await join(alice, 'a');
    await join(alice, 'b');
    const f = await alice.request({ type: 'join', room: 'c' });
    assert.equal(f.code, 'too_many_rooms');
    assert.deepEqual((await alice.request({ type: 'who', room: 'c' })).users, [], 'the refused join left no trace');
    assert.equal((await alice.request({ type: 'join', room: 'a' })).type, 'joined', 'a room already joined is fine');
    await alice.request({ type: 'leave', room: 'a' });
    assert.equal((await alice.request({ type: 'join', room: 'c' })).type, 'joined', 'a leave frees a slot');
    const alice2 = await srv.connect('alice');
    await join(alice2, 'x');
    await join(alice2, 'y');
    await stillOpen(alice);
  });

  it('answers invalid_name to a room or dm target outside the name pattern', async (t) => {
    const srv = await startServer(t);
    const c = await srv.connect('alice');
    const bad = ['', 'has space', 'a/b', 'é', 'x'.repeat(65), 'semi;colon', 'a\nb'];
    for (const name of bad) {
      for (const frame of [
        { type: 'join', room: name },
        { type: 'leave', room: name },
        { type: 'who', room: name },
        { type: 'message', room: name, content: 'hi' },
        { type: 'dm', to: name, content: 'hi' },
      ]) {
        const f = await c.request(frame);
        assert.equal(f.code, 'invalid_name', JSON.stringify(frame));
      }
    }
    assert.equal((await c.request({ type: 'join', room: 'x'.repeat(64) })).type, 'joined', '64 characters is fine');
    assert.equal((await c.request({ type: 'join', room: 'A-z_0.9' })).type, 'joined');
    await stillOpen(c);
  });

  it('answers rate_limited with retry_ms beyond the burst, counting every frame', async (t) => {
    const clock = new SimulatedClock(1_000_000);
    const srv = await startServer(t, { rate: 10, burst: 3 }, { clock });
    const c = await srv.connect('alice');
    c.send({ type: 'ping', ref: 1 });
    c.sendRaw('not json', false);
    c.send({ type: 'nonsense', ref: 3 });
    c.send({ type: 'ping', ref: 4 });
    assert.deepEqual(await c.next(), { type: 'pong', ref: 1 });
    assert.equal((await c.next()).code, 'bad_request');
    assert.equal((await c.next()).code, 'bad_request');
    const limited = await c.next();
    assert.equal(limited.type, 'error');
    assert.equal(limited.code, 'rate_limited');
    assert.equal(limited.retry_ms, 100, 'one token at 10 per second is back in 100 ms');
    assert.equal(limited.ref, 4, 'the ref is echoed');

    clock.advance(60);
    c.send({ type: 'ping', ref: 5 });
    const again = await c.next();
    assert.deepEqual([again.code, again.retry_ms], ['rate_limited', 40]);
    clock.advance(40);
    c.send({ type: 'ping', ref: 6 });
    assert.deepEqual(await c.next(), { type: 'pong', ref: 6 }, 'a token came back');

    // Rates are per connection.
    const other = await srv.connect('alice');
    assert.deepEqual(await other.request({ type: 'ping' }), { type: 'pong', ref: 'r1' });
    assert.equal(c.closed, undefined);
  });

  it('answers payload_too_large to content longer than maxContent bytes, for messages and dms', async (t) => {
    const srv = await startServer(t, { maxContent: 10 });
    const alice = await srv.connect('alice');
    await srv.connect('bob');
    await join(alice, 'lobby');
    const ok = ['x'.repeat(10), 'é'.repeat(5), '€€€', ''];
    const tooLarge = ['x'.repeat(11), 'é'.repeat(6), '€€€€', '😀😀😀'];
    for (const content of ok) {
      assert.equal((await alice.request({ type: 'message', room: 'lobby', content })).type, 'ack', content);
      assert.equal((await alice.request({ type: 'dm', to: 'bob', content })).type, 'ack', content);
    }
    for (const content of tooLarge) {
      const m = await alice.request({ type: 'message', room: 'lobby', content });
      assert.equal(m.code, 'payload_too_large', `${content}: ${Buffer.byteLength(content)} bytes`);
      assert.equal((await alice.request({ type: 'dm', to: 'bob', content })).code, 'payload_too_large', content);
    }
    await alice.syncRoom('lobby');
    assert.equal(alice.received('message').length, ok.length, 'no oversized message was published');
    await stillOpen(alice);
  });

  it('answers internal when the connection actor crashes on a frame, and keeps the connection and its rooms', async (t) => {
    // The protocol alone cannot make the connection actor fail. The server's injectable wall clock
    // can: it throws once while the actor handles a dm, a real crash inside the handler.
    let fail = false;
    const crashes: string[] = [];
    const now = () => {
      if (fail) {
        fail = false;
        throw new Error('injected clock failure');
      }
      return 1_732_760_000_000;
    };
    const srv = await startServer(t, {}, { now, onError: (_obj, msg) => crashes.push(msg ?? '') });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');

    fail = true;
    alice.send({ type: 'dm', to: 'bob', content: 'boom', ref: 'd1' });
    const f = await alice.next(is('error'));
    assert.equal(f.code, 'internal');
    assert.equal(f.ref, 'd1');
    assert.ok(
      crashes.some((m) => m.includes('injected clock failure')),
      `the connection actor crashed: ${crashes.join('\n')}`,
    );
    const { sockets } = await supervisors(srv);
    assert.deepEqual((await whichChildren(sockets)).map((c) => c.restarts).sort(), [0, 1]);

    // Same connection, same rooms, no second welcome.
    const ack = await alice.request({ type: 'message', room: 'lobby', content: 'still here' });
    assert.equal(ack.type, 'ack');
    await bob.next(is('message', { content: 'still here', id: ack.id }));
    bob.send({ type: 'message', room: 'lobby', content: 'hi alice' });
    await alice.next(is('message', { content: 'hi alice' }));
    assert.equal((await alice.request({ type: 'dm', to: 'bob', content: 'works' })).type, 'ack');
    await bob.next(is('dm', { content: 'works' }));
    assert.equal(alice.received('welcome').length, 1);
    assert.equal(bob.received('dm').length, 1, 'the failed dm was not delivered');
    await stillOpen(alice);
  });
});
