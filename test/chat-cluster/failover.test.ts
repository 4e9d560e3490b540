/**
 * The chat cluster when a process dies or stops (PROTOCOL.md "Cluster"), with real chat processes
 * on one real nats-server: SIGKILL loses only the killed process's sockets; its rooms come back on
 * another process within 5 s with the same epoch and every acknowledged message; frames meanwhile
 * get `unavailable` with `retry_ms`, never silence, never a reordering. SIGTERM hands the rooms over
 * before the process closes its sockets with 1012.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { type ChatClient, type Frame, http, is, join } from '../chat/client.js';
import { server, withNats } from '../cluster/harness.js';
import { type ChatProc, chatProcess, clusterName, formed, metricOf } from './procs.js';

withNats();

/**
 * Sends `n` room messages from `c`, one at a time, and answers what each got: an ack with its id,
 * or an `unavailable` error (anything else fails the test).
 */
async function sendEach(c: ChatClient, room: string, label: string, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push(await c.request({ type: 'message', room, content: `${label}${i}` }));
  for (const f of out) {
    if (f.type === 'error') {
      assert.equal(f.code, 'unavailable', JSON.stringify(f));
      assert.ok(typeof f.retry_ms === 'number' && f.retry_ms > 0, 'unavailable carries retry_ms');
    } else assert.equal(f.type, 'ack');
  }
  return out;
}

