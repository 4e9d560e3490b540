import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActorSystem,
  type Behavior,
  type ChildSpec,
  type Context,
  countChildren,
  type DeadLetter,
  deleteChild,
  describeReason,
  dynamicSupervisor,
  ExitError,
  InitError,
  type Ref,
  restartChild,
  type StartChildResult,
  type StrategyName,
  type SupervisorReport,
  silentLogger,
  spawnChild,
  startChild,
  supervisor,
  terminateChild,
  UniqueRegistry,
  upgradeChildren,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';
import { childRef, loggingWorker, newSystem, type WorkerArgs } from './helpers.js';

function spec(id: string, log: string[], extra: Partial<ChildSpec<WorkerArgs>> = {}, args: Partial<WorkerArgs> = {}) {
  const a: WorkerArgs = { name: id, log, ...args };
  return { id, behavior: loggingWorker(a), args: a, ...extra } as ChildSpec<unknown>;
}

describe('supervisor start', () => {
  it('starts children in order and stops them in reverse order on shutdown', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: ['a', 'b', 'c'].map((id) => spec(id, log)) }));
    assert.deepEqual(log, ['init a', 'init b', 'init c']);
    log.length = 0;
    assert.equal(await system.stop(sup, 'shutdown'), 'shutdown');
    assert.deepEqual(log, ['terminate c shutdown', 'terminate b shutdown', 'terminate a shutdown']);
  });

  it('fails its start when a child fails to start, after stopping the ones already started', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const started = system.start(
      supervisor({ children: [spec('a', log), spec('b', log, {}, { failInit: () => true }), spec('c', log)] }),
    );
    await assert.rejects(
      started,
      (e: unknown) => e instanceof InitError && /init b failed/.test(String((e as Error).message)),
    );
    assert.deepEqual(log, ['init a', 'init b', 'terminate a shutdown']);
    assert.equal(system.stats().actors, 0);
  });

  it('rejects bad specs when they are given, saying what is accepted', () => {
    assert.throws(
      () => supervisor({ children: [{ id: 'a', behavior: () => {}, restart: 'sometimes' as never }] }),
      /restart must be 'permanent', 'transient' or 'temporary'; got 'sometimes'/,
    );
    assert.throws(
      () => supervisor({ children: [{ id: 'a', behavior: () => {}, shutdown: -5 }] }),
      /shutdown must be a number of milliseconds >= 0, 'brutal_kill' or 'infinity'; got -5/,
    );
    assert.throws(
      () => supervisor({ children: [{ id: 'a', behavior: () => {}, resart: 'permanent' } as never] }),
      /unknown child spec field 'resart'; accepted fields are id, behavior/,
    );
    assert.throws(
      () =>
        supervisor({
          children: [
            { id: 'a', behavior: () => {} },
            { id: 'a', behavior: () => {} },
          ],
        }),
      /two children have the id 'a'/,
    );
    assert.throws(
      () => supervisor({ strategy: 'all_for_one' as StrategyName, children: [] }),
      /strategy must be one of/,
    );
    assert.throws(() => supervisor({ children: [{ id: 'a', behavior: 42 }] }), /child 'a'.*expected a function/);
    assert.throws(() => supervisor({ maxRestarts: -1, children: [] }), /maxRestarts must be an integer >= 0/);
  });

  it('defaults a supervisor child to type supervisor with shutdown infinity', async () => {
    const { system } = newSystem();
    const sup = await system.start(
      supervisor({
        children: [
          { id: 'inner', behavior: supervisor({ children: [] }) },
          { id: 'w', behavior: () => {} },
        ],
      }),
    );
    const rows = await whichChildren(sup);
    assert.deepEqual(
      rows.map((r) => [r.id, r.type]),
      [
        ['inner', 'supervisor'],
        ['w', 'worker'],
      ],
    );
    assert.deepEqual(await countChildren(sup), { specs: 2, active: 2, supervisors: 1, workers: 1 });
    await system.shutdown();
  });
});

describe('shutdown', () => {
  it('kills a child whose terminate never settles after its shutdown time, and goes on', async () => {
    const { system, clock } = newSystem();
    const log: string[] = [];
    const sup = await system.start(
      supervisor({ children: [spec('a', log), spec('hangs', log, { shutdown: 2_000 }, { hangTerminate: true })] }),
    );
    const hangs = await childRef(sup, 'hangs');
    const stopped = system.stop(sup, 'shutdown');
    await settle(system);
    assert.deepEqual(log.slice(2), ['terminate hangs shutdown']);
    assert.equal(hangs.alive, true, 'still waiting for its terminate');
    clock.advance(1_999);
    await settle(system);
    assert.equal(hangs.alive, true);
    clock.advance(1);
    await settle(system);
    assert.equal(hangs.alive, false);
    assert.equal(await stopped, 'shutdown');
    assert.deepEqual(log.slice(2), ['terminate hangs shutdown', 'terminate a shutdown']);
  });

  it('kills a brutal_kill child without running its terminate', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('a', log, { shutdown: 'brutal_kill' })] }));
    const a = await childRef(sup, 'a');
    const reason = system.exited(a);
    await system.stop(sup, 'shutdown');
    assert.equal(await reason, 'killed');
    assert.deepEqual(log, ['init a']);
  });

  it('takes its children down when it is killed', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('a', log)] }));
    const a = await childRef(sup, 'a');
    system.kill(sup);
    await settle(system);
    assert.equal(a.alive, false);
  });

  it('takes its children down when it is killed and restarted in place: only the new incarnation’s children run', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let workers = 0;
    const worker: Behavior<string, number> = {
      init() {
        workers++;
        return 0;
      },
      receive: (s) => s,
    };
    const inner = supervisor({ children: [{ id: 'w', behavior: worker }] });
    const outer = await system.start(supervisor({ children: [{ id: 'inner', behavior: inner }] }));
    const innerRef = (await whichChildren(outer))[0]!.ref as Ref<never>;
    const before = system.stats().actors; // outer, inner, w
    assert.equal(before, 3);
    system.kill(innerRef);
    await settle(system);
    assert.equal(workers, 2, 'inner restarted and started a fresh worker');
    assert.equal(system.stats().actors, 3, 'the worker of the killed incarnation must be gone');
  });
});

