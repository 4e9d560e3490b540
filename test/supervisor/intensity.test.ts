import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countChildren,
  type DynamicSupervisorRef,
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

  it('stays O(1) per restart: a million restarts in a sliding window take no longer than a ring buffer walk', () => {
    const w = new RestartWindow(1_000, 1_000);
    let allowed = 0;
    for (let t = 0; t < 1_000_000; t++) if (w.tryAdd(t)) allowed++;
    // One restart per ms with room for 1,000 per 1,000 ms: all but the boundary repeats are allowed.
    assert.ok(allowed > 990_000);
  });
});

describe('supervisor restart intensity', () => {
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
    system.watch(top, (r) => events.push(`top ${String(r)}`));
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
    system.watch(a as Ref<never>, (reason) => exited.push(reason));
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
  sup: DynamicSupervisorRef<WorkerArgs, WorkerMsg>,
  name: string,
  log: string[],
): Promise<Ref<WorkerMsg>> {
  const r = await startChild(sup, { name, log });
  if (!r.ok) throw new Error(`could not start ${name}`);
  return r.ref as Ref<WorkerMsg>;
}
