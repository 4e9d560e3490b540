/**
 * The clustered chat's post offices (inbox hosts) while two processes place a user's inbox
 * differently for a moment (a process joined, and one of them has not seen it yet): two post
 * offices in one actor system, each with its own view of the cluster, over an in-memory stand-in
 * for the JetStream history (fenced by the expected last sequence, as the real one is). The cluster
 * tests (test/chat-cluster) run the same code over real NATS; this reaches the window between two
 * views, which a real cluster only hits by timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Ref, silentLogger } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';
import { rendezvous } from '../../examples/chat/src/clustered.js';
import { FencedError, type Origin, type Stored, UnansweredWriteError } from '../../examples/chat/src/durable.js';
import { ANSWER_MS, type HostMsg, inboxHost, UNSURE_MS } from '../../examples/chat/src/postoffice.js';
import { newSession } from '../../examples/chat/src/session.js';
import type { ConnMsg } from '../../examples/chat/src/world.js';
import { FakeSocket, testWorld } from './harness.js';

/**
 * The stream: one subject per inbox, each record a batch of DMs (with who sent each), written with
 * the expected last sequence of its subject; sequences count over the whole stream. With `hold`
 * above 0, the next writes are stored and never answered (their writer died before it heard);
 * with `lose` above 0, neither stored nor answered (their writer died before they got there).
 */
class FakeHistory {
  readonly freshEpoch = 'E1';
  readonly inboxes = new Map<
    string,
    { epoch: string; frames: Buffer[]; origins: Array<Origin | undefined>; records: number[]; seq: number }
  >();
  hold = 0;
  lose = 0;
  /** The next write fails as a timeout does (no answer in time), stored or not. */
  timeout: 'stored' | 'lost' | undefined;
  /** Reads never answer. */
  loadsHang = false;
  #seq = 0;
  #gate: Promise<void> | undefined;
  /** Reads wait until the function returned is called. */
  pauseLoads(): () => void {
    let open = () => {};
    this.#gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    return () => {
      this.#gate = undefined;
      open();
    };
  }
  async load(_kind: string, name: string): Promise<Stored | undefined> {
    if (this.loadsHang) return new Promise<undefined>(() => {});
    if (this.#gate !== undefined) await this.#gate;
    const i = this.inboxes.get(name);
    return i === undefined
      ? undefined
      : {
          epoch: i.epoch,
          lastId: i.frames.length,
          seq: i.seq,
          frames: [...i.frames],
          origins: [...i.origins],
          records: [...i.records],
        };
  }
  append(
    _kind: string,
    name: string,
    epoch: string,
    _lastId: number,
    frames: Buffer[],
    expect: number,
    origins?: Origin[],
  ): Promise<number> {
    if (this.lose > 0) {
      this.lose--;
      return new Promise<number>(() => {});
    }
    const timeout = this.timeout;
    this.timeout = undefined;
    if (timeout === 'lost')
      return Promise.reject(new UnansweredWriteError('JetStream did not answer a write within 5000 ms'));
    const i = this.inboxes.get(name) ?? { epoch, frames: [], origins: [], records: [], seq: 0 };
    if (i.seq !== expect) return Promise.reject(new FencedError(`expected ${expect}, at ${i.seq}`));
    i.seq = ++this.#seq;
    for (let k = 0; k < frames.length; k++) {
      i.frames.push(frames[k] as Buffer);
      i.origins.push(origins?.[k]);
      i.records.push(i.seq);
    }
    this.inboxes.set(name, i);
    if (this.hold > 0) {
      this.hold--;
      return new Promise<number>(() => {});
    }
    if (timeout === 'stored')
      return Promise.reject(new UnansweredWriteError('JetStream did not answer a write within 5000 ms'));
    return Promise.resolve(i.seq);
  }
}

