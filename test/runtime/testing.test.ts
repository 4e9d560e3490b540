/**
 * The `troupe/testing` entry: the simulated clock, `settle`, and the probe. Other tests lean on
 * these, so they are checked here on their own terms. A wait that needs simulated time nobody
 * advances is checked twice: in this process (the rejection), and in a child `node --test` process
 * (what Node's test runner reports, and that correct files still pass and exit at once).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ActorSystem, type Behavior, type Reply as CallReply, type Context, type Ref, silentLogger } from 'troupe';
import { createProbe, SimulatedClock, SimulatedTimeError, settle } from 'troupe/testing';

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

/** Answers `get` 100 ms later (the time it takes to look the number up), and stops on `quit`. */
type SlowMsg =
  | { type: 'get'; reply: CallReply<number> }
  | { type: 'answer'; reply: CallReply<number> }
  | { type: 'quit' }
  | { type: 'crash' };
const slow: Behavior<SlowMsg> = {
  receive(_state, msg, ctx) {
    switch (msg.type) {
      case 'get':
        ctx.sendAfter(ctx.self, { type: 'answer', reply: msg.reply }, 100);
        return;
      case 'answer':
        msg.reply(42);
        return;
      case 'quit':
        ctx.stop();
        return;
      case 'crash':
        throw new Error('boom');
    }
  },
};

function simulated(): { clock: SimulatedClock; system: ActorSystem } {
  const clock = new SimulatedClock();
  return { clock, system: new ActorSystem({ clock, logger: silentLogger }) };
}

describe('createProbe: expectTerminated', () => {
  it('resolves with the exit reason of an actor that exits while the system settles', async () => {
    const { system } = simulated();
    const probe = createProbe<never>(system);
    const ref = system.spawn(slow, { label: 'slow' });
    ref.send({ type: 'quit' });
    assert.equal(await probe.expectTerminated(ref), 'normal');
  });

  it('resolves with the reason of an actor that died before it was asked, an Error for a crash', async () => {
    const { system } = simulated();
    const probe = createProbe<never>(system);
    const ref = system.spawn(slow);
    ref.send({ type: 'crash' });
    await settle(system);
    const reason = await probe.expectTerminated(ref);
    assert.ok(reason instanceof Error);
    assert.equal(reason.message, 'boom');
    assert.equal(await probe.expectTerminated(ref), reason, 'and again, as often as asked');
  });

  it('fails with an AssertionError naming the actor when it is still alive', async () => {
    const system = new ActorSystem();
    const probe = createProbe<never>(system);
    const ref = system.spawn(slow, { label: 'slow' });
    await assert.rejects(probe.expectTerminated(ref), {
      name: 'AssertionError',
      code: 'ERR_ASSERTION',
      message: 'expected Ref<2 slow> to terminate, it is still alive',
    });
    system.kill(ref);
    assert.equal(await probe.expectTerminated(ref), 'killed');
  });

  it('says which simulated timers are pending when the actor is still alive on a SimulatedClock', async () => {
    const { clock, system } = simulated();
    const probe = createProbe<never>(system);
    const ref = system.spawn(slow, { label: 'slow' });
    system.sendAfter(ref, { type: 'quit' }, 250);
    await assert.rejects(probe.expectTerminated(ref), {
      message:
        'expected Ref<2 slow> to terminate, it is still alive; if it is waiting for simulated time, ' +
        'advance the SimulatedClock (pending timers at +250 ms)',
    });
    clock.advance(250);
    assert.equal(await probe.expectTerminated(ref), 'normal');
  });
});

describe('createProbe: expectMessage on a SimulatedClock', () => {
  it('says which timers are pending when no message came, since advancing may be what is missing', async () => {
    const { clock, system } = simulated();
    const probe = createProbe<string>(system);
    system.sendAfter(probe.ref, 'later', 100);
    system.sendAfter(probe.ref, 'much later', 5_000);
    await assert.rejects(probe.expectMessage('later'), {
      name: 'AssertionError',
      message:
        'expected a message matching "later", got none; if it is waiting for simulated time, ' +
        'advance the SimulatedClock (pending timers at +100 ms, +5000 ms)',
    });
    clock.advance(100);
    await probe.expectMessage('later');
    clock.advance(4_900);
    await probe.expectMessage('much later');
    await assert.rejects(probe.expectMessage(), { message: 'expected a message, got none' });
  });
});

