import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  countChildren,
  type DynamicSupervisor,
  dynamicSupervisor,
  type Ref,
  RestartWindow,
  startChild,
  supervisor,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';
import { childRef, loggingWorker, newSystem, type WorkerArgs, type WorkerMsg } from './helpers.js';

describe('RestartWindow', () => {
  it('allows exactly maxRestarts restarts within withinMs and refuses one more', () => {
    const w = new RestartWindow(3, 1_000);
    assert.equal(w.tryAdd(0), true);
    assert.equal(w.tryAdd(10), true);
    assert.equal(w.tryAdd(20), true);
    assert.equal(w.tryAdd(1_000), false, 'the restart at 0 is exactly withinMs old: it still counts, as in OTP');
    assert.equal(w.tryAdd(1_001), true, 'one millisecond later it is forgotten');
  });

  it('forgets restarts older than the window, at millisecond resolution', () => {
    const w = new RestartWindow(2, 500);
    assert.equal(w.tryAdd(0), true);
    assert.equal(w.tryAdd(400), true);
    assert.equal(w.tryAdd(450), false);
    assert.equal(w.tryAdd(501), true);
    assert.equal(w.countAt(501), 2);
    assert.equal(w.countAt(5_000), 0);
  });

  it('refuses every restart when maxRestarts is 0', () => {
    assert.equal(new RestartWindow(0, 1_000).tryAdd(0), false);
  });

  it('rejects a bad limit with a teaching message', () => {
    assert.throws(() => new RestartWindow(-1, 1_000), /maxRestarts must be an integer >= 0; got -1/);
    assert.throws(() => new RestartWindow(3, 0), /withinMs must be a number of milliseconds > 0; got 0/);
  });

  it('says what it accepts when given a negative, NaN, fractional or non-number maxRestarts', () => {
    for (const [bad, shown] of [
      [-1, '-1'],
      [Number.NaN, 'NaN'],
      [1.5, '1.5'],
      [Number.NEGATIVE_INFINITY, '-Infinity'],
      ['3', '"3"'],
    ] as const) {
      assert.throws(
        () => new RestartWindow(bad as number, 1_000),
        (e: unknown) =>
          e instanceof RangeError &&
          e.message === `maxRestarts must be an integer >= 0; got ${shown} (Infinity is accepted too: no limit)`,
      );
    }
  });

  it('accepts maxRestarts: Infinity and then never refuses a restart', () => {
    const w = new RestartWindow(Number.POSITIVE_INFINITY, 1_000);
    for (let i = 0; i < 10_000; i++) assert.equal(w.tryAdd(i / 100), true);
    assert.equal(w.countAt(100), 10_000);
    assert.equal(w.countAt(1_050), 5_000, 'the window still slides: the first half is older than 1,000 ms');
  });

  it('rejects withinMs: Infinity, which would make maxRestarts a lifetime budget, with a teaching error', () => {
    assert.throws(
      () => new RestartWindow(3, Number.POSITIVE_INFINITY),
      (e: unknown) =>
        e instanceof RangeError &&
        /^withinMs must be finite; got Infinity, which would make maxRestarts a budget for the whole life of the supervisor \(OTP refuses an infinite period too\)\. For a supervisor that never gives up, set maxRestarts: Infinity$/.test(
          e.message,
        ),
    );
    assert.throws(() => new RestartWindow(3, Number.NaN), /withinMs must be a number of milliseconds > 0; got NaN/);
    assert.throws(() => supervisor({ withinMs: Number.POSITIVE_INFINITY, children: [] }), /withinMs must be finite/);
    assert.throws(
      () => dynamicSupervisor({ child: { behavior: () => {} }, withinMs: Number.POSITIVE_INFINITY }),
      /withinMs must be finite/,
    );
  });

  it('takes memory for the restarts inside the window, not for maxRestarts', () => {
    const gc = exposeGc();
    gc();
    const before = process.memoryUsage().arrayBuffers;
    // Each used to reserve 8 bytes per allowed restart up front: 8 GB for 1e9; 2^32 threw.
    const windows = [new RestartWindow(1e9, 1_000), new RestartWindow(2 ** 32, 1_000)];
    for (const w of windows) for (let t = 0; t < 1_000; t++) w.tryAdd(t * 10); // 100 inside the window at a time
    gc();
    const used = process.memoryUsage().arrayBuffers - before;
    assert.ok(used < 64 * 1024, `${used} bytes of restart times for 2 windows of about 100 restarts`);
    assert.deepEqual(
      windows.map((w) => w.countAt(9_990)),
      [101, 101],
    );
  });

  it('gives the memory of a burst back once the burst has left the window', async () => {
    const gc = exposeGc();
    const w = new RestartWindow(Number.POSITIVE_INFINITY, 100);
    for (let i = 0; i < 200_000; i++) w.tryAdd(0); // 1.6 MB of times, all inside the window
    gc();
    const during = process.memoryUsage().arrayBuffers;
    assert.equal(w.tryAdd(1_000), true); // the burst is older than 100 ms now
    // V8 frees an ArrayBuffer's backing store after the collection that finds it dead, sometimes on a
    // background thread: on a busy machine that can take a few turns, so look again a few times.
    let after = during;
    for (let i = 0; i < 50 && during - after <= 1_000_000; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
      after = process.memoryUsage().arrayBuffers;
    }
    assert.ok(during - after > 1_000_000, `only ${during - after} bytes given back`);
    assert.equal(w.countAt(1_000), 1);
  });

  it("agrees with OTP's add_restart, a list of restart times, across bursts that grow and shrink it", () => {
    // add_restart: add the restart, drop the ones older than the period, give up if more than max remain.
    let seed = 18;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      const max = random() < 0.1 ? Number.POSITIVE_INFINITY : Math.floor(random() * 40);
      const withinMs = 1 + Math.floor(random() * 500);
      const w = new RestartWindow(max, withinMs);
      let model: number[] = [];
      let now = 0;
      for (let i = 0; i < 400; i++) {
        now += random() < 0.2 ? Math.floor(random() * 2 * withinMs) : Math.floor(random() * 5); // bursts, then quiet
        const kept = [...model.filter((t) => now - t <= withinMs), now];
        const expected = kept.length <= max;
        if (expected) model = kept;
        assert.equal(w.tryAdd(now), expected, `round ${round}, restart ${i} at ${now} (max ${max} in ${withinMs} ms)`);
        const probe = now + Math.floor(random() * withinMs * 2);
        assert.equal(w.countAt(probe), model.filter((t) => probe - t <= withinMs).length);
      }
    }
  });

  it('stays O(1) per restart: a million restarts in a sliding window take no longer than a ring buffer walk', () => {
    const w = new RestartWindow(1_000, 1_000);
    let allowed = 0;
    for (let t = 0; t < 1_000_000; t++) if (w.tryAdd(t)) allowed++;
    // One restart per ms with room for 1,000 per 1,000 ms: all but the boundary repeats are allowed.
    assert.ok(allowed > 990_000);
  });
});

