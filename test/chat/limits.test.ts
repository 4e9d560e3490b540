import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SimulatedClock } from 'troupe/testing';
import { is, join, metric, pack, startServer } from './client.js';

/** Waits until the server no longer lists `user` in `room`. */
async function gone(observer: import('./client.js').ChatClient, user: string, room: string): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (((await observer.request({ type: 'who', room })).users as string[]).includes(user)) {
    assert.ok(Date.now() < deadline, `${user} is still listed in ${room}`);
  }
}

/** A JSON message frame of exactly `size` bytes. */
function messageOfSize(room: string, size: number): string {
  const empty = JSON.stringify({ type: 'message', room, content: '' });
  return JSON.stringify({ type: 'message', room, content: 'x'.repeat(size - empty.length) });
}

describe('chat limits', () => {
  it('closes a connection that sends a frame larger than maxPayload with 1009, and only that one', async (t) => {
    const srv = await startServer(t, { maxPayload: 1024 });
    const alice = await srv.connect('alice');
    const big = await srv.connect('big');
    const bigBinary = await srv.connect('bigbin');
    const big2 = await srv.connect('big');
    for (const c of [alice, big, bigBinary, big2]) await join(c, 'lobby');

    const exact = messageOfSize('lobby', 1024);
    assert.equal(Buffer.byteLength(exact), 1024);
    big.sendRaw(exact, false);
    await alice.next(is('message', { from: 'big' }), 'a frame of exactly maxPayload bytes passes');

    big.sendRaw(messageOfSize('lobby', 1025), false);
    assert.equal((await big.closedWith()).code, 1009);
    bigBinary.sendRaw(pack({ type: 'message', room: 'lobby', content: 'y'.repeat(1100) }), true);
    assert.equal((await bigBinary.closedWith()).code, 1009);

    // Everyone else carries on: the room, the other connection of the same user, dms.
    await gone(alice, 'bigbin', 'lobby');
    const ack = await alice.request({ type: 'message', room: 'lobby', content: 'still fine' });
    assert.equal(ack.id, 2, 'the oversized frames were never published');
    await big2.next(is('message', { id: 2 }));
    assert.equal((await big2.request({ type: 'dm', to: 'alice', content: 'hi' })).type, 'ack');
    assert.deepEqual((await alice.request({ type: 'who', room: 'lobby' })).users, ['alice', 'big']);
    assert.deepEqual([alice.closed, big2.closed], [undefined, undefined]);
  });

  it('drops a frame far larger than maxPayload (a megabyte over a 1 KiB limit) without reading it', async (t) => {
    const srv = await startServer(t, { maxPayload: 1024 });
    const alice = await srv.connect('alice');
    const huge = await srv.connect('huge');
    huge.sendRaw('x'.repeat(1024 * 1024 + 1024), false);
    const closed = await huge.closedWith();
    await alice.sync();
    // Past uWS's cap (maxPayload plus at most 64 KiB, here 2 KiB) uWS refuses the frame at its header
    // and closes the TCP connection itself, without a close frame: 1006 (the documented limitation).
    assert.equal(closed.code, 1006);
    const fresh = await srv.connect('fresh');
    await join(fresh, 'lobby');
    assert.equal((await fresh.request({ type: 'message', room: 'lobby', content: 'hi' })).type, 'ack');
  });

  it('closes with 1008 a connection that keeps going past abuseLimit rate_limited answers', async (t) => {
    const clock = new SimulatedClock(1_000_000);
    const srv = await startServer(t, { rate: 1, burst: 1, abuseLimit: 3 }, { clock });
    const bystander = await srv.connect('bystander');
    const c = await srv.connect('flooder');
    for (let i = 1; i <= 6; i++) c.send({ type: 'ping', ref: i });
    assert.deepEqual(await c.next(), { type: 'pong', ref: 1 });
    for (const ref of [2, 3, 4]) {
      const f = await c.next();
      assert.deepEqual([f.code, f.ref], ['rate_limited', ref]);
    }
    assert.equal((await c.closedWith()).code, 1008);
    assert.equal(c.pending.length, 0, 'nothing after the close');
    assert.deepEqual(await bystander.request({ type: 'ping' }), { type: 'pong', ref: 'r1' });
  });

  it('counts each socket closed for abuse once in chat_abuse_closed_total, however much it sends after the close decision', async (t) => {
    const clock = new SimulatedClock(1_000_000);
    const srv = await startServer(t, { rate: 1, burst: 1, abuseLimit: 3 }, { clock });
    const abuseClosed = async () => metric((await srv.http('GET', '/metrics')).body, 'chat_abuse_closed_total');
    const before = await abuseClosed();
    assert.equal(typeof before, 'number');
    const flooders = await Promise.all([1, 2, 3, 4].map((i) => srv.connect(`flooder${i}`)));
    // Under load: a ring of busy actors (5 ms a hop) keeps the scheduler behind, so a flooder's
    // frames pile up in its actor's mailbox and are still there when it decides to close.
    let busy = true;
    const ring: Array<import('troupe').Ref<number>> = [];
    for (let i = 0; i < 10; i++) {
      ring.push(
        srv.system.spawn((token: number) => {
          const until = performance.now() + 5;
          while (performance.now() < until) {
            // work
          }
          if (busy) (ring[(i + 1) % 10] as import('troupe').Ref<number>).send(token);
        }),
      );
    }
    for (const [i, r] of ring.entries()) r.send(i);
    // 1 frame passes, 3 get rate_limited, the 5th is the close decision: 195 more follow it.
    for (const c of flooders) for (let i = 1; i <= 200; i++) c.send({ type: 'ping', ref: i });
    for (const c of flooders) assert.equal((await c.closedWith()).code, 1008);
    busy = false;
    const fresh = await srv.connect('fresh');
    assert.deepEqual(await fresh.request({ type: 'ping' }), { type: 'pong', ref: 'r1' });
    assert.equal(((await abuseClosed()) as number) - (before as number), flooders.length);
  });
});

