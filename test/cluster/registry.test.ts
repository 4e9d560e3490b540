/**
 * The cluster registry against a real nats-server with JetStream: a name is one live actor
 * cluster-wide; lookups answer from the local cache; a name is freed when its actor exits, its node
 * leaves, or its node is declared down (a process killed with SIGKILL); `via` names register
 * children as they start; and a node cut off from NATS (its connection dropped by a proxy) never
 * leaves two live owners of one name, before, during or after it comes back.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { joinCluster, RegistryUnavailableError } from '@troupe/cluster';
import { ActorSystem, key, NameTakenError, type Ref, supervisor } from 'troupe';
import { childNode, FAST, node, pair, server, sleep, until, withNats } from './harness.js';
import { startProxy } from './nats.js';

withNats();

const idle = (_m: unknown) => {};

describe('cluster registry', () => {
  it('registers, looks up from every node, refuses a taken name with its holder, unregisters', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'g-basic');
    try {
      const mine = a.system.spawn(idle);
      const theirs = b.system.spawn(idle);
      assert.deepEqual(await a.cluster.registry.register('leader', mine), { ok: true });
      assert.equal(a.cluster.registry.whereis('leader'), mine, 'at once on the registering node');
      await until(() => b.cluster.registry.whereis('leader') !== undefined, 'b to see it');
      const seen = b.cluster.registry.whereis('leader') as Ref<never>;
      assert.equal(seen.node, 'a');
      assert.equal(seen.id, mine.id);
      const refused = await b.cluster.registry.register('leader', theirs);
      assert.equal(refused.ok, false);
      assert.ok(!refused.ok && refused.reason === 'taken' && refused.ref === seen, 'with the holder, as b sees it');
      assert.deepEqual(a.cluster.registry.held(), ['leader']);
      assert.deepEqual(b.cluster.registry.names(), ['leader']);
      assert.equal(await b.cluster.registry.unregister('leader'), false, 'only its holder unregisters it');
      assert.equal(await a.cluster.registry.unregister('leader'), true);
      await until(() => b.cluster.registry.whereis('leader') === undefined, 'b to see it go');
      assert.deepEqual(await b.cluster.registry.register('leader', theirs), { ok: true });
      await until(() => a.cluster.registry.whereis('leader') !== undefined, 'a to see the new holder');
      assert.equal(a.cluster.registry.whereis('leader')?.node, 'b');
    } finally {
      await close();
    }
  });

  it('types lookups by key<M>, and refuses remote actors and bad names with clear errors', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'g-typed');
    try {
      const COUNTER = key<{ type: 'inc' }>('counter');
      const got: string[] = [];
      const counter = b.system.spawn((m: { type: 'inc' }) => void got.push(m.type));
      await b.cluster.registry.register(COUNTER, counter);
      await until(() => a.cluster.registry.whereis(COUNTER) !== undefined, 'the counter');
      a.cluster.registry.whereis(COUNTER)?.send({ type: 'inc' });
      await until(() => got.length === 1, 'the message');
      const remote = a.cluster.registry.whereis(COUNTER) as Ref<never>;
      await assert.rejects(a.cluster.registry.register('x', remote), /is an actor of node 'b'; register it there/);
      await assert.rejects(
        a.cluster.registry.register('', a.system.spawn(idle)),
        /a cluster name is a non-empty string/,
      );
      // Any string is a name: dots, slashes and spaces too.
      const odd = a.system.spawn(idle);
      assert.deepEqual(await a.cluster.registry.register('room/lobby.main 1', odd), { ok: true });
      await until(() => b.cluster.registry.whereis('room/lobby.main 1') !== undefined, 'the odd name');
    } finally {
      await close();
    }
  });

  it('gives a name to exactly one of many racing claims across nodes', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'g-race');
    try {
      const claims = [];
      for (let i = 0; i < 10; i++) {
        claims.push(a.cluster.registry.register(`job-${i % 2}`, a.system.spawn(idle)));
        claims.push(b.cluster.registry.register(`job-${i % 2}`, b.system.spawn(idle)));
      }
      const results = await Promise.all(claims);
      assert.equal(results.filter((r) => r.ok).length, 2, 'one winner per name');
    } finally {
      await close();
    }
  });

  it('frees a name when its actor exits, when its node leaves, and when its node is SIGKILLed', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'g-free');
    const victim = childNode(n.url, 'victim', 'g-free', 'victim');
    try {
      const worker = b.system.spawn(idle);
      await b.cluster.registry.register('worker', worker);
      await until(() => a.cluster.registry.whereis('worker') !== undefined, 'the worker');
      b.system.kill(worker as Ref<never>);
      await until(() => a.cluster.registry.whereis('worker') === undefined, 'the name freed by the exit');
      assert.deepEqual(await a.cluster.registry.register('worker', a.system.spawn(idle)), { ok: true });

      await until(() => victim.lines.includes('ready'), 'the victim node', 20_000);
      await until(() => a.cluster.registry.whereis('victim') !== undefined, 'its names');
      const killedAt = performance.now();
      victim.kill();
      await until(() => a.cluster.registry.names().includes('victim') === false, 'its names freed', 5_000);
      t.diagnostic(`names of a SIGKILLed node freed after ${(performance.now() - killedAt).toFixed(0)} ms`);
      assert.deepEqual(await a.cluster.registry.register('victim', a.system.spawn(idle)), { ok: true });

      const leaving = await node(n.url, 'leaving', 'g-free');
      await leaving.cluster.registry.register('temp', leaving.system.spawn(idle));
      await until(() => a.cluster.registry.whereis('temp') !== undefined, 'temp');
      await leaving.cluster.leave();
      await until(
        () => a.cluster.registry.whereis('temp') === undefined && !a.cluster.registry.names().includes('temp'),
        'temp freed by leaving',
      );
    } finally {
      victim.kill();
      await close();
    }
  });

  it('registers a supervised child by a via name as it starts; a taken name fails its start', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'g-via');
    try {
      const sup = a.system.spawn(
        supervisor({ children: [{ id: 'singleton', behavior: idle, name: a.cluster.registry.via('singleton') }] }),
      );
      void sup;
      await until(() => b.cluster.registry.whereis('singleton') !== undefined, 'b to see the singleton');
      assert.equal(b.cluster.registry.whereis('singleton')?.node, 'a');
      const other = b.system.spawn(supervisor({ children: [] }));
      void other;
      assert.throws(
        () => b.system.spawn(idle, { name: b.cluster.registry.via('singleton') }),
        (e: unknown) => e instanceof NameTakenError,
      );
    } finally {
      await close();
    }
  });

  it('exits the loser of a via claim raced on two nodes, leaving one owner', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'g-viarace');
    try {
      const x = a.system.spawn(idle, { name: a.cluster.registry.via('solo') });
      const y = b.system.spawn(idle, { name: b.cluster.registry.via('solo') });
      const [rx, ry] = await Promise.all([
        Promise.race([a.system.exited(x as Ref<never>), sleep(1_500).then(() => 'alive')]),
        Promise.race([b.system.exited(y as Ref<never>), sleep(1_500).then(() => 'alive')]),
      ]);
      const outcomes = [rx, ry];
      assert.equal(outcomes.filter((o) => o === 'alive').length, 1, `one survivor: ${String(outcomes)}`);
      const lost = outcomes.find((o) => o !== 'alive');
      assert.ok(lost instanceof NameTakenError, `the loser exits with NameTakenError, got ${String(lost)}`);
      await until(
        () =>
          a.cluster.registry.whereis('solo') !== undefined &&
          a.cluster.registry.whereis('solo')?.id === b.cluster.registry.whereis('solo')?.id,
        'both nodes to agree',
      );
    } finally {
      await close();
    }
  });

  it('never has two live owners of a name when a node is cut off from NATS and comes back', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const proxy = await startProxy(n.port);
    const a = await node(n.url, 'a', 'g-cut');
    const bSystem = new ActorSystem();
    const b = await joinCluster(bSystem, { servers: proxy.url, node: 'b', cluster: 'g-cut', ...FAST });
    let sample: ReturnType<typeof setInterval> | undefined;
    try {
      await until(() => a.system.nodes().includes('b') && bSystem.nodes().includes('a'), 'a and b');
      const onB = bSystem.spawn(idle);
      assert.deepEqual(await b.registry.register('owner', onB), { ok: true });
      await until(() => a.cluster.registry.whereis('owner') !== undefined, 'a to see b own it');

      /** Who each node says owns the name; a violation is each node naming a live actor of its own. */
      const violations: string[] = [];
      const onA = a.system.spawn(idle);
      sample = setInterval(() => {
        const fromA = a.cluster.registry.whereis('owner');
        const fromB = b.registry.whereis('owner');
        if (fromA === onA && fromB === onB && onA.alive && onB.alive) violations.push('both own it');
      }, 2);
      proxy.cut();
      await until(() => !a.system.nodes().includes('b'), 'a to declare b down');
      await until(() => a.cluster.registry.whereis('owner') === undefined, 'a to free b’s name');
      assert.deepEqual(await a.cluster.registry.register('owner', onA), { ok: true }, 'a takes the freed name');
      assert.equal(b.registry.whereis('owner'), undefined, 'b, cut off, no longer answers for its name');
      await assert.rejects(
        b.registry.register('another', bSystem.spawn(idle)),
        (e: unknown) => e instanceof RegistryUnavailableError,
      );
      proxy.restore();
      // b is back: its lease was lost, so its actor exits; a's stays.
      const reason = await Promise.race([bSystem.exited(onB as Ref<never>), sleep(10_000).then(() => 'still alive')]);
      assert.ok(reason instanceof NameTakenError, `b's actor exits with NameTakenError, got ${String(reason)}`);
      await until(
        () => b.registry.whereis('owner')?.id === onA.id && b.registry.whereis('owner')?.node === 'a',
        'b to see a own it',
        10_000,
      );
      assert.equal(a.cluster.registry.whereis('owner'), onA);
      clearInterval(sample);
      assert.deepEqual(violations, []);
    } finally {
      clearInterval(sample);
      await b.leave();
      await a.cluster.leave();
      await proxy.close();
    }
  });

  it('keeps a cut-off node’s names when nobody took them, and re-announces them', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const proxy = await startProxy(n.port);
    const a = await node(n.url, 'a', 'g-back');
    const bSystem = new ActorSystem();
    const b = await joinCluster(bSystem, { servers: proxy.url, node: 'b', cluster: 'g-back', ...FAST });
    try {
      await until(() => a.system.nodes().includes('b'), 'a sees b');
      const onB = bSystem.spawn(idle);
      await b.registry.register('kept', onB);
      await until(() => a.cluster.registry.whereis('kept') !== undefined, 'a sees the name');
      proxy.cut();
      await until(() => !a.system.nodes().includes('b'), 'b declared down');
      await until(() => a.cluster.registry.whereis('kept') === undefined, 'the name freed');
      proxy.restore();
      await until(() => a.system.nodes().includes('b'), 'b back', 10_000);
      await until(() => a.cluster.registry.whereis('kept')?.node === 'b', 'b’s name announced again', 10_000);
      assert.equal(onB.alive, true);
      // b answers for its own names once its heartbeat echo is back (it suspends them while the echo
      // is late, so that two nodes never both answer): a beat after a sees the announcement, or so.
      await until(() => b.registry.whereis('kept') === onB, 'b answers for its name again');
    } finally {
      await b.leave();
      await a.cluster.leave();
      await proxy.close();
    }
  });
  it('leaves at once while two re-opens race (the older one’s watch stopped by the newer)', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await node(n.url, 'a', 'g-twice');
    await a.cluster.registry.register('here', a.system.spawn(idle));
    // What a reconnect and its retry do; the one whose watch is stopped first must not wait for ever.
    const reg = a.cluster.registry as unknown as { reconnected(): Promise<void> };
    const both = Promise.all([reg.reconnected(), reg.reconnected()]);
    const settled = await Promise.race([both.then(() => 'opened'), sleep(10_000).then(() => 'stuck')]);
    assert.equal(settled, 'opened', 'both re-opens finish');
    assert.equal(a.cluster.registry.whereis('here')?.node, 'a', 'and the names are there');
    const left = await Promise.race([a.cluster.leave().then(() => 'left'), sleep(10_000).then(() => 'hung')]);
    assert.equal(left, 'left');
    await a.system.shutdown();
  });

  it('lets the process exit after a node leaves while its registry re-opens after a reconnect', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    // A leave during the re-open once left nats.js's watch timer running: the process never exited.
    const script = fileURLToPath(new URL('./fixtures/leave-after-reconnect.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, String(n.port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.on('exit', (c, s) => resolve([c, s])),
    );
    clearTimeout(guard);
    assert.match(out, /left 4/, 'every leave finished');
    assert.deepEqual([code, signal], [0, null], 'the process exits by itself once its nodes left');
  });
});