describe('group strategies', () => {
  const cases: Array<[StrategyName, string, string[]]> = [
    [
      'one_for_all',
      'b',
      ['terminate d shutdown', 'terminate c shutdown', 'terminate a shutdown', 'init a', 'init b', 'init c', 'init d'],
    ],
    ['rest_for_one', 'b', ['terminate d shutdown', 'terminate c shutdown', 'init b', 'init c', 'init d']],
    ['rest_for_one', 'd', ['init d']],
    ['one_for_one', 'b', ['init b']],
  ];
  for (const [strategy, failing, expected] of cases) {
    it(`${strategy} restarts exactly the right children in the right order when ${failing} fails`, async () => {
      const { system } = newSystem();
      const log: string[] = [];
      const sup = await system.start(
        supervisor({ strategy, children: ['a', 'b', 'c', 'd'].map((id) => spec(id, log)) }),
      );
      const refs = await Promise.all(['a', 'b', 'c', 'd'].map((id) => childRef(sup, id)));
      log.length = 0;
      (await childRef(sup, failing)).send({ type: 'throw' });
      await settle(system);
      // The failing child's own terminate runs first, as part of its crash.
      assert.deepEqual(log, [`terminate ${failing} error`, ...expected]);
      // Every ref stays valid across the restart.
      for (const r of refs) assert.equal(r.alive, true);
      await system.shutdown();
    });
  }

  it('does not restart a temporary sibling stopped by a group restart, and forgets it', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(
      supervisor({ strategy: 'one_for_all', children: [spec('a', log), spec('t', log, { restart: 'temporary' })] }),
    );
    (await childRef(sup, 'a')).send({ type: 'throw' });
    await settle(system);
    assert.deepEqual(
      (await whichChildren(sup)).map((r) => r.id),
      ['a'],
    );
    await system.shutdown();
  });
});

/** What each incarnation of `countingWorker` handled: `init`, then `<msg>:inc<incarnation>`. */
const incarnationLog: string[] = [];
const countingWorker: Behavior<string, { inc: number }> = {
  init() {
    incarnationLog.push('init');
    return { inc: incarnationLog.filter((s) => s === 'init').length };
  },
  receive(s, msg, ctx: Context<string>) {
    incarnationLog.push(s === undefined ? `${msg}:NO-STATE` : `${msg}:inc${s.inc}`);
    if (msg === 'suicide') ctx.kill();
    return s;
  },
};

async function startCountingWorker() {
  incarnationLog.length = 0;
  const system = new ActorSystem({ logger: silentLogger });
  const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: countingWorker }] }));
  const ref = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
  await settle(system);
  return { system, sup, ref };
}

