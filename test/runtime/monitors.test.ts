/**
 * Monitors: one-way watches. A watcher gets exactly one `DOWN` message (in its `info` handler) when
 * the target exits, `noproc` at once for a target that is already dead; `system.monitor` and
 * `system.exited` are the same from outside any actor.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActorSystem,
  type Context,
  type DownMessage,
  type ExitReason,
  type InfoMessage,
  type MonitorRef,
  type Ref,
  silentLogger,
} from 'troupe';
import { settle } from 'troupe/testing';

/** A message that runs in the actor's context. */
type Do = (ctx: Context<Do>) => void;

interface Watcher {
  readonly ref: Ref<Do>;
  readonly infos: InfoMessage[];
  /** Everything `receive` was given that was not a `Do` (must stay empty: DOWN never goes there). */
  readonly received: unknown[];
}

function watcher(system: ActorSystem): Watcher {
  const infos: InfoMessage[] = [];
  const received: unknown[] = [];
  const ref = system.spawn<Do, undefined>({
    receive(_state, msg, ctx) {
      if (typeof msg === 'function') msg(ctx);
      else received.push(msg);
    },
    info(_state, msg) {
      infos.push(msg);
    },
  });
  return { ref, infos, received };
}

function target(system: ActorSystem): Ref<Do> {
  return system.spawn<Do>((fn, ctx) => fn(ctx));
}

/** Has `w` monitor `t` and returns the monitor ref. */
async function monitor(system: ActorSystem, w: Watcher, t: Ref<never>): Promise<MonitorRef> {
  let id: MonitorRef | undefined;
  w.ref.send((ctx) => {
    id = ctx.monitor(t);
  });
  await settle(system);
  assert.ok(id !== undefined);
  return id;
}

const boom = new Error('boom');

describe('ctx.monitor', () => {
  it('delivers exactly one DOWN with the monitor, the actor and the reason to info', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const w = watcher(system);
    const t = target(system);
    const id = await monitor(system, w, t);
    assert.equal(w.infos.length, 0, 'nothing before the target exits');

    t.send(() => {
      throw boom;
    });
    await settle(system);
    system.kill(t); // a second exit attempt on a dead actor changes nothing
    w.ref.send(() => {});
    await settle(system);

    assert.equal(w.infos.length, 1);
    const down = w.infos[0] as DownMessage;
    assert.equal(down.type, 'DOWN');
    assert.equal(down.monitor, id);
    assert.equal(down.actor, t);
    assert.equal(down.reason, boom);
    assert.deepEqual(w.received, [], 'DOWN never reaches receive');
    assert.equal(w.ref.alive, true, 'a monitor never kills the watcher');
  });

  it('delivers one DOWN per monitor, each with its own monitor ref', async () => {
    const system = new ActorSystem();
    const w = watcher(system);
    const t = target(system);
    const first = await monitor(system, w, t);
    const second = await monitor(system, w, t);
    assert.notEqual(first, second);
    await system.stop(t, 'shutdown');
    await settle(system);
    assert.deepEqual(
      w.infos.map((m) => [(m as DownMessage).monitor, m.reason]),
      [
        [first, 'shutdown'],
        [second, 'shutdown'],
      ],
    );
  });

  it('delivers DOWN with noproc at once for a target that is already dead', async () => {
    const system = new ActorSystem();
    const w = watcher(system);
    const t = target(system);
    await system.stop(t, 'shutdown');
    const id = await monitor(system, w, t);
    assert.equal(w.infos.length, 1);
    const down = w.infos[0] as DownMessage;
    assert.deepEqual([down.type, down.monitor, down.actor === t, down.reason], ['DOWN', id, true, 'noproc']);
  });

  it('is ignored by a behaviour without an info handler', async () => {
    const system = new ActorSystem();
    const seen: unknown[] = [];
    const w = system.spawn<Do | string>((msg, ctx) => {
      if (typeof msg === 'function') msg(ctx as Context<Do>);
      else seen.push(msg);
    });
    const t = target(system);
    w.send((ctx) => ctx.monitor(t));
    await settle(system);
    system.kill(t);
    w.send('after');
    await settle(system);
    assert.deepEqual(seen, ['after']);
    assert.equal(w.alive, true);
  });

  it('is one-way: the watcher exiting does not affect the target', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const w = watcher(system);
    const t = target(system);
    await monitor(system, w, t);
    w.ref.send(() => {
      throw boom;
    });
    await settle(system);
    assert.equal(w.ref.alive, false);
    assert.equal(t.alive, true);

    // The dead watcher's monitor is gone: the target exiting later delivers nothing, breaks nothing.
    const seen: ExitReason[] = [];
    system.monitor(t, (r) => seen.push(r));
    await system.stop(t);
    assert.deepEqual(seen, ['normal']);
    assert.deepEqual(w.infos, []);
  });

  it('does not link: a trapping watcher gets DOWN, not EXIT', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const infos: InfoMessage[] = [];
    const w = system.spawn<Do, undefined>(
      {
        receive: (_s, fn, ctx) => fn(ctx),
        info: (_s, msg) => {
          infos.push(msg);
        },
      },
      { trapExit: true },
    );
    const t = target(system);
    w.send((ctx) => ctx.monitor(t));
    await settle(system);
    t.send(() => {
      throw boom;
    });
    await settle(system);
    assert.deepEqual(
      infos.map((m) => [m.type, m.reason]),
      [['DOWN', boom]],
    );
  });
});

