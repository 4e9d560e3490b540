/**
 * The `troupe/testing` entry: the simulated clock, `settle`, and the probe. Other tests lean on
 * these, so they are checked here on their own terms.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActorSystem, type Context } from 'troupe';
import { createProbe, SimulatedClock, settle } from 'troupe/testing';

describe('SimulatedClock', () => {
  it('starts at 0 or at startMs, and moves only when advanced', () => {
    assert.equal(new SimulatedClock().now(), 0);
    const clock = new SimulatedClock(1_000);
    assert.equal(clock.now(), 1_000);
    assert.equal(clock.advance(250), 0);
    assert.equal(clock.now(), 1_250);
  });

  it('fires due timers in deadline order, ties in the order they were set, and returns the count', () => {
    const clock = new SimulatedClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('c 30'), 30);
    clock.setTimeout(() => fired.push('a 10'), 10);
    clock.setTimeout(() => fired.push('b1 20'), 20);
    clock.setTimeout(() => fired.push('b2 20'), 20);
    clock.setTimeout(() => fired.push('b3 20'), 20);
    clock.setTimeout(() => fired.push('d 31'), 31);
    assert.equal(clock.advance(30), 5);
    assert.deepEqual(fired, ['a 10', 'b1 20', 'b2 20', 'b3 20', 'c 30']);
    assert.equal(clock.pending, 1);
  });

  it("reads each timer's deadline from now() inside its callback, and the target after advance", () => {
    const clock = new SimulatedClock(100);
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 5);
    clock.setTimeout(() => seen.push(clock.now()), 40);
    clock.advance(50);
    assert.deepEqual(seen, [105, 140]);
    assert.equal(clock.now(), 150);
  });

  it('fires timers set during advance when they fall due within it, and keeps the later ones', () => {
    const clock = new SimulatedClock();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => {
      fired.push(['outer', clock.now()]);
      clock.setTimeout(() => fired.push(['inner +5', clock.now()]), 5);
      clock.setTimeout(() => fired.push(['inner +0', clock.now()]), 0);
      clock.setTimeout(() => fired.push(['inner +50', clock.now()]), 50);
    }, 10);
    assert.equal(clock.advance(20), 3);
    assert.deepEqual(fired, [
      ['outer', 10],
      ['inner +0', 10],
      ['inner +5', 15],
    ]);
    clock.advance(40);
    assert.deepEqual(fired.at(-1), ['inner +50', 60]);
  });

  it('does not fire a cleared timer, and counts only live timers as pending', () => {
    const clock = new SimulatedClock();
    const fired: string[] = [];
    const t = clock.setTimeout(() => fired.push('cleared'), 10);
    clock.setTimeout(() => fired.push('kept'), 10);
    clock.clearTimeout(t);
    assert.equal(clock.pending, 1);
    clock.clearTimeout(t);
    clock.clearTimeout(undefined);
    assert.equal(clock.advance(10), 1);
    assert.deepEqual(fired, ['kept']);
    assert.equal(clock.pending, 0);
  });

  it('jumps to the next deadline with advanceToNext, skipping cleared timers', () => {
    const clock = new SimulatedClock();
    const fired: number[] = [];
    clock.clearTimeout(clock.setTimeout(() => fired.push(-1), 5));
    clock.setTimeout(() => fired.push(clock.now()), 70);
    clock.setTimeout(() => fired.push(clock.now()), 70);
    clock.setTimeout(() => fired.push(clock.now()), 90);
    assert.equal(clock.advanceToNext(), 2);
    assert.equal(clock.now(), 70);
    assert.deepEqual(fired, [70, 70]);
    assert.equal(clock.advanceToNext(), 1);
    assert.equal(clock.advanceToNext(), 0, 'nothing left');
    assert.equal(clock.now(), 90);
  });

  it('treats a negative or NaN delay as 0 and refuses to go back in time', () => {
    const clock = new SimulatedClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('negative'), -5);
    clock.setTimeout(() => fired.push('NaN'), Number.NaN);
    clock.advance(0);
    assert.deepEqual(fired, ['negative', 'NaN']);
    assert.throws(
      () => clock.advance(-1),
      (e: unknown) => e instanceof RangeError && /got -1/.test(e.message),
    );
  });
});

describe('settle', () => {
  it('returns once every message, and every message sent by those handlers, has been handled', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const c = system.spawn((msg: string) => {
      log.push(`c ${msg}`);
    });
    const b = system.spawn((msg: string) => {
      log.push(`b ${msg}`);
      c.send(msg);
    });
    const a = system.spawn((n: number) => {
      for (let i = 0; i < n; i++) b.send(`#${i}`);
    });
    a.send(2);
    await settle(system);
    assert.deepEqual(log, ['b #0', 'b #1', 'c #0', 'c #1']);
    assert.equal(system.stats().queued, 0);
  });

  it('waits for async handlers that wait on other promises', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const later = async (v: string) => {
      for (let i = 0; i < 10; i++) await Promise.resolve();
      return v;
    };
    const ref = system.spawn(async (msg: string) => {
      log.push(await later(msg));
    });
    ref.send('a');
    ref.send('b');
    await settle(system);
    assert.deepEqual(log, ['a', 'b']);
  });

  it('does not move a simulated clock', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock });
    const probe = createProbe<string>(system);
    system.sendAfter(probe.ref, 'later', 1);
    await settle(system);
    assert.equal(clock.now(), 0);
    await probe.expectNoMessage();
    clock.advance(1);
    await probe.expectMessage('later');
  });

  it('refuses to run from inside a handler', async () => {
    const system = new ActorSystem();
    let inner: Promise<unknown> | undefined;
    const ref = system.spawn((_: 'go') => {
      inner = settle(system).then(
        () => 'resolved',
        (e: unknown) => e,
      );
    });
    ref.send('go');
    await settle(system);
    const outcome = await inner;
    assert.ok(outcome instanceof Error);
    assert.match(outcome.message, /cannot be called from inside an actor handler/);
    assert.equal(ref.alive, true, 'the handler itself does not crash');
  });
});

type Reply = { type: 'pong'; n: number; meta: { from: string } } | { type: 'error'; reason: string };

describe('createProbe', () => {
  it('matches a message against a partial object, field by field and deeply', async () => {
    const system = new ActorSystem();
    const probe = createProbe<Reply>(system);
    probe.ref.send({ type: 'pong', n: 1, meta: { from: 'a' } });
    const got = await probe.expectMessage({ type: 'pong', meta: { from: 'a' } });
    assert.deepEqual(got, { type: 'pong', n: 1, meta: { from: 'a' } });
  });

  it('matches a message against a predicate, and takes messages oldest first', async () => {
    const system = new ActorSystem();
    const probe = createProbe<Reply>(system);
    probe.ref.send({ type: 'pong', n: 1, meta: { from: 'a' } });
    probe.ref.send({ type: 'pong', n: 2, meta: { from: 'b' } });
    await probe.expectMessage((m) => m.type === 'pong' && m.n === 1);
    await probe.expectMessage((m) => m.type === 'pong' && m.n === 2);
    await probe.expectNoMessage();
    assert.equal(probe.received.length, 2);
  });

  it('settles the system before looking, so replies of actors count', async () => {
    const system = new ActorSystem();
    const probe = createProbe<Reply>(system);
    const ponger = system.spawn((msg: { n: number; replyTo: typeof probe.ref }) => {
      msg.replyTo.send({ type: 'pong', n: msg.n + 1, meta: { from: 'ponger' } });
    });
    ponger.send({ n: 41, replyTo: probe.ref });
    await probe.expectMessage({ n: 42 });
  });

  it('fails with an AssertionError that shows the matcher and the message', async () => {
    const system = new ActorSystem();
    const probe = createProbe<Reply>(system);
    probe.ref.send({ type: 'error', reason: 'nope' });
    await assert.rejects(probe.expectMessage({ type: 'pong' }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, 'AssertionError');
      assert.equal((e as { code?: string }).code, 'ERR_ASSERTION');
      assert.equal(e.message, 'expected a message matching {"type":"pong"}, got {"type":"error","reason":"nope"}');
      return true;
    });
  });

  it('fails when no message is waiting, saying it got none', async () => {
    const system = new ActorSystem();
    const probe = createProbe<Reply>(system);
    await assert.rejects(probe.expectMessage(), { name: 'AssertionError', message: 'expected a message, got none' });
    await assert.rejects(probe.expectMessage({ type: 'pong' }), {
      message: 'expected a message matching {"type":"pong"}, got none',
    });
  });

  it('fails expectNoMessage with the unread message, and passes when everything was read', async () => {
    const system = new ActorSystem();
    const probe = createProbe<string>(system);
    await probe.expectNoMessage();
    probe.ref.send('surprise');
    await assert.rejects(probe.expectNoMessage(), {
      name: 'AssertionError',
      message: 'expected no message, got "surprise"',
    });
    await probe.expectMessage('surprise');
    await probe.expectNoMessage();
  });

  it('drains unread messages and keeps every message in received', async () => {
    const system = new ActorSystem();
    const probe = createProbe<number>(system);
    for (const n of [1, 2, 3]) probe.ref.send(n);
    await probe.expectMessage(1);
    assert.deepEqual(await probe.drain(), [2, 3]);
    assert.deepEqual(await probe.drain(), []);
    assert.deepEqual(probe.received, [1, 2, 3]);
  });

  it('is an actor like any other: labelled, and dead letters once stopped', async () => {
    const system = new ActorSystem();
    const probe = createProbe<string>(system, 'replies');
    assert.match(probe.ref.toString(), /replies/);
    await system.stop(probe.ref as never);
    assert.equal(probe.ref.send('late'), false);
    assert.equal(system.stats().deadLetters, 1);
  });

  it('works with refs a context hands out', async () => {
    const system = new ActorSystem();
    const probe = createProbe<number>(system);
    const forwarder = system.spawn((n: number, ctx: Context<number>) => {
      probe.ref.send(n * 10 + ctx.self.id);
    });
    forwarder.send(4);
    await probe.expectMessage(40 + forwarder.id);
  });
});

describe('settle and probe limits', () => {
  it('gives up after maxRounds when an actor floods itself', async () => {
    const system = new ActorSystem();
    let handled = 0;
    // A guard so that this test ends; the real flood is endless. Far above what 3 rounds can run
    // (each round is 100,000 messages, plus what the scheduler does between rounds).
    const LIMIT = 20_000_000;
    const flooder = system.spawn((_: 'again', ctx: Context<'again'>) => {
      if (++handled < LIMIT) ctx.self.send('again');
    });
    flooder.send('again');
    await assert.rejects(settle(system, { maxRounds: 3 }), /settle: actors still had work after 3 rounds/);
    assert.ok(handled < LIMIT, `settle ran the whole flood (${handled} messages) in its first round`);
    system.kill(flooder);
  });

  it('describes a predicate matcher in its failure message', async () => {
    const system = new ActorSystem();
    const probe = createProbe<string>(system);
    probe.ref.send('a');
    await assert.rejects(
      probe.expectMessage((m) => m === 'b'),
      (e: unknown) => e instanceof Error && !e.message.includes('matching undefined') && e.message.includes('got "a"'),
    );
  });
});