describe('restart in place', () => {
  it('restarts a killed nested supervisor once its children are gone: their names are free, and it counts one restart', async () => {
    for (const kind of ['plain', 'async terminate', 'terminate that never ends'] as const) {
      const { system, clock, captured } = newSystem();
      let open: () => void = () => {};
      let stops = 0;
      const grandchild: Behavior<string, number> = {
        init: () => 0,
        receive: (s) => s,
        // The first incarnation's terminate takes its time (or never ends); the next ones' do not.
        terminate: () =>
          kind === 'plain' || stops++ > 0
            ? undefined
            : new Promise<void>((r) => {
                if (kind === 'async terminate') open = r;
              }),
      };
      const inner = supervisor({ children: [{ id: 'g', behavior: grandchild, name: 'g', shutdown: 1_000 }] });
      const top = await system.start(
        supervisor({ maxRestarts: 1, withinMs: 5_000, children: [{ id: 'inner', behavior: inner }] }),
      );
      const nested = (await whichChildren(top))[0]?.ref as Ref<never>;
      const before = system.whereis('g');
      system.kill(nested);
      await settle(system);
      if (kind !== 'plain') {
        // Its child is still stopping (and holds its name): the nested supervisor waits.
        assert.equal((await whichChildren(top))[0]?.status, 'restarting', kind);
        if (kind === 'async terminate') open();
        else clock.advance(1_000); // the child's shutdown time: then it is killed
        await settle(system);
      }
      const [row] = await whichChildren(top);
      assert.deepEqual(
        { status: row?.status, restarts: row?.restarts, top: top.alive },
        { status: 'running', restarts: 1, top: true },
        kind,
      );
      const after = system.whereis('g');
      assert.ok(after?.alive === true && after !== before, `${kind}: a new g under its name`);
      assert.deepEqual(
        captured.errors.filter((e) => /NameTaken|intensity/.test(String(e.msg))).map((e) => e.msg),
        [],
        kind,
      );
      await system.shutdown();
    }
  });

  it('keeps the mailbox: messages queued behind the poison message reach the restarted actor', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('w', log)] }));
    const w = await childRef(sup, 'w');
    const dead: DeadLetter[] = [];
    system.onDeadLetter((d) => dead.push(d));
    w.send({ type: 'add', n: 1 });
    w.send({ type: 'throw' });
    w.send({ type: 'add', n: 2 });
    w.send({ type: 'add', n: 3 });
    assert.deepEqual(await w.call({ type: 'get' }), [2, 3]);
    assert.equal(dead.length, 1);
    assert.deepEqual(dead[0]?.message, { type: 'throw' });
    assert.equal(dead[0]?.reason, 'crashed');
    assert.match(String(dead[0]?.error), /poison/);
    await system.shutdown();
  });

  it('restarts ahead of the run queue, and writes the crash report after the restart', async () => {
    const { system, captured } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('w', log)] }));
    const w = await childRef(sup, 'w');
    const busy = Array.from({ length: 20 }, (_, i) =>
      system.spawn((n: number) => {
        log.push(`busy ${i}.${n}`);
      }),
    );
    system.subscribe((e) => {
      if (e.type === 'restarted') log.push(`restarted (${captured.errors.length} reports written)`);
    });
    log.length = 0;
    // The crash is queued first, then 20 actors with work: the restart must not wait for all of it.
    w.send({ type: 'throw' });
    for (const b of busy) for (let n = 0; n < 3; n++) b.send(n);
    w.send({ type: 'add', n: 1 });
    await settle(system);
    assert.deepEqual(log.slice(0, 4), ['terminate w error', 'restarted (0 reports written)', 'init w', 'busy 0.0']);
    assert.equal(log.length, 3 + 60);
    assert.equal(captured.errors.length, 1, 'one crash report');
    assert.match(String(captured.errors[0]?.msg), /child 'w' .* exited: .*poison/);
    assert.deepEqual(await w.call({ type: 'get' }), [1]);
    await system.shutdown();
  });

  it('writes the crash report after the restarted child handled the mail waiting for it', async () => {
    const { system, captured } = newSystem();
    const seen: string[] = [];
    const sup = await system.start(
      supervisor({
        children: [
          {
            id: 'w',
            behavior: (msg: string) => {
              if (msg === 'boom') throw new Error('poison');
              seen.push(`${msg} (${captured.errors.length} reports written)`);
            },
          },
        ],
      }),
    );
    const w = (await childRef(sup, 'w')) as unknown as Ref<string>;
    w.send('boom');
    w.send('first');
    w.send('second');
    await settle(system);
    assert.deepEqual(seen, ['first (0 reports written)', 'second (0 reports written)']);
    assert.equal(captured.errors.length, 1, 'and then the report');
    assert.match(String(captured.errors[0]?.msg), /child 'w' .* exited: .*poison/);
    await system.shutdown();
  });

  it('writes crash reports in the order of the crashes, the one it gives up on and its error last', async () => {
    const { system, captured } = newSystem();
    const sup = await system.start(
      supervisor({
        maxRestarts: 2,
        children: [
          {
            id: 'w',
            behavior: (msg: string) => {
              throw new Error(msg);
            },
          },
        ],
      }),
    );
    const w = (await childRef(sup, 'w')) as unknown as Ref<string>;
    for (const m of ['boom1', 'boom2', 'boom3']) w.send(m);
    await settle(system);
    await new Promise((r) => setImmediate(r));
    const lines = captured.errors.map((e) => String(e.msg));
    assert.equal(lines.length, 4, lines.join('\n'));
    for (const [i, m] of ['boom1', 'boom2', 'boom3'].entries()) assert.match(lines[i] as string, new RegExp(m));
    assert.match(lines[3] as string, /reached its restart intensity/);
    await system.shutdown();
  });

  it('has written every crash report when shutdown resolves', async () => {
    const { system, captured } = newSystem();
    const sup = await system.start(
      supervisor({
        children: [
          {
            id: 'w',
            behavior: (_m: string) => {
              throw new Error('late');
            },
          },
        ],
      }),
    );
    const w = (await childRef(sup, 'w')) as unknown as Ref<string>;
    w.send('x');
    // No turn of the event loop between the crash and the end of shutdown: no check phase either.
    await Promise.resolve();
    await system.shutdown();
    assert.equal(captured.errors.length, 1, 'a process.exit right after shutdown loses nothing');
  });

  it('does not hold the event loop in a crash loop: restarts jump the queue, but only for a while', async () => {
    const { system } = newSystem();
    let inits = 0;
    const sup = await system.start(
      supervisor({
        maxRestarts: 1_000_000,
        withinMs: 1_000,
        children: [
          {
            id: 'w',
            behavior: {
              init() {
                inits++;
                const until = performance.now() + 0.05;
                while (performance.now() < until) {
                  // 50 us of start-up work per incarnation
                }
                return 0;
              },
              receive() {
                throw new Error('poison');
              },
            },
          },
        ],
      }),
    );
    const w = (await childRef(sup, 'w')) as unknown as Ref<number>;
    const before = inits;
    let initsAtCheckPhase = 0;
    const checked = new Promise<void>((resolve) =>
      setImmediate(() => {
        initsAtCheckPhase = inits - before;
        resolve();
      }),
    );
    for (let i = 0; i < 2_000; i++) w.send(i);
    await checked;
    // 2,000 restarts are at least 100 ms of work: the event loop got a turn long before the end.
    assert.ok(initsAtCheckPhase < 2_000, `${initsAtCheckPhase} restarts before the loop got a turn`);
    await settle(system);
    assert.equal(inits - before, 2_000, 'and every crash was restarted');
    await system.shutdown();
  });

  it('drops the queued messages to dead letters with keepMailbox: false, as OTP', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('w', log, { keepMailbox: false })] }));
    const w = await childRef(sup, 'w');
    const dead: DeadLetter[] = [];
    system.onDeadLetter((d) => dead.push(d));
    w.send({ type: 'throw' });
    w.send({ type: 'add', n: 2 });
    await settle(system);
    assert.deepEqual(await w.call({ type: 'get' }), []);
    assert.deepEqual(
      dead.map((d) => d.reason),
      ['dropped', 'crashed'],
    );
    await system.shutdown();
  });

  it('lets sendWait waiters into a bounded mailbox that a keepMailbox: false restart emptied, and takes new sends', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const got: string[] = [];
    let gate!: () => void;
    const worker: Behavior<string> = {
      receive(_s, msg) {
        if (msg === 'block')
          return new Promise<void>((r) => {
            gate = r;
          }).then(() => {
            throw new Error('crash');
          });
        got.push(msg);
        return undefined;
      },
    };
    const sup = await system.start(
      supervisor({
        children: [
          { id: 'w', behavior: worker, mailbox: { capacity: 1, overflow: 'drop-newest' }, keepMailbox: false },
        ],
      }),
    );
    const [child] = await whichChildren(sup);
    const ref = child!.ref as unknown as Ref<string>;
    ref.send('block');
    await settle(system); // 'block' taken, handler pending
    ref.send('queued'); // fills capacity 1
    const waiting = ref.sendWait('waiter'); // waits for room
    gate(); // crash -> restart, 'queued' dropped (keepMailbox:false)
    await settle(system);
    let w: unknown = 'still waiting';
    void waiting.then((v) => {
      w = v;
    });
    await settle(system);
    const accepted = ref.send('after');
    await settle(system);
    assert.deepEqual({ w, accepted, got }, { w: true, accepted: true, got: ['waiter', 'after'] });
  });

  it('rejects the call that crashed the actor, and answers the calls queued behind it', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('w', log)] }));
    const w = await childRef(sup, 'w');
    w.send({ type: 'add', n: 5 });
    const poisoned = w.call({ type: 'fail' });
    w.send({ type: 'add', n: 6 });
    const after = w.call({ type: 'get' });
    await assert.rejects(poisoned, (e: unknown) => e instanceof ExitError && /poisoned request/.test(String(e.reason)));
    assert.deepEqual(await after, [6], 'answered by the restarted actor');
    await system.shutdown();
  });

  it('reports the crash with supervisor, child id, reason, spec and the last messages it handled', async () => {
    const { system, captured } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('w', log, { reportMessages: 2 })] }));
    const w = await childRef(sup, 'w');
    w.send({ type: 'add', n: 1 });
    w.send({ type: 'add', n: 2 });
    w.send({ type: 'throw' });
    await settle(system);
    const report = captured.errors.find((e) => 'childId' in e.obj)?.obj as SupervisorReport | undefined;
    assert.ok(report);
    assert.equal(report.childId, 'w');
    assert.match(report.supervisor, /^Ref<\d+>$/);
    assert.match(String(report.reason), /poison/);
    assert.equal(report.spec.id, 'w');
    assert.deepEqual(report.messages, [{ type: 'add', n: 2 }, { type: 'throw' }]);
    // The next incarnation's report has its own messages only, the ring started afresh.
    w.send({ type: 'add', n: 3 });
    w.send({ type: 'throw' });
    await settle(system);
    const reports = captured.errors.filter((e) => 'childId' in e.obj).map((e) => e.obj as SupervisorReport);
    assert.equal(reports.length, 2);
    assert.deepEqual(reports[1]?.messages, [{ type: 'add', n: 3 }, { type: 'throw' }]);
    w.send({ type: 'throw' });
    await settle(system);
    const third = captured.errors.filter((e) => 'childId' in e.obj).map((e) => e.obj as SupervisorReport)[2];
    assert.deepEqual(third?.messages, [{ type: 'throw' }]);
    await system.shutdown();
  });

  it('waits out an exponential backoff on the simulated clock, and resets it after a stable period', async () => {
    const { system, clock } = newSystem();
    const log: string[] = [];
    const sup = await system.start(
      supervisor({
        maxRestarts: 100,
        children: [
          spec('w', log, { backoff: { initialMs: 100, factor: 2, maxMs: 1_000, jitter: 0, resetAfterMs: 10_000 } }),
        ],
      }),
    );
    const w = await childRef(sup, 'w');
    const initsAfter = async (ms: number) => {
      clock.advance(ms);
      await settle(system);
      return log.filter((l) => l === 'init w').length;
    };
    log.length = 0;
    w.send({ type: 'throw' });
    await settle(system);
    assert.equal(await initsAfter(99), 0);
    assert.equal(await initsAfter(1), 1, 'first restart after 100 ms');
    w.send({ type: 'throw' });
    await settle(system);
    assert.equal(await initsAfter(199), 1);
    assert.equal(await initsAfter(1), 2, 'second after 200 ms');
    w.send({ type: 'throw' });
    await settle(system);
    assert.equal(await initsAfter(399), 2);
    assert.equal(await initsAfter(1), 3, 'third after 400 ms');
    // Messages sent during the backoff wait in the mailbox.
    w.send({ type: 'throw' });
    w.send({ type: 'add', n: 7 });
    await settle(system);
    assert.equal(await initsAfter(800), 4);
    assert.deepEqual(await w.call({ type: 'get' }), [7]);
    // Stable for resetAfterMs: back to 100 ms.
    clock.advance(10_000);
    w.send({ type: 'throw' });
    await settle(system);
    assert.equal(await initsAfter(100), 5);
    await system.shutdown();
  });

  it('hands the mail queued behind an exit signal to the next incarnation, not to the ended one', async () => {
    const { system, sup, ref } = await startCountingWorker();
    ref.send('a');
    ref.send('b');
    system.exit(ref as Ref<never>, new Error('peer died'));
    await settle(system);
    const [row] = await whichChildren(sup);
    assert.deepEqual(
      { seen: incarnationLog, restarts: row!.restarts },
      { seen: ['init', 'init', 'a:inc2', 'b:inc2'], restarts: 1 },
    );
  });

  it('hands the rest of the batch to the next incarnation when a handler kills its own actor', async () => {
    const { system, sup, ref } = await startCountingWorker();
    ref.send('suicide');
    ref.send('b');
    await settle(system);
    const [row] = await whichChildren(sup);
    assert.deepEqual(
      { seen: incarnationLog, restarts: row!.restarts },
      { seen: ['init', 'suicide:inc1', 'init', 'b:inc2'], restarts: 1 },
    );
  });

  it('ignores a ctx.stop from a late continuation of the ended incarnation', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let gate!: () => void;
    let inits = 0;
    const worker: Behavior<string, number> = {
      init() {
        inits++;
        return 0;
      },
      receive(s, msg, ctx: Context<string>) {
        if (msg === 'slow') {
          return new Promise<void>((r) => {
            gate = r;
          }).then(() => {
            ctx.stop();
            return s;
          });
        }
        return s;
      },
    };
    const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: worker, restart: 'transient' }] }));
    const ref = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
    ref.send('slow');
    await settle(system);
    system.exit(ref as Ref<never>, new Error('linked peer died')); // incarnation 1 ends, supervisor restarts it
    await settle(system);
    assert.equal(inits, 2, 'restarted');
    gate(); // incarnation 1's handler resumes and calls its ctx.stop()
    await settle(system);
    const [row] = await whichChildren(sup);
    assert.deepEqual({ alive: ref.alive, status: row?.status }, { alive: true, status: 'running' });
  });

  for (const inPlaceFirst of [false, true]) {
    it(`ignores a late ctx.stop from a stopped child's first cell once restartChild gave it a new one${
      inPlaceFirst ? ', after a restart in place' : ''
    }`, async () => {
      const system = new ActorSystem({ logger: silentLogger });
      let gate!: () => void;
      let lateSelf: Ref<never> | undefined;
      const worker: Behavior<string, number> = {
        init: () => 0,
        receive(s, msg, ctx: Context<string>) {
          if (msg === 'slow') {
            return new Promise<void>((r) => {
              gate = r;
            }).then(() => {
              lateSelf = ctx.self as Ref<never>;
              ctx.stop();
              return s;
            });
          }
          return s;
        },
      };
      const sup = await system.start(
        supervisor({
          children: [{ id: 'w', behavior: worker, label: 'w-label', restart: 'permanent', shutdown: 'brutal_kill' }],
        }),
      );
      const first = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
      first.send('slow');
      await settle(system);
      if (inPlaceFirst) {
        // The first incarnation ends while its handler waits; the next one runs in the same cell.
        system.exit(first as Ref<never>, new Error('linked peer died'));
        await settle(system);
        assert.equal((await whichChildren(sup))[0]?.restarts, 1);
      }
      assert.equal((await terminateChild(sup, 'w')).ok, true);
      const again = await restartChild(sup, 'w');
      assert.equal(again.ok, true);
      const second = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
      assert.notEqual(second, first, 'a new cell, a new ref');
      gate(); // the first cell's first handler resumes and calls its ctx.stop()
      await settle(system);
      const [row] = await whichChildren(sup);
      assert.deepEqual(
        { alive: second.alive, status: row?.status, same: row?.ref === (second as unknown) },
        { alive: true, status: 'running', same: true },
      );
      assert.equal(lateSelf, first as unknown as Ref<never>, "the late code's ctx.self is still its own cell's ref");
      assert.match(String(first), /w-label/, 'the replaced cell keeps its label');
    });
  }

  it("keeps a child's names across restarts in place, drops them at its end, and gives a new cell only its own", async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const mine = new UniqueRegistry<string>('mine');
    const worker: Behavior<string, number> = {
      init(ctx) {
        mine.register('k', ctx.self as Ref<never>);
        return 0;
      },
      receive(s, msg) {
        if (msg === 'crash') throw new Error('boom');
        return s;
      },
    };
    const sup = await system.start(
      supervisor({ children: [{ id: 'w', behavior: worker, name: 'svc', label: 'worker-w', restart: 'permanent' }] }),
    );
    const first = system.whereis('svc') as unknown as Ref<string>;
    assert.ok(first !== undefined);
    assert.match(String(first), /worker-w/, "the label is the spec's");
    first.send('crash');
    await settle(system);
    assert.equal(system.whereis('svc'), first as unknown, 'restarted in place: the same ref keeps the name');
    assert.deepEqual(mine.keysOf(first as Ref<never>), ['k']);
    assert.deepEqual(system.registry.keysOf(first as Ref<never>), ['svc']);
    assert.equal((await terminateChild(sup, 'w')).ok, true);
    assert.equal(system.whereis('svc'), undefined);
    assert.equal(mine.whereis('k'), undefined);
    assert.equal((await restartChild(sup, 'w')).ok, true);
    const second = system.whereis('svc') as unknown as Ref<string>;
    assert.ok(second !== undefined && second !== first);
    assert.deepEqual(
      { second: mine.keysOf(second as Ref<never>), first: mine.keysOf(first as Ref<never>) },
      { second: ['k'], first: [] },
    );
    assert.deepEqual(system.registry.keysOf(first as Ref<never>), [], 'the dead first cell holds nothing');
    assert.equal(mine.whereis('k'), second as unknown);
    await system.shutdown();
    assert.equal(system.whereis('svc'), undefined);
  });

  it('does not carry a ctx.stop of a crashed incarnation over to the next one', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const reasons: string[] = [];
    const worker: Behavior<string, number> = {
      init: () => 0,
      receive(s, msg, ctx: Context<string>) {
        if (msg === 'stop-then-throw') {
          ctx.stop();
          throw new Error('oops');
        }
        return s;
      },
      terminate(_s, reason) {
        reasons.push(describeReason(reason));
      },
    };
    const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: worker, restart: 'transient' }] }));
    const ref = (await whichChildren(sup))[0]!.ref as unknown as Ref<string>;
    ref.send('stop-then-throw'); // incarnation 1 crashes (Error) -> restarted
    await settle(system);
    system.exit(ref as Ref<never>, new Error('linked peer failed')); // incarnation 2 must end with this error
    await settle(system);
    const [row] = await whichChildren(sup);
    assert.deepEqual(
      { reasons, status: row!.status, restarts: row!.restarts },
      { reasons: ['Error: oops', 'Error: linked peer failed'], status: 'running', restarts: 2 },
    );
  });
});

