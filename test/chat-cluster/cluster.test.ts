/**
 * The chat as a cluster (PROTOCOL.md "Cluster"): two chat servers joined through a real
 * nats-server, each with its own actor system and its own port, clients on real sockets. A client
 * on either sees the same rooms, ids, members, presence, `who`, history and DMs.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { type ChatClient, is, join, type Server, startServer } from '../chat/client.js';
import { server, until, withNats } from '../cluster/harness.js';

withNats();

let clusters = 0;

/** Two chat processes of one cluster (a fresh cluster name per test, so tests never meet). */
async function two(t: TestContext, extra: Record<string, unknown> = {}): Promise<[Server, Server] | undefined> {
  const nats = server(t);
  if (nats === undefined) return undefined;
  const url = [nats.url];
  // A chat cluster of its own per test, on the file's NATS server.
  const n = ++clusters;
  const common = {
    cluster: url,
    clusterName: `chat${n}`,
    heartbeatMs: 100,
    downAfterMs: 500,
    roomIdleMs: 60_000,
    ...extra,
  };
  const a = await startServer(t, { ...common, node: `a${n}` });
  const b = await startServer(t, { ...common, node: `b${n}` });
  await until(() => a.chat.health().nodes === 2 && b.chat.health().nodes === 2, 'the two processes to see each other');
  return [a, b];
}

function messages(c: ChatClient, room: string): number[] {
  return c
    .received('message')
    .filter((f) => f.room === room)
    .map((f) => f.id as number);
}

