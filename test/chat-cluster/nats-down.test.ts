/**
 * The chat cluster when its NATS server goes away (PROTOCOL.md "Cluster"), with two chat processes
 * as users run them: the real server is stopped and started again on the same port and store. Meanwhile every socket stays open, frames
 * that need the cluster are answered `unavailable` with `retry_ms`, frames that do not are
 * answered as ever, and `/healthz` answers 503 with `"cluster":"down"`; once NATS is back (and `/healthz` says so) the
 * cluster recovers by itself: the same rooms, ids and epoch, and DMs again.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { type ChatClient, type Frame, is, join } from '../chat/client.js';
import { server, startAgain, startAgainEmpty, stopNats, withNats } from '../cluster/harness.js';
import { type ChatProc, chatProcess, clusterName, formed } from './procs.js';

withNats();

/** Sends one room message; answers its answer. */
const say = (c: ChatClient, room: string, content: string) => c.request({ type: 'message', room, content });

/** Waits until `cond` holds for every process's /healthz. */
async function healthUntil(
  procs: readonly ChatProc[],
  cond: (h: { status: number; body: Record<string, unknown> }) => boolean,
  what: string,
  ms = 15_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await Promise.all(procs.map((p) => p.health()))).every(cond)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends `frame` until it is acknowledged (the cluster comes back by itself), for at most `ms`. */
async function untilAcked(c: ChatClient, frame: Record<string, unknown>, ms = 10_000): Promise<Frame> {
  const end = Date.now() + ms;
  let answer: Frame;
  do {
    answer = await c.request(frame);
    if (answer.type !== 'ack') await new Promise((r) => setTimeout(r, 50));
  } while (answer.type !== 'ack' && Date.now() < end);
  assert.equal(answer.type, 'ack', JSON.stringify(answer));
  return answer;
}

/** Two chat processes on the file's NATS; alice (on a) and bob (on b) in room r, whose first message bob sent. */
async function twoInRoom(t: TestContext) {
  const nats = server(t);
  if (nats === undefined) return undefined;
  const name = clusterName();
  const a = await chatProcess(t, nats.url, name, 'a');
  const b = await chatProcess(t, nats.url, name, 'b');
  await formed([a, b]);
  const alice = await a.connect('alice');
  const bob = await b.connect('bob');
  const joined = await join(alice, 'r');
  await join(bob, 'r');
  assert.equal((await say(bob, 'r', 'one')).id, 1);
  return { a, b, alice, bob, joined };
}

describe('chat cluster without NATS', () => {
  it('keeps its sockets, answers unavailable and 503 while NATS is down, and recovers by itself', async (t) => {
    const pair = await twoInRoom(t);
    if (pair === undefined) return;
    const { a, b, alice, bob, joined } = pair;
    assert.equal((await bob.request({ type: 'dm', to: 'alice', content: 'd1' })).type, 'ack');

    const port = await stopNats();
    await healthUntil([a, b], (h) => h.status === 503, 'both to see NATS gone');
    for (const p of [a, b]) {
      const h = await p.health();
      assert.equal(h.status, 503);
      assert.deepEqual(h.body, { ok: false, node: p.node, cluster: 'down', nodes: h.body.nodes });
    }
    // What needs the cluster: unavailable, with retry_ms; nothing silent.
    for (const [c, frame] of [
      [bob, { type: 'message', room: 'r', content: 'lost?' }],
      [alice, { type: 'message', room: 'r', content: 'lost?' }],
      [bob, { type: 'dm', to: 'alice', content: 'lost?' }],
      [alice, { type: 'inbox', since: { epoch: 'x', id: 0 } }],
      [alice, { type: 'who', room: 'r' }],
      [bob, { type: 'join', room: 'elsewhere' }],
    ] as Array<[ChatClient, Record<string, unknown>]>) {
      const f = await c.request(frame);
      assert.equal(f.code, 'unavailable', `${JSON.stringify(frame)} -> ${JSON.stringify(f)}`);
      assert.ok((f.retry_ms as number) > 0);
    }
    // What does not: answered as ever; and no socket closed.
    assert.equal((await bob.request({ type: 'ping' })).type, 'pong');
    assert.equal(alice.closed, undefined);
    assert.equal(bob.closed, undefined);

    await startAgain(port);
    await healthUntil([a, b], (h) => h.status === 200 && h.body.nodes === 2, 'both to be back', 20_000);
    // The room works again by itself: the same epoch, ids after the last one.
    const answer = await untilAcked(bob, { type: 'message', room: 'r', content: 'two' });
    assert.equal(answer.id, 2);
    const two = await alice.next(
      (f) => f.type === 'message' && f.content === 'two',
      "bob's message after NATS came back",
    );
    assert.equal(two.id, 2);
    assert.equal(alice.received('joined').filter((f) => f.epoch !== joined.epoch).length, 0);
    // DMs too.
    await untilAcked(bob, { type: 'dm', to: 'alice', content: 'd2' });
    const d2 = await alice.next((f) => f.type === 'dm' && f.content === 'd2', 'the DM after NATS came back');
    assert.equal(d2.id, 2);
    await alice.next(is('dm', { content: 'd1' }), 'd1 earlier');
  });

  it('comes back by itself when NATS returns without its store: the rooms in new epochs, their members told', async (t) => {
    const pair = await twoInRoom(t);
    if (pair === undefined) return;
    const { a, b, alice, bob, joined } = pair;

    // The server comes back on its port with nothing of what it stored: no history stream, no
    // names bucket. The chat makes them again; what was stored is gone (PROTOCOL.md).
    const port = await stopNats();
    await healthUntil([a, b], (h) => h.status === 503, 'both to see NATS gone');
    await startAgainEmpty(port);
    await healthUntil([a, b], (h) => h.status === 200 && h.body.nodes === 2, 'both to be back', 20_000);
    // Up again means new rooms can be made at once: the registry is open on the new store and this
    // process's lease current (not "out of reach" for a heartbeat after /healthz said 200).
    const carol = await a.connect('carol');
    assert.equal((await join(carol, 'new-room')).type, 'joined');
    const answer = await untilAcked(bob, { type: 'message', room: 'r', content: 'two' });
    // The room's history went with the store: a new epoch, which its members hear unprompted.
    const renewed = await alice.next(
      (f) => f.type === 'joined' && f.room === 'r' && f.epoch !== joined.epoch,
      'the new epoch of r',
    );
    if ((renewed.id as number) < (answer.id as number)) {
      // Told of the new epoch before bob's message was stored: it comes live.
      const two = await alice.next((f) => f.type === 'message' && f.content === 'two', "bob's message");
      assert.equal(two.id, answer.id);
    } else {
      // Stored before alice's process heard of the new epoch: the `joined` says the room is past
      // it, and it is in the new epoch's history for a resume (PROTOCOL.md).
      const resumed = await alice.request({ type: 'join', room: 'r', since: { epoch: renewed.epoch, id: 0 } });
      assert.equal(resumed.recovered, true, JSON.stringify(resumed));
      const two = await alice.next((f) => f.type === 'message' && f.content === 'two', "bob's message, resumed");
      assert.equal(two.id, answer.id);
    }
    // DMs work again too.
    await untilAcked(bob, { type: 'dm', to: 'carol', content: 'hi' });
    await carol.next(is('dm', { content: 'hi' }), 'the DM');
  });
});
