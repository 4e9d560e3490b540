import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Actor,
  ActorSystem,
  type Behavior,
  dynamicSupervisor,
  type Ref,
  type Reply,
  silentLogger,
  startChild,
  supervisor,
  upgradeChildren,
  whichChildren,
} from 'troupe';
import { settle } from 'troupe/testing';

type CounterMsg = { type: 'inc'; seq: number } | { type: 'get'; reply: Reply<{ count: number; seen: number[] }> };
interface CounterState {
  count: number;
  seen: number[];
}

const v1: Behavior<CounterMsg, CounterState> = {
  init: () => ({ count: 0, seen: [] }),
  receive(s, m) {
    if (m.type === 'inc') return { count: s.count + 1, seen: [...s.seen, m.seq] };
    m.reply(s);
    return s;
  },
};

const v2: Behavior<CounterMsg, CounterState> = {
  init: () => ({ count: 0, seen: [] }),
  receive(s, m) {
    if (m.type === 'inc') return { count: s.count + 2, seen: [...s.seen, m.seq] };
    m.reply(s);
    return s;
  },
};

describe('system.upgrade', () => {
  it('swaps the code between two messages: none lost, none handled twice, state kept', async () => {
    const system = new ActorSystem();
    const ref = system.spawn(v1);
    for (let i = 0; i < 50; i++) ref.send({ type: 'inc', seq: i });
    const upgraded = system.upgrade(ref as Ref<never>, v2);
    for (let i = 50; i < 100; i++) ref.send({ type: 'inc', seq: i });
    assert.deepEqual(await upgraded, { ok: true });
    const s = await ref.call({ type: 'get' });
    assert.deepEqual(
      s.seen,
      Array.from({ length: 100 }, (_, i) => i),
    );
    // Like OTP's code change, the upgrade waits in the mailbox: the 50 messages before it ran on v1
    // (+1 each), the 50 after it on v2 (+2 each).
    assert.equal(s.count, 150);
  });

  it('keeps the old code running and reports the error when migrate throws', async () => {
    const errors: string[] = [];
    const system = new ActorSystem({ logger: { error: (_o, m) => errors.push(String(m)), warn() {} } });
    const ref = system.spawn(v1);
    ref.send({ type: 'inc', seq: 0 });
    const r = await system.upgrade(ref as Ref<never>, v2, {
      migrate: () => {
        throw new Error('cannot migrate');
      },
    });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason === 'migrate_failed' && r.error.message, 'cannot migrate');
    ref.send({ type: 'inc', seq: 1 });
    assert.equal((await ref.call({ type: 'get' })).count, 2, 'still counting by one');
    assert.match(errors[0] ?? '', /upgrade of Ref<\d+> failed in migrate; the old code keeps running/);
  });

  it('applies migrate to the state, and moves a class actor to a new class with its fields', async () => {
    const system = new ActorSystem();
    class A extends Actor<CounterMsg> {
      count = 5;
      seen: number[] = [];
      receive(m: CounterMsg) {
        if (m.type === 'inc') this.count++;
        else m.reply({ count: this.count, seen: this.seen });
      }
    }
    class B extends Actor<CounterMsg> {
      count = 0;
      seen: number[] = [];
      receive(m: CounterMsg) {
        if (m.type === 'inc') this.count += 10;
        else m.reply({ count: this.count, seen: [...this.seen, -1] });
      }
    }
    const ref = system.spawn(A);
    ref.send({ type: 'inc', seq: 0 });
    assert.deepEqual(await system.upgrade(ref as Ref<never>, B), { ok: true });
    ref.send({ type: 'inc', seq: 1 });
    assert.deepEqual(await ref.call({ type: 'get' }), { count: 16, seen: [-1] });

    const fn = system.spawn(v1);
    fn.send({ type: 'inc', seq: 0 });
    await system.upgrade(fn as Ref<never>, v2, { migrate: (s: CounterState) => ({ ...s, count: s.count * 100 }) });
    assert.equal((await fn.call({ type: 'get' })).count, 100);
  });

  it('waits for a running async handler before swapping', async () => {
    const system = new ActorSystem();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const log: string[] = [];
    const slow = system.spawn(async (m: string) => {
      log.push(`v1 start ${m}`);
      await gate;
      log.push(`v1 end ${m}`);
    });
    slow.send('a');
    await settle(system);
    const up = system.upgrade(slow as Ref<never>, (m: string) => void log.push(`v2 ${m}`));
    slow.send('b');
    await settle(system);
    assert.deepEqual(log, ['v1 start a']);
    release();
    assert.deepEqual(await up, { ok: true });
    await settle(system);
    assert.deepEqual(log, ['v1 start a', 'v1 end a', 'v2 b']);
  });

  it('answers dead for a dead actor', async () => {
    const system = new ActorSystem();
    const ref = system.spawn(v1);
    system.kill(ref as Ref<never>);
    assert.deepEqual(await system.upgrade(ref as Ref<never>, v2), { ok: false, reason: 'dead' });
  });
});