describe('supervisor restart intensity', () => {
  it('never gives up with maxRestarts: Infinity', async () => {
    const { system, captured } = newSystem();
    const log: string[] = [];
    const sup = await system.start(
      supervisor({
        maxRestarts: Number.POSITIVE_INFINITY,
        children: [{ id: 'w', behavior: loggingWorker({ name: 'w', log }), args: { name: 'w', log } }],
      }),
    );
    const w = await childRef(sup, 'w');
    for (let i = 0; i < 50; i++) {
      w.send({ type: 'throw' }); // 50 crashes within the default 5,000 ms, on a clock that does not move
      await settle(system);
    }
    assert.equal(sup.alive, true);
    assert.equal((await whichChildren(sup))[0]?.restarts, 50);
    assert.ok(!captured.errors.some((e) => /restart intensity/.test(e.msg ?? '')));
    await system.shutdown();
  });

  it('restarts maxRestarts times within withinMs, then shuts down with reason shutdown', async () => {
    const { system, clock, captured } = newSystem();
    const log: string[] = [];
    const sup = await system.start(
      supervisor({
        maxRestarts: 3,
        withinMs: 5_000,
        children: [{ id: 'w', behavior: loggingWorker({ name: 'w', log }), args: { name: 'w', log } }],
      }),
    );
    const w = await childRef(sup, 'w');
    for (let i = 0; i < 3; i++) {
      w.send({ type: 'throw' });
      await settle(system);
      clock.advance(1_000);
    }
    assert.equal(sup.alive, true);
    assert.equal((await whichChildren(sup))[0]?.restarts, 3);
    const exited = system.exited(sup);
    w.send({ type: 'throw' });
    await settle(system);
    assert.equal(await exited, 'shutdown');
    assert.equal(w.alive, false);
    assert.ok(captured.errors.some((e) => /reached its restart intensity \(3 in 5000 ms\)/.test(e.msg ?? '')));
  });

  it('forgets restarts older than withinMs', async () => {
    const { system, clock } = newSystem();
    const log: string[] = [];
    const sup = await system.start(
      supervisor({
        maxRestarts: 2,
        withinMs: 1_000,
        children: [{ id: 'w', behavior: loggingWorker({ name: 'w', log }), args: { name: 'w', log } }],
      }),
    );
    const w = await childRef(sup, 'w');
    for (let i = 0; i < 10; i++) {
      w.send({ type: 'throw' });
      await settle(system);
      clock.advance(600); // two crashes per 1,200 ms: never three within 1,000 ms
    }
    assert.equal(sup.alive, true);
    assert.equal((await whichChildren(sup))[0]?.restarts, 10);
    await system.shutdown();
  });

  it('counts a restart whose init fails against the window', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    let failing = false;
    const args = { name: 'w', log, failInit: () => failing };
    const sup = await system.start(
      supervisor({ maxRestarts: 3, withinMs: 5_000, children: [{ id: 'w', behavior: loggingWorker(args), args }] }),
    );
    const w = await childRef(sup, 'w');
    const exited = system.exited(sup);
    failing = true;
    w.send({ type: 'throw' });
    await settle(system);
    // The crash, then three restarts whose init fails: the fourth restart would exceed 3 in 5 s.
    assert.equal(await exited, 'shutdown');
    assert.deepEqual(
      log.filter((l) => l.startsWith('init')),
      ['init w', 'init w', 'init w', 'init w'],
    );
  });

  it('escalates through three levels: each supervisor gives up in turn', async () => {
    const { system } = newSystem();
    const log: string[] = [];
    const leaf = supervisor({
      maxRestarts: 1,
      withinMs: 10_000,
      children: [{ id: 'w', behavior: loggingWorker({ name: 'w', log }), args: { name: 'w', log } }],
    });
    const middle = supervisor({ maxRestarts: 1, withinMs: 10_000, children: [{ id: 'leaf', behavior: leaf }] });
    const top = await system.start(
      supervisor({ maxRestarts: 0, withinMs: 10_000, children: [{ id: 'middle', behavior: middle }] }),
    );
    const events: string[] = [];
    const middleRef = (await whichChildren(top))[0]?.ref;
    assert.ok(middleRef);
    system.monitor(top, (r) => events.push(`top ${String(r)}`));
    const crashWorker = async () => {
      const mid = (await whichChildren(top))[0]?.ref as never;
      const leafRef = (await whichChildren(mid))[0]?.ref as never;
      const w = (await whichChildren(leafRef))[0]?.ref as unknown as import('troupe').Ref<{ type: 'throw' }>;
      w.send({ type: 'throw' });
      await settle(system);
    };
    await crashWorker(); // leaf restarts w (1 of 1)
    await crashWorker(); // leaf gives up; middle restarts leaf (1 of 1)
    assert.equal(top.alive, true);
    await crashWorker(); // leaf restarts w
    await crashWorker(); // leaf gives up; middle gives up; top (0 allowed) gives up
    assert.deepEqual(events, ['top shutdown']);
    assert.equal(top.alive, false);
    assert.equal(log.filter((l) => l === 'init w').length, 4);
  });
});

