/**
 * Mailboxes. One shared spec (order, self-sends, info messages, dead actors) runs against every
 * kind: unbounded, and bounded with each overflow policy. Then what differs: each policy on a full
 * mailbox, `sendWait`, and the validation of the options.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  ActorSystem,
  type Context,
  type DeadLetter,
  type InfoMessage,
  MailboxFullError,
  type OverflowPolicy,
  type Ref,
  type SpawnOptions,
  silentLogger,
  TimeoutError,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

const CAPACITY = 16;
const POLICIES: readonly OverflowPolicy[] = ['drop-newest', 'drop-oldest', 'reject'];

const kinds: ReadonlyArray<{ name: string; options: SpawnOptions }> = [
  { name: 'unbounded', options: {} },
  ...POLICIES.map((overflow) => ({
    name: `bounded (capacity ${CAPACITY}, ${overflow})`,
    options: { mailbox: { capacity: CAPACITY, overflow } },
  })),
];

/** A message that runs in the actor's context, or a value to record. */
type Msg = number | string | ((ctx: Context<Msg>) => void);

interface Recorder {
  readonly ref: Ref<Msg>;
  /** Values handled, and `DOWN <reason>` for each DOWN message, in order. */
  readonly log: unknown[];
}

function recorder(system: ActorSystem, options: SpawnOptions): Recorder {
  const log: unknown[] = [];
  const ref = system.spawn<Msg, undefined>(
    {
      receive(_s, msg, ctx) {
        if (typeof msg === 'function') msg(ctx);
        else log.push(msg);
      },
      info(_s, msg) {
        log.push(`${msg.type} ${String(msg.reason)}`);
      },
    },
    options,
  );
  return { ref, log };
}

