/**
 * `RESYNC` after a membership flap, against a real nats-server, with membership played by the test
 * (it calls the distribution's `peerDown` / `peerUp` itself, as membership does): what a node sent
 * another while that one held it down was dropped there, so when that node says it had declared
 * this one down, everything shared with it ends here with `noconnection`, even if this node met it
 * again only just. A monitor must never be left waiting for a DOWN that nobody will send.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { ActorSystem, type ExitReason, type Ref } from 'troupe';
import { Distribution } from '../../packages/cluster/src/distribution.js';
import { server, until, withNats } from './harness.js';

withNats();

/** A node's distribution on its own NATS connection, with no membership: the test announces peers. */
async function bare(url: string, node: string) {
  const system = new ActorSystem();
  const nc = await connect({ servers: url });
  const dist = new Distribution(system, nc, { cluster: 'rs', node, boot: `${node}-boot`, downAfterMs: 60_000 });
  dist.start(system.attachDistribution({ node, nodes: () => [], remote: dist }));
  // Its subscriptions are on the server before the test announces it: a frame the other node sends
  // at once (a RESYNC) would otherwise find no subscriber and be dropped, and the test fail by luck.
  await nc.flush();
  return {
    system,
    dist,
    close: async () => {
      dist.close();
      await nc.close();
    },
  };
}

describe('resync', () => {
  it('ends a monitor that the other node dropped while it held this one down, when it says so', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await bare(n.url, 'a');
    const b = await bare(n.url, 'b');
    try {
      a.dist.peerUp('b', 'b-boot', false);
      b.dist.peerUp('a', 'a-boot', false);
      const target = a.system.spawn((_m: unknown) => {}) as Ref<never>;
      a.dist.export(target);
      const remote = b.dist.refOf(b.dist.peer('a') as never, target.id) as unknown as Ref<never>;

      // A flap: a declares b down; b declares a down and meets it again at once (its own RESYNC to
      // a is dropped there: a holds b down).
      a.dist.peerDown('b', 'b-boot');
      b.dist.peerDown('a', 'a-boot');
      b.dist.peerUp('a', 'a-boot', true);
      // b monitors a's actor now: the MONITOR frame reaches a while a holds b down, and is dropped.
      const downs: ExitReason[] = [];
      b.system.monitor(remote, (reason) => downs.push(reason));
      await new Promise((r) => setTimeout(r, 100));
      // a meets b again, and tells it that it had declared it down.
      a.dist.peerUp('b', 'b-boot', true);
      await until(() => downs.length > 0, 'the monitor to end with noconnection', 5_000);
      assert.deepEqual(downs, ['noconnection']);

      // What b monitors from now on is a's to tell: the actor's real exit reaches it.
      const later: ExitReason[] = [];
      b.system.monitor(remote, (reason) => later.push(reason));
      await new Promise((r) => setTimeout(r, 100));
      a.system.kill(target);
      await until(() => later.length > 0, "the target's exit", 5_000);
      assert.deepEqual(later, ['killed']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('undoes there what the other node took from this one after it met it again and before it said so', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await bare(n.url, 'a');
    const b = await bare(n.url, 'b');
    try {
      a.dist.peerUp('b', 'b-boot', false);
      b.dist.peerUp('a', 'a-boot', false);
      const target = a.system.spawn((_m: unknown) => {}) as Ref<never>;
      a.dist.export(target);
      const remote = b.dist.refOf(b.dist.peer('a') as never, target.id) as unknown as Ref<never>;
      // a flaps b (b notices nothing) and meets it again: its RESYNC is on its way to b when b
      // monitors and links a's actor, and a, which holds b up again, takes both.
      a.dist.peerDown('b', 'b-boot');
      a.dist.peerUp('b', 'b-boot', true);
      const downs: ExitReason[] = [];
      b.system.monitor(remote, (reason) => downs.push(reason));
      const linked = b.system.spawn(
        {
          init(ctx) {
            ctx.trapExit(true);
            ctx.link(remote);
          },
          receive() {},
        },
        {},
      );
      await until(() => downs.length > 0, 'the RESYNC to end the monitor with noconnection', 5_000);
      assert.deepEqual(downs, ['noconnection']);
      // a keeps nothing for b's monitor and link: b undid them when it heard the RESYNC.
      await until(
        () => {
          const shared = a.dist.sharedWith('b');
          return shared !== undefined && shared.watchedBy === 0 && shared.links === 0;
        },
        "a to forget b's monitor and link",
        5_000,
      );
      assert.ok(linked.alive, 'the linked actor traps exits and lives on');
    } finally {
      await a.close();
      await b.close();
    }
  });
});