describe('supervisor verbs', () => {
  it('startChild, terminateChild, restartChild and deleteChild answer with results', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('a', log)] }));
    const added = await startChild(sup, spec('b', log));
    assert.equal(added.ok, true);
    const again = await startChild(sup, spec('b', log));
    assert.equal(again.ok === false && again.reason, 'already_started');
    assert.deepEqual(await deleteChild(sup, 'b'), { ok: false, reason: 'running' });
    assert.deepEqual(await terminateChild(sup, 'b'), { ok: true });
    assert.deepEqual(
      (await whichChildren(sup)).map((r) => [r.id, r.status, r.ref === undefined]),
      [
        ['a', 'running', false],
        ['b', 'stopped', true],
      ],
    );
    const present = await startChild(sup, spec('b', log));
    assert.equal(present.ok === false && present.reason, 'already_present');
    const restarted = await restartChild(sup, 'b');
    assert.equal(restarted.ok, true);
    assert.deepEqual(await restartChild(sup, 'b'), { ok: false, reason: 'running' });
    assert.deepEqual(await terminateChild(sup, 'nope'), { ok: false, reason: 'not_found' });
    assert.deepEqual(await restartChild(sup, 'nope'), { ok: false, reason: 'not_found' });
    await terminateChild(sup, 'b');
    assert.deepEqual(await deleteChild(sup, 'b'), { ok: true });
    assert.deepEqual(await countChildren(sup), { specs: 1, active: 1, supervisors: 0, workers: 1 });
    const failed = await startChild(sup, spec('c', log, {}, { failInit: () => true }));
    assert.equal(failed.ok === false && failed.reason, 'init_failed');
    await system.shutdown();
  });

  it('forgets a temporary child when it is terminated', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('t', log, { restart: 'temporary' })] }));
    assert.deepEqual(await terminateChild(sup, 't'), { ok: true });
    assert.deepEqual(await whichChildren(sup), []);
    await system.shutdown();
  });
});