/** Sends until a message is acknowledged again; answers the time it took and every answer. */
async function untilAcked(
  c: ChatClient,
  room: string,
  label: string,
  ms: number,
): Promise<{ ms: number; answers: Frame[] }> {
  const t0 = Date.now();
  const answers: Frame[] = [];
  for (let i = 0; ; i++) {
    const [f] = await sendEach(c, room, `${label}${i}-`, 1);
    answers.push(f as Frame);
    if ((f as Frame).type === 'ack') return { ms: Date.now() - t0, answers };
    assert.ok(Date.now() - t0 < ms, `no ack within ${ms} ms: ${JSON.stringify(answers.slice(-3))}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The room messages `c` got, checked: ids consecutive from `from`, no duplicate, no hole. */
function inOrder(c: ChatClient, room: string, from = 1): Frame[] {
  const got = c.received('message').filter((f) => f.room === room);
  assert.deepEqual(
    got.map((f) => f.id),
    Array.from({ length: got.length }, (_, i) => from + i),
    'ids consecutive, in order, no duplicates',
  );
  return got;
}

async function cluster(t: TestContext, extra: readonly string[] = []): Promise<[ChatProc, ChatProc] | undefined> {
  const nats = server(t);
  if (nats === undefined) return undefined;
  const name = clusterName();
  const a = await chatProcess(t, nats.url, name, 'a', extra);
  const b = await chatProcess(t, nats.url, name, 'b', extra);
  await formed([a, b]);
  return [a, b];
}

describe('chat cluster failover', () => {
  it('SIGKILL: only its sockets close; its rooms are back within 5 s with the same epoch and every acked message', async (t) => {
    const procs = await cluster(t);
    if (procs === undefined) return;
    const [a, b] = procs;
    // alice joins first, on a: the room's owner is on a.
    const alice = await a.connect('alice');
    await join(alice, 'r');
    const bob = await b.connect('bob');
    const joined = await join(bob, 'r');
    assert.equal(await metricOf(a, 'chat_cluster_owned_rooms'), 1);
    const before = await sendEach(bob, 'r', 'before', 10);
    assert.ok(before.every((f) => f.type === 'ack'));
    // DMs to users some of whose inboxes live on a.
    const users = await Promise.all(Array.from({ length: 8 }, (_, i) => b.connect(`u${i}`)));
    for (let i = 0; i < users.length; i++)
      assert.equal((await bob.request({ type: 'dm', to: `u${i}`, content: `d${i}` })).type, 'ack');

    a.child.kill('SIGKILL');
    const { ms, answers } = await untilAcked(bob, 'r', 'during', 5_000);
    t.diagnostic(
      `room back after ${ms} ms; answers meanwhile: ${answers.map((f) => (f.type === 'ack' ? 'ack' : f.code)).join(',')}`,
    );
    const after = await sendEach(bob, 'r', 'after', 10);
    assert.ok(
      after.every((f) => f.type === 'ack'),
      'acks again once the room is back',
    );
    assert.equal(bob.closed, undefined, "a survivor's socket stays open");
    assert.equal(alice.closed === undefined, false, "the killed process's sockets are gone");
    assert.equal(await metricOf(b, 'chat_cluster_owned_rooms'), 1);

    // One order: bob saw every acked message once, in id order, and no new epoch.
    const acked = [...before, ...answers, ...after].filter((f) => f.type === 'ack').map((f) => f.id as number);
    const got = inOrder(bob, 'r');
    for (const id of acked)
      assert.ok(
        got.some((f) => f.id === id),
        `acked message ${id} delivered`,
      );
    assert.equal(bob.received('joined').filter((f) => f.epoch !== joined.epoch).length, 0, 'the epoch did not change');
    // The history is durable: a newcomer resumes from the start and gets every acked message.
    const carol = await b.connect('carol');
    const resumed = await carol.request({ type: 'join', room: 'r', since: { epoch: joined.epoch, id: 0 } });
    assert.equal(resumed.recovered, true);
    assert.equal(resumed.epoch, joined.epoch);
    const replay = await carol.take(resumed.id as number, is('message'));
    assert.deepEqual(
      replay.map((f) => f.id),
      got.map((f) => f.id),
    );
    // Inboxes too: every user resumes its DM and the next DM continues its ids.
    for (let i = 0; i < users.length; i++) {
      const u = users[i] as ChatClient;
      const w = u.received('welcome')[0] as Frame & { inbox: { epoch: string } };
      const inbox = await u.request({ type: 'inbox', since: { epoch: w.inbox.epoch, id: 0 } });
      assert.equal(inbox.recovered, true, `u${i}'s inbox recovered`);
      assert.equal(inbox.id, 1);
      assert.equal((await bob.request({ type: 'dm', to: `u${i}`, content: `e${i}` })).type, 'ack');
      const dms = await u.take(3, is('dm'));
      assert.deepEqual(
        dms.map((f) => [f.id, f.content]),
        [
          [1, `d${i}`],
          [1, `d${i}`],
          [2, `e${i}`],
        ],
      );
    }
  });

  it('a message stored by an owner killed before it sent it on is acknowledged with its id, not unavailable', async (t) => {
    const procs = await cluster(t, ['--test-faults']);
    if (procs === undefined) return;
    const [a, b] = procs;
    const alice = await a.connect('alice');
    await join(alice, 'r'); // the owner is on a
    const bob = await b.connect('bob');
    await join(bob, 'r');
    assert.equal((await bob.request({ type: 'message', room: 'r', content: 'm1' })).id, 1);
    const armed = await http(a.port, 'POST', '/_test/die-after-store?room=r');
    assert.equal(JSON.parse(armed.body).armed, 1, 'the owner of r is on a');
    // a stores m2 and dies before it tells anyone: bob's relay hears nothing back from it.
    const t0 = Date.now();
    bob.send({ type: 'message', room: 'r', content: 'm2', ref: 'm2' });
    const answer = await bob.next((f) => f.ref === 'm2', 'the answer to m2', 10_000);
    t.diagnostic(`m2 answered after ${Date.now() - t0} ms`);
    assert.deepEqual(await a.exited, { code: null, signal: 'SIGKILL' });
    assert.equal(answer.type, 'ack', `stored, so acknowledged: ${JSON.stringify(answer)}`);
    assert.equal(answer.id, 2);
    // bob gets m2 once (the new owner on b repairs the hole), and the room goes on after it.
    assert.equal((await bob.request({ type: 'message', room: 'r', content: 'm3' })).id, 3);
    const got = inOrder(bob, 'r');
    assert.deepEqual(
      got.map((f) => f.content),
      ['m1', 'm2', 'm3'],
    );
  });

  it('a DM stored by an inbox owner killed before it answered is acknowledged, not unavailable', async (t) => {
    const procs = await cluster(t, ['--test-faults']);
    if (procs === undefined) return;
    const [a, b] = procs;
    const bob = await b.connect('bob');
    // A user whose inbox a holds (a arms itself only for those), connected on b.
    let user: string | undefined;
    for (let i = 0; i < 32 && user === undefined; i++) {
      const armed = await http(a.port, 'POST', `/_test/die-after-store?user=v${i}`);
      if (JSON.parse(armed.body).armed === 1) user = `v${i}`;
    }
    assert.ok(user !== undefined, 'a holds the inbox of one of 32 users');
    const target = await b.connect(user);
    // a stores the DM and dies before it tells anyone: bob's post office hears nothing back.
    const t0 = Date.now();
    bob.send({ type: 'dm', to: user, content: 'd1', ref: 'd1' });
    const answer = await bob.next((f) => f.ref === 'd1', 'the answer to d1', 10_000);
    t.diagnostic(`d1 answered after ${Date.now() - t0} ms`);
    assert.deepEqual(await a.exited, { code: null, signal: 'SIGKILL' });
    assert.equal(answer.type, 'ack', `stored, so acknowledged: ${JSON.stringify(answer)}`);
    // The inbox moved to b with the DM in it: the user resumes it, and the next DM follows it.
    const w = target.received('welcome')[0] as Frame & { inbox: { epoch: string } };
    const inbox = await target.request({ type: 'inbox', since: { epoch: w.inbox.epoch, id: 0 } });
    assert.equal(inbox.recovered, true);
    assert.equal((await bob.request({ type: 'dm', to: user, content: 'd2' })).type, 'ack');
    const got = target.received('dm').map((f) => [f.id, f.content]);
    assert.deepEqual(
      got.filter(([id], i) => got.findIndex(([j]) => j === id) === i),
      [
        [1, 'd1'],
        [2, 'd2'],
      ],
    );
  });

  it('SIGTERM: the rooms are handed over before its sockets close with 1012', async (t) => {
    const procs = await cluster(t);
    if (procs === undefined) return;
    const [a, b] = procs;
    const alice = await a.connect('alice');
    await join(alice, 'r');
    const bob = await b.connect('bob');
    await join(bob, 'r');
    assert.ok((await sendEach(bob, 'r', 'before', 5)).every((f) => f.type === 'ack'));
    a.child.kill('SIGTERM');
    const closed = await alice.closedWith();
    assert.equal(closed.code, 1012);
    // By the time a's sockets close, its rooms are handed over: b claims them at once.
    const { ms, answers } = await untilAcked(bob, 'r', 'during', 5_000);
    t.diagnostic(
      `acked again ${ms} ms after alice's 1012; answers: ${answers.map((f) => (f.type === 'ack' ? 'ack' : f.code)).join(',')}`,
    );
    assert.deepEqual(await a.exited, { code: 0, signal: null });
    assert.equal(await metricOf(b, 'chat_cluster_owned_rooms'), 1);
    inOrder(bob, 'r');
    assert.equal(bob.closed, undefined);
  });
});