async function twoProcesses() {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ logger: silentLogger, clock });
  const history = new FakeHistory();
  const views: Record<'a' | 'b', Array<Ref<HostMsg>>> = { a: [], b: [] };
  const offices: Partial<Record<'a' | 'b', Ref<HostMsg>>> = {};
  const now = () => system.clock.now();
  const worlds = { a: testWorld({}, now), b: testWorld({}, now) };
  for (const node of ['a', 'b'] as const) {
    const cluster = {
      node,
      draining: false,
      history,
      cluster: { connected: true, groups: { join() {}, leave() {}, members: () => views[node] } },
    };
    const ref = system.spawn(inboxHost, { args: { world: worlds[node], cluster: cluster as never } }) as Ref<HostMsg>;
    // A post office's place is its node's name (rendezvous hashing over the nodes).
    Object.defineProperty(ref, 'node', { value: node });
    offices[node] = ref;
  }
  const a = offices.a as Ref<HostMsg>;
  const b = offices.b as Ref<HostMsg>;
  // A user whose inbox the full view places on b (and a view of a alone, on a).
  const user = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'].find((u) => rendezvous(u, [a, b]) === b) as string;
  const run = async () => {
    await settle(system);
    for (let i = 0; i < 3; i++) await Promise.resolve();
    await settle(system);
  };
  /** A connection of `user` on `node`'s process, welcomed by its post office. */
  const connect = async (node: 'a' | 'b') => {
    const seen: unknown[] = [];
    const conn = system.spawn((m: unknown) => {
      seen.push(m);
    }) as unknown as Ref<ConnMsg>;
    const socket = new FakeSocket(newSession(user, 100, 0));
    worlds[node].users.register(user, conn, socket as never);
    offices[node]?.send({ type: 'hello', user, conn });
    await run();
    return { conn, socket, seen };
  };
  const dmFrom = async (node: 'a' | 'b', content: string) => {
    const sender = system.spawn((_m: unknown) => {}) as unknown as Ref<ConnMsg>;
    offices[node]?.send({ type: 'send', to: user, from: 'carol', content, conn: sender, ref: 1 });
    await run();
  };
  const tick = async () => {
    clock.advance(500);
    await run();
  };
  return { system, clock, history, views, a, b, user, run, connect, dmFrom, tick };
}

const dms = (s: FakeSocket) => s.frames.filter((f) => f.type === 'dm').map((f) => f.content);
const gaps = (s: FakeSocket) => s.frames.filter((f) => f.type === 'gap');

test('a DM the old place of an inbox stores while the new place has it already reaches every connection, once', async () => {
  const h = await twoProcesses();
  h.views.a = [h.a];
  h.views.b = [h.a];
  const onA = await h.connect('a');
  const onB = await h.connect('b');
  await h.dmFrom('a', 'one');
  assert.deepEqual(dms(onA.socket), ['one']);
  assert.deepEqual(dms(onB.socket), ['one']);
  // b sees the cluster as a and b first: the inbox is b's now, and b's post office moves there.
  h.views.b = [h.a, h.b];
  await h.tick();
  // a does not see b yet: a DM sent on a is stored by a, which only a's connection still takes.
  await h.dmFrom('a', 'two');
  assert.deepEqual(dms(onA.socket), ['one', 'two']);
  assert.deepEqual(h.history.inboxes.get(h.user)?.frames.length, 2, 'stored and acknowledged by a');
  // a sees b: its post office moves to b, and a hands the inbox over with the id it stored last.
  h.views.a = [h.a, h.b];
  await h.tick();
  await h.tick();
  assert.deepEqual(dms(onB.socket), ['one', 'two'], "b's connection gets the DM a stored");
  assert.deepEqual(dms(onA.socket), ['one', 'two'], "a's connection does not get it twice");
  assert.deepEqual([...gaps(onA.socket), ...gaps(onB.socket)], []);
  // And the inbox goes on at b, with the next id.
  await h.dmFrom('a', 'three');
  assert.deepEqual(dms(onA.socket), ['one', 'two', 'three']);
  assert.deepEqual(dms(onB.socket), ['one', 'two', 'three']);
});

