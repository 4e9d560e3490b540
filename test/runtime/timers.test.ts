/**
 * Message timers on the simulated clock: `sendAfter` and `sendInterval` from an actor (owned by it,
 * cancelled when it exits) and from the system, `cancel()` and `active`, deadline order, and the
 * teaching RangeError for a delay that is not one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorSystem, type Context, type Ref, realClock, silentLogger, type Timer } from 'troupe';
import { createProbe, SimulatedClock, settle } from 'troupe/testing';

/** A message that runs in the actor's context. */
type Do = (ctx: Context<Do>) => void;

function setup() {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const probe = createProbe<string>(system);
  const owner: Ref<Do> = system.spawn<Do>((fn, ctx) => fn(ctx));
  /** Runs `fn` inside the owner actor and returns what it returned. */
  async function inOwner<T>(fn: (ctx: Context<Do>) => T): Promise<T> {
    let out: { value: T } | undefined;
    owner.send((ctx) => {
      out = { value: fn(ctx) };
    });
    await settle(system);
    assert.ok(out !== undefined);
    return out.value;
  }
  /** Advances the clock, settles, and returns what the probe got meanwhile. */
  async function advance(ms: number): Promise<string[]> {
    clock.advance(ms);
    return probe.drain();
  }
  return { clock, system, probe, owner, inOwner, advance };
}

describe('ctx.sendAfter', () => {
  it('delivers the message once, when the delay has passed and not before', async () => {
    const { inOwner, advance, probe } = setup();
    const timer = await inOwner((ctx) => ctx.sendAfter(probe.ref, 'tick', 100));
    assert.deepEqual(await advance(99), []);
    assert.equal(timer.active, true);
    assert.deepEqual(await advance(1), ['tick']);
    assert.equal(timer.active, false, 'a one-shot timer is inactive once it fired');
    assert.deepEqual(await advance(1_000), []);
  });

  it('accepts a zero delay: the message arrives when the clock is next advanced', async () => {
    const { inOwner, advance, probe } = setup();
    await inOwner((ctx) => ctx.sendAfter(probe.ref, 'now', 0));
    await probe.expectNoMessage();
    assert.deepEqual(await advance(0), ['now']);
  });
});

describe('ctx.sendInterval', () => {
  it('delivers the message every interval until cancelled', async () => {
    const { inOwner, advance, probe } = setup();
    const timer = await inOwner((ctx) => ctx.sendInterval(probe.ref, 'beat', 100));
    assert.deepEqual(await advance(99), []);
    assert.deepEqual(await advance(1), ['beat']);
    assert.deepEqual(await advance(250), ['beat', 'beat']);
    assert.equal(timer.active, true, 'an interval stays active after it fires');
    assert.equal(timer.cancel(), true);
    assert.equal(timer.active, false);
    assert.deepEqual(await advance(1_000), []);
  });
});

describe('system.sendAfter and system.sendInterval', () => {
  it('deliver from outside any actor, on the system clock', async () => {
    const { system, advance, probe } = setup();
    const once = system.sendAfter(probe.ref, 'once', 50);
    const every = system.sendInterval(probe.ref, 'every', 40);
    assert.deepEqual(await advance(40), ['every']);
    assert.deepEqual(await advance(10), ['once']);
    assert.deepEqual(await advance(30), ['every']);
    assert.equal(once.active, false);
    assert.equal(every.cancel(), true);
    assert.deepEqual(await advance(400), []);
  });
});

