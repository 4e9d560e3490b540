/**
 * Request/reply with `ref.call`: the typed reply, the 5,000 ms default timeout on the system clock,
 * late replies dropped, and `ExitError` with the exit reason when the target is or becomes dead;
 * the errors naming the call; a pending call keeping the process alive (in a real child process);
 * and a call to the actor's own ref from its own handler refused at once (OTP's calling_self).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { queryObjects } from 'node:v8';
import {
  ActorSystem,
  type Behavior,
  CallingSelfError,
  type Clock,
  type ClockTimer,
  type Context,
  DEFAULT_CALL_TIMEOUT_MS,
  ExitError,
  MailboxFullError,
  type Reply,
  silentLogger,
  TimeoutError,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';
import { TimeoutQueue } from '../../packages/troupe/src/actor/call.js';

type Msg =
  | { type: 'get'; reply: Reply<number> }
  | { type: 'name'; reply: Reply<string> }
  | { type: 'hold'; reply: Reply<number> }
  | { type: 'release'; value: number }
  | { type: 'crash'; reply: Reply<number> }
  | { type: 'ask'; reply: Reply<number> };

/** Answers `get` and `name` at once; keeps the `hold` reply until a `release` sends it. */
function server(held: Array<Reply<number>> = []): Behavior<Msg, number> {
  return {
    init: () => 42,
    receive(n, msg) {
      switch (msg.type) {
        case 'get':
          msg.reply(n);
          return n;
        case 'name':
          msg.reply(`n=${n}`);
          return n;
        case 'hold':
        case 'ask':
          held.push(msg.reply);
          return n;
        case 'release':
          for (const reply of held.splice(0)) reply(msg.value);
          return n;
        case 'crash':
          throw new Error('crashed before replying');
        default: {
          const never: never = msg;
          return never;
        }
      }
    },
  };
}

/** Observes a promise without awaiting it. */
function track<T>(p: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  p.then(
    (value) => {
      t.state = 'resolved';
      t.value = value;
    },
    (error: unknown) => {
      t.state = 'rejected';
      t.error = error;
    },
  );
  return t;
}

function simulated(): { clock: SimulatedClock; system: ActorSystem } {
  const clock = new SimulatedClock();
  return { clock, system: new ActorSystem({ clock, logger: silentLogger }) };
}