describe('load shedding', () => {
  it('refuses room messages with rate_limited (server busy) while the server is behind, and takes them again once it caught up', async (t) => {
    const srv = await startServer(t, { shedAfterMs: 50, abuseLimit: 2 });
    const alice = await srv.connect('alice');
    const bob = await srv.connect('bob');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    // A backlog: 20 actors pass 20 tokens around a ring, 5 ms of work per hop, so every pass over the
    // run queue takes about 100 ms, and everything else (alice's connection) waits that long.
    let flooding = true;
    const ring: Array<import('troupe').Ref<number>> = [];
    for (let i = 0; i < 20; i++) {
      ring.push(
        srv.system.spawn((token: number) => {
          const until = performance.now() + 5;
          while (performance.now() < until) {
            // work
          }
          if (flooding) (ring[(i + 1) % 20] as import('troupe').Ref<number>).send(token);
        }),
      );
    }
    for (const [i, r] of ring.entries()) r.send(i);
    await new Promise((r) => setTimeout(r, 250));
    for (let i = 0; i < 3; i++) {
      const refused = await alice.request({ type: 'message', room: 'lobby', content: `busy ${i}` });
      assert.deepEqual(
        [refused.type, refused.code, refused.reason, refused.retry_ms],
        ['error', 'rate_limited', 'server busy', 1000],
      );
    }
    // Other requests are still served, and three refusals past abuseLimit 2 close nobody.
    assert.equal((await alice.request({ type: 'who', room: 'lobby' })).type, 'members');
    assert.equal(alice.closed, undefined);
    flooding = false;
    for (let i = 0; i < 300 && srv.system.backlogMs > 0; i++) await new Promise((r) => setTimeout(r, 10));
    const ack = await alice.request({ type: 'message', room: 'lobby', content: 'caught up' });
    assert.equal(ack.type, 'ack');
    await bob.next(is('message', { id: ack.id, content: 'caught up' }));
    assert.equal(
      bob.received('message').some((f) => String(f.content).startsWith('busy')),
      false,
      'a refused message reached nobody',
    );
    const metrics = (await srv.http('GET', '/metrics')).body;
    assert.match(metrics, /^chat_shed_total 3$/m);
  });
});