test('a DM to an inbox whose last post office left a moment ago is answered unavailable, not no_such_user', async () => {
  const h = await twoProcesses();
  h.views.a = [h.a];
  h.views.b = [h.a];
  const onB = await h.connect('b');
  onB.socket.frames.length = 0;
  // b moves the user's inbox to itself; a, not seeing b yet, still places it on a.
  h.views.b = [h.a, h.b];
  await h.tick();
  const answers: unknown[] = [];
  const sender = h.system.spawn((m: unknown) => {
    answers.push(m);
  }) as unknown as Ref<ConnMsg>;
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'hi', conn: sender, ref: 9 });
  await h.run();
  const frame = (answers[0] as { frame: { code: string } } | undefined)?.frame;
  assert.equal(frame?.code, 'unavailable', 'the user is connected (on b): try again');
  // Once a sees b, the retry goes to b and reaches the user.
  h.views.a = [h.a, h.b];
  await h.tick();
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'hi', conn: sender, ref: 10 });
  await h.run();
  assert.deepEqual(dms(onB.socket), ['hi']);
});

// A DM whose inbox owner died before it answered may have been stored: the inbox's next place says
// which (`unavailable` promises that nothing was applied).

/** The user's inbox on b, the user connected on a, and a sender on a whose answers land in `answers`. */
async function inboxOnB() {
  const h = await twoProcesses();
  h.views.a = [h.a, h.b];
  h.views.b = [h.a, h.b];
  await h.connect('a');
  const answers: Array<{ frame: Record<string, unknown> }> = [];
  const sender = h.system.spawn((m: { frame: Record<string, unknown> }) => {
    answers.push(m);
  }) as unknown as Ref<ConnMsg>;
  return { ...h, answers, sender };
}

/** The user's inbox on b, the user connected on a; a DM sent on a, answered to `answers`. */
async function dmToDyingOwner(storedFirst: boolean, loadsHang = false) {
  const h = await inboxOnB();
  const { sender } = h;
  // b stores it and dies before it hears so, or dies before it is stored.
  if (storedFirst) h.history.hold = 1;
  else h.history.lose = 1;
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'hi', conn: sender, ref: 5 });
  await h.run();
  assert.equal(h.history.inboxes.get(h.user)?.frames.length ?? 0, storedFirst ? 1 : 0);
  // b's process dies: the cluster's view and a's monitors hear of it together. The inbox is a's
  // now: a asks itself, and answers once a record of its own is stored.
  h.history.loadsHang = loadsHang;
  h.views.a = [h.a];
  h.system.kill(h.b as Ref<never>);
  await h.run();
  return h;
}

test('a DM its inbox owner stored before it died is acknowledged, not answered unavailable', async () => {
  const h = await dmToDyingOwner(true);
  await h.tick();
  assert.deepEqual(
    h.answers.map((m) => [m.frame.type, m.frame.ref]),
    [['ack', 5]],
  );
  assert.equal(h.history.inboxes.get(h.user)?.frames.length, 1, 'stored once');
});

test('a DM that never reached its dead inbox owner is answered unavailable once the next place says so', async () => {
  const h = await dmToDyingOwner(false);
  await h.tick();
  assert.deepEqual(
    h.answers.map((m) => [m.frame.type, m.frame.code, m.frame.ref]),
    [['error', 'unavailable', 5]],
  );
});

test('a DM whose outcome no inbox owner tells within UNSURE_MS is answered internal, once', async () => {
  // The stream does not answer a's read of the inbox (NATS out of reach, say): nobody can tell.
  const h = await dmToDyingOwner(true, true);
  for (let t = 0; t < UNSURE_MS - 500; t += 500) await h.tick();
  assert.equal(h.answers.length, 0, 'nothing said while it may still be told');
  await h.tick();
  await h.tick();
  assert.deepEqual(
    h.answers.map((m) => [m.frame.type, m.frame.code, m.frame.ref]),
    [['error', 'internal', 5]],
  );
  // A verdict that comes later (the read answered at last) answers nobody again.
  h.a.send({ type: 'told', user: h.user, owner: h.a, reqs: [1], stored: [[1, 1]], pending: [], known: true });
  await h.run();
  assert.equal(h.answers.length, 1, 'no second answer');
});

