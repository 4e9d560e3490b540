/**
 * Cluster membership against a real nats-server on a free loopback port: nodes see each other
 * come up, leave, and die (a process killed with SIGKILL), through `system.nodes()` and the
 * `nodeup` / `nodedown` events; a system that never joins is `nonode@nohost` with no nodes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '@nats-io/transport-node';
import { type Cluster, joinCluster } from '@troupe/cluster';
import { ActorSystem, type SystemEvent } from 'troupe';
import { FAST, server, until, withNats } from './harness.js';

withNats();

/** Node events of a system, as 'up a' / 'down a left'. */
function nodeEvents(system: ActorSystem): string[] {
  const seen: string[] = [];
  system.subscribe((e: SystemEvent) => {
    if (e.type === 'nodeup') seen.push(`up ${e.node}`);
    if (e.type === 'nodedown') seen.push(`down ${e.node} ${e.reason}`);
  });
  return seen;
}

describe('cluster membership', () => {
  it('is nonode@nohost with no nodes for a system that never joins', () => {
    const system = new ActorSystem();
    assert.equal(system.node, 'nonode@nohost');
    assert.deepEqual(system.nodes(), []);
  });

  it('shows each node the others as they join, and a node that leaves as down with left, at once', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = new ActorSystem();
    const b = new ActorSystem();
    const aSaw = nodeEvents(a);
    const bSaw = nodeEvents(b);
    const ca = await joinCluster(a, { servers: n.url, node: 'a', cluster: 'join', ...FAST });
    const cb = await joinCluster(b, { servers: n.url, node: 'b', cluster: 'join', ...FAST });
    await until(() => a.nodes().includes('b') && b.nodes().includes('a'), 'a and b to see each other');
    assert.equal(a.node, 'a');
    assert.equal(b.node, 'b');
    assert.deepEqual(a.nodes(), ['b']);
    assert.deepEqual(ca.nodes(), ['b']);
    await cb.leave();
    await until(() => a.nodes().length === 0, 'a to see b leave');
    assert.deepEqual(aSaw, ['up b', 'down b left']);
    assert.deepEqual(bSaw, ['up a', 'down a left'], 'the leaver sees the others go too');
    assert.equal(b.node, 'nonode@nohost', 'after leaving, the system is on its own again');
    await ca.leave();
  });

  it('declares a node killed with SIGKILL down with noconnection, within downAfterMs and a sweep', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = new ActorSystem();
    const aSaw = nodeEvents(a);
    const ca = await joinCluster(a, { servers: n.url, node: 'watcher', cluster: 'kill', ...FAST });
    const script = fileURLToPath(new URL('./fixtures/node.ts', import.meta.url));
    const child: ChildProcess = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', script, n.url, 'victim'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, CLUSTER_NAME: 'kill' },
      },
    );
    try {
      await until(() => a.nodes().includes('victim'), 'the victim to join', 20_000);
      const killedAt = performance.now();
      child.kill('SIGKILL');
      await until(() => !a.nodes().includes('victim'), 'the victim to be declared down');
      const detectedMs = performance.now() - killedAt;
      t.diagnostic(`node-down detection after SIGKILL: ${detectedMs.toFixed(0)} ms (downAfterMs ${FAST.downAfterMs})`);
      assert.deepEqual(aSaw, ['up victim', 'down victim noconnection']);
    } finally {
      child.kill('SIGKILL');
      await ca.leave();
    }
  });

  it('keeps clusters on one NATS server apart, and ignores what is not a heartbeat', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = new ActorSystem();
    const b = new ActorSystem();
    const c = new ActorSystem();
    const ca = await joinCluster(a, { servers: n.url, node: 'a', cluster: 'red', ...FAST });
    const cb = await joinCluster(b, { servers: n.url, node: 'b', cluster: 'red', ...FAST });
    const cc = await joinCluster(c, { servers: n.url, node: 'c', cluster: 'blue', ...FAST });
    const raw = await connect({ servers: n.url });
    raw.publish('red.hb', new TextEncoder().encode('not a heartbeat'));
    raw.publish('red.hb', new Uint8Array([0xc1]));
    await until(() => a.nodes().includes('b') && b.nodes().includes('a'), 'a and b to see each other');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(a.nodes(), ['b']);
    assert.deepEqual(c.nodes(), [], 'blue sees nobody of red');
    await raw.close();
    for (const x of [ca, cb, cc] as Cluster[]) await x.leave();
  });

  it('sees a node that comes back under the same name as a new incarnation: down, then up', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = new ActorSystem();
    const aSaw = nodeEvents(a);
    const ca = await joinCluster(a, { servers: n.url, node: 'a', cluster: 'again', ...FAST });
    const first = new ActorSystem();
    const cb1 = await joinCluster(first, {
      servers: n.url,
      node: 'b',
      cluster: 'again',
      heartbeatMs: 100,
      downAfterMs: 10_000,
    });
    await until(() => a.nodes().includes('b'), 'b to join');
    // A second process with the same name before the first one is declared down: a new boot id.
    const second = new ActorSystem();
    const cb2 = await joinCluster(second, { servers: n.url, node: 'b', cluster: 'again', ...FAST });
    await until(() => aSaw.length >= 3, 'the second b to be seen');
    assert.deepEqual(aSaw.slice(0, 3), ['up b', 'down b noconnection', 'up b']);
    await cb2.leave();
    await cb1.leave();
    await ca.leave();
  });

  it('says which server it could not reach, when there is none', async () => {
    await assert.rejects(
      joinCluster(new ActorSystem(), { servers: 'nats://127.0.0.1:1', node: 'a' }),
      /joinCluster: cannot reach the NATS server at nats:\/\/127\.0\.0\.1:1/,
    );
  });

  it('refuses a node name that would not make a NATS subject, saying what is accepted', async () => {
    await assert.rejects(
      joinCluster(new ActorSystem(), { servers: 'nats://127.0.0.1:1', node: 'a b' }),
      /node must be 1-128 of A-Z a-z 0-9 _ -; got 'a b'/,
    );
    // A dot would split the node's subject token in two.
    await assert.rejects(
      joinCluster(new ActorSystem(), { servers: 'nats://127.0.0.1:1', node: 'a.b' }),
      /node must be 1-128 of A-Z a-z 0-9 _ -; got 'a.b'/,
    );
  });
});
