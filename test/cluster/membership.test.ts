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
import { pack, unpack } from 'msgpackr';
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

/**
 * A watcher joins `cluster` with `options`, a node in a process of its own joins too and is killed
 * with SIGKILL: the watcher must see it up, then down with `noconnection`. Resolves with the time
 * from the kill to the watcher's `nodedown` (ms).
 */
async function killedIsDown(
  url: string,
  cluster: string,
  options: { heartbeatMs: number; downAfterMs: number; probeAfterMs?: number },
): Promise<number> {
  const a = new ActorSystem();
  const aSaw = nodeEvents(a);
  const ca = await joinCluster(a, { servers: url, node: 'watcher', cluster, ...options });
  const script = fileURLToPath(new URL('./fixtures/node.ts', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', script, url, 'victim'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CLUSTER_NAME: cluster },
    },
  );
  try {
    await until(() => a.nodes().includes('victim'), 'the victim to join', 20_000);
    const killedAt = performance.now();
    child.kill('SIGKILL');
    await until(() => !a.nodes().includes('victim'), 'the victim to be declared down', 20_000);
    const ms = performance.now() - killedAt;
    assert.deepEqual(aSaw, ['up victim', 'down victim noconnection']);
    return ms;
  } finally {
    child.kill('SIGKILL');
    await ca.leave();
  }
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

  it('does not declare live nodes down after this process itself stalled for longer than downAfterMs', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = new ActorSystem();
    const b = new ActorSystem();
    const aSaw = nodeEvents(a);
    const bSaw = nodeEvents(b);
    const ca = await joinCluster(a, { servers: n.url, node: 'a', cluster: 'stall', ...FAST });
    const cb = await joinCluster(b, { servers: n.url, node: 'b', cluster: 'stall', ...FAST });
    await until(() => a.nodes().includes('b') && b.nodes().includes('a'), 'a and b to see each other');
    // A long synchronous task (or a starved process): no timer, no socket read, no heartbeat sent,
    // for more than twice downAfterMs (500 ms).
    const end = performance.now() + 1_200;
    while (performance.now() < end) {
      // busy
    }
    await new Promise((r) => setTimeout(r, 4 * FAST.heartbeatMs));
    assert.deepEqual({ a: aSaw, b: bSaw }, { a: ['up b'], b: ['up a'] }, 'the stall was not held against the others');
    await cb.leave();
    await ca.leave();
  });

  it('declares a node killed with SIGKILL down with noconnection, within downAfterMs and a sweep', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const ms = await killedIsDown(n.url, 'kill', FAST);
    t.diagnostic(`node-down detection after SIGKILL: ${ms.toFixed(0)} ms (downAfterMs ${FAST.downAfterMs})`);
  });

  it('declares a killed node down once NATS says it has no connection, long before downAfterMs', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    // A minute of silence before a plain timeout: only the question at probeAfterMs can end it sooner.
    const ms = await killedIsDown(n.url, 'probe-kill', { heartbeatMs: 100, probeAfterMs: 300, downAfterMs: 60_000 });
    t.diagnostic(`declared down ${ms.toFixed(0)} ms after SIGKILL (probeAfterMs 300)`);
  });

  it('asks a silent node that still has its connection, and waits downAfterMs for it', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    // A node as another program would be one: a heartbeat, then silence, while it answers questions.
    const raw = await connect({ servers: n.url });
    let asked = 0;
    raw.subscribe('probe-quiet.alive.quiet.boot1', {
      callback: (_err, msg) => {
        asked++;
        msg.respond();
      },
    });
    // And one with no connection left to answer on: it is gone as soon as it is asked.
    await raw.flush();
    const a = new ActorSystem();
    const downAt = new Map<string, number>();
    a.subscribe((e: SystemEvent) => {
      if (e.type === 'nodedown') downAt.set(e.node, performance.now());
    });
    const downAfterMs = 1_500;
    const ca = await joinCluster(a, {
      servers: n.url,
      node: 'watcher',
      cluster: 'probe-quiet',
      heartbeatMs: 100,
      probeAfterMs: 200,
      downAfterMs,
    });
    try {
      const beatAt = performance.now();
      raw.publish('probe-quiet.hb', pack({ node: 'quiet', boot: 'boot1' }));
      raw.publish('probe-quiet.hb', pack({ node: 'gone', boot: 'boot2' }));
      await until(() => downAt.has('quiet') && downAt.has('gone'), 'both to be declared down', 20_000);
      assert.ok(asked >= 1, 'the silent node was asked');
      const quietMs = (downAt.get('quiet') as number) - beatAt;
      const goneMs = (downAt.get('gone') as number) - beatAt;
      t.diagnostic(
        `answering node down after ${quietMs.toFixed(0)} ms (asked ${asked} times); gone one ${goneMs.toFixed(0)} ms`,
      );
      assert.ok(quietMs >= downAfterMs, `a node that answers is not declared down before downAfterMs (${quietMs} ms)`);
      assert.ok(
        (downAt.get('gone') as number) < (downAt.get('quiet') as number),
        'the one nobody answers for went first',
      );
    } finally {
      await ca.leave();
      await raw.close();
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

  it('remembers the newest 1,024 nodes that went down, not every name it ever saw', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = new ActorSystem();
    const cluster = 'forget';
    const ca = await joinCluster(a, { servers: n.url, node: 'a', cluster, ...FAST });
    const raw = await connect({ servers: n.url });
    /** What a says to a (fake) node's run: the kinds of its frames. */
    const kinds = (node: string, boot: string) => {
      const got: number[] = [];
      raw.subscribe(`${cluster}.n.${node}.${boot}`, {
        callback: (_e, m) => {
          const f = unpack(m.data) as unknown[];
          if (Array.isArray(f)) got.push(f[0] as number);
        },
      });
      return got;
    };
    const beat = (node: string, boot: string) => raw.publish(`${cluster}.hb`, pack({ node, boot }));
    const RESYNC = 8;
    /** A fake node heard once, then silent until a declares it down. */
    const upAndDown = async (names: string[]) => {
      for (const name of names) beat(name, 'r1');
      await until(() => names.every((x) => a.nodes().includes(x)), 'a to see them up');
      await until(() => names.every((x) => !a.nodes().includes(x)), 'a to declare them down', 10_000);
    };
    try {
      // A node that went down and comes back (the same run): remembered, so a resyncs with it.
      await upAndDown(['kept']);
      const toKept = kinds('kept', 'r1');
      await raw.flush();
      beat('kept', 'r1');
      await until(() => toKept.includes(RESYNC), 'a to resync with the run it remembers');
      await upAndDown(['kept']);
      // Then 1,024 other names go down: the oldest, kept, is forgotten, and comes back as new.
      await upAndDown(Array.from({ length: 1_024 }, (_, i) => `gone${i}`));
      const again = kinds('kept', 'r1');
      await raw.flush();
      beat('kept', 'r1');
      await until(() => again.length > 0 && a.nodes().includes('kept'), 'a to see it up again');
      await raw.flush();
      assert.equal(again.includes(RESYNC), false, 'forgotten: a new node to a, not a run that came back');
    } finally {
      await raw.close();
      await ca.leave();
    }
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
    await assert.rejects(
      joinCluster(new ActorSystem(), { servers: 'nats://127.0.0.1:1', heartbeatMs: 100, probeAfterMs: 50 }),
      /probeAfterMs must be between heartbeatMs \(100\) and downAfterMs \(1000\); got 50/,
    );
    // A dot would split the node's subject token in two.
    await assert.rejects(
      joinCluster(new ActorSystem(), { servers: 'nats://127.0.0.1:1', node: 'a.b' }),
      /node must be 1-128 of A-Z a-z 0-9 _ -; got 'a.b'/,
    );
  });
});
