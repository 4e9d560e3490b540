import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorSystem, DuplicateRegistry, type Ref, silentLogger, supervisor, whichChildren } from 'troupe';
import { settle } from 'troupe/testing';

type Msg = { type: 'hello'; from: string } | { type: 'boom' };

describe('DuplicateRegistry', () => {
  it('holds many actors under one key, each with a value', () => {
    const system = new ActorSystem();
    const reg = new DuplicateRegistry<string, string, Msg>();
    const a = system.spawn((_m: Msg) => {});
    const b = system.spawn((_m: Msg) => {});
    reg.register('lobby', a, 'alice');
    reg.register('lobby', b, 'bob');
    reg.register('dev', a, 'alice');
    assert.equal(reg.count('lobby'), 2);
    assert.deepEqual(
      [...reg.lookup('lobby')],
      [
        [a, 'alice'],
        [b, 'bob'],
      ],
    );
    assert.equal(reg.size, 3);
    assert.deepEqual(reg.keysOf(a as Ref<never>).sort(), ['dev', 'lobby']);
    reg.register('lobby', a, 'alice2');
    assert.equal(reg.count('lobby'), 2, 're-registering updates the value');
    assert.equal(reg.lookup('lobby').get(a), 'alice2');
    assert.equal(reg.unregister('lobby', a), true);
    assert.equal(reg.unregister('lobby', a), false);
    assert.equal(reg.count('nobody'), 0);
    assert.equal(reg.lookup('nobody').size, 0);
  });

  it('reads a key with one actor as a map of one, before, between and after more', () => {
    const system = new ActorSystem();
    const reg = new DuplicateRegistry<string, string, Msg>();
    const a = system.spawn((_m: Msg) => {});
    const b = system.spawn((_m: Msg) => {});
    const view = (k: string) => {
      const m = reg.lookup(k);
      const each: unknown[] = [];
      m.forEach((v, r) => {
        each.push([r, v]);
      });
      return {
        size: m.size,
        entries: [...m],
        keys: [...m.keys()],
        values: [...m.values()],
        each,
        hasA: m.has(a),
        getA: m.get(a),
        hasB: m.has(b),
      };
    };
    reg.register('u', a, 'one');
    const only = { size: 1, entries: [[a, 'one']], keys: [a], values: ['one'], each: [[a, 'one']] };
    assert.deepEqual(view('u'), { ...only, hasA: true, getA: 'one', hasB: false });
    reg.register('u', a, 'again');
    assert.equal(reg.lookup('u').get(a), 'again', 're-registering updates the value');
    assert.equal(reg.size, 1);
    reg.register('u', b, 'two');
    assert.deepEqual(reg.lookup('u').size, 2);
    assert.equal(reg.size, 2);
    assert.equal(reg.unregister('u', a), true);
    assert.deepEqual([...reg.lookup('u')], [[b, 'two']]);
    assert.equal(reg.unregister('u', a), false);
    assert.equal(reg.unregister('u', b), true);
    assert.deepEqual(reg.keys(), []);
    reg.register('v', a, 'x');
    assert.equal(reg.unregister('v', b), false, 'another actor is not the one entry');
    assert.equal(reg.count('v'), 1);
    assert.deepEqual(reg.keysOf(a as Ref<never>), ['v']);
    system.kill(a as Ref<never>);
    assert.equal(reg.count('v'), 0);
    assert.equal(reg.size, 0);
  });

  it('dispatches to every actor under a key, even one that unregisters during dispatch', async () => {
    const system = new ActorSystem();
    const reg = new DuplicateRegistry<string, string, Msg>();
    const got: string[] = [];
    const make = (name: string) =>
      system.spawn((m: Msg) => void (m.type === 'hello' && got.push(`${name}<-${m.from}`)));
    const a = make('a');
    const b = make('b');
    reg.register('room', a, 'a');
    reg.register('room', b, 'b');
    const n = reg.dispatch('room', (ref, value) => {
      if (value === 'a') reg.unregister('room', ref);
      ref.send({ type: 'hello', from: 'x' });
    });
    assert.equal(n, 2);
    await settle(system);
    assert.deepEqual(got.sort(), ['a<-x', 'b<-x']);
    assert.equal(reg.count('room'), 1);
  });

  it('keeps the first actor’s entry and its keys right when a key gets a second actor, and after', () => {
    const system = new ActorSystem();
    const reg = new DuplicateRegistry<string, string, Msg>();
    const a = system.spawn((_m: Msg) => {});
    const b = system.spawn((_m: Msg) => {});
    reg.register('u', a, 'a1');
    reg.register('w', a, 'a2');
    reg.register('u', b, 'b1');
    assert.deepEqual(reg.keysOf(a as Ref<never>), ['u', 'w']);
    reg.register('u', a, 'a3');
    assert.deepEqual(
      [...reg.lookup('u')],
      [
        [a, 'a3'],
        [b, 'b1'],
      ],
    );
    assert.equal(reg.unregister('u', a), true);
    assert.deepEqual(reg.keysOf(a as Ref<never>), ['w']);
    reg.register('u', a, 'a4');
    assert.deepEqual(reg.keysOf(a as Ref<never>), ['w', 'u']);
    system.kill(a as Ref<never>);
    assert.deepEqual([...reg.lookup('u')], [[b, 'b1']]);
    assert.equal(reg.count('w'), 0);
    assert.equal(reg.size, 1);
    system.kill(b as Ref<never>);
    assert.deepEqual(reg.keys(), []);
  });

  it('drops every entry of an actor synchronously when it dies, killed or crashed', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const reg = new DuplicateRegistry<string, undefined, Msg>();
    const a = system.spawn((m: Msg) => {
      if (m.type === 'boom') throw new Error('boom');
    });
    const b = system.spawn((_m: Msg) => {});
    for (const k of ['x', 'y', 'z']) {
      reg.register(k, a);
      reg.register(k, b);
    }
    a.send({ type: 'boom' });
    await settle(system);
    assert.deepEqual(
      ['x', 'y', 'z'].map((k) => reg.count(k)),
      [1, 1, 1],
    );
    system.kill(b as Ref<never>);
    assert.deepEqual(reg.keys(), [], 'gone the moment kill returns');
    assert.equal(reg.size, 0);
  });

  it('keeps the entries of a supervised actor across a restart in place', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const reg = new DuplicateRegistry<string, undefined, Msg>();
    const sup = await system.start(
      supervisor({
        children: [
          {
            id: 'm',
            behavior: (m: Msg) => {
              if (m.type === 'boom') throw new Error('boom');
            },
          },
        ],
      }),
    );
    const m = (await whichChildren(sup))[0]?.ref as unknown as Ref<Msg>;
    reg.register('room', m);
    m.send({ type: 'boom' });
    await settle(system);
    assert.equal(reg.count('room'), 1);
    assert.equal(reg.lookup('room').has(m), true);
    await system.shutdown();
    assert.equal(reg.count('room'), 0);
  });

  it('tells onExit of each entry its actor took with it, with key and value, and not of unregister', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const exits: Array<[string, string, boolean]> = [];
    const reg = new DuplicateRegistry<string, string, Msg>('rooms', {
      onExit: (key, ref, value) => exits.push([key, value, reg.lookup(key).has(ref)]),
    });
    const a = system.spawn((m: Msg) => {
      if (m.type === 'boom') throw new Error('boom');
    });
    const b = system.spawn((_m: Msg) => {});
    reg.register('x', a, 'a in x');
    reg.register('y', a, 'a in y');
    reg.register('x', b, 'b in x');
    reg.unregister('y', a);
    a.send({ type: 'boom' });
    await settle(system);
    assert.deepEqual(exits, [['x', 'a in x', false]], 'once the entry is gone; the unregistered one is not told');
    system.kill(b as Ref<never>);
    assert.deepEqual(exits[1], ['x', 'b in x', false]);
    assert.equal(reg.size, 0);
  });

  it('logs an onExit that throws, and still drops the entries', async () => {
    const errors: string[] = [];
    const logger = { ...silentLogger, error: (_o: object, msg?: string) => void errors.push(msg ?? '') };
    const system = new ActorSystem({ logger });
    const reg = new DuplicateRegistry<string, undefined, Msg>('members', {
      onExit: () => {
        throw new Error('listener failed');
      },
    });
    const a = system.spawn((_m: Msg) => {});
    reg.register('x', a);
    reg.register('y', a);
    system.kill(a as Ref<never>);
    assert.equal(reg.size, 0);
    assert.deepEqual(errors, ['members: onExit threw', 'members: onExit threw']);
    assert.throws(() => new DuplicateRegistry('r', { onExit: 'no' as never }), /onExit must be a function/);
  });
});