describe('ctx.demonitor', () => {
  it('prevents the DOWN and returns true once, then false', async () => {
    const system = new ActorSystem();
    const w = watcher(system);
    const t = target(system);
    const id = await monitor(system, w, t);
    const results: boolean[] = [];
    w.ref.send((ctx) => {
      results.push(ctx.demonitor(id), ctx.demonitor(id));
    });
    await settle(system);
    system.kill(t);
    await settle(system);
    assert.deepEqual(results, [true, false]);
    assert.deepEqual(w.infos, []);
  });

  it('returns false after the DOWN was delivered, for a noproc monitor and for an unknown ref', async () => {
    const system = new ActorSystem();
    const w = watcher(system);
    const t = target(system);
    const fired = await monitor(system, w, t);
    system.kill(t);
    await settle(system);
    const noproc = await monitor(system, w, t);
    const results: boolean[] = [];
    w.ref.send((ctx) => {
      results.push(ctx.demonitor(fired), ctx.demonitor(noproc), ctx.demonitor(123_456 as MonitorRef));
    });
    await settle(system);
    assert.deepEqual(results, [false, false, false]);
  });

  it('removes only the monitor it names', async () => {
    const system = new ActorSystem();
    const w = watcher(system);
    const t = target(system);
    const dropped = await monitor(system, w, t);
    const kept = await monitor(system, w, t);
    w.ref.send((ctx) => ctx.demonitor(dropped));
    await settle(system);
    system.kill(t);
    await settle(system);
    assert.deepEqual(
      w.infos.map((m) => (m as DownMessage).monitor),
      [kept],
    );
  });

  it('removes the newest, a middle and the oldest of many monitors; the rest fire oldest first', async () => {
    const system = new ActorSystem();
    const w = watcher(system);
    const t = target(system);
    const ids: MonitorRef[] = [];
    for (let i = 0; i < 5; i++) ids.push(await monitor(system, w, t));
    const [m0, m1, m2, m3, m4] = ids as [MonitorRef, MonitorRef, MonitorRef, MonitorRef, MonitorRef];
    const results: boolean[] = [];
    w.ref.send((ctx) => {
      results.push(ctx.demonitor(m4), ctx.demonitor(m2), ctx.demonitor(m0), ctx.demonitor(m2));
    });
    await settle(system);
    system.kill(t);
    await settle(system);
    assert.deepEqual(results, [true, true, true, false]);
    assert.deepEqual(
      w.infos.map((m) => (m as DownMessage).monitor),
      [m1, m3],
    );
  });
});