describe('call', () => {
  it('resolves with the reply of the matching request type', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    const n: number = await ref.call({ type: 'get' });
    const s: string = await ref.call({ type: 'name' });
    assert.equal(n, 42);
    assert.equal(s, 'n=42');
  });

  it('times out with a TimeoutError at 5,000 ms by default, not a millisecond before', async () => {
    const { clock, system } = simulated();
    assert.equal(DEFAULT_CALL_TIMEOUT_MS, 5_000);
    const ref = system.spawn(server());
    const call = track(ref.call({ type: 'hold' }));
    await settle(system);

    clock.advance(4_999);
    await settle(system);
    assert.equal(call.state, 'pending');

    clock.advance(1);
    await settle(system);
    assert.equal(call.state, 'rejected');
    assert.ok(call.error instanceof TimeoutError);
    assert.equal(call.error.timeoutMs, 5_000);
    assert.equal(call.error.message, "call { type: 'hold' } to Ref<1> timed out after 5000 ms");
    assert.equal(ref.alive, true, 'a timeout does not touch the target');
  });

  it('honours a custom timeoutMs', async () => {
    const { clock, system } = simulated();
    const ref = system.spawn(server());
    const call = track(ref.call({ type: 'hold' }, { timeoutMs: 100 }));
    clock.advance(99);
    await settle(system);
    assert.equal(call.state, 'pending');
    clock.advance(1);
    await settle(system);
    assert.ok(call.error instanceof TimeoutError);
    assert.equal(call.error.timeoutMs, 100);
  });

  it('drops a reply that arrives after the timeout, without a crash or an unhandled rejection', async () => {
    const { clock, system } = simulated();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const ref = system.spawn(server());
      const late = ref.call({ type: 'hold' });
      await settle(system);
      clock.advance(5_000);
      await assert.rejects(late, TimeoutError);

      ref.send({ type: 'release', value: 7 });
      await settle(system);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(ref.alive, true);
      assert.equal(await ref.call({ type: 'get' }), 42, 'the actor keeps serving');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('waits forever with timeoutMs: Infinity, arming no timer', async () => {
    const { clock, system } = simulated();
    const ref = system.spawn(server());
    const call = track(ref.call({ type: 'hold' }, { timeoutMs: Number.POSITIVE_INFINITY }));
    await settle(system);
    assert.equal(clock.pending, 0);
    clock.advance(365 * 24 * 3_600_000);
    await settle(system);
    assert.equal(call.state, 'pending');
    ref.send({ type: 'release', value: 9 });
    await settle(system);
    assert.deepEqual(call, { state: 'resolved', value: 9 });
  });

  it('accepts a reply kept by the actor and sent later from another message', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    const first = track(ref.call({ type: 'hold' }));
    const second = track(ref.call({ type: 'ask' }));
    await settle(system);
    assert.equal(first.state, 'pending');
    ref.send({ type: 'release', value: 5 });
    await settle(system);
    assert.deepEqual([first.value, second.value], [5, 5]);
  });

  it('uses only the first of several replies', async () => {
    const { system } = simulated();
    const ref = system.spawn<{ type: 'twice'; reply: Reply<string> }>((msg) => {
      msg.reply('first');
      msg.reply('second');
    });
    assert.equal(await ref.call({ type: 'twice' }), 'first');
  });

  it('leaves nothing behind after the reply: the timeout finds nothing to fail', async () => {
    const { clock, system } = simulated();
    const ref = system.spawn(server());
    assert.equal(await ref.call({ type: 'get' }), 42);
    clock.advance(5_000);
    await settle(system);
    assert.equal(clock.pending, 0);
  });

  it('shares one timer among all calls of one timeoutMs, and times them out in order', async () => {
    const { clock, system } = simulated();
    const silent = system.spawn((_: { type: 'get'; reply: Reply<number> }) => {});
    const calls = Array.from({ length: 100 }, () => track(silent.call({ type: 'get' })));
    clock.advance(10);
    const later = track(silent.call({ type: 'get' }));
    await settle(system);
    assert.equal(clock.pending, 1, 'one timer, not one per call');
    clock.advance(4_990);
    await settle(system);
    assert.ok(calls.every((c) => c.state === 'rejected' && c.error instanceof TimeoutError));
    assert.equal(later.state, 'pending', 'made 10 ms later, it has 10 ms left');
    clock.advance(10);
    await settle(system);
    assert.equal(later.state, 'rejected');
  });

  it('forgets the timeout queue of a timeoutMs once it is idle, so distinct timeoutMs values leak nothing', async () => {
    const { clock, system } = simulated();
    const echo = system.spawn((m: { type: 'get'; reply: Reply<number> }) => m.reply(1));
    const before = queryObjects(TimeoutQueue, { format: 'count' }) as number;
    // A caller passing "time left until my deadline" gives every call its own timeoutMs.
    for (let i = 0; i < 10_000; i++) await echo.call({ type: 'get' }, { timeoutMs: 5 + i / 1e6 });
    clock.advance(10); // every call answered; every timeout timer fires and finds its queue empty
    await settle(system);
    const after = queryObjects(TimeoutQueue, { format: 'count' }) as number;
    assert.ok(after - before < 100, `${after - before} TimeoutQueue objects still live after all calls settled`);
    await system.shutdown(); // keeps the system (a long-running server) reachable until here
  });
});

describe('call to an actor that is or becomes dead', () => {
  it('rejects at once with an ExitError carrying the exit reason of a dead actor', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    const reason = { shutdown: 'moved' };
    await system.stop(ref, reason);
    const call = track(ref.call({ type: 'get' }));
    await Promise.resolve();
    assert.equal(call.state, 'rejected', 'without waiting for any timeout');
    assert.ok(call.error instanceof ExitError);
    assert.equal(call.error.reason, reason);
    assert.equal(call.error.actor, ref.toString());
  });

  it('rejects with an ExitError carrying the error when the handler crashes before replying', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    const call = track(ref.call({ type: 'crash' }));
    await settle(system);
    assert.equal(call.state, 'rejected');
    assert.ok(call.error instanceof ExitError);
    assert.ok(call.error.reason instanceof Error);
    assert.equal(call.error.reason.message, 'crashed before replying');
    assert.equal(call.error.cause, call.error.reason, 'an error reason is also the cause');
  });

  it('rejects with ExitError(killed) when the actor is killed while it holds the reply', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    const call = track(ref.call({ type: 'hold' }));
    await settle(system);
    system.kill(ref);
    await settle(system);
    assert.equal(call.state, 'rejected');
    assert.ok(call.error instanceof ExitError);
    assert.equal(call.error.reason, 'killed');
  });

  it('rejects with the stop reason when the actor stops with the request still queued', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    await settle(system);
    const call = track(ref.call({ type: 'get' }));
    const stopped = system.stop(ref, 'shutdown');
    await settle(system);
    await stopped;
    assert.equal(call.state, 'rejected');
    assert.ok(call.error instanceof ExitError);
    assert.equal(call.error.reason, 'shutdown');
  });
});

