import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Actor, ActorSystem, type Behavior, type Context, InitError, type Ref, type Reply, silentLogger } from 'troupe';
import { settle } from 'troupe/testing';

type CounterMsg = { type: 'inc'; by: number } | { type: 'get'; reply: Reply<number> };

const counter: Behavior<CounterMsg, number> = {
  init: () => 0,
  receive(count, msg) {
    switch (msg.type) {
      case 'inc':
        return count + msg.by;
      case 'get':
        msg.reply(count);
        return count;
      default: {
        const never: never = msg;
        return never;
      }
    }
  },
};

class Counter extends Actor<CounterMsg, number> {
  count = 0;
  override init(start: number) {
    this.count = start;
  }
  receive(msg: CounterMsg) {
    if (msg.type === 'inc') this.count += msg.by;
    else msg.reply(this.count);
  }
}

describe('spawn', () => {
  it('runs an object behaviour whose receive returns the next state', async () => {
    const system = new ActorSystem();
    const ref = system.spawn(counter);
    ref.send({ type: 'inc', by: 2 });
    ref.send({ type: 'inc', by: 3 });
    assert.equal(await ref.call({ type: 'get' }), 5);
    await system.shutdown();
  });

  it('runs a class actor with init(args) and state in fields', async () => {
    const system = new ActorSystem();
    const ref = system.spawn(Counter, { args: 40 });
    ref.send({ type: 'inc', by: 2 });
    assert.equal(await ref.call({ type: 'get' }), 42);
    await system.shutdown();
  });

  it('runs a plain function behaviour with ctx.self', async () => {
    const system = new ActorSystem();
    const seen: unknown[] = [];
    const ref = system.spawn((msg: string, ctx: Context<string>) => {
      seen.push([msg, ctx.self.id]);
    });
    ref.send('a');
    ref.send('b');
    await settle(system);
    assert.deepEqual(seen, [
      ['a', ref.id],
      ['b', ref.id],
    ]);
    await system.shutdown();
  });

  it('keeps the state when receive returns undefined', async () => {
    const system = new ActorSystem();
    const ref = system.spawn<CounterMsg, number>({
      init: () => 7,
      receive(count, msg) {
        if (msg.type === 'get') msg.reply(count);
        return undefined;
      },
    });
    ref.send({ type: 'inc', by: 1 });
    assert.equal(await ref.call({ type: 'get' }), 7);
    await system.shutdown();
  });

  it('rejects what cannot be spawned with a message that lists what can', () => {
    const system = new ActorSystem();
    assert.throws(() => system.spawn(42 as never), /expected a function \(msg, ctx\) => void, a behaviour object/);
    class NotAnActor {}
    assert.throws(() => system.spawn(NotAnActor as never), /must extend Actor/);
  });
});

describe('start', () => {
  it('resolves after an async init, and queues messages sent meanwhile', async () => {
    const system = new ActorSystem();
    const ref = await system.start<CounterMsg, number>({
      async init() {
        await new Promise((r) => setImmediate(r));
        return 100;
      },
      receive(count, msg) {
        if (msg.type === 'inc') return count + msg.by;
        msg.reply(count);
        return count;
      },
    });
    ref.send({ type: 'inc', by: 1 });
    assert.equal(await ref.call({ type: 'get' }), 101);
    await system.shutdown();
  });

  it('rejects with an InitError carrying the cause when init fails, and the actor is dead', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const boom = new Error('no database');
    const started = system.start<string, undefined>({
      async init() {
        throw boom;
      },
      receive() {},
    });
    await assert.rejects(started, (e: unknown) => e instanceof InitError && e.cause === boom);
  });

  it('reports a failed init to monitors as the exit reason when spawned without start', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const boom = new Error('bad config');
    const ref = system.spawn<string, undefined>({
      init() {
        throw boom;
      },
      receive() {},
    });
    assert.equal(await system.exited(ref), boom);
    assert.equal(ref.alive, false);
  });
});

describe('handlers', () => {
  it('handles one message at a time: an async handler finishes before the next message starts', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const ref = system.spawn(async (msg: string) => {
      log.push(`start ${msg}`);
      await new Promise((r) => setImmediate(r));
      log.push(`end ${msg}`);
    });
    ref.send('a');
    ref.send('b');
    await settle(system);
    assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b']);
  });

  it('keeps other actors running while one awaits', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = system.spawn(async () => {
      log.push('slow started');
      await gate;
      log.push('slow done');
    });
    const fast = system.spawn((msg: string) => {
      log.push(msg);
    });
    slow.send(undefined as never);
    fast.send('fast 1');
    fast.send('fast 2');
    await settle(system);
    assert.deepEqual(log, ['slow started', 'fast 1', 'fast 2']);
    release();
    await settle(system);
    assert.deepEqual(log, ['slow started', 'fast 1', 'fast 2', 'slow done']);
  });

  it('never runs the receiver inside send: no re-entrancy, no stack growth', async () => {
    const system = new ActorSystem();
    let depth = 0;
    let maxDepth = 0;
    let count = 0;
    const ref = system.spawn((n: number, ctx: Context<number>) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      count++;
      if (n > 0) ctx.self.send(n - 1);
      depth--;
    });
    ref.send(100_000);
    await settle(system);
    assert.equal(count, 100_001);
    assert.equal(maxDepth, 1);
  });

  it('delivers messages from one sender in send order', async () => {
    const system = new ActorSystem();
    const got: number[] = [];
    const sink = system.spawn((n: number) => {
      got.push(n);
    });
    const sender = system.spawn((n: number) => {
      for (let i = 0; i < n; i++) sink.send(i);
    });
    sender.send(1000);
    for (let i = 1000; i < 1010; i++) sink.send(i);
    await settle(system);
    // The outside sends happened first; the actor's 1000 follow in order.
    assert.deepEqual(got, [
      ...Array.from({ length: 10 }, (_, i) => 1000 + i),
      ...Array.from({ length: 1000 }, (_, i) => i),
    ]);
  });
});

describe('dead actors in memory', () => {
  it('a chain of actors that each spawn their successor and stop keeps at most one dead one, not every generation', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const system = new ActorSystem({ logger: silentLogger });
    const dead: Array<WeakRef<object>> = [];
    let last: Ref<number> | undefined;
    // Each generation hands over to the next (a relay, a session moving on) and stops.
    const generation = (n: number, ctx: Context<number>) => {
      if (n > 0) {
        const next = ctx.spawn(generation);
        last = next;
        next.send(n - 1);
      }
      dead.push(new WeakRef(ctx.self as object));
      if (n > 0) ctx.stop();
    };
    system.spawn(generation).send(50);
    for (let i = 0; i < 200 && dead.length < 51; i++) await nextTurn();
    assert.equal(dead.length, 51);
    assert.equal(last?.alive, true, 'the last generation lives');
    for (let i = 0; i < 5; i++) {
      gc();
      await nextTurn();
    }
    // The live one keeps its parent (its ctx.parent); the 49 before that are gone.
    const kept = dead.slice(0, 49).filter((w) => w.deref() !== undefined).length;
    assert.equal(kept, 0, `${kept} dead generations still in memory`);
    await system.shutdown();
  });
});