function deadLetters(system: ActorSystem): DeadLetter[] {
  const seen: DeadLetter[] = [];
  system.onDeadLetter((dl) => seen.push(dl));
  return seen;
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

for (const kind of kinds) {
  describe(`mailbox: ${kind.name}`, () => {
    it('delivers messages in the order they were sent', async () => {
      const system = new ActorSystem();
      const r = recorder(system, kind.options);
      const sent = range(0, CAPACITY).map((n) => r.ref.send(n));
      await settle(system);
      assert.ok(sent.every(Boolean));
      assert.deepEqual(r.log, range(0, CAPACITY));
    });

    it('queues a message sent from inside a handler behind the ones already waiting', async () => {
      const system = new ActorSystem();
      const r = recorder(system, kind.options);
      r.ref.send((ctx) => ctx.self.send('from the handler'));
      r.ref.send('queued 1');
      r.ref.send('queued 2');
      await settle(system);
      assert.deepEqual(r.log, ['queued 1', 'queued 2', 'from the handler']);
    });

    it('keeps DOWN messages in order with ordinary mail', async () => {
      const system = new ActorSystem();
      const r = recorder(system, kind.options);
      const target = system.spawn((_: string) => {});
      r.ref.send((ctx) => ctx.monitor(target));
      await settle(system);
      r.ref.send('before');
      system.kill(target);
      r.ref.send('after');
      await settle(system);
      assert.deepEqual(r.log, ['before', 'DOWN killed', 'after']);
    });

    it('handles more mail than one batch over time without losing any', async () => {
      const system = new ActorSystem();
      const r = recorder(system, kind.options);
      for (let batch = 0; batch < 3; batch++) {
        for (const n of range(batch * CAPACITY, CAPACITY)) assert.equal(r.ref.send(n), true);
        await settle(system);
      }
      assert.deepEqual(r.log, range(0, 3 * CAPACITY));
      assert.equal(system.stats().deadLetters, 0);
    });

    it('resolves sendWait with true at once when there is room, in order with send', async () => {
      const system = new ActorSystem();
      const r = recorder(system, kind.options);
      r.ref.send(1);
      const waited = r.ref.sendWait(2);
      r.ref.send(3);
      assert.equal(await waited, true);
      await settle(system);
      assert.deepEqual(r.log, [1, 2, 3]);
    });

    it('refuses mail for a dead actor: send is false, sendWait false, both dead letters', async () => {
      const system = new ActorSystem();
      const dead = deadLetters(system);
      const r = recorder(system, kind.options);
      system.kill(r.ref);
      assert.equal(r.ref.send('sent'), false);
      assert.equal(await r.ref.sendWait('waited'), false);
      assert.deepEqual(
        dead.map((dl) => [dl.message, dl.reason]),
        [
          ['sent', 'dead'],
          ['waited', 'dead'],
        ],
      );
    });

    it('turns what is still queued into dead letters when the actor stops', async () => {
      const system = new ActorSystem();
      const dead = deadLetters(system);
      const r = recorder(system, kind.options);
      r.ref.send((ctx) => ctx.stop());
      r.ref.send('left 1');
      r.ref.send('left 2');
      await settle(system);
      assert.equal(r.ref.alive, false);
      assert.deepEqual(r.log, []);
      assert.deepEqual(
        dead.map((dl) => [dl.to, dl.message, dl.reason]),
        [
          [r.ref, 'left 1', 'dead'],
          [r.ref, 'left 2', 'dead'],
        ],
      );
    });
  });
}

describe('a full bounded mailbox', () => {
  /** Sends 1, 2, 3 into a mailbox of capacity 2 that has not run yet. */
  async function overfill(overflow: OverflowPolicy) {
    const system = new ActorSystem();
    const dead = deadLetters(system);
    const r = recorder(system, { mailbox: { capacity: 2, overflow } });
    const sent = [1, 2, 3].map((n) => r.ref.send(n));
    await settle(system);
    return { system, sent, handled: r.log, dead: dead.map((dl) => [dl.message, dl.reason]) };
  }

  it('with drop-newest refuses the arriving message (send is false) and dead-letters it as mailbox_full', async () => {
    const { system, sent, handled, dead } = await overfill('drop-newest');
    assert.deepEqual(sent, [true, true, false]);
    assert.deepEqual(handled, [1, 2]);
    assert.deepEqual(dead, [[3, 'mailbox_full']]);
    assert.equal(system.stats().deadLetters, 1);
  });

  it('with drop-oldest dead-letters the oldest message as mailbox_full and keeps the newest', async () => {
    const { system, sent, handled, dead } = await overfill('drop-oldest');
    assert.deepEqual(sent, [true, true, true]);
    assert.deepEqual(handled, [2, 3]);
    assert.deepEqual(dead, [[1, 'mailbox_full']]);
    assert.equal(system.stats().deadLetters, 1);
  });

  it('with reject refuses the arriving message (send is false) and does not make it a dead letter', async () => {
    const { system, sent, handled, dead } = await overfill('reject');
    assert.deepEqual(sent, [true, true, false]);
    assert.deepEqual(handled, [1, 2]);
    assert.deepEqual(dead, []);
    assert.equal(system.stats().deadLetters, 0);
  });

  it('has room again once the actor takes a message', async () => {
    const system = new ActorSystem();
    const r = recorder(system, { mailbox: { capacity: 1, overflow: 'reject' } });
    assert.deepEqual([r.ref.send(1), r.ref.send(2)], [true, false]);
    await settle(system);
    assert.deepEqual([r.ref.send(3), r.ref.send(4)], [true, false]);
    await settle(system);
    assert.deepEqual(r.log, [1, 3]);
  });
});

/**
 * An actor with a bounded mailbox of capacity 1 whose handler is stuck on a gate: it holds message
 * 0 and message 1 fills its mailbox, so every further `sendWait` has to wait.
 */
async function blocked(overflow: OverflowPolicy, clock = new SimulatedClock()) {
  const system = new ActorSystem({ clock });
  const handled: unknown[] = [];
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const ref = system.spawn<unknown>(
    async (msg) => {
      handled.push(msg);
      await gate;
    },
    { mailbox: { capacity: 1, overflow } },
  );
  ref.send(0);
  await settle(system);
  assert.equal(ref.send(1), true);
  return { system, clock, ref, handled, open };
}

describe('sendWait on a full bounded mailbox', () => {
  for (const overflow of POLICIES) {
    describe(`(${overflow})`, () => {
      it('waits for room and resolves true, letting waiters in in arrival order', async () => {
        const { system, ref, handled, open } = await blocked(overflow);
        const resolved: string[] = [];
        const a = ref.sendWait('a').then((ok) => resolved.push(`a ${ok}`));
        const b = ref.sendWait('b').then((ok) => resolved.push(`b ${ok}`));
        await settle(system);
        assert.deepEqual(resolved, [], 'no room while the actor is stuck');
        open();
        await Promise.all([a, b]);
        await settle(system);
        assert.deepEqual(resolved, ['a true', 'b true']);
        assert.deepEqual(handled, [0, 1, 'a', 'b']);
      });

      it('resolves false when the actor dies, and the message becomes a dead letter', async () => {
        const { system, ref } = await blocked(overflow);
        const dead = deadLetters(system);
        const waited = ref.sendWait('waiting');
        await settle(system);
        system.kill(ref);
        assert.equal(await waited, false);
        assert.deepEqual(
          dead.map((dl) => [dl.message, dl.reason]),
          [
            [1, 'dead'],
            ['waiting', 'dead'],
          ],
        );
      });

      it('rejects with a TimeoutError after timeoutMs and never queues the message', async () => {
        const { system, clock, ref, handled, open } = await blocked(overflow);
        const seen: { outcome?: unknown } = {};
        const waited = ref.sendWait('late', { timeoutMs: 100 }).then(
          (ok) => {
            seen.outcome = ok;
          },
          (e: unknown) => {
            seen.outcome = e;
          },
        );
        clock.advance(99);
        await settle(system);
        assert.equal(seen.outcome, undefined, 'still waiting at 99 ms');
        clock.advance(1);
        await waited;
        const outcome: unknown = seen.outcome;
        assert.ok(outcome instanceof TimeoutError);
        assert.equal(outcome.message, 'sendWait timed out after 100 ms');
        open();
        await settle(system);
        assert.deepEqual(handled, [0, 1]);
        assert.equal(ref.send('after'), true, 'the timed-out waiter holds no place in line');
        await settle(system);
        assert.deepEqual(handled, [0, 1, 'after']);
      });
    });
  }
});

describe('mailbox options', () => {
  it('are validated with a teaching error', () => {
    const system = new ActorSystem();
    const spawn = (mailbox: unknown) => () => system.spawn((_: string) => {}, { mailbox: mailbox as never });
    assert.throws(
      spawn({ capacity: 0, overflow: 'reject' }),
      (e: unknown) => e instanceof RangeError && /mailbox\.capacity must be an integer >= 1; got 0/.test(e.message),
    );
    assert.throws(
      spawn({ capacity: 1.5, overflow: 'reject' }),
      (e: unknown) => e instanceof RangeError && /got 1\.5/.test(e.message),
    );
    assert.throws(
      spawn({ capacity: 4, overflow: 'block' }),
      (e: unknown) =>
        e instanceof TypeError &&
        /mailbox\.overflow must be one of drop-newest, drop-oldest, reject; got block/.test(e.message),
    );
    assert.equal(system.stats().actors, 0, 'nothing is spawned');
  });
});

describe('bounded mailboxes and runtime messages', () => {
  it('never drops a DOWN message under drop-oldest', async () => {
    const system = new ActorSystem();
    const dead: DeadLetter[] = [];
    system.onDeadLetter((dl) => dead.push(dl));
    type M = string | ((ctx: Context<M>) => void);
    const infos: InfoMessage[] = [];
    const got: string[] = [];
    const watcher = system.spawn<M, undefined>(
      {
        receive(_s, msg, ctx) {
          if (typeof msg === 'function') msg(ctx);
          else got.push(msg);
        },
        info(_s, msg) {
          infos.push(msg);
        },
      },
      { mailbox: { capacity: 1, overflow: 'drop-oldest' } },
    );
    const target = system.spawn((_: string) => {});
    watcher.send((ctx) => ctx.monitor(target));
    await settle(system);
    system.kill(target); // DOWN queued for the watcher
    watcher.send('mail'); // the DOWN fills the mailbox: drop-oldest evicts it
    await settle(system);
    assert.deepEqual(
      infos.map((m) => [m.type, m.reason]),
      [['DOWN', 'killed']],
    );
    assert.deepEqual(got, ['mail']);
    assert.deepEqual(dead, []);
  });

  it('fails a call at once when drop-oldest evicts its request', async () => {
    const system = new ActorSystem();
    const ref = system.spawn<{ type: 'get'; reply: (n: number) => void } | { type: 'block' }, undefined>(
      { receive() {} },
      { mailbox: { capacity: 1, overflow: 'drop-oldest' } },
    );
    const pending = ref.call({ type: 'get' });
    ref.send({ type: 'block' });
    await assert.rejects(pending, (e: unknown) => e instanceof MailboxFullError);
  });
});

describe('sendWait timeouts', () => {
  it('keeps nothing of a sendWait that timed out, however often a sender retries against a stuck actor', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    // Stuck on its first message (a write that never ends), with its one place taken.
    const stuck = system.spawn((_m: { n: number }) => new Promise<void>(() => {}), {
      mailbox: { capacity: 1, overflow: 'reject' },
    });
    stuck.send({ n: -2 });
    await settle(system);
    stuck.send({ n: -1 });
    const held: Array<WeakRef<object>> = [];
    // Each attempt in a function of its own: nothing of it stays in this frame.
    const attempt = async (i: number) => {
      const msg = { n: i, payload: new Array(1_000).fill(i) };
      held.push(new WeakRef(msg));
      const p = stuck.sendWait(msg, { timeoutMs: 10 });
      clock.advance(10);
      await assert.rejects(p, TimeoutError);
    };
    for (let i = 0; i < 200; i++) await attempt(i);
    for (let i = 0; i < 5; i++) {
      gc();
      await nextTurn();
    }
    assert.equal(held.filter((w) => w.deref() !== undefined).length, 0, 'timed-out messages still held');
    system.kill(stuck as never);
    await system.shutdown();
  });

  it('lets the waiting senders in, in order, after many others timed out around them', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    const got: number[] = [];
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const ref = system.spawn(
      async (m: { n: number }) => {
        if (m.n === -2) await gate;
        got.push(m.n);
      },
      { mailbox: { capacity: 1, overflow: 'reject' } },
    );
    ref.send({ n: -2 });
    await settle(system);
    ref.send({ n: -1 });
    const waiting: Array<Promise<boolean>> = [];
    const lapsed: Array<Promise<unknown>> = [];
    for (let i = 0; i < 120; i++) {
      if (i % 40 === 0) waiting.push(ref.sendWait({ n: i }));
      else lapsed.push(ref.sendWait({ n: i }, { timeoutMs: 10 }).catch((e: unknown) => e));
    }
    clock.advance(10);
    assert.ok((await Promise.all(lapsed)).every((e) => e instanceof TimeoutError));
    open();
    await settle(system);
    assert.deepEqual(await Promise.all(waiting), [true, true, true]);
    assert.deepEqual(got, [-2, -1, 0, 40, 80]);
    await system.shutdown();
  });

  it('lets a waiting sender in only when there is room: a DOWN counts towards the bound', async () => {
    const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
    type M = { type: 'watch'; target: Ref<never> } | { type: 'work'; n: number };
    let gate: Promise<void> = Promise.resolve();
    let release: () => void = () => {};
    const sizes: number[] = [];
    const ref = system.spawn(
      {
        async receive(_s: undefined, msg: M, ctx: Context<M>) {
          if (msg.type === 'watch') ctx.monitor(msg.target);
          else {
            sizes.push(system.describe(ctx.self as Ref<never>)?.mailbox ?? -1);
            await gate;
          }
        },
        info() {},
      },
      { mailbox: { capacity: 1, overflow: 'reject' } },
    );
    const target = system.spawn((_m: never) => {});
    ref.send({ type: 'watch', target });
    await settle(system);
    gate = new Promise<void>((r) => {
      release = r;
    });
    ref.send({ type: 'work', n: 0 }); // taken at once; its handler waits
    await settle(system);
    assert.equal(ref.send({ type: 'work', n: 1 }), true); // the one place
    const waited = ref.sendWait({ type: 'work', n: 2 });
    system.kill(target as Ref<never>); // its DOWN comes in past the bound
    await settle(system);
    assert.equal(system.describe(ref as Ref<never>)?.mailbox, 2);
    release();
    await settle(system);
    assert.equal(await waited, true, 'let in once there was room');
    assert.ok(
      sizes.every((n) => n <= 1),
      `a mailbox of capacity 1 held ${Math.max(...sizes)} messages`,
    );
    await system.shutdown();
  });
});
