/**
 * When the NATS server stops: local actors keep working, remote sends and calls fail at once with
 * a clear error, the registry refuses new claims; when it starts again (on the same port, with none
 * of its memory), the nodes reconnect by themselves, see each other again, and re-announce their
 * registrations, so that names resolve and calls cross again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryUnavailableError } from '@troupe/cluster';
import { type DeadLetter, ExitError, type Ref, type Reply } from 'troupe';
import { node, pair, server, startAgain, stopNats, until, withNats } from './harness.js';

withNats();

type Adder = { type: 'add'; a: number; b: number; reply: Reply<number> };
const adder = (msg: Adder) => msg.reply(msg.a + msg.b);

describe('when NATS is down', () => {
  it('keeps local actors working, fails remote work fast, and recovers by itself when NATS is back', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'down');
    try {
      const onB = b.system.spawn(adder);
      await b.cluster.registry.register('adder', onB);
      await until(() => a.cluster.registry.whereis('adder') !== undefined, 'a to see the adder');
      const remote = a.cluster.registry.whereis('adder') as unknown as Ref<Adder>;
      assert.equal(await remote.call({ type: 'add', a: 1, b: 2 }), 3);
      const local = a.system.spawn(adder);
      const dead: DeadLetter[] = [];
      a.system.onDeadLetter((dl) => dead.push(dl));

      const port = await stopNats();
      await until(() => !a.cluster.connected && !b.cluster.connected, 'both to notice');
      assert.equal(await local.call({ type: 'add', a: 2, b: 2 }), 4, 'local actors keep working');
      const t0 = performance.now();
      const e = await remote.call({ type: 'add', a: 1, b: 1 }, { timeoutMs: 30_000 }).catch((err: unknown) => err);
      assert.ok(
        e instanceof ExitError && e.reason === 'noconnection',
        `a clear ExitError noconnection, got ${String(e)}`,
      );
      assert.ok(performance.now() - t0 < 50, 'at once, not at the timeout');
      assert.equal(remote.send({ type: 'add', a: 0, b: 0, reply: () => {} } as never), false);
      assert.equal(dead.at(-1)?.reason, 'noconnection');
      await assert.rejects(
        a.cluster.registry.register('new', a.system.spawn(adder)),
        (err: unknown) => err instanceof RegistryUnavailableError,
      );
      assert.equal(a.cluster.registry.available, false);

      await startAgain(port);
      await until(() => a.cluster.connected && b.cluster.connected, 'both to reconnect', 15_000);
      // Available again (the bucket open on the new server, the lease current) means claims work at once.
      await until(() => a.cluster.registry.available, "a's registry to be available", 15_000);
      assert.deepEqual(await a.cluster.registry.register('first', a.system.spawn(adder)), { ok: true });
      await until(
        () => a.system.nodes().includes('b') && b.system.nodes().includes('a'),
        'both to see each other',
        15_000,
      );
      // The restarted server kept nothing; b announces its name again.
      await until(() => a.cluster.registry.whereis('adder')?.node === 'b', 'the name re-announced', 15_000);
      const again = a.cluster.registry.whereis('adder') as unknown as Ref<Adder>;
      assert.equal(again.id, onB.id, 'the same actor, which lived on');
      assert.equal(await again.call({ type: 'add', a: 20, b: 22 }), 42);
      assert.equal(again, remote, 'the ref from before is the same object, and works again: the node came back');
      assert.equal(remote.alive, true);
      assert.deepEqual(await a.cluster.registry.register('new', a.system.spawn(adder)), { ok: true });
    } finally {
      await close();
    }
  });

  it('brings group changes made while NATS was away to the other nodes once it is back', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    // No nodedown in the outage (and so no snapshot): only the reconnect can tell the others.
    const slow = { heartbeatMs: 200, downAfterMs: 20_000 };
    const a = await node(n.url, 'a', 'down-pg', slow);
    const b = await node(n.url, 'b', 'down-pg', slow);
    try {
      await until(() => a.system.nodes().includes('b') && b.system.nodes().includes('a'), 'a and b');
      const doomed = b.system.spawn((_m: unknown) => {});
      b.cluster.groups.join('g', doomed);
      const stays = a.system.spawn((_m: unknown) => {});
      a.cluster.groups.join('g', stays);
      await until(() => a.cluster.groups.members('g').length === 2, 'a to see both members');
      await until(() => b.cluster.groups.members('g').length === 2, 'b to see both members');

      const port = await stopNats();
      await until(() => !a.cluster.connected && !b.cluster.connected, 'both to notice');
      // Changes on both sides while nobody hears them.
      b.system.kill(doomed);
      const joiner = b.system.spawn((_m: unknown) => {});
      b.cluster.groups.join('h', joiner);
      a.cluster.groups.leave('g', stays);
      a.cluster.groups.join('k', stays);

      await startAgain(port);
      await until(() => a.cluster.connected && b.cluster.connected, 'both to reconnect', 15_000);
      await until(
        () =>
          a.cluster.groups.members('g').length === 0 &&
          a.cluster.groups.members('h').length === 1 &&
          b.cluster.groups.members('g').length === 0 &&
          b.cluster.groups.members('k').length === 1,
        'the changes of the outage on both nodes',
        15_000,
      );
      assert.deepEqual(a.system.nodes(), ['b'], 'no nodedown meanwhile: the reconnect told them');
      assert.equal(a.cluster.groups.members('h')[0]?.id, joiner.id);
      assert.deepEqual(b.cluster.groups.groups(), ['h', 'k']);
    } finally {
      await a.cluster.leave();
      await b.cluster.leave();
      await a.system.shutdown();
      await b.system.shutdown();
    }
  });
});
