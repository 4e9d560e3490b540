/**
 * Cases where OTP's supervisor_SUITE and Troupe used to disagree, now OTP's behaviour: a dynamic
 * supervisor answers restartChild and deleteChild at once, and a child whose restart is under way is
 * reported as restarting by every verb.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActorSystem,
  countChildren,
  deleteChild,
  dynamicSupervisor,
  key,
  restartChild,
  silentLogger,
  startChild,
  supervisor,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';

describe('supervisor verbs, as OTP answers them', () => {
  it('answers restartChild and deleteChild sent to a dynamic supervisor at once, with dynamic_supervisor', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const rooms = await system.start(dynamicSupervisor({ child: { behavior: () => {} } }));
    // A JavaScript caller (or a cast) reaches these verbs with a dynamic supervisor's ref.
    assert.deepEqual(await restartChild(rooms as never, '1'), { ok: false, reason: 'dynamic_supervisor' });
    assert.deepEqual(await deleteChild(rooms as never, '1'), { ok: false, reason: 'dynamic_supervisor' });
    await system.shutdown();
  });

  it('reports a child as restarting, by every verb, until its new incarnation has finished init', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let starts = 0;
    let release: () => void = () => {};
    const gate = () => new Promise<void>((r) => (release = r));
    const WORKER = key<'crash'>('worker');
    const worker = {
      async init() {
        // The first start is at once; each restart waits for the test to let it finish.
        if (starts++ > 0) await gate();
        return 0;
      },
      receive(_s: number, _m: 'crash') {
        throw new Error('crash');
      },
    };
    const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: worker, name: WORKER }] }));
    system.whereis(WORKER)?.send('crash');
    await settle(system);
    const [row] = await whichChildren(sup);
    assert.equal(row?.status, 'restarting');
    assert.deepEqual(await countChildren(sup), { specs: 1, active: 0, supervisors: 0, workers: 1 });
    assert.deepEqual(await restartChild(sup, 'w'), { ok: false, reason: 'restarting' });
    assert.deepEqual(await deleteChild(sup, 'w'), { ok: false, reason: 'restarting' });
    assert.deepEqual(await startChild(sup, { id: 'w', behavior: worker }), { ok: false, reason: 'already_present' });
    release();
    await settle(system);
    const [after] = await whichChildren(sup);
    assert.equal(after?.status, 'running');
    assert.deepEqual(await countChildren(sup), { specs: 1, active: 1, supervisors: 0, workers: 1 });
    await system.shutdown();
  });

  it('counts only running children of a dynamic supervisor as active', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const started = new Set<unknown>();
    let release: () => void = () => {};
    const sup = await system.start(
      dynamicSupervisor({
        child: {
          behavior: {
            // A child's first start is at once; its restarts wait for the test.
            async init(ctx: { self: unknown }) {
              if (started.has(ctx.self)) await new Promise<void>((r) => (release = r));
              started.add(ctx.self);
              return 0;
            },
            receive() {
              throw new Error('crash');
            },
          },
        },
      }),
    );
    const a = await startChild(sup, undefined);
    await startChild(sup, undefined);
    assert.ok(a.ok);
    a.ref.send('crash' as never);
    await settle(system);
    assert.deepEqual(await countChildren(sup), { specs: 2, active: 1, supervisors: 0, workers: 2 });
    release();
    await settle(system);
    assert.deepEqual(await countChildren(sup), { specs: 2, active: 2, supervisors: 0, workers: 2 });
    await system.shutdown();
  });
});
