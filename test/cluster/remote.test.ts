/**
 * Remote refs against a real nats-server: a ref to an actor on another node sends and calls as a
 * local one does, keeps the order of one sender's messages, travels inside messages and comes back
 * as a working ref (the very local actor, when it comes home); links, monitors and exit signals
 * cross nodes with OTP's semantics; a lost node (a process killed with SIGKILL) ends its links,
 * monitors and pending calls with `noconnection` when it is declared down, never at a timeout.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RemoteError } from '@troupe/cluster';
import {
  ActorSystem,
  ExitError,
  type ExitReason,
  type InfoMessage,
  type MonitorRef,
  type Ref,
  type Reply,
  TimeoutError,
} from 'troupe';
import { childNode, FAST, node, pair, server, sleep, until, withNats } from './harness.js';

withNats();

type Echo =
  | { type: 'echo'; text: string; reply: Reply<string> }
  | { type: 'tell'; to: Ref<string>; text: string }
  | { type: 'crash'; why: string }
  | { type: 'slow'; reply: Reply<string> }
  | { type: 'whoami'; reply: Reply<Ref<Echo>> };

function echo(log: unknown[] = []) {
  return {
    init: () => undefined,
    receive(_s: undefined, msg: Echo, ctx: { self: Ref<Echo> }) {
      log.push(msg);
      switch (msg.type) {
        case 'echo':
          msg.reply(`echo: ${msg.text}`);
          return undefined;
        case 'tell':
          msg.to.send(msg.text);
          return undefined;
        case 'crash':
          throw new Error(msg.why);
        case 'slow':
          return undefined; // never replies
        case 'whoami':
          msg.reply(ctx.self);
          return undefined;
      }
    },
  };
}

describe('remote refs', () => {
  it('send and call a remote actor as a local one, by a ref from the cluster registry', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-basic');
    try {
      const onB = b.system.spawn(echo());
      assert.deepEqual(await b.cluster.registry.register('echo', onB), { ok: true });
      await until(() => a.cluster.registry.whereis('echo') !== undefined, 'a to see the name');
      const remote = a.cluster.registry.whereis('echo') as unknown as Ref<Echo>;
      assert.equal(remote.node, 'b');
      assert.equal(remote.id, onB.id);
      assert.match(String(remote), /^Ref<\d+@b>$/);
      assert.equal(await remote.call({ type: 'echo', text: 'hi' }), 'echo: hi');
      // The remote actor's own ref, come home: the very local ref, the same object.
      assert.equal(await remote.call({ type: 'whoami' }), remote, 'a ref to b as seen from a is interned');
      // A's local ref travels to b inside a message and works there: b tells it.
      const got: string[] = [];
      const inbox = a.system.spawn((s: string) => void got.push(s));
      assert.equal(remote.send({ type: 'tell', to: inbox, text: 'from b' }), true);
      await until(() => got.length === 1, 'the message sent back through the travelled ref');
      assert.deepEqual(got, ['from b']);
    } finally {
      await close();
    }
  });

  it('brings a local ref that went away and came back home as the same object', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-home');
    try {
      type Bounce = { type: 'bounce'; ref: Ref<never>; reply: Reply<Ref<never>> };
      const bouncer = b.system.spawn((msg: Bounce) => msg.reply(msg.ref));
      await b.cluster.registry.register('bouncer', bouncer);
      await until(() => a.cluster.registry.whereis('bouncer') !== undefined, 'the bouncer');
      const r = a.cluster.registry.whereis('bouncer') as unknown as Ref<Bounce>;
      const mine = a.system.spawn((_m: unknown) => {});
      assert.equal(await r.call({ type: 'bounce', ref: mine as Ref<never> }), mine);
    } finally {
      await close();
    }
  });

  it('keeps the order of one sender’s messages to one receiver', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-order');
    try {
      const seen: number[] = [];
      const sink = b.system.spawn((i: number) => void seen.push(i));
      await b.cluster.registry.register('sink', sink);
      await until(() => a.cluster.registry.whereis('sink') !== undefined, 'the sink');
      const r = a.cluster.registry.whereis('sink') as unknown as Ref<number>;
      for (let i = 0; i < 5_000; i++) r.send(i);
      await until(() => seen.length === 5_000, 'all 5,000 messages');
      assert.deepEqual(
        seen,
        Array.from({ length: 5_000 }, (_, i) => i),
      );
    } finally {
      await close();
    }
  });

  it('carries data types faithfully: Maps, Sets, Dates, bigints, bytes, nested refs', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-types');
    try {
      const got: unknown[] = [];
      const sink = b.system.spawn((m: unknown) => void got.push(m));
      await b.cluster.registry.register('sink', sink);
      await until(() => a.cluster.registry.whereis('sink') !== undefined, 'the sink');
      const r = a.cluster.registry.whereis('sink') as unknown as Ref<unknown>;
      const local = a.system.spawn((_m: unknown) => {});
      const msg = {
        map: new Map<string, number>([['k', 1]]),
        set: new Set([1, 2]),
        when: new Date(1_700_000_000_000),
        big: 2n ** 70n,
        bytes: new Uint8Array([1, 2, 3]),
        deep: { list: [{ ref: local }] },
        missing: undefined,
      };
      r.send(msg);
      await until(() => got.length === 1, 'the message');
      const m = got[0] as typeof msg;
      assert.deepEqual(m.map, msg.map);
      assert.deepEqual(m.set, msg.set);
      assert.equal(m.when.getTime(), msg.when.getTime());
      assert.equal(m.big, msg.big);
      assert.deepEqual([...m.bytes], [1, 2, 3]);
      const travelled = m.deep.list[0]?.ref as Ref<never>;
      assert.equal(travelled.node, 'a');
      assert.equal(travelled.id, local.id);
      assert.equal(travelled.alive, true);
    } finally {
      await close();
    }
  });

  it('fails at the sender, with a clear error, a message that cannot travel', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-encode');
    try {
      const sink = b.system.spawn(echo());
      await b.cluster.registry.register('sink', sink);
      await until(() => a.cluster.registry.whereis('sink') !== undefined, 'the sink');
      const r = a.cluster.registry.whereis('sink') as unknown as Ref<unknown>;
      assert.throws(() => r.send({ type: 'x', cb: () => 1 }), {
        name: 'TypeError',
        message: /Ref<\d+@b>\.send\(msg\): the message cannot travel to another node: it holds a function/,
      });
      assert.throws(() => r.send({ type: 'x', s: Symbol('no') }), /it holds a symbol/);
      const cyclic: Record<string, unknown> = { type: 'x' };
      cyclic.self = cyclic;
      assert.throws(() => r.send(cyclic), /it holds a cycle/);
      await assert.rejects((r as unknown as Ref<Echo>).call({ type: 'echo', text: (() => 'x') as never }), {
        name: 'TypeError',
        message: /call\(request\): the message cannot travel/,
      });
    } finally {
      await close();
    }
  });

  it('rejects a call with the remote actor’s real exit reason, or noproc for one already gone', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-callexit');
    try {
      type Dies = { type: 'die'; reply: Reply<never> };
      const dies = b.system.spawn((msg: Dies) => {
        throw new Error(`died handling ${msg.type}`);
      });
      await b.cluster.registry.register('dies', dies);
      await until(() => a.cluster.registry.whereis('dies') !== undefined, 'the actor');
      const r = a.cluster.registry.whereis('dies') as unknown as Ref<Dies>;
      const e = await r.call({ type: 'die' }).then(
        () => assert.fail('resolved'),
        (err: unknown) => err,
      );
      assert.ok(e instanceof ExitError);
      assert.ok(e.reason instanceof RemoteError, 'an Error reason arrives as a RemoteError');
      assert.equal(e.reason.message, 'died handling die');
      assert.equal(e.reason.node, 'b');
      assert.match(e.reason.stack ?? '', /died handling die/, 'with the stack from where it was thrown');
      assert.equal(r.alive, false, 'a call that saw the actor exit marks the ref dead');
      await assert.rejects(r.call({ type: 'die' }), (err: unknown) => err instanceof ExitError);
    } finally {
      await close();
    }
  });

  it('links across nodes: a remote crash kills a linked actor or reaches a trapping one as EXIT', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-links');
    try {
      const worker = b.system.spawn(echo());
      await b.cluster.registry.register('worker', worker);
      await until(() => a.cluster.registry.whereis('worker') !== undefined, 'the worker');
      const r = a.cluster.registry.whereis('worker') as unknown as Ref<Echo>;
      const infos: InfoMessage[] = [];
      const trapper = a.system.spawn(
        {
          init: (ctx) => {
            ctx.trapExit();
            ctx.link(r as Ref<never>);
          },
          receive: () => undefined,
          info: (_s, msg) => {
            infos.push(msg);
          },
        },
        { label: 'trapper' },
      );
      const plain = a.system.spawn({ init: (ctx) => ctx.link(r as Ref<never>), receive: () => undefined });
      await sleep(100); // the links cross
      r.send({ type: 'crash', why: 'remote boom' });
      const reason = await a.system.exited(plain);
      assert.ok(reason instanceof RemoteError);
      assert.equal(reason.message, 'remote boom');
      await until(() => infos.length === 1, 'the EXIT message');
      const exit = infos[0];
      assert.equal(exit?.type, 'EXIT');
      assert.equal(exit?.type === 'EXIT' ? exit.from : undefined, r, 'from is the remote ref');
      assert.equal(exit?.type === 'EXIT' && exit.reason instanceof Error ? exit.reason.message : '', 'remote boom');
      assert.equal(trapper.alive, true);
    } finally {
      await close();
    }
  });

  it('links across nodes both ways: a local exit reaches the remote side; unlink stops it', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-links2');
    try {
      const bSeen: InfoMessage[] = [];
      const watcher = b.system.spawn({
        init: (ctx) => ctx.trapExit(),
        receive: (_s: undefined, msg: { type: 'link' | 'unlink'; to: Ref<never>; reply: Reply<true> }, ctx) => {
          if (msg.type === 'link') ctx.link(msg.to);
          else ctx.unlink(msg.to);
          msg.reply(true);
        },
        info: (_s, msg) => {
          bSeen.push(msg);
        },
      });
      await b.cluster.registry.register('watcher', watcher);
      await until(() => a.cluster.registry.whereis('watcher') !== undefined, 'the watcher');
      const w = a.cluster.registry.whereis('watcher') as unknown as Ref<{
        type: 'link' | 'unlink';
        to: Ref<never>;
        reply: Reply<true>;
      }>;
      const first = a.system.spawn((_m: unknown) => {});
      const second = a.system.spawn((_m: unknown) => {});
      await w.call({ type: 'link', to: first as Ref<never> });
      await w.call({ type: 'link', to: second as Ref<never> });
      await w.call({ type: 'unlink', to: second as Ref<never> });
      a.system.exit(second as Ref<never>, { shutdown: 'unlinked, unseen' });
      a.system.exit(first as Ref<never>, { shutdown: 'bye' });
      await until(() => bSeen.length >= 1, 'the EXIT on b');
      await sleep(100);
      assert.equal(bSeen.length, 1, 'only the linked one');
      const m = bSeen[0];
      assert.ok(m?.type === 'EXIT');
      assert.deepEqual(m.reason, { shutdown: 'bye' });
      assert.equal(m.from.node, 'a');
      assert.equal(m.from.id, first.id);
    } finally {
      await close();
    }
  });

  it('monitors across nodes: one DOWN with the real reason; demonitor stops it; noproc for the dead', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-mon');
    try {
      const target = b.system.spawn(echo());
      const other = b.system.spawn(echo());
      await b.cluster.registry.register('target', target);
      await b.cluster.registry.register('other', other);
      await until(() => a.cluster.registry.whereis('other') !== undefined, 'the names');
      const r = a.cluster.registry.whereis('target') as unknown as Ref<Echo>;
      const o = a.cluster.registry.whereis('other') as unknown as Ref<Echo>;
      const downs: Array<{ monitor: MonitorRef; reason: ExitReason }> = [];
      let dropped: MonitorRef | undefined;
      a.system.spawn({
        init: (ctx) => {
          ctx.monitor(r as Ref<never>);
          dropped = ctx.monitor(o as Ref<never>);
          assert.equal(ctx.demonitor(dropped), true);
        },
        receive: () => undefined,
        info: (_s, msg) => {
          if (msg.type === 'DOWN') downs.push({ monitor: msg.monitor, reason: msg.reason });
        },
      });
      const fromOutside: ExitReason[] = [];
      a.system.monitor(r as Ref<never>, (reason) => fromOutside.push(reason));
      await sleep(100);
      b.system.exit(other as Ref<never>, 'shutdown');
      b.system.exit(target as Ref<never>, { shutdown: 'maintenance' });
      await until(() => downs.length === 1 && fromOutside.length === 1, 'the DOWNs');
      await sleep(100);
      assert.deepEqual(
        downs.map((d) => d.reason),
        [{ shutdown: 'maintenance' }],
      );
      assert.notEqual(downs[0]?.monitor, dropped);
      assert.deepEqual(fromOutside, [{ shutdown: 'maintenance' }]);
      // Monitoring an actor that is already gone (a never saw it go: it had demonitored): noproc.
      const late: ExitReason[] = [];
      a.system.monitor(o as Ref<never>, (reason) => late.push(reason));
      await until(() => late.length === 1, 'the noproc');
      assert.deepEqual(late, ['noproc']);
    } finally {
      await close();
    }
  });

  it('sends exit signals across nodes, by OTP’s rules (kill is untrappable)', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-exit');
    try {
      const seen: InfoMessage[] = [];
      const trapping = b.system.spawn({
        init: (ctx) => ctx.trapExit(),
        receive: () => undefined,
        info: (_s, m) => void seen.push(m),
      });
      const plain = b.system.spawn((_m: unknown) => {});
      await b.cluster.registry.register('trapping', trapping);
      await b.cluster.registry.register('plain', plain);
      await until(() => a.cluster.registry.whereis('plain') !== undefined, 'the names');
      const tr = a.cluster.registry.whereis('trapping') as Ref<never>;
      const pl = a.cluster.registry.whereis('plain') as Ref<never>;
      const sender = a.system.spawn({
        receive: (_s: undefined, m: 'go', ctx) => {
          void m;
          ctx.exit(tr, 'shutdown');
          ctx.exit(pl, 'normal'); // ignored by a non-trapping actor
        },
      });
      sender.send('go');
      await until(() => seen.length === 1, 'the EXIT message');
      assert.ok(seen[0]?.type === 'EXIT');
      assert.equal(seen[0].from.id, sender.id);
      assert.equal(seen[0].from.node, 'a');
      assert.equal(seen[0].reason, 'shutdown');
      await sleep(50);
      assert.equal(plain.alive, true, 'normal does not kill');
      a.system.kill(tr);
      assert.equal(await b.system.exited(trapping as Ref<never>), 'killed');
    } finally {
      await close();
    }
  });

  it('ends links, monitors and calls to a node killed with SIGKILL with noconnection, not at a timeout', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const a = await node(n.url, 'survivor', 'r-sigkill');
    const victim = childNode(n.url, 'victim', 'r-sigkill', 'victim');
    try {
      await until(() => victim.lines.includes('ready'), 'the victim node', 20_000);
      await until(
        () => a.cluster.registry.whereis('victim') !== undefined && a.cluster.registry.whereis('holder') !== undefined,
        'its names',
      );
      const r = a.cluster.registry.whereis('victim') as unknown as Ref<{ type: 'never'; reply: Reply<never> }>;
      const holder = a.cluster.registry.whereis('holder') as Ref<never>;
      const infos: InfoMessage[] = [];
      a.system.spawn({
        init: (ctx) => {
          ctx.trapExit();
          ctx.link(holder);
          ctx.monitor(r as Ref<never>);
        },
        receive: () => undefined,
        info: (_s, m) => void infos.push(m),
      });
      const linkedPlain = a.system.spawn({ init: (ctx) => ctx.link(holder), receive: () => undefined });
      await sleep(100);
      const pending = r.call({ type: 'never' }, { timeoutMs: 30_000 });
      const outcome = pending.then(
        () => 'resolved',
        (e: unknown) => e,
      );
      await sleep(50);
      const killedAt = performance.now();
      victim.kill();
      const e = await outcome;
      const took = performance.now() - killedAt;
      assert.ok(e instanceof ExitError, `rejected with ExitError, got ${String(e)}`);
      assert.equal(e.reason, 'noconnection');
      assert.ok(
        took < 5_000,
        `rejected when the node was declared down (${took.toFixed(0)} ms), not at the 30 s timeout`,
      );
      t.diagnostic(`pending call rejected ${took.toFixed(0)} ms after SIGKILL (downAfterMs ${FAST.downAfterMs})`);
      assert.equal(await a.system.exited(linkedPlain), 'noconnection');
      await until(() => infos.length === 2, 'the EXIT and the DOWN');
      const kinds = infos.map((m) => `${m.type} ${String(m.reason)}`).sort();
      assert.deepEqual(kinds, ['DOWN noconnection', 'EXIT noconnection']);
      assert.equal(r.alive, false);
      // After it is down: at once, no waiting.
      const t0 = performance.now();
      await assert.rejects(
        r.call({ type: 'never' }, { timeoutMs: 30_000 }),
        (err: unknown) => err instanceof ExitError && err.reason === 'noconnection',
      );
      assert.ok(performance.now() - t0 < 100);
      assert.equal(r.send({ type: 'never' } as never), false, 'a send to a down node is not queued');
    } finally {
      victim.kill();
      await a.cluster.leave();
    }
  });

  it('refuses what cannot be done to a remote actor, saying what to do instead', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-refuse');
    try {
      await b.cluster.registry.register('far', b.system.spawn(echo()));
      await until(() => a.cluster.registry.whereis('far') !== undefined, 'the name');
      const far = a.cluster.registry.whereis('far') as Ref<never>;
      await assert.rejects(
        a.system.stop(far),
        /system\.stop: Ref<\d+@b> runs on node 'b'; stop it there, or send it an exit signal/,
      );
      // A remote ref of a's cluster means nothing to another system.
      const other = new ActorSystem();
      assert.throws(
        () => other.monitor(far, () => {}),
        /is not an actor of this system, nor a remote actor of its cluster/,
      );
      assert.throws(() => other.kill(far), /system\.kill/);
      await other.shutdown();
    } finally {
      await close();
    }
  });

  it('rejects a call to an earlier run of a node at once (NATS no-responders)', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'r-norsp');
    try {
      // A slow call; b leaves, so its subject has no listener; a ref to it held by a now answers noconnection.
      const slow = b.system.spawn(echo());
      await b.cluster.registry.register('slow', slow);
      await until(() => a.cluster.registry.whereis('slow') !== undefined, 'the name');
      const r = a.cluster.registry.whereis('slow') as unknown as Ref<Echo>;
      const call = r.call({ type: 'slow' }, { timeoutMs: 20_000 }).catch((e: unknown) => e);
      await b.cluster.leave();
      const e = await call;
      assert.ok(e instanceof ExitError && e.reason === 'noconnection', String(e));
      await assert.rejects(
        r.call({ type: 'echo', text: 'x' }, { timeoutMs: 50 }),
        (err: unknown) => err instanceof ExitError,
      );
      assert.ok(!(e instanceof TimeoutError));
    } finally {
      await close();
    }
  });
});

describe('frames too big for the bus', () => {
  const BIG = 'x'.repeat(2_000_000);
  type Big = { type: 'big'; reply: Reply<string> } | { type: 'die'; error: boolean } | { type: 'take'; data: string };

  it('answers a call whose request or reply is over max_payload with an error at once, not a timeout', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'big-reply');
    try {
      const onB = b.system.spawn((m: Big) => {
        if (m.type === 'big') m.reply(BIG);
      });
      await b.cluster.registry.register('big', onB);
      await until(() => a.cluster.registry.whereis('big') !== undefined, 'the name on a');
      const remote = a.cluster.registry.whereis('big') as unknown as Ref<Big>;
      const reply = await remote.call({ type: 'big' }, { timeoutMs: 60_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.match(String(reply), /max_payload/);
      const request = await remote.call({ type: 'take', data: BIG } as never, { timeoutMs: 60_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(request instanceof RangeError && /max_payload/.test(request.message), String(request));
    } finally {
      await close();
    }
  });

  it('tells remote monitors of an exit whose reason is over max_payload, of the same kind', async (t) => {
    const n = server(t);
    if (n === undefined) return;
    const { a, b, close } = await pair(n.url, 'big-reason');
    try {
      for (const error of [false, true]) {
        const onB = b.system.spawn((m: Big, ctx: { stop(r: unknown): void }) => {
          if (m.type === 'die') ctx.stop(m.error ? new Error(BIG) : { shutdown: BIG });
        });
        const name = `dies-${error}`;
        await b.cluster.registry.register(name, onB);
        await until(() => a.cluster.registry.whereis(name) !== undefined, 'the name on a');
        const remote = a.cluster.registry.whereis(name) as unknown as Ref<Big>;
        let down: unknown;
        a.system.monitor(remote as Ref<never>, (r) => {
          down = r;
        });
        await sleep(100); // the monitor is set up on b
        remote.send({ type: 'die', error });
        await until(() => down !== undefined, 'DOWN on a');
        if (error) assert.ok(down instanceof Error && /too big for the bus/.test(down.message), String(down));
        else assert.match(String((down as { shutdown: unknown }).shutdown), /too big for the bus/);
      }
    } finally {
      await close();
    }
  });
});
