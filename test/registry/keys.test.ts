import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorSystem, DuplicateRegistry, key, type Reply, silentLogger, UniqueRegistry } from 'troupe';
import { settle } from 'troupe/testing';

type CounterMsg = { type: 'inc' } | { type: 'get'; reply: Reply<number> };

const counter = {
  init: () => 0,
  receive(n: number, msg: CounterMsg) {
    if (msg.type === 'inc') return n + 1;
    msg.reply(n);
    return n;
  },
};

describe('registry keys', () => {
  it('finds an actor by a typed key, and a fresh key of the same name is the same key', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const ref = system.spawn(counter, { name: key<CounterMsg>('counter') });
    const found = system.whereis(key<CounterMsg>('counter'));
    assert.equal(found, ref);
    found?.send({ type: 'inc' });
    assert.equal(await found?.call({ type: 'get' }), 1);
    // A typed key and the plain name it wraps are one name.
    assert.equal(system.whereis('counter'), ref);
    await system.shutdown();
  });

  it('matches structured keys by value: a fresh ["user", 42] finds what ["user", 42] registered', () => {
    const system = new ActorSystem();
    const reg = new UniqueRegistry<unknown>();
    const a = system.spawn(() => {});
    const b = system.spawn(() => {});
    assert.deepEqual(reg.register(['user', 42], a), { ok: true });
    assert.equal(reg.whereis(['user', 42]), a);
    assert.equal(reg.whereis(['user', '42']), undefined, 'the number 42 and the string "42" differ');
    assert.equal(reg.whereis(['user', 43]), undefined);
    assert.deepEqual(reg.register(['user', 42], b), { ok: false, reason: 'taken', ref: a });
    // Plain objects match whatever the order of their fields.
    reg.register({ room: 'lobby', shard: 1 }, b);
    assert.equal(reg.whereis({ shard: 1, room: 'lobby' }), b);
    assert.deepEqual(reg.keysOf(a), [['user', 42]]);
    assert.equal(reg.size, 2);
    assert.equal(reg.unregister(['user', 42]), true, 'a fresh array unregisters it');
    assert.equal(reg.whereis(['user', 42]), undefined);
    assert.deepEqual(reg.keysOf(a), []);
  });

  it('keeps objects that are not arrays or plain objects as identity keys', () => {
    const system = new ActorSystem();
    const reg = new UniqueRegistry<unknown>();
    class Tenant {
      constructor(readonly id: number) {}
    }
    const t = new Tenant(1);
    const a = system.spawn(() => {});
    reg.register(t, a);
    assert.equal(reg.whereis(t), a);
    assert.equal(reg.whereis(new Tenant(1)), undefined);
  });

  it('removes a dead actor under its structured key, found by a fresh one', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const a = system.spawn(() => {}, { name: ['worker', 7] });
    assert.equal(system.whereis(['worker', 7]), a);
    system.kill(a);
    await settle(system);
    assert.equal(system.whereis(['worker', 7]), undefined);
    assert.deepEqual(system.registry.keys(), []);
  });

  it('rejects a structured key that holds something without a value to compare, saying what it holds', () => {
    const system = new ActorSystem();
    const reg = new UniqueRegistry<unknown>();
    const a = system.spawn(() => {});
    assert.throws(
      () => reg.register(['user', () => 42], a),
      /a structured key holds only strings, numbers, booleans, null, arrays and plain objects; got function/,
    );
  });

  it('matches structured keys by value in a duplicate registry too', () => {
    const system = new ActorSystem();
    const reg = new DuplicateRegistry<readonly [string, number], string>();
    const a = system.spawn(() => {});
    const b = system.spawn(() => {});
    reg.register(['room', 1], a, 'alice');
    reg.register(['room', 1], b, 'bob');
    assert.equal(reg.count(['room', 1]), 2);
    assert.deepEqual([...reg.lookup(['room', 1]).values()], ['alice', 'bob']);
    assert.equal(reg.unregister(['room', 1], a), true);
    assert.deepEqual([...reg.lookup(['room', 1]).values()], ['bob']);
    assert.deepEqual(reg.keys(), [['room', 1]]);
  });
});

describe('registry keys, as introspection shows them', () => {
  it('shows a typed key by its name in keysOf and inspect()', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const ref = system.spawn(counter, { name: key<CounterMsg>('counter') });
    await settle(system);
    assert.deepEqual(system.registry.keysOf(ref as never), ['counter']);
    assert.deepEqual(system.inspect().roots[0]?.names, ['counter']);
    await system.shutdown();
  });
});
