import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorSystem, NameTakenError, type Ref, silentLogger, supervisor, UniqueRegistry, whichChildren } from 'troupe';
import { settle } from 'troupe/testing';

const noop = () => {};

describe('UniqueRegistry', () => {
  it('registers, looks up and unregisters a name', () => {
    const system = new ActorSystem();
    const reg = new UniqueRegistry<string, number>();
    const a = system.spawn(noop);
    assert.deepEqual(reg.register('a', a, 1), { ok: true });
    assert.equal(reg.whereis('a'), a);
    assert.deepEqual(reg.lookup('a'), { ref: a, value: 1 });
    assert.deepEqual(reg.keysOf(a), ['a']);
    assert.equal(reg.unregister('a'), true);
    assert.equal(reg.unregister('a'), false);
    assert.equal(reg.whereis('a'), undefined);
    assert.deepEqual(reg.keysOf(a), []);
  });

  it('answers a taken name with the holder, as a result', () => {
    const system = new ActorSystem();
    const reg = new UniqueRegistry();
    const a = system.spawn(noop);
    const b = system.spawn(noop);
    reg.register('x', a);
    assert.deepEqual(reg.register('x', b), { ok: false, reason: 'taken', ref: a });
    assert.deepEqual(reg.register('x', a), { ok: true }, 're-registering the holder is fine');
  });

  it('refuses a dead actor', () => {
    const system = new ActorSystem();
    const reg = new UniqueRegistry();
    const a = system.spawn(noop);
    system.kill(a);
    assert.deepEqual(reg.register('x', a), { ok: false, reason: 'dead' });
  });

  for (const [how, end] of [
    ['stops', (s: ActorSystem, r: Ref<never>) => void s.stop(r)],
    ['is killed', (s: ActorSystem, r: Ref<never>) => s.kill(r)],
    ['crashes', (_s: ActorSystem, r: Ref<never>) => (r as unknown as Ref<string>).send('boom')],
  ] as const) {
    it(`removes the entry in the same step that the actor dies when it ${how}: no lookup returns a dead actor`, async () => {
      const system = new ActorSystem({ logger: silentLogger });
      const reg = new UniqueRegistry();
      const a = system.spawn((msg: string) => {
        if (msg === 'boom') throw new Error('boom');
      });
      reg.register('a', a);
      const seenAtDown: unknown[] = [];
      system.monitor(a, () => seenAtDown.push(reg.whereis('a')));
      end(system, a as Ref<never>);
      await settle(system);
      assert.equal(a.alive, false);
      assert.equal(reg.whereis('a'), undefined);
      assert.deepEqual(seenAtDown, [undefined], 'already gone when monitors hear of the death');
    });
  }

  it('keeps the entries of a supervised actor restarted in place (its ref stays valid)', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const sup = await system.start(
      supervisor({
        children: [
          {
            id: 'w',
            behavior: (msg: string) => {
              if (msg === 'boom') throw new Error('boom');
            },
          },
        ],
      }),
    );
    const w = (await whichChildren(sup))[0]?.ref as unknown as Ref<string>;
    system.register('worker', w as Ref<never>);
    w.send('boom');
    await settle(system);
    assert.equal(system.whereis('worker'), w);
    await system.stop(sup, 'shutdown');
    assert.equal(system.whereis('worker'), undefined, 'gone once the supervisor ends it for good');
  });
});

describe('system names', () => {
  it('registers an actor with the name spawn option and throws NameTakenError for a taken name', () => {
    const system = new ActorSystem();
    const a = system.spawn(noop, { name: 'cache' });
    assert.equal(system.whereis('cache'), a);
    assert.throws(
      () => system.spawn(noop, { name: 'cache' }),
      (e: unknown) => e instanceof NameTakenError && e.holder === a,
    );
    assert.equal(system.stats().actors, 1, 'nothing was started for the taken name');
    assert.deepEqual(system.register('cache', system.spawn(noop)), { ok: false, reason: 'taken', ref: a });
  });

  it('registers through another naming service with { via, key }', () => {
    const system = new ActorSystem();
    const mine = new UniqueRegistry<{ shard: number }>('shards');
    const key = { shard: 1 };
    const a = system.spawn(noop, { name: { via: mine as UniqueRegistry<unknown>, key } });
    assert.equal(mine.whereis(key), a);
    assert.equal(system.whereis(key), undefined);
  });

  it('makes lookups of many names cheap: a million names register and resolve', () => {
    const system = new ActorSystem();
    const reg = new UniqueRegistry<number>();
    const refs = [];
    for (let i = 0; i < 1_000; i++) refs.push(system.spawn(noop));
    for (let i = 0; i < 1_000_000; i++) reg.register(i, refs[i % 1_000] as Ref<never>);
    assert.equal(reg.size, 1_000_000);
    assert.equal(reg.whereis(999_999), refs[999]);
  });

  it('tells onExit of a name its actor took with it, and not of one unregistered', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const exits: Array<[string, number]> = [];
    const names = new UniqueRegistry<string, number>('names', {
      onExit: (key, _ref, value) => exits.push([key, value]),
    });
    const a = system.spawn((_m: never) => {});
    names.register('kept', a as Ref<never>, 1);
    names.register('dropped', a as Ref<never>, 2);
    names.unregister('dropped');
    system.kill(a as Ref<never>);
    assert.deepEqual(exits, [['kept', 1]]);
    assert.equal(names.whereis('kept'), undefined);
  });
});