describe('upgradeChildren', () => {
  it('moves every child of a dynamic supervisor to new code under a stream of messages, and new children too', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const sup = await system.start(dynamicSupervisor({ child: { behavior: v1 } }));
    const refs: Ref<CounterMsg>[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await startChild(sup, undefined);
      if (r.ok) refs.push(r.ref);
    }
    let seq = 0;
    for (const r of refs) for (let i = 0; i < 20; i++) r.send({ type: 'inc', seq: seq++ });
    const result = upgradeChildren(sup, { behavior: v2 });
    for (const r of refs) for (let i = 0; i < 20; i++) r.send({ type: 'inc', seq: seq++ });
    assert.deepEqual(await result, { ok: true, upgraded: 10, failed: [] });
    // Every message sent so far was queued before the upgrade reached each child: old code, +1.
    // Whatever is sent now runs on the new code, +2.
    for (const r of refs) r.send({ type: 'inc', seq: seq++ });
    for (const r of refs) {
      const s = await r.call({ type: 'get' });
      assert.equal(s.seen.length, 41, 'no message lost or doubled');
      assert.equal(s.count, 42);
      assert.deepEqual(
        s.seen,
        [...s.seen].sort((a, b) => a - b),
      );
    }
    const fresh = await startChild(sup, undefined);
    assert.ok(fresh.ok);
    if (fresh.ok) {
      fresh.ref.send({ type: 'inc', seq: 0 });
      assert.equal((await fresh.ref.call({ type: 'get' })).count, 2, 'new children start on the new code');
    }
    await system.shutdown();
  });

  it('upgrades a static child by id and keeps the new code across its restarts', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    type M = CounterMsg | { type: 'boom' };
    const crashable = (b: Behavior<CounterMsg, CounterState>): Behavior<M, CounterState> => ({
      init: () => ({ count: 0, seen: [] }),
      receive(s, m, ctx) {
        if (m.type === 'boom') throw new Error('boom');
        return b.receive(s, m, ctx as never);
      },
    });
    const sup = await system.start(supervisor({ children: [{ id: 'c', behavior: crashable(v1) }] }));
    const c = (await whichChildren(sup))[0]?.ref as unknown as Ref<M>;
    assert.deepEqual(await upgradeChildren(sup, { id: 'c', behavior: crashable(v2) }), {
      ok: true,
      upgraded: 1,
      failed: [],
    });
    c.send({ type: 'boom' });
    c.send({ type: 'inc', seq: 1 });
    assert.equal((await c.call({ type: 'get' })).count, 2, 'restarted on the new code');
    assert.deepEqual(await upgradeChildren(sup, { id: 'nope', behavior: v2 }), {
      ok: false,
      upgraded: 0,
      failed: [],
      reason: 'not_found',
    });
    await system.shutdown();
  });

  it("gives an upgraded class actor its incarnation's context: a late ctx.stop after a restart in place is ignored", async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let gate: () => void = () => {};
    class V1 extends Actor<string> {
      receive(_msg: string) {}
    }
    class V2 extends Actor<string> {
      receive(msg: string) {
        if (msg !== 'slow') return;
        // Resumes after the incarnation that started it has ended: its ctx must not reach the next.
        return new Promise<void>((r) => {
          gate = r;
        }).then(() => this.ctx.stop());
      }
    }
    const sup = await system.start(supervisor({ children: [{ id: 'w', behavior: V1, restart: 'permanent' }] }));
    const ref = (await whichChildren(sup))[0]?.ref as unknown as Ref<string>;
    assert.equal((await upgradeChildren(sup, { id: 'w', behavior: V2 })).ok, true);
    ref.send('slow');
    await settle(system);
    system.exit(ref as Ref<never>, new Error('a linked peer died'));
    await settle(system);
    assert.equal((await whichChildren(sup))[0]?.restarts, 1);
    gate();
    await settle(system);
    const [row] = await whichChildren(sup);
    assert.deepEqual(
      { restarts: row?.restarts, status: row?.status, alive: ref.alive },
      { restarts: 1, status: 'running', alive: true },
    );
    await system.shutdown();
  });
});