describe('a node restarted under the same name', () => {
  it('registers at once a name its killed earlier run held, which nobody had freed yet', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const cl = 'restart-same-name';
    const old = childNode(n.url, 'b', cl, 'victim');
    await until(() => old.lines.includes('ready'), 'the first run registered its names', 20_000);
    // SIGKILL: no goodbye, and no other node to declare it down and free its names.
    old.kill();
    await new Promise((r) => old.child.once('exit', r));
    const b = await node(n.url, 'b', cl);
    try {
      const victim = b.system.spawn((_m: unknown) => {});
      assert.deepEqual(await b.cluster.registry.register('victim', victim), { ok: true });
      assert.equal(b.cluster.registry.whereis('victim'), victim);
    } finally {
      await b.cluster.leave();
      await b.system.shutdown();
    }
  });
});

describe('a node that leaves', () => {
  it("a node's leave() leaves the other nodes' registry entries alone", async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const cl = 'rv-leave';
    const a = await node(n.url, 'a', cl);
    const b = await node(n.url, 'b', cl);
    const c = await node(n.url, 'c', cl);
    try {
      await until(
        () => a.system.nodes().length === 2 && b.system.nodes().length === 2 && c.system.nodes().length === 2,
        'all up',
      );
      const actor = b.system.spawn((_m: unknown) => {});
      assert.deepEqual(await b.cluster.registry.register('x', actor), { ok: true });
      await until(
        () => a.cluster.registry.whereis('x') !== undefined && c.cluster.registry.whereis('x') !== undefined,
        'x seen',
      );
      let gaps = 0;
      const probe = setInterval(() => {
        if (c.cluster.registry.whereis('x') === undefined) gaps++;
      }, 1);
      await a.cluster.leave(); // a holds no names at all
      await sleep(600);
      clearInterval(probe);
      assert.equal(gaps, 0, `c saw 'x' unregistered ${gaps} times after a (which never held it) left`);
      assert.equal(b.cluster.registry.whereis('x'), actor, "b's actor still holds 'x'");
    } finally {
      await b.cluster.leave();
      await c.cluster.leave();
      await a.system.shutdown();
      await b.system.shutdown();
      await c.system.shutdown();
    }
  });
});

describe('monitors of a long-lived actor', () => {
  it('stay as many after 50 register/unregister and join/leave cycles as after one', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await node(n.url, 'a', 'rv-mon-growth');
    try {
      const leader = a.system.spawn((_m: unknown) => {});
      const count = () => a.system.describe(leader, { relations: true })?.relations?.monitoredBy ?? -1;
      const cycle = async () => {
        assert.deepEqual(await a.cluster.registry.register('leader', leader), { ok: true });
        assert.equal(await a.cluster.registry.unregister('leader'), true);
        a.cluster.groups.join('g', leader);
        a.cluster.groups.leave('g', leader);
      };
      await cycle();
      const once = count();
      for (let i = 0; i < 49; i++) await cycle();
      assert.equal(count(), once, 'a monitor left behind per cycle');
    } finally {
      await a.cluster.leave();
      await a.system.shutdown();
    }
  });
});