test('a DM whose write failed without an answer is acknowledged if it was stored, unavailable if not', async () => {
  for (const outcome of ['stored', 'lost'] as const) {
    const h = await inboxOnB();
    const { answers, sender } = h;
    h.history.timeout = outcome;
    h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'hi', conn: sender, ref: 5 });
    await h.run();
    await h.tick();
    assert.deepEqual(
      answers.map((m) => [m.frame.type, m.frame.code, m.frame.ref]),
      outcome === 'stored' ? [['ack', undefined, 5]] : [['error', 'unavailable', 5]],
      outcome,
    );
    assert.equal(h.history.inboxes.get(h.user)?.frames.length ?? 0, outcome === 'stored' ? 1 : 0);
  }
});

test('a DM that comes while an inbox is read again after a failed write is refused, never stored after it', async () => {
  // Such a DM may be one whose owner looked dead to its sender's process, and whose sender has
  // heard from the inbox's next place that it is not stored.
  const h = await inboxOnB();
  const { answers, sender } = h;
  h.history.timeout = 'lost';
  const release = h.history.pauseLoads();
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'one', conn: sender, ref: 5 });
  await h.run();
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'two', conn: sender, ref: 6 });
  await h.run();
  release();
  await h.run();
  await h.tick();
  assert.deepEqual(answers.map((m) => [m.frame.type, m.frame.code, m.frame.ref]).sort(), [
    ['error', 'unavailable', 5],
    ['error', 'unavailable', 6],
  ]);
  assert.equal(h.history.inboxes.get(h.user)?.frames.length ?? 0, 0, 'neither stored');
  // The next DM is stored as ever.
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'three', conn: sender, ref: 7 });
  await h.run();
  assert.deepEqual(answers.at(-1)?.frame, { type: 'ack', ref: 7 });
});

test('an inbox still being read when it goes idle is kept: the connection waiting for it is welcomed once the read answers', async () => {
  const h = await twoProcesses();
  h.views.a = [h.a, h.b];
  h.views.b = [h.a, h.b];
  // NATS is slow to answer reads: the connection's hello waits for the inbox, which b reads.
  const open = h.history.pauseLoads();
  const onB = await h.connect('b');
  assert.deepEqual(onB.seen, [], 'nothing yet: the inbox is being read');
  // The cluster's view changes meanwhile (a is declared down): the inbox, with no post office
  // attached yet, counts as idle from now.
  h.views.b = [h.b];
  for (let t = 0; t < 40_000; t += 500) await h.tick();
  open();
  await h.run();
  await h.tick();
  assert.deepEqual(
    onB.seen.map((m) => (m as { type: string }).type),
    ['welcome'],
    'welcomed once the read answered',
  );
});

test('a DM whose request the bus lost is answered: its inbox owner says it was not stored', async () => {
  const h = await inboxOnB();
  const { answers, sender } = h;
  // a's next DM for the inbox goes where b's post office seems to be, and is lost on the way (a
  // NATS blip too short for b to be declared down: no DOWN comes).
  const hole = h.system.spawn((_m: unknown) => {}) as Ref<HostMsg>;
  Object.defineProperty(hole, 'node', { value: 'b' });
  h.views.a = [h.a, hole];
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'lost', conn: sender, ref: 7 });
  await h.run();
  h.views.a = [h.a, h.b];
  for (let t = 0; t < ANSWER_MS - 500; t += 500) await h.tick();
  assert.equal(answers.length, 0, 'nothing said while the answer may still come');
  await h.tick();
  await h.tick();
  assert.deepEqual(
    answers.map((m) => [m.frame.type, m.frame.code, m.frame.ref]),
    [['error', 'unavailable', 7]],
    'b never stored it: unavailable (nothing applied), not silence',
  );
  assert.equal(h.history.inboxes.get(h.user)?.frames.length ?? 0, 0);
  // The next DM goes through as ever.
  h.a.send({ type: 'send', to: h.user, from: 'carol', content: 'next', conn: sender, ref: 8 });
  await h.run();
  assert.deepEqual(answers.at(-1)?.frame, { type: 'ack', ref: 8 });
});