describe('Timer.cancel', () => {
  it('stops a pending timer and returns true, then false the second time', async () => {
    const { system, inOwner, advance, probe } = setup();
    const own = await inOwner((ctx) => ctx.sendAfter(probe.ref, 'own', 10));
    const sys = system.sendAfter(probe.ref, 'sys', 10);
    assert.deepEqual([own.cancel(), own.cancel(), sys.cancel(), sys.cancel()], [true, false, true, false]);
    assert.deepEqual([own.active, sys.active], [false, false]);
    assert.deepEqual(await advance(100), []);
  });

  it('returns false for a one-shot timer that already fired', async () => {
    const { system, advance, probe } = setup();
    const timer = system.sendAfter(probe.ref, 'fired', 10);
    assert.deepEqual(await advance(10), ['fired']);
    assert.equal(timer.cancel(), false);
  });

  it('works from inside the handler the interval delivers to', async () => {
    const { clock, system } = setup();
    const got: number[] = [];
    let timer: Timer | undefined;
    const ref = system.spawn((msg: { type: 'start' } | { type: 'tick' }, ctx: Context<typeof msg>) => {
      if (msg.type === 'start') timer = ctx.sendInterval(ctx.self, { type: 'tick' }, 10);
      else {
        got.push(clock.now());
        if (got.length === 3) timer!.cancel();
      }
    });
    ref.send({ type: 'start' });
    await settle(system);
    for (let i = 0; i < 10; i++) {
      clock.advance(10);
      await settle(system);
    }
    assert.deepEqual(got, [10, 20, 30]);
  });
});

describe("an actor's timers", () => {
  it('are all cancelled when it exits: nothing arrives afterwards', async () => {
    const { system, owner, inOwner, advance, probe } = setup();
    const timers = await inOwner((ctx) => [
      ctx.sendAfter(probe.ref, 'after', 100),
      ctx.sendInterval(probe.ref, 'interval', 30),
      ctx.sendAfter(ctx.self, () => {}, 100),
    ]);
    assert.deepEqual(await advance(30), ['interval']);
    await system.stop(owner);
    assert.deepEqual(
      timers.map((t) => t.active),
      [false, false, false],
    );
    assert.deepEqual(await advance(1_000), []);
    assert.equal(system.stats().deadLetters, 0, 'not even a dead letter: the timers are gone');
  });

  it('are cancelled when it is killed or crashes, too', async () => {
    for (const end of ['kill', 'crash'] as const) {
      const { system, owner, inOwner, advance, probe } = setup();
      const timer = await inOwner((ctx) => ctx.sendInterval(probe.ref, 'interval', 10));
      if (end === 'kill') system.kill(owner);
      else
        owner.send(() => {
          throw new Error('crash');
        });
      await settle(system);
      assert.equal(timer.active, false, end);
      assert.deepEqual(await advance(100), [], end);
    }
  });

  it('are not affected by the exit of another actor that also set timers', async () => {
    const { system, inOwner, advance, probe } = setup();
    const other = system.spawn<Do>((fn, ctx) => fn(ctx));
    other.send((ctx) => ctx.sendAfter(probe.ref, 'from other', 10));
    await inOwner((ctx) => ctx.sendAfter(probe.ref, 'from owner', 10));
    system.kill(other);
    assert.deepEqual(await advance(10), ['from owner']);
  });
});

describe('timer ordering', () => {
  it('fires timers in deadline order, and timers with the same deadline in the order they were set', async () => {
    const { system, inOwner, advance, probe } = setup();
    await inOwner((ctx) => {
      ctx.sendAfter(probe.ref, 'c (30)', 30);
      ctx.sendAfter(probe.ref, 'a (10)', 10);
      ctx.sendInterval(probe.ref, 'interval (15, 30)', 15);
      ctx.sendAfter(probe.ref, 'b1 (20)', 20);
    });
    system.sendAfter(probe.ref, 'b2 (20)', 20);
    assert.deepEqual(await advance(30), [
      'a (10)',
      'interval (15, 30)',
      'b1 (20)',
      'b2 (20)',
      'c (30)',
      'interval (15, 30)',
    ]);
  });
});