describe('call misuse and refusal', () => {
  it('rejects with a MailboxFullError when a rejecting bounded mailbox is full', async () => {
    const { system } = simulated();
    const ref = system.spawn(server(), { mailbox: { capacity: 1, overflow: 'reject' } });
    ref.send({ type: 'release', value: 0 });
    await assert.rejects(ref.call({ type: 'get' }), MailboxFullError);
  });

  it('rejects a request that is not an object, and a negative timeout, with teaching errors', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    await assert.rejects(ref.call('get' as never), (e: unknown) => {
      return e instanceof TypeError && /the request must be an object such as \{ type: 'get' \}/.test(e.message);
    });
    await assert.rejects(ref.call({ type: 'get' }, { timeoutMs: -1 }), (e: unknown) => {
      return e instanceof RangeError && /timeoutMs must be a number >= 0 or Infinity; got -1/.test(e.message);
    });
  });
});

describe('call errors', () => {
  it('name the target by its ref and the request by its type, with both as fields', async () => {
    const { clock, system } = simulated();
    const ref = system.spawn(server(), { label: 'server' });
    const call = track(ref.call({ type: 'hold' }, { timeoutMs: 100 }));
    clock.advance(100);
    await settle(system);
    assert.ok(call.error instanceof TimeoutError);
    assert.equal(call.error.name, 'TimeoutError');
    assert.equal(call.error.message, "call { type: 'hold' } to Ref<1 server> timed out after 100 ms");
    assert.deepEqual(
      [call.error.timeoutMs, call.error.actor, call.error.target, call.error.requestType],
      [100, 'Ref<1 server>', 'Ref<1 server>', 'hold'],
    );

    const crash = track(ref.call({ type: 'crash' }));
    await settle(system);
    assert.ok(crash.error instanceof ExitError);
    assert.equal(crash.error.name, 'ExitError');
    assert.equal(
      crash.error.message,
      "call { type: 'crash' } to Ref<1 server> failed: the actor exited: Error: crashed before replying",
    );
    assert.deepEqual(
      [crash.error.actor, crash.error.target, crash.error.requestType],
      ['Ref<1 server>', 'Ref<1 server>', 'crash'],
    );
    assert.equal(crash.error.cause, crash.error.reason);

    const dead = track(ref.call({ type: 'get' }));
    await Promise.resolve();
    assert.ok(dead.error instanceof ExitError);
    assert.equal(
      dead.error.message,
      "call { type: 'get' } to Ref<1 server> failed: the actor exited: Error: crashed before replying",
    );
  });

  it('name a target registered in the system registry by its name, even once its death has dropped the name', async () => {
    const { clock, system } = simulated();
    const ref = system.spawn(server(), { name: 'store', label: 'server' });
    const timedOut = track(ref.call({ type: 'hold' }, { timeoutMs: 100 }));
    const killed = track(ref.call({ type: 'hold' }));
    clock.advance(100);
    await settle(system);
    assert.ok(timedOut.error instanceof TimeoutError);
    assert.equal(timedOut.error.message, "call { type: 'hold' } to 'store' timed out after 100 ms");
    assert.deepEqual([timedOut.error.actor, timedOut.error.target], ['Ref<1 server>', "'store'"]);
    system.kill(ref);
    await settle(system);
    assert.equal(system.whereis('store'), undefined);
    assert.ok(killed.error instanceof ExitError);
    assert.equal(killed.error.message, "call { type: 'hold' } to 'store' failed: the actor exited: killed");
    assert.equal(killed.error.target, "'store'");
  });

  it('give each failed call its own error when one death fails many calls', async () => {
    const { system } = simulated();
    const ref = system.spawn(server());
    const calls = [track(ref.call({ type: 'hold' })), track(ref.call({ type: 'ask' }))];
    await settle(system);
    system.kill(ref);
    await settle(system);
    assert.deepEqual(
      calls.map((c) =>
        c.error instanceof ExitError ? `${c.error.requestType}: ${c.error.reason}` : 'not an ExitError',
      ),
      ['hold: killed', 'ask: killed'],
    );
  });
});

