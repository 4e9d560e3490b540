/**
 * A room's owner (the clustered chat's one numbering actor per room) against a stream played by the
 * test: what a new owner tells a relay about the messages whose owner went before it echoed them.
 * It may say "not stored" only once no earlier owner can store anything any more: after a record of
 * its own is stored (each write expects the subject's last sequence). The cluster tests
 * (test/chat-cluster) run the same code over real NATS; this one reaches the late write of an
 * owner that lost its place, which a real cluster only hits by bad luck.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActorSystem, type Ref, silentLogger } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';
import { FencedError, type Origin, type Stored } from '../../examples/chat/src/durable.js';
import { type OwnerMsg, owner } from '../../examples/chat/src/owner.js';
import type { RelayMsg } from '../../examples/chat/src/relay.js';
import { testWorld } from './harness.js';

interface Rec {
  readonly epoch: string;
  readonly lastId: number;
  readonly frames: Buffer[];
  readonly origins: Origin[] | undefined;
}

/**
 * One room's subject. With `hold` above 0, the next writes wait in `held` until `land(i)`: a write
 * on its way when its writer died, or one that lands later than the next owner's load.
 */
class FakeStream {
  readonly records: Rec[] = [];
  hold = 0;
  readonly held: Array<() => void> = [];
  async load(): Promise<Stored | undefined> {
    const last = this.records.at(-1);
    if (last === undefined) return undefined;
    const frames = this.records.flatMap((r) => r.frames);
    const origins = this.records.flatMap((r) => r.frames.map((_, i) => r.origins?.[i]));
    const records = this.records.flatMap((r, i) => r.frames.map(() => i + 1));
    return { epoch: last.epoch, lastId: last.lastId, seq: this.records.length, frames, origins, records };
  }
  append(
    _kind: string,
    _name: string,
    epoch: string,
    lastId: number,
    frames: Buffer[],
    expect: number,
    origins?: Origin[],
  ): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const store = () => {
        if (this.records.length !== expect) reject(new FencedError(`expected ${expect}, at ${this.records.length}`));
        else {
          this.records.push({ epoch, lastId, frames, origins });
          resolve(this.records.length);
        }
      };
      if (this.hold > 0) {
        this.hold--;
        this.held.push(store);
      } else store();
    });
  }
  /** Stores the `i`th write held back (its writer hears the answer, if it is still there). */
  land(i: number): void {
    (this.held[i] as () => void)();
  }
}

async function setup() {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ logger: silentLogger, clock });
  const stream = new FakeStream();
  const world = testWorld();
  (world as { cluster: unknown }).cluster = { history: stream, cluster: { connected: true } };
  const got: RelayMsg[] = [];
  const relay = system.spawn((m: RelayMsg) => {
    got.push(m);
  }) as unknown as Ref<RelayMsg>;
  const run = async () => {
    for (let i = 0; i < 4; i++) {
      await settle(system);
      await Promise.resolve();
    }
  };
  /** An owner of 'lobby' that claimed the name and loaded what is stored. */
  const start = async () => {
    const o = system.spawn(owner, { args: { name: 'lobby', world } }) as unknown as Ref<OwnerMsg>;
    o.send({ type: 'claimed' });
    await run();
    return o;
  };
  const attach = (
    o: Ref<OwnerMsg>,
    extra: { epoch?: string; lastId?: number; unsureAfter?: number; unsureUpTo?: number } = {},
  ) => o.send({ type: 'attach', relay, token: 'R', users: ['alice'], lastId: 0, ...extra });
  const publish = (o: Ref<OwnerMsg>, seq: number, content: string) =>
    o.send({ type: 'publish', relay, user: 'alice', content, seq });
  const taken = () => got.splice(0);
  return { system, stream, run, start, attach, publish, taken };
}

const verdicts = (msgs: RelayMsg[]) => msgs.filter((m) => m.type === 'o.verdict');