describe('timer delays', () => {
  it('throw a RangeError that says what is accepted and what was given', async () => {
    const { system, owner, probe } = setup();
    const cases: Array<[string, () => unknown, RegExp]> = [
      [
        'negative',
        () => system.sendAfter(probe.ref, 'x', -1),
        /^system\.sendAfter\(ref, msg, ms\): the delay must be a finite number of milliseconds >= 0; got -1$/,
      ],
      ['NaN', () => system.sendAfter(probe.ref, 'x', Number.NaN), /got NaN$/],
      ['Infinity', () => system.sendAfter(probe.ref, 'x', Number.POSITIVE_INFINITY), /finite number.*got Infinity$/],
      ['a string', () => system.sendAfter(probe.ref, 'x', '10' as never), /got 10$/],
      [
        'a zero interval',
        () => system.sendInterval(probe.ref, 'x', 0),
        /^system\.sendInterval\(ref, msg, ms\): the delay must be a finite number of milliseconds > 0; got 0$/,
      ],
    ];
    for (const [name, fn, message] of cases) {
      assert.throws(fn, (e: unknown) => e instanceof RangeError && message.test(e.message), name);
    }
    // The same checks guard the actor's own timers.
    const errors: unknown[] = [];
    owner.send((ctx) => {
      for (const fn of [() => ctx.sendAfter(probe.ref, 'x', -5), () => ctx.sendInterval(probe.ref, 'x', 0)]) {
        try {
          fn();
        } catch (e) {
          errors.push(e);
        }
      }
    });
    await settle(system);
    assert.equal(errors.length, 2);
    assert.ok(errors.every((e) => e instanceof RangeError));
    assert.match((errors[0] as RangeError).message, /^ctx\.sendAfter\(ref, msg, ms\): .* >= 0; got -5$/);
    assert.match((errors[1] as RangeError).message, /^ctx\.sendInterval\(ref, msg, ms\): .* > 0; got 0$/);
  });
});

describe('an async handler that outlives its actor', () => {
  type Msg = { type: 'go' } | { type: 'idle' } | { type: 'tick' };
  for (const how of ['setReceiveTimeout', 'startIntervalTimer', 'startTimer', 'link', 'monitor'] as const) {
    it(`leaves nothing behind when it calls ctx.${how} after the actor died`, async () => {
      const clock = new SimulatedClock();
      const system = new ActorSystem({ clock, logger: silentLogger });
      const other = system.spawn((_m: unknown) => {});
      let release: () => void = () => {};
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const ref = system.spawn(async (msg: Msg, ctx: Context<Msg>) => {
        if (msg.type !== 'go') return;
        await gate;
        if (how === 'setReceiveTimeout') ctx.setReceiveTimeout(100, { type: 'idle' });
        else if (how === 'startIntervalTimer') ctx.startIntervalTimer('t', { type: 'tick' }, 100);
        else if (how === 'startTimer') ctx.startTimer('t', { type: 'tick' }, 100);
        else if (how === 'link') ctx.link(other as Ref<never>);
        else ctx.monitor(other as Ref<never>);
      });
      ref.send({ type: 'go' });
      await settle(system);
      system.exit(ref as Ref<never>, 'shutdown'); // an exit signal does not wait for the handler
      await settle(system);
      assert.equal(ref.alive, false);
      const letters = system.stats().deadLetters;
      release();
      await settle(system);
      clock.advance(1_000);
      await settle(system);
      assert.equal(clock.pending, 0, 'no timer armed for a dead actor');
      assert.equal(system.stats().deadLetters, letters, 'no timeouts sent to a dead actor');
      // The live actor keeps no link or monitor of the dead one: its end tells nobody.
      const r = system.describe(other as Ref<never>, { relations: true })?.relations;
      assert.deepEqual({ links: r?.links.length, monitoredBy: r?.monitoredBy }, { links: 0, monitoredBy: 0 });
      await system.shutdown();
    });
  }
});

describe('the real clock', () => {
  it('waits out a delay longer than Node allows (24.8 days) instead of firing at once, and cancels it', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      let fired = 0;
      const month = 30 * 24 * 3600 * 1000;
      const t = realClock.setTimeout(() => fired++, month, true);
      // A call waiting as long, on an actor that never answers: still waiting.
      const system = new ActorSystem({ logger: silentLogger });
      const silent = system.spawn((_m: { type: 'ask'; reply: (n: number) => void }) => {});
      let outcome = 'pending';
      silent.call({ type: 'ask' }, { timeoutMs: month }).then(
        () => {
          outcome = 'answered';
        },
        (e: unknown) => {
          outcome = String(e);
        },
      );
      // Node clamps a longer delay to 1 ms: 30 ms is plenty to see it fire if it were passed on.
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(fired, 0);
      assert.equal(outcome, 'pending');
      assert.deepEqual(warnings, []);
      realClock.clearTimeout(t);
      await system.shutdown();
    } finally {
      process.off('warning', onWarning);
    }
  });
});