/** A SimulatedClock that records which of its timers keep the process alive, as Node's ref/unref. */
class KeepAliveClock implements Clock {
  readonly inner = new SimulatedClock();
  readonly keptAlive = new Set<ClockTimer>();
  now(): number {
    return this.inner.now();
  }
  setTimeout(fn: () => void, ms: number, unref?: boolean): ClockTimer {
    const t = this.inner.setTimeout(() => {
      this.keptAlive.delete(t);
      fn();
    }, ms);
    if (unref !== true) this.keptAlive.add(t);
    return t;
  }
  clearTimeout(timer: ClockTimer): void {
    this.keptAlive.delete(timer);
    this.inner.clearTimeout(timer);
  }
  setKeepAlive(timer: ClockTimer, keepAlive: boolean): void {
    if (keepAlive) this.keptAlive.add(timer);
    else this.keptAlive.delete(timer);
  }
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `script` (an ES module that imports 'troupe') in a child node process, from the repo root. */
function runScript(script: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = performance.now();
  const r = spawnSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '--eval', script],
    { cwd: root, encoding: 'utf8', timeout: 30_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - started };
}

describe('call and the life of the process', () => {
  it('keeps the process alive until an unanswered call times out: the script gets its TimeoutError and exits 0', () => {
    const r = runScript(`
      import { ActorSystem, TimeoutError } from 'troupe';
      const system = new ActorSystem();
      const silent = system.spawn(() => {}, { label: 'silent' }); // takes the request, never replies
      try {
        await silent.call({ type: 'get' }, { timeoutMs: 200 });
        console.log('replied');
      } catch (e) {
        console.log(e instanceof TimeoutError ? 'TimeoutError: ' + e.message : 'other: ' + e);
      }
    `);
    assert.equal(r.status, 0, `exit code ${r.status} (13 is an unsettled top-level await); stderr: ${r.stderr}`);
    assert.equal(r.stdout.trim(), "TimeoutError: call { type: 'get' } to Ref<1 silent> timed out after 200 ms");
  });

  it('lets the process exit as soon as every call has settled, without waiting for their timeouts', () => {
    const r = runScript(`
      import { ActorSystem } from 'troupe';
      const system = new ActorSystem();
      const echo = system.spawn((msg) => msg.reply(msg.n));
      const pending = echo.call({ type: 'echo', n: 1 }, { timeoutMs: 60_000 });
      console.log(await pending, await echo.call({ type: 'echo', n: 2 }, { timeoutMs: 60_000 }));
    `);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1 2');
    assert.ok(r.ms < 20_000, `the process lived ${Math.round(r.ms)} ms: held by answered calls' 60 s timers`);
  });

  it('does not keep the process alive for a call with timeoutMs: Infinity: with nothing else to wait for, node exits with code 13', () => {
    const r = runScript(`
      import { ActorSystem } from 'troupe';
      const system = new ActorSystem();
      const silent = system.spawn(() => {});
      await silent.call({ type: 'get' }, { timeoutMs: Infinity });
      console.log('replied');
    `);
    assert.equal(r.status, 13, r.stderr);
    assert.equal(r.stdout, '');
  });

  it('keeps the timeout timer keeping the process alive only while a call of its timeoutMs waits', async () => {
    const clock = new KeepAliveClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    const held: Array<Reply<number>> = [];
    const ref = system.spawn(server(held));
    const first = track(ref.call({ type: 'hold' }));
    const second = track(ref.call({ type: 'hold' }));
    await settle(system);
    assert.equal(clock.keptAlive.size, 1, 'one timer, keeping the process alive while calls wait');
    held.shift()?.(1);
    await settle(system);
    assert.equal(clock.keptAlive.size, 1, 'one call still waits');
    held.shift()?.(2);
    await settle(system);
    assert.deepEqual([first.value, second.value], [1, 2]);
    assert.equal(clock.keptAlive.size, 0, 'nothing waits: the timer no longer keeps the process alive');
    assert.equal(clock.inner.pending, 1, 'but stays armed for the next call');
    const third = track(ref.call({ type: 'hold' }));
    await settle(system);
    assert.equal(clock.keptAlive.size, 1);
    clock.inner.advance(5_000);
    await settle(system);
    assert.ok(third.error instanceof TimeoutError);
    assert.equal(clock.keptAlive.size, 0);
    await system.shutdown();
  });

  it('clears the timeout timer once no call waits, on a clock that cannot unref a timer', async () => {
    const inner = new SimulatedClock();
    const clock: Clock = {
      now: () => inner.now(),
      setTimeout: (fn, ms) => inner.setTimeout(fn, ms),
      clearTimeout: (t) => inner.clearTimeout(t),
    };
    const system = new ActorSystem({ clock, logger: silentLogger });
    const held: Array<Reply<number>> = [];
    const ref = system.spawn(server(held));
    const first = track(ref.call({ type: 'hold' }));
    await settle(system);
    assert.equal(inner.pending, 1);
    held.shift()?.(1);
    await settle(system);
    assert.equal(first.value, 1);
    assert.equal(inner.pending, 0, 'no call waits: no timer left to hold the process');
    const second = track(ref.call({ type: 'hold' }));
    await settle(system);
    assert.equal(inner.pending, 1, 'the next call arms a new one');
    inner.advance(5_000);
    await settle(system);
    assert.ok(second.error instanceof TimeoutError);
    await system.shutdown();
  });
});