test('a new owner says which of a relay’s unsure messages its predecessor stored, once it has stored a record', async () => {
  const t = await setup();
  const first = await t.start();
  t.attach(first);
  await t.run();
  const welcome = t.taken().find((m) => m.type === 'o.welcome') as Extract<RelayMsg, { type: 'o.welcome' }>;
  t.publish(first, 1, 'one');
  await t.run();
  assert.equal(t.taken().filter((m) => m.type === 'o.msg').length, 1, 'message 1 stored and echoed');
  // Message 2 is stored, and its owner dies before it hears so (before it echoes it).
  t.stream.hold = 1;
  t.publish(first, 2, 'two');
  await t.run();
  t.system.kill(first as Ref<never>);
  await t.run();
  t.stream.land(0);
  await t.run();
  t.taken();
  const second = await t.start();
  t.attach(second, { epoch: welcome.epoch, lastId: 1, unsureAfter: 1, unsureUpTo: 2 });
  await t.run();
  const got = t.taken();
  assert.deepEqual(
    got.map((m) => m.type),
    ['o.welcome', 'o.verdict'],
  );
  assert.deepEqual(verdicts(got)[0], {
    type: 'o.verdict',
    owner: second,
    upTo: 2,
    stored: [[2, 2]],
    pending: [],
    known: true,
  });
  assert.equal(t.stream.records.at(-1)?.frames.length, 0, 'the new owner stored a record (empty) before it said so');
});

test("a new owner gives no verdict before its own record is stored: a predecessor's late write stops it instead", async () => {
  const t = await setup();
  const first = await t.start();
  t.attach(first);
  await t.run();
  const welcome = t.taken().find((m) => m.type === 'o.welcome') as Extract<RelayMsg, { type: 'o.welcome' }>;
  // The first owner's write of message 1 is still on its way when the next owner loads.
  t.stream.hold = 2;
  t.publish(first, 1, 'late');
  await t.run();
  const second = await t.start();
  let down: unknown;
  t.system.monitor(second as Ref<never>, (reason) => {
    down = reason;
  });
  t.attach(second, { epoch: welcome.epoch, lastId: 0, unsureAfter: 0 });
  await t.run();
  assert.equal(t.stream.held.length, 2, 'the new owner writes a record of its own first');
  assert.deepEqual(verdicts(t.taken()), [], 'and says nothing before it is stored');
  // The late write lands first: the new owner's record is fenced, and it stops without a verdict.
  t.stream.land(0);
  t.stream.land(1);
  await t.run();
  assert.deepEqual(verdicts(t.taken()), []);
  assert.notEqual(down, undefined, 'the fenced owner stopped');
  // The next owner loads the late message and says so.
  const third = await t.start();
  t.attach(third, { epoch: welcome.epoch, lastId: 0, unsureAfter: 0 });
  await t.run();
  assert.deepEqual(
    verdicts(t.taken()).map((v) => [v.stored, v.known]),
    [[[[1, 1]], true]],
  );
});

test('an owner that does not know who sent a stored message says it cannot tell (known: false)', async () => {
  const t = await setup();
  const first = await t.start();
  const epoch = t.stream.records[0]?.epoch as string;
  // A record written without origins (by an older version) holds message 1.
  t.stream.records.push({ epoch, lastId: 1, frames: [Buffer.from('{"type":"message","id":1}')], origins: undefined });
  t.system.kill(first as Ref<never>);
  await t.run();
  const second = await t.start();
  t.attach(second, { epoch, lastId: 0, unsureAfter: 0 });
  await t.run();
  assert.deepEqual(
    verdicts(t.taken()).map((v) => [v.stored, v.known]),
    [[[], false]],
  );
  // Past that record it knows again.
  t.attach(second, { epoch, lastId: 1, unsureAfter: 1 });
  await t.run();
  assert.deepEqual(
    verdicts(t.taken()).map((v) => [v.stored, v.known]),
    [[[], true]],
  );
});