describe('chat cluster', () => {
  it('a room spans processes: one order, the same ids on both, acks with the id', async (t) => {
    const pair = await two(t);
    if (pair === undefined) return;
    const [a, b] = pair;
    const alice = await a.connect('alice');
    const bob = await b.connect('bob');
    const carol = await b.connect('carol');
    await join(alice, 'lobby');
    await join(bob, 'lobby');
    await join(carol, 'lobby');
    // Both sides send at once: the owner gives them one order.
    const acks: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) {
      acks.push(alice.request({ type: 'message', room: 'lobby', content: `a${i}` }));
      acks.push(bob.request({ type: 'message', room: 'lobby', content: `b${i}` }));
    }
    const answers = (await Promise.all(acks)) as Array<{ type: string; id: number }>;
    assert.ok(answers.every((x) => x.type === 'ack'));
    assert.deepEqual(
      answers.map((x) => x.id).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    for (const c of [alice, bob, carol]) {
      await c.until(() => (messages(c, 'lobby').length >= 40 ? true : undefined), '40 messages');
    }
    const order = (c: ChatClient) => c.received('message').map((f) => `${f.id}:${f.content}`);
    assert.deepEqual(
      messages(alice, 'lobby'),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.deepEqual(order(bob), order(alice));
    assert.deepEqual(order(carol), order(alice));
    // Each sender's messages keep their order.
    const mine = order(alice)
      .filter((x) => x.includes(':a'))
      .map((x) => Number(x.split(':a')[1]));
    assert.deepEqual(
      mine,
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  it('members, who and presence count users cluster-wide', async (t) => {
    const pair = await two(t);
    if (pair === undefined) return;
    const [a, b] = pair;
    const alice = await a.connect('alice');
    const bob = await b.connect('bob');
    const bob2 = await a.connect('bob');
    assert.equal((await join(alice, 'den')).members, 1);
    assert.equal((await join(bob, 'den')).members, 2);
    // The same user on the other process: still two users.
    assert.equal((await join(bob2, 'den')).members, 2);
    const who = await alice.request({ type: 'who', room: 'den' });
    assert.deepEqual(who.users, ['alice', 'bob']);
    // Asked on the process that has no member: the same answer.
    const carol = await b.connect('carol');
    assert.deepEqual((await carol.request({ type: 'who', room: 'den' })).users, ['alice', 'bob']);
    assert.deepEqual((await carol.request({ type: 'who', room: 'nobody-here' })).users, []);
    // Presence crosses: alice (on a) hears bob join; carol joins on b, alice hears it.
    await alice.next((f) => f.type === 'presence' && (f.joins as string[]).includes('bob'), 'bob joining');
    await join(carol, 'den');
    await alice.next((f) => f.type === 'presence' && (f.joins as string[]).includes('carol'), 'carol joining');
    // bob leaves on b but is still in on a: no leave. Then on a too: a leave.
    await bob.request({ type: 'leave', room: 'den' });
    await bob2.request({ type: 'leave', room: 'den' });
    await carol.next((f) => f.type === 'presence' && (f.leaves as string[]).includes('bob'), 'bob leaving');
    assert.deepEqual((await carol.request({ type: 'who', room: 'den' })).users, ['alice', 'carol']);
  });

  it('DMs reach every connection of the user on any process; no_such_user only when it has none', async (t) => {
    const pair = await two(t);
    if (pair === undefined) return;
    const [a, b] = pair;
    const alice = await a.connect('alice');
    const bobA = await a.connect('bob');
    const bobB = await b.connect('bob');
    // Many users, so that some inboxes live on each process.
    const names = Array.from({ length: 12 }, (_, i) => `u${i}`);
    const users = await Promise.all(names.map((n, i) => (i % 2 === 0 ? a : b).connect(n)));
    const ack = await alice.request({ type: 'dm', to: 'bob', content: 'hello bob' });
    assert.equal(ack.type, 'ack');
    for (const c of [bobA, bobB]) {
      const dm = await c.next(is('dm'), 'the dm');
      assert.equal(dm.from, 'alice');
      assert.equal(dm.content, 'hello bob');
      assert.equal(dm.id, 1);
    }
    for (const [i, n] of names.entries()) {
      const from = i % 2 === 0 ? bobB : alice;
      assert.equal((await from.request({ type: 'dm', to: n, content: `hi ${n}` })).type, 'ack');
      assert.equal((await (users[i] as ChatClient).next(is('dm'), `the dm of ${n}`)).content, `hi ${n}`);
    }
    const none = await alice.request({ type: 'dm', to: 'nobody', content: 'x' });
    assert.equal(none.type, 'error');
    assert.equal(none.code, 'no_such_user');
    // bob's last connection goes: no_such_user from both sides.
    await bobA.close();
    await bobB.close();
    // The processes hear of it in a moment (each post office tells the inbox's owner).
    const deadline = Date.now() + 3_000;
    while ((await alice.request({ type: 'dm', to: 'bob', content: 'x' })).code !== 'no_such_user') {
      assert.ok(Date.now() < deadline, 'bob is still reachable 3 s after his last connection closed');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(
      (await (users[1] as ChatClient).request({ type: 'dm', to: 'bob', content: 'x' })).code,
      'no_such_user',
    );
  });

  it('history resumes against the other process: join + since, inbox + since', async (t) => {
    const pair = await two(t);
    if (pair === undefined) return;
    const [a, b] = pair;
    const alice = await a.connect('alice');
    const bob = await b.connect('bob');
    const joined = await join(alice, 'hall');
    await join(bob, 'hall');
    for (let i = 0; i < 5; i++) await bob.request({ type: 'message', room: 'hall', content: `m${i}` });
    await alice.until(() => (messages(alice, 'hall').length >= 5 ? true : undefined), '5 messages');
    const welcome = alice.received('welcome')[0] as unknown as { inbox: { epoch: string; id: number } };
    await bob.request({ type: 'dm', to: 'alice', content: 'd1' });
    await alice.next(is('dm'), 'd1');
    await alice.close();
    for (let i = 5; i < 8; i++) await bob.request({ type: 'message', room: 'hall', content: `m${i}` });
    // bob's DM while alice is away: alice has no connection, so it is refused, not kept (for the
    // first second after her last post office left, as `unavailable`: she may have moved).
    let refused = await bob.request({ type: 'dm', to: 'alice', content: 'lost' });
    for (let i = 0; i < 100 && refused.code === 'unavailable'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      refused = await bob.request({ type: 'dm', to: 'alice', content: 'lost' });
    }
    assert.equal(refused.code, 'no_such_user');
    // alice comes back on the other process and resumes both.
    const again = await b.connect('alice');
    const w2 = again.received('welcome')[0] as unknown as { inbox: { epoch: string; id: number } };
    assert.equal(w2.inbox.epoch, welcome.inbox.epoch);
    assert.equal(w2.inbox.id, 1);
    const resumed = await again.request({ type: 'join', room: 'hall', since: { epoch: joined.epoch, id: 5 } });
    assert.equal(resumed.recovered, true);
    assert.equal(resumed.id, 8);
    const missed = await again.take(3, is('message'));
    assert.deepEqual(
      missed.map((f) => f.content),
      ['m5', 'm6', 'm7'],
    );
    const inbox = await again.request({ type: 'inbox', since: { epoch: welcome.inbox.epoch, id: 0 } });
    assert.equal(inbox.recovered, true);
    assert.equal(inbox.id, 1);
    assert.equal((await again.next(is('dm'), 'd1 again')).content, 'd1');
  });

  it('a message the bus lost on its way to a process is announced there (gap), and resumes', async (t) => {
    const pair = await two(t, { testFaults: true, positionMs: 300 });
    if (pair === undefined) return;
    const [a, b] = pair;
    const alice = await a.connect('alice');
    const joined = await join(alice, 'r');
    const bob = await b.connect('bob');
    await join(bob, 'r');
    assert.equal(JSON.parse((await b.http('POST', '/_test/drop?room=r')).body).dropped, 1);
    // The owner (on a) sends m1 to b's relay, which "loses" it; it was the last of its burst, so
    // no later id shows the hole: the owner's position does, a moment later.
    assert.equal((await alice.request({ type: 'message', room: 'r', content: 'm1' })).id, 1);
    const gap = await bob.next(is('gap'), 'the gap the position shows');
    assert.deepEqual(gap, { type: 'gap', room: 'r', from: 1 });
    assert.equal(bob.received('message').length, 0);
    const resumed = await bob.request({ type: 'join', room: 'r', since: { epoch: joined.epoch, id: 0 } });
    assert.equal(resumed.recovered, true);
    assert.equal((await bob.next(is('message'), 'm1 from the history')).content, 'm1');
    // And on it goes.
    await alice.request({ type: 'message', room: 'r', content: 'm2' });
    assert.equal((await bob.next(is('message'), 'm2')).id, 2);
  });

  it('/healthz says the node, the cluster and how many processes there are', async (t) => {
    const pair = await two(t);
    if (pair === undefined) return;
    const [a, b] = pair;
    const h = await a.http('GET', '/healthz');
    assert.equal(h.status, 200);
    const body = JSON.parse(h.body) as Record<string, unknown>;
    assert.deepEqual(body, { ok: true, node: a.options.node, cluster: 'up', nodes: 2 });
    assert.equal(JSON.parse((await b.http('GET', '/healthz')).body).node, b.options.node);
  });
});
