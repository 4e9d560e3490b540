/**
 * Process groups (OTP's pg) against a real nats-server: join, leave and members cluster-wide, a
 * late joiner sees the members from before it came, an exited member or a lost node leaves its
 * groups, and a publish to a group crosses to each other node with members exactly once, counted in
 * NATS messages, and reaches every member once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { key, type Ref } from 'troupe';
import { childNode, node, server, sleep, until, withNats } from './harness.js';

withNats();

describe('process groups', () => {
  it('lists members cluster-wide, for a node that joins later too, and forgets exited ones', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await node(n.url, 'a', 'pg-members');
    const b = await node(n.url, 'b', 'pg-members');
    try {
      await until(() => a.system.nodes().includes('b') && b.system.nodes().includes('a'), 'a and b');
      const a1 = a.system.spawn((_m: unknown) => {});
      const b1 = b.system.spawn((_m: unknown) => {});
      const b2 = b.system.spawn((_m: unknown) => {});
      a.cluster.groups.join('room', a1);
      b.cluster.groups.join('room', b1);
      b.cluster.groups.join('room', b2);
      b.cluster.groups.join('other', b2);
      await until(() => a.cluster.groups.members('room').length === 3, 'a to see three members');
      assert.deepEqual(
        a.cluster.groups
          .members('room')
          .map((r) => `${r.node}:${r.id}`)
          .sort(),
        [`a:${a1.id}`, `b:${b1.id}`, `b:${b2.id}`].sort(),
      );
      assert.deepEqual(a.cluster.groups.localMembers('room'), [a1]);
      assert.deepEqual(a.cluster.groups.groups(), ['other', 'room']);
      // A node that comes later learns the members from before it came.
      const c = await node(n.url, 'c', 'pg-members');
      try {
        await until(() => c.cluster.groups.members('room').length === 3, 'c to see three members');
        b.system.kill(b2 as Ref<never>);
        await until(
          () => a.cluster.groups.members('room').length === 2 && c.cluster.groups.members('room').length === 2,
          'the exited member to leave everywhere',
        );
        assert.deepEqual(c.cluster.groups.groups(), ['room'], 'its other group went with it');
        assert.equal(b.cluster.groups.leave('room', b1), true);
        assert.equal(b.cluster.groups.leave('room', b1), false);
        await until(() => c.cluster.groups.members('room').length === 1, 'the leave');
      } finally {
        await c.cluster.leave();
      }
    } finally {
      await a.cluster.leave();
      await b.cluster.leave();
    }
  });

  it('publishes once per node with members, counted in NATS messages, to every member once', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const ROOM = key<{ type: 'say'; n: number }>('room');
    const nodes: Array<Awaited<ReturnType<typeof node>>> = [];
    for (const name of ['pub', 'x', 'y', 'z']) nodes.push(await node(n.url, name, 'pg-publish'));
    const [pub, ...others] = nodes as [(typeof nodes)[number], ...typeof nodes];
    try {
      await until(() => nodes.every((x) => x.system.nodes().length === 3), 'four nodes');
      const got = new Map<string, number[]>();
      for (const o of others) {
        for (let i = 0; i < 3; i++) {
          const id = `${o.system.node}-${i}`;
          got.set(id, []);
          o.cluster.groups.join(
            ROOM,
            o.system.spawn((m: { type: 'say'; n: number }) => void got.get(id)?.push(m.n)),
          );
        }
      }
      await until(() => pub.cluster.groups.members(ROOM).length === 9, 'the publisher to see nine members');
      const stats = pub.cluster.stats;
      const before = stats().framesOut;
      for (let i = 0; i < 100; i++) assert.equal(pub.cluster.groups.publish(ROOM, { type: 'say', n: i }), 3);
      const sent = stats().framesOut - before;
      t.diagnostic(`100 publishes to 9 members on 3 nodes: ${sent} NATS messages (${sent / 100} per publish)`);
      assert.equal(sent, 300, 'one NATS message per remote node per publish');
      await until(() => [...got.values()].every((l) => l.length === 100), 'every member to get all 100');
      for (const l of got.values())
        assert.deepEqual(
          l,
          Array.from({ length: 100 }, (_, i) => i),
          'in order, once each',
        );
    } finally {
      for (const x of nodes) await x.cluster.leave();
    }
  });

  it('refuses a publish too big for the bus with a RangeError, and nobody gets it, local members included', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await node(n.url, 'a', 'pg-big');
    const b = await node(n.url, 'b', 'pg-big');
    try {
      await until(() => a.system.nodes().includes('b') && b.system.nodes().includes('a'), 'a and b');
      const got: string[] = [];
      a.cluster.groups.join(
        'g',
        a.system.spawn((m: string) => void got.push(`a:${m.length}`)),
      );
      b.cluster.groups.join(
        'g',
        b.system.spawn((m: string) => void got.push(`b:${m.length}`)),
      );
      await until(() => a.cluster.groups.members('g').length === 2, 'a to see both members');
      assert.throws(
        () => a.cluster.groups.publish('g', 'x'.repeat(2_000_000)),
        (e: unknown) => e instanceof RangeError && /max_payload/.test(e.message),
      );
      // A small one after it reaches both: the first went to nobody.
      assert.equal(a.cluster.groups.publish('g', 'small'), 2);
      await until(() => got.length === 2, 'the small publish to arrive');
      assert.deepEqual(got.sort(), ['a:5', 'b:5']);
    } finally {
      await a.cluster.leave();
      await b.cluster.leave();
    }
  });

  it('drops the members of a node killed with SIGKILL once it is declared down', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await node(n.url, 'a', 'pg-kill');
    const victim = childNode(n.url, 'victim', 'pg-kill', 'group');
    try {
      await until(() => victim.lines.includes('ready'), 'the victim', 20_000);
      await until(() => a.cluster.groups.members('workers').length === 2, 'its two members');
      victim.kill();
      await until(() => a.cluster.groups.members('workers').length === 0, 'its members gone', 5_000);
      assert.equal(a.cluster.groups.publish('workers', 'anyone?'), 0);
      await sleep(10);
    } finally {
      victim.kill();
      await a.cluster.leave();
    }
  });
});