describe('dynamicSupervisor', () => {
  it('starts children of one template with their own args, up to maxChildren', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const dyn = await system.start(
      dynamicSupervisor({ child: { behavior: loggingWorker({ name: 'dyn', log }) }, maxChildren: 2 }),
    );
    const a = await startChild(dyn, { name: 'x', log });
    const b = await startChild(dyn, { name: 'y', log });
    const c = await startChild(dyn, { name: 'z', log });
    assert.deepEqual(log, ['init x', 'init y']);
    assert.deepEqual(c, { ok: false, reason: 'max_children' });
    assert.ok(a.ok && b.ok);
    if (!a.ok) return;
    assert.deepEqual(await a.ref.call({ type: 'get' }), []);
    assert.deepEqual(await terminateChild(dyn, a.ref), { ok: true });
    assert.deepEqual(await terminateChild(dyn, a.ref), { ok: false, reason: 'not_found' });
    assert.equal((await startChild(dyn, { name: 'z', log })).ok, true, 'room again below maxChildren');
    assert.deepEqual(await countChildren(dyn), { specs: 2, active: 2, supervisors: 0, workers: 2 });
    await system.shutdown();
  });

  it('restarts a crashed child in place and forgets one that exits for good', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const dyn = await system.start(
      dynamicSupervisor({ child: { behavior: loggingWorker({ name: 'dyn', log }), restart: 'transient' } }),
    );
    const r = await startChild(dyn, { name: 'x', log });
    assert.ok(r.ok);
    if (!r.ok) return;
    r.ref.send({ type: 'throw' });
    r.ref.send({ type: 'add', n: 1 });
    assert.deepEqual(await r.ref.call({ type: 'get' }), [1]);
    r.ref.send({ type: 'exit', reason: 'normal' });
    await settle(system);
    assert.equal(r.ref.alive, false);
    assert.deepEqual(await whichChildren(dyn), []);
    await system.shutdown();
  });

  it('stops every child when it stops', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const dyn = await system.start(dynamicSupervisor({ child: { behavior: loggingWorker({ name: 'dyn', log }) } }));
    const refs = [];
    for (let i = 0; i < 5; i++) {
      const r = await startChild(dyn, { name: `c${i}`, log });
      if (r.ok) refs.push(r.ref);
    }
    await system.stop(dyn, 'shutdown');
    assert.equal(refs.filter((r) => r.alive).length, 0);
    assert.equal(system.stats().actors, 0);
  });

  it('holds maxChildren when a startChild with an async init and a spawnChild interleave', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let gate!: () => void;
    const worker: Behavior<string, number, number> = {
      init: (_c, n) =>
        n === 1
          ? new Promise<number>((r) => {
              gate = () => r(0);
            })
          : 0,
      receive: (s) => s,
    };
    const sup = await system.start(dynamicSupervisor({ child: { behavior: worker }, maxChildren: 1 }));
    const first = startChild(sup, 1);
    await settle(system);
    const second = spawnChild(sup, 2);
    gate();
    const r1 = await first;
    const counts = await countChildren(sup);
    assert.deepEqual(
      { first: r1.ok, second: second.ok, active: counts.active, actors: system.stats().actors - 1 },
      { first: true, second: false, active: 1, actors: 1 },
    );
  });

  it('answers startChild init_failed when the child gets an exit signal during its async init, and goes on', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const gates: Array<() => void> = [];
    const selves: Array<Ref<never>> = [];
    const worker: Behavior<string, number> = {
      init: (ctx) => {
        selves.push(ctx.self as Ref<never>);
        return new Promise<number>((r) => {
          gates.push(() => r(0));
        });
      },
      receive: (s) => s,
    };
    const sup = await system.start(dynamicSupervisor({ child: { behavior: worker } }));
    let answer: StartChildResult<string> | undefined;
    void startChild(sup, undefined).then((r) => {
      answer = r;
    });
    await settle(system);
    const [starting] = selves;
    system.exit(starting as Ref<never>, new Error('boom'));
    await settle(system);
    assert.equal(answer?.ok === false && answer.reason, 'init_failed', 'answered, not left waiting');
    assert.equal(answer?.ok === false && answer.reason === 'init_failed' && answer.error instanceof InitError, true);
    assert.equal(starting?.alive, false);
    // Its init finishing late changes nothing; the supervisor still takes requests.
    gates[0]?.();
    await settle(system);
    assert.equal((await countChildren(sup)).active, 0);
    const next = startChild(sup, undefined);
    await settle(system);
    gates[1]?.();
    assert.equal((await next).ok, true);
    assert.equal((await countChildren(sup)).active, 1);
    await system.shutdown();
  });

  it('takes down a child still in its async init when it is killed', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let gate!: () => void;
    const worker: Behavior<string, number> = {
      init: () =>
        new Promise<number>((r) => {
          gate = () => r(0);
        }),
      receive: (s) => s,
    };
    const sup = await system.start(dynamicSupervisor({ child: { behavior: worker } }));
    void startChild(sup, undefined).catch(() => {});
    await settle(system);
    assert.equal(system.stats().actors, 2); // supervisor + starting child
    system.kill(sup as never);
    await settle(system);
    gate();
    await settle(system);
    assert.equal(system.stats().actors, 0, 'no actor should outlive its killed supervisor');
  });
});