describe('a child restart limit (restartLimit)', () => {
  it('ends a child that crashes too often, keeps its siblings and the supervisor, and counts per child', async () => {
    const { system, clock, captured } = newSystem();
    const log: string[] = [];
    const failing = { restartLimit: { maxRestarts: 2, withinMs: 1_000 } };
    const sup = await system.start(
      dynamicSupervisor<WorkerMsg, number[], WorkerArgs>({
        child: { behavior: loggingWorker({ name: 'x', log }), ...failing },
        maxRestarts: 100,
        withinMs: 1_000,
      }),
    );
    const a = await startOne(sup, 'a', log);
    const b = await startOne(sup, 'b', log);
    const exited: unknown[] = [];
    system.monitor(a as Ref<never>, (reason) => exited.push(reason));
    // Two crashes within the window are restarted; b's own crash does not count against a.
    a.send({ type: 'throw' });
    b.send({ type: 'throw' });
    await settle(system);
    clock.advance(400);
    a.send({ type: 'throw' });
    await settle(system);
    assert.equal(a.alive, true);
    assert.deepEqual(exited, []);
    // The third within 1,000 ms: not restarted, ended for good with its reason.
    clock.advance(400);
    a.send({ type: 'throw' });
    await settle(system);
    assert.equal(a.alive, false);
    assert.match(String(exited[0]), /poison/);
    assert.equal(sup.alive, true, 'the supervisor carries on');
    assert.equal(b.alive, true);
    assert.deepEqual(await b.call({ type: 'get' }), []);
    assert.equal((await countChildren(sup)).active, 1);
    assert.match(
      String(captured.errors.at(-1)?.msg),
      /child '\d+' reached its own restart limit \(2 in 1000 ms\); not restarted/,
    );
    // Restarts older than the window are forgotten: b may crash twice more, spaced out.
    clock.advance(2_000);
    b.send({ type: 'throw' });
    await settle(system);
    clock.advance(2_000);
    b.send({ type: 'throw' });
    await settle(system);
    assert.equal(b.alive, true);
    await system.shutdown();
  });

  it('rejects a bad limit when the spec is given', () => {
    assert.throws(
      () => supervisor({ children: [{ id: 'a', behavior: () => {}, restartLimit: { maxRestarts: -1, withinMs: 5 } }] }),
      /restartLimit\.maxRestarts must be an integer >= 0; got -1/,
    );
    assert.throws(
      () => supervisor({ children: [{ id: 'a', behavior: () => {}, restartLimit: { maxRestarts: 1, withinMs: 0 } }] }),
      /restartLimit\.withinMs must be a number of milliseconds > 0; got 0/,
    );
  });
});

async function startOne(
  sup: DynamicSupervisor<WorkerMsg, WorkerArgs>,
  name: string,
  log: string[],
): Promise<Ref<WorkerMsg>> {
  const r = await startChild(sup, { name, log });
  if (!r.ok) throw new Error(`could not start ${name}`);
  return r.ref as Ref<WorkerMsg>;
}

/** `gc()`, so that a test can read the memory that is still in use. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('restartLimit (a child restart limit of its own)', () => {
  it('refuses an infinite period when the spec is given, not at the first restart', () => {
    assert.throws(
      () =>
        supervisor({
          children: [
            { id: 'w', behavior: () => {}, restartLimit: { maxRestarts: 3, withinMs: Number.POSITIVE_INFINITY } },
          ],
        }),
      /restartLimit\.withinMs must be a number of milliseconds > 0; got Infinity \(and finite/,
    );
  });

  it('accepts maxRestarts: Infinity', () => {
    assert.doesNotThrow(() =>
      supervisor({
        children: [
          { id: 'w', behavior: () => {}, restartLimit: { maxRestarts: Number.POSITIVE_INFINITY, withinMs: 1_000 } },
        ],
      }),
    );
  });
});