type SelfMsg =
  | { type: 'get'; reply: Reply<number> }
  | { type: 'await-self'; reply: Reply<number> }
  | { type: 'then-self' };

describe('calling itself', () => {
  it('refuses a call to itself from terminate when terminate runs after an async handler rejected', async () => {
    const { clock, system } = simulated();
    type M = { type: 'crash-later' } | { type: 'peek'; reply: Reply<number> };
    let seen: unknown = 'nothing';
    const ref = system.spawn({
      async receive(_s: undefined, msg: M) {
        if (msg.type !== 'crash-later') return;
        await Promise.resolve();
        throw new Error('boom');
      },
      async terminate(_s: undefined, _reason: unknown, ctx: Context<M>) {
        try {
          await ctx.self.call({ type: 'peek' });
        } catch (e) {
          seen = e;
        }
      },
    });
    ref.send({ type: 'crash-later' });
    await settle(system); // no clock advance: nothing waits for a timeout
    assert.ok(seen instanceof CallingSelfError, `terminate's call to itself got ${String(seen)}`);
    assert.equal(clock.now(), 0);
    assert.equal(ref.alive, false);
  });

  it('rejects at once with a CallingSelfError, so an awaiting handler crashes with it instead of timing out', async () => {
    const { clock, system } = simulated();
    const ref = system.spawn(
      async (msg: SelfMsg, ctx: Context<SelfMsg>) => {
        switch (msg.type) {
          case 'get':
            msg.reply(1);
            return;
          case 'await-self':
            msg.reply(await ctx.self.call({ type: 'get' }));
            return;
          case 'then-self':
            return;
        }
      },
      { label: 'selfish' },
    );
    const outer = track(ref.call({ type: 'await-self' }));
    await settle(system); // no clock advance: nothing waits for a timeout
    assert.equal(clock.now(), 0);
    const reason = await system.exited(ref);
    assert.ok(reason instanceof CallingSelfError, `exited with ${String(reason)}`);
    assert.equal(reason.name, 'CallingSelfError');
    assert.deepEqual([reason.actor, reason.target, reason.requestType], ['Ref<1 selfish>', 'Ref<1 selfish>', 'get']);
    assert.match(
      reason.message,
      /^call \{ type: 'get' \} to Ref<1 selfish>, made by that actor itself from its own handler: an actor cannot call itself \(OTP's calling_self\)/,
    );
    assert.ok(outer.error instanceof ExitError);
    assert.equal(outer.error.reason, reason);
  });

  it('is refused in a synchronous handler and in init too, and the actor keeps serving others', async () => {
    const { system } = simulated();
    const seen: string[] = [];
    const ref = system.spawn<SelfMsg, number>({
      init(ctx) {
        ctx.self.call({ type: 'get' }).catch((e: Error) => seen.push(`init: ${e.name}`));
        return 7;
      },
      receive(n, msg, ctx) {
        if (msg.type === 'then-self')
          ctx.self.call({ type: 'get' }).catch((e: Error) => seen.push(`receive: ${e.name}`));
        else msg.reply(n);
      },
    });
    ref.send({ type: 'then-self' });
    await settle(system);
    assert.deepEqual(seen, ['init: CallingSelfError', 'receive: CallingSelfError']);
    assert.equal(await ref.call({ type: 'get' }), 7, 'a call from outside is no call to itself');
  });

  it('does not refuse a call from another actor while the target waits in an async handler', async () => {
    const { system } = simulated();
    let release: () => void = () => {};
    const slow = system.spawn(async (msg: { type: 'slow' } | { type: 'get'; reply: Reply<string> }) => {
      if (msg.type === 'slow') await new Promise<void>((resolve) => (release = resolve));
      else msg.reply('answered');
    });
    const asker = system.spawn(async (msg: { type: 'ask'; reply: Reply<string> }) =>
      msg.reply(await slow.call({ type: 'get' })),
    );
    slow.send({ type: 'slow' });
    await settle(system);
    const answer = track(asker.call({ type: 'ask' }));
    await settle(system);
    assert.equal(answer.state, 'pending');
    release();
    await settle(system);
    assert.deepEqual(answer, { state: 'resolved', value: 'answered' });
  });
});