describe('dynamicSupervisor onChildExit', () => {
  /** A dynamic supervisor whose every forgotten child lands in `exits` as [name, reason]. */
  async function withExits(
    extra: {
      restart?: 'transient' | 'permanent' | 'temporary';
      restartLimit?: { maxRestarts: number; withinMs: number };
    } = {},
  ) {
    const { system, captured } = newSystem();
    const log: string[] = [];
    const exits: Array<[string, string, boolean]> = [];
    const dyn = await system.start(
      dynamicSupervisor({
        child: { behavior: loggingWorker({ name: 'dyn', log }), restart: 'transient', ...extra },
        onChildExit: (ref, reason, args) => {
          exits.push([args.name, describeReason(reason), ref.alive]);
        },
      }),
    );
    return { system, captured, log, exits, dyn };
  }

  it('tells of a child that ends for good, with its args and reason, and not of a restart in place', async () => {
    const { system, exits, dyn, log } = await withExits();
    const r = await startChild(dyn, { name: 'x', log });
    assert.ok(r.ok);
    if (!r.ok) return;
    r.ref.send({ type: 'throw' });
    assert.deepEqual(await r.ref.call({ type: 'get' }), [], 'restarted in place');
    assert.deepEqual(exits, [], 'a restart in place is not an exit');
    r.ref.send({ type: 'exit', reason: 'normal' });
    await settle(system);
    assert.deepEqual(exits, [['x', 'normal', false]]);
    await system.shutdown();
  });

  it('tells of a child terminated, one past its own restart limit, and one whose init failed', async () => {
    const { system, exits, dyn, log } = await withExits({ restartLimit: { maxRestarts: 1, withinMs: 60_000 } });
    const a = await startChild(dyn, { name: 'a', log });
    const b = await startChild(dyn, { name: 'b', log });
    assert.ok(a.ok && b.ok);
    if (!a.ok || !b.ok) return;
    assert.deepEqual(await terminateChild(dyn, a.ref), { ok: true });
    b.ref.send({ type: 'throw' });
    await settle(system);
    b.ref.send({ type: 'throw' });
    await settle(system);
    const c = await startChild(dyn, { name: 'c', log, failInit: () => true });
    assert.equal(c.ok, false);
    assert.deepEqual(
      exits.map(([name, reason]) => [name, reason.split(':')[0]]),
      [
        ['a', 'shutdown'],
        ['b', 'Error'],
        ['c', 'InitError'],
      ],
    );
    assert.equal((await whichChildren(dyn)).length, 0);
    await system.shutdown();
  });

  it('tells of every child when the supervisor stops, and when it is killed', async () => {
    for (const end of ['stop', 'kill'] as const) {
      const { system, exits, dyn, log } = await withExits();
      for (const name of ['p', 'q']) assert.equal((await startChild(dyn, { name, log })).ok, true);
      if (end === 'stop') await system.stop(dyn, 'shutdown');
      else {
        system.kill(dyn as never);
        await settle(system);
      }
      assert.deepEqual(exits.map(([name]) => name).sort(), ['p', 'q'], end);
      assert.ok(
        exits.every(([, , alive]) => !alive),
        `${end}: the ref is dead when it is told`,
      );
      await system.shutdown();
    }
  });

  it('logs an onChildExit that throws and goes on', async () => {
    const { system, captured } = newSystem();
    const log: string[] = [];
    const dyn = await system.start(
      dynamicSupervisor({
        child: { behavior: loggingWorker({ name: 'dyn', log }) },
        onChildExit: () => {
          throw new Error('cleanup failed');
        },
      }),
    );
    const r = await startChild(dyn, { name: 'x', log });
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.deepEqual(await terminateChild(dyn, r.ref), { ok: true });
    assert.ok(captured.errors.some((e) => /onChildExit threw/.test(e.msg ?? '')));
    assert.equal((await startChild(dyn, { name: 'y', log })).ok, true, 'the supervisor still serves');
    await system.shutdown();
  });

  it('refuses an onChildExit that is not a function', () => {
    assert.throws(
      () => dynamicSupervisor({ child: { behavior: loggingWorker({ name: 'x', log: [] }) }, onChildExit: 1 as never }),
      /onChildExit must be a function/,
    );
  });
});