describe('createProbe: within', () => {
  it('resolves with what the block returns when it advanced the clock by at most ms', async () => {
    const { clock, system } = simulated();
    const probe = createProbe<number>(system);
    const ref = system.spawn(slow);
    const answer = await probe.within(100, async () => {
      const call = ref.call({ type: 'get' });
      await settle(system);
      clock.advanceToNext(); // the answer's timer: exactly 100 ms, which is within 100 ms
      return call;
    });
    assert.equal(answer, 42);
    assert.equal(clock.now(), 100);
  });

  it('fails with an AssertionError saying how long the block took on the SimulatedClock', async () => {
    const { clock, system } = simulated();
    const probe = createProbe<number>(system);
    const ref = system.spawn(slow);
    await assert.rejects(
      probe.within(99, async () => {
        const call = ref.call({ type: 'get' });
        await settle(system);
        clock.advanceToNext();
        return call;
      }),
      {
        name: 'AssertionError',
        code: 'ERR_ASSERTION',
        message: 'expected the block to finish within 99 ms, it took 100 ms',
      },
    );
  });

  it('arms no timer of its own on a SimulatedClock: advanceToNext inside it jumps to the system timers', async () => {
    const { clock, system } = simulated();
    const probe = createProbe<string>(system);
    system.sendAfter(probe.ref, 'tick', 300);
    await probe.within(500, async () => {
      assert.equal(clock.pending, 1);
      assert.equal(clock.advanceToNext(), 1);
      await probe.expectMessage('tick');
    });
    assert.equal(clock.now(), 300);
    assert.equal(clock.pending, 0);
  });

  it('passes the block its errors unchanged, thrown or rejected', async () => {
    const { system } = simulated();
    const probe = createProbe<string>(system);
    await assert.rejects(probe.expectMessage('x'), { name: 'AssertionError' });
    const thrown = new Error('thrown');
    await assert.rejects(
      probe.within(10, () => {
        throw thrown;
      }),
      (e) => e === thrown,
    );
    await assert.rejects(
      probe.within(10, () => probe.expectMessage('never')),
      /expected a message matching "never", got none/,
    );
  });

  it('on the real clock, rejects a block still running after ms, and one that took longer', async () => {
    const system = new ActorSystem();
    const probe = createProbe<string>(system);
    await assert.rejects(
      probe.within(20, () => new Promise<void>((resolve) => setTimeout(resolve, 500).unref())),
      {
        name: 'AssertionError',
        message: 'expected the block to finish within 20 ms, it was still running after 20 ms',
      },
    );
    await assert.rejects(
      probe.within(0, () => {
        const until = performance.now() + 5;
        while (performance.now() < until);
      }),
      /^AssertionError: expected the block to finish within 0 ms, it took \d+(\.\d+)? ms$/,
    );
    assert.equal(await probe.within(1_000, async () => 'quick'), 'quick');
  });

  it('refuses a negative or non-finite ms and a block that is not a function, at once', () => {
    const probe = createProbe<string>(new ActorSystem());
    assert.throws(() => probe.within(-1, () => {}), {
      name: 'RangeError',
      message: 'probe.within(ms, fn): ms must be a finite number of milliseconds >= 0; got -1',
    });
    assert.throws(() => probe.within(Number.POSITIVE_INFINITY, () => {}), RangeError);
    assert.throws(() => probe.within(10, 'go' as never), {
      name: 'TypeError',
      message: 'probe.within(ms, fn): fn must be a function (the block of assertions); got string',
    });
  });
});

