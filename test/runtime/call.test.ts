/**
 * Request/reply with `ref.call`: the typed reply, the 5,000 ms default timeout on the system clock,
 * late replies dropped, and `ExitError` with the exit reason when the target is or becomes dead.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queryObjects } from 'node:v8';
import {
  ActorSystem,
  type Behavior,
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
    assert.equal(call.error.message, 'call timed out after 5000 ms');
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