describe('spawnChild', () => {
  it('starts a dynamic child synchronously: messages sent at once are handled after its init', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const dyn = await system.start(
      dynamicSupervisor({ child: { behavior: loggingWorker({ name: 'dyn', log }) }, maxChildren: 1 }),
    );
    const r = spawnChild(dyn, { name: 'now', log });
    assert.ok(r.ok);
    if (!r.ok) return;
    r.ref.send({ type: 'add', n: 1 });
    assert.deepEqual(spawnChild(dyn, { name: 'over', log }), { ok: false, reason: 'max_children' });
    assert.deepEqual(await r.ref.call({ type: 'get' }), [1]);
    assert.deepEqual(log, ['init now']);
    assert.equal((await whichChildren(dyn)).length, 1);
    await system.stop(dyn, 'shutdown');
    assert.equal(r.ref.alive, false);
    assert.deepEqual(spawnChild(dyn, { name: 'late', log }), { ok: false, reason: 'shutting_down' });
  });

  it('rejects a ref that is not a dynamic supervisor', () => {
    const { system } = newSystem();
    assert.throws(
      () => spawnChild(system.spawn(() => {}) as never, undefined),
      /must be the ref of a started dynamicSupervisor/,
    );
  });
});

describe('supervisor edge cases', () => {
  it('restarts a behaviour object without init on undefined state, as it first started', async () => {
    const { system } = newSystem();
    const seen: unknown[] = [];
    const sup = await system.start(
      supervisor({
        children: [
          {
            id: 'c',
            behavior: {
              receive(s: unknown, m: string) {
                seen.push(s);
                if (m === 'boom') throw new Error('boom');
                return 'kept';
              },
            },
          },
        ],
      }),
    );
    const c = (await whichChildren(sup))[0]?.ref as unknown as import('troupe').Ref<string>;
    c.send('a');
    c.send('boom');
    c.send('b');
    await settle(system);
    assert.deepEqual(seen, [undefined, 'kept', undefined]);
    assert.equal(sup.alive, true);
    await system.shutdown();
  });

  it('completes upgradeChildren when the child crashes with the upgrade still queued', async () => {
    const { system } = newSystem();
    const v1 = {
      init: () => 1,
      receive(_s: number, m: string) {
        if (m === 'crash') throw new Error('crash');
      },
    };
    const v2 = { init: () => 2, receive() {} };
    const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: v1 }] }));
    const w = (await whichChildren(sup))[0]?.ref as unknown as import('troupe').Ref<string>;
    w.send('crash');
    const upgraded = upgradeChildren(sup, { id: 'w', behavior: v2 });
    w.send('crash');
    await settle(system);
    assert.deepEqual(await upgraded, { ok: true, upgraded: 1, failed: [] });
    assert.equal((await whichChildren(sup))[0]?.status, 'running');
    await system.shutdown();
  });

  it('takes down children that trap exits when it is killed, running their terminate', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const sup = await system.start(supervisor({ children: [spec('t', log, { trapExit: true })] }));
    const t = await childRef(sup, 't');
    system.kill(sup);
    await settle(system);
    assert.equal(t.alive, false);
    assert.deepEqual(log, ['init t', 'terminate t killed']);
    assert.equal(system.stats().actors, 0);
  });
});