describe('system.monitor', () => {
  it('calls the callback once with the exit reason', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const t = target(system);
    const seen: ExitReason[] = [];
    system.monitor(t, (reason) => seen.push(reason));
    assert.deepEqual(seen, []);
    t.send(() => {
      throw boom;
    });
    await settle(system);
    system.kill(t);
    await settle(system);
    assert.deepEqual(seen, [boom]);
  });

  it('calls the callback with noproc at once for a dead actor', async () => {
    const system = new ActorSystem();
    const t = target(system);
    system.kill(t);
    const seen: ExitReason[] = [];
    system.monitor(t, (reason) => seen.push(reason));
    assert.deepEqual(seen, ['noproc']);
  });

  it('returns a function that cancels the watch', async () => {
    const system = new ActorSystem();
    const t = target(system);
    const seen: ExitReason[] = [];
    const cancel = system.monitor(t, (reason) => seen.push(reason));
    system.monitor(t, (reason) => seen.push(`other: ${String(reason)}` as ExitReason));
    cancel();
    await system.stop(t);
    assert.deepEqual(seen, ['other: normal']);
  });

  it('tells one callback watching many actors which one exited, oldest watch first', async () => {
    const system = new ActorSystem();
    const [a, b, c] = [target(system), target(system), target(system)];
    const seen: Array<[string, ExitReason]> = [];
    const names = new Map<unknown, string>([
      [a, 'a'],
      [b, 'b'],
      [c, 'c'],
    ]);
    const onDown = (reason: ExitReason, ref: unknown) => void seen.push([names.get(ref) ?? '?', reason]);
    for (const t of [a, b, c]) system.monitor(t, onDown);
    system.monitor(b, (reason) => void seen.push(['b again', reason]));
    const cancelC = system.monitor(c, onDown);
    system.kill(b);
    cancelC();
    assert.equal(cancelC(), undefined, 'cancelling twice is harmless');
    await system.stop(a);
    await system.stop(c);
    assert.deepEqual(seen, [
      ['b', 'killed'],
      ['b again', 'killed'],
      ['a', 'normal'],
      ['c', 'normal'],
    ]);
  });

  it('still ends the actor, calls the other callbacks and resolves exited when one callback throws', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const ref = system.spawn((_m: string) => {});
    const seen: string[] = [];
    system.monitor(ref, () => {
      throw new Error('listener bug');
    });
    system.monitor(ref, (r) => void seen.push(String(r)));
    const exited = system.exited(ref);
    let threw: unknown;
    try {
      system.kill(ref);
    } catch (e) {
      threw = e;
    }
    await settle(system);
    let r: unknown = 'never';
    void exited.then((v) => {
      r = v;
    });
    await settle(system);
    assert.deepEqual(
      { threw: threw === undefined ? 'no' : String(threw), seen, exited: r },
      { threw: 'no', seen: ['killed'], exited: 'killed' },
    );
  });

  it('keeps a throwing callback from escaping as an uncaught exception when the actor crashes in the scheduler', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const ref = system.spawn((_m: string) => {
      throw new Error('boom');
    });
    system.monitor(ref, () => {
      throw new Error('listener bug');
    });
    const uncaught: unknown[] = [];
    const h = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', h);
    ref.send('x');
    await settle(system);
    process.off('uncaughtException', h);
    assert.deepEqual(uncaught.map(String), [], 'nothing should escape to uncaughtException (would crash the process)');
  });
});

describe('system.exited', () => {
  it('resolves with the exit reason when the actor exits', async () => {
    const system = new ActorSystem();
    const t = target(system);
    const reason = { shutdown: 'rebalance' };
    let settled: ExitReason | undefined;
    const exited = system.exited(t).then((r) => {
      settled = r;
      return r;
    });
    await settle(system);
    assert.equal(settled, undefined, 'pending while the actor lives');
    system.exit(t, reason);
    assert.equal(await exited, reason);
  });

  it('resolves with the exit reason, not noproc, for an actor that is already dead', async () => {
    const system = new ActorSystem();
    const t = target(system);
    system.kill(t);
    assert.equal(await system.exited(t), 'killed');
  });
});