describe('SimulatedClock: a wait that nobody advances', () => {
  it('rejects a call waiting for simulated time once nothing else can run, naming the call and the timers', async () => {
    const { clock, system } = simulated();
    await settle(system); // settle and createProbe tell the clock about the system
    const ref = system.spawn(slow, { label: 'slow' });
    // No clock.advance(100): the answer can never come.
    const error = await ref.call({ type: 'get' }).then(
      () => assert.fail('the call was answered'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SimulatedTimeError);
    assert.equal(error.name, 'SimulatedTimeError');
    assert.equal(
      error.message,
      "call { type: 'get' } to Ref<1 slow> is waiting for simulated time: advance the SimulatedClock " +
        '(pending timers at +100 ms, +5000 ms)',
    );
    assert.deepEqual(error.pendingInMs, [100, 5_000]);
    assert.equal(clock.now(), 0, 'time did not move');
    assert.equal(ref.alive, true, 'the actor is untouched');
    // The test can still advance and go on.
    const next = ref.call({ type: 'get' });
    await settle(system);
    clock.advance(100);
    assert.equal(await next, 42);
  });

  it('rejects a probe within block that waits for simulated time', async () => {
    const { clock, system } = simulated();
    const probe = createProbe<string>(system);
    system.sendAfter(probe.ref, 'late', 50);
    await assert.rejects(
      probe.within(100, () => system.exited(probe.ref as Ref<never>)),
      {
        name: 'SimulatedTimeError',
        message:
          'the block of within(100 ms) is waiting for simulated time: advance the SimulatedClock (pending timers at +50 ms)',
      },
    );
    clock.advance(50);
    await probe.expectMessage('late');
  });

  it('lets a wait for real I/O or a real timer be, however long the clock stays still', async () => {
    const { clock, system } = simulated();
    await settle(system);
    const ref = system.spawn(slow);
    const call = ref.call({ type: 'get' });
    // Something else will advance the clock: a real timer, 60 ms from now.
    setTimeout(() => clock.advance(100), 60);
    assert.equal(await call, 42);
  });

  it('does nothing when the clock has no timers pending', async () => {
    const { system } = simulated();
    await settle(system);
    const silent = system.spawn((_msg: { type: 'get'; reply: CallReply<number> }) => {});
    const call = silent.call({ type: 'get' }, { timeoutMs: Number.POSITIVE_INFINITY });
    let settled = false;
    void call.then(
      () => (settled = true),
      () => (settled = true),
    );
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
    assert.equal(settled, false, 'not a wait for simulated time: no timer could end it');
    system.kill(silent as Ref<never>);
    await assert.rejects(call, { name: 'ExitError' });
  });

  it('describes many pending timers with the five soonest, distinct deadlines', () => {
    const e = new SimulatedTimeError([1, 2, 3, 4, 5, 6, 7.25]);
    assert.equal(
      e.message,
      'waiting for simulated time: advance the SimulatedClock (pending timers at +1 ms, +2 ms, +3 ms, +4 ms, +5 ms and 2 more)',
    );
  });
});

const root = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'troupe-stall-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs `body` as a node:test file in a child process, with the workspace's sources. */
function runTestFile(
  name: string,
  body: string,
): { status: number | null; stdout: string; stderr: string; ms: number } {
  const file = join(tmp, `${name}.test.ts`);
  const src = (p: string) => pathToFileURL(join(root, p)).href;
  writeFileSync(
    file,
    `import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ActorSystem, type Reply } from '${src('packages/troupe/src/index.ts')}';
import { createProbe, SimulatedClock, settle } from '${src('packages/troupe/src/testing.ts')}';
type Msg = { type: 'get'; reply: Reply<number> } | { type: 'answer'; reply: Reply<number> };
const slow = (msg: Msg, ctx: { self: unknown; sendAfter(ref: unknown, msg: Msg, ms: number): unknown }) => {
  if (msg.type === 'get') ctx.sendAfter(ctx.self, { type: 'answer', reply: msg.reply }, 100);
  else msg.reply(42);
};
void assert; void createProbe; void settle;
${body}`,
  );
  // Without the runner's marker, which would make the child skip its file as a nested run.
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--test', '--test-reporter=tap', file],
    { cwd: root, env, encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

describe('SimulatedClock: a forgotten advance, as node --test reports it', () => {
  it('fails the waiting test with the SimulatedTimeError, not a cancellation, and runs the tests after it', () => {
    const r = runTestFile(
      'forgotten',
      `it('forgets to advance', async () => {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const probe = createProbe<string>(system);
  const ref = system.spawn(slow, { label: 'slow' });
  probe.ref.send('hello');
  await probe.expectMessage('hello');
  assert.equal(await ref.call({ type: 'get' }), 42);
});
it('runs afterwards', () => {});
`,
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stdout,
      /not ok 1 - forgets to advance\n[\s\S]*failureType: 'testCodeFailure'\n\s+error: "call \{ type: 'get' \} to Ref<2 slow> is waiting for simulated time: advance the SimulatedClock \(pending timers at \+100 ms, \+5000 ms\)"/,
    );
    assert.doesNotMatch(r.stdout, /Promise resolution is still pending/);
    assert.match(r.stdout, /\nok 2 - runs afterwards\n/);
    assert.match(r.stdout, /# pass 1\n# fail 1\n# cancelled 0\n/);
  });

  it('says what was pending when the waiting call is in a system no testing tool has seen', () => {
    const r = runTestFile(
      'unseen',
      `it('forgets to advance', async () => {
  const system = new ActorSystem({ clock: new SimulatedClock() });
  const ref = system.spawn(slow);
  assert.equal(await ref.call({ type: 'get' }), 42);
});
`,
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /failureType: 'cancelledByParent'/, 'Node cancels it: nothing could reject the call');
    assert.match(
      r.stdout + r.stderr,
      /troupe\/testing: the process ran out of work while something waited for a SimulatedClock: waiting for simulated time: advance the SimulatedClock \(pending timers at \+100 ms, \+5000 ms\)/,
    );
  });

  it('leaves a passing file alone: timers left pending on the clock, exit code 0, no hint, no delay', () => {
    const r = runTestFile(
      'passing',
      `it('leaves a timer and an interval behind', async () => {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const probe = createProbe<string>(system);
  system.sendAfter(probe.ref, 'never fired', 1_000);
  system.sendInterval(probe.ref, 'tick', 10);
  const ref = system.spawn(slow);
  const call = ref.call({ type: 'get' });
  await settle(system); // the actor has taken the request and armed its 100 ms timer
  clock.advance(100);
  assert.equal(await call, 42);
  await probe.drain();
});
`,
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /# pass 1\n# fail 0\n/);
    assert.doesNotMatch(r.stdout + r.stderr, /troupe\/testing|waiting for simulated time/);
    assert.ok(r.ms < 20_000, `the child ran ${Math.round(r.ms)} ms`);
  });
});
