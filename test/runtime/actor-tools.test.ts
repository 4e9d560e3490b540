/**
 * The tools on `ctx` for async work and waiting: keyed timers, the receive timeout, pipeToSelf and
 * the stash, on the simulated clock, with their behaviour across restarts and death.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ActorSystem,
  type Behavior,
  type Context,
  type DeadLetter,
  key,
  type Reply,
  silentLogger,
  supervisor,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

/** A message that runs in the actor's context, or a tagged one it logs. */
type Msg = ((ctx: Context<Msg>) => void) | string;

function setup() {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const got: string[] = [];
  const ref = system.spawn<Msg>((m, ctx) => {
    if (typeof m === 'function') m(ctx);
    else got.push(m);
  });
  /** Lets the actor take what was sent, then moves the clock and lets it take what fired. */
  const advance = async (ms: number) => {
    await settle(system);
    clock.advance(ms);
    await settle(system);
  };
  return { clock, system, ref, got, advance };
}

describe('ctx.startTimer (keyed timers)', () => {
  it('replaces the timer a key had: only the newest start delivers', async () => {
    const { ref, got, advance, system } = setup();
    ref.send((ctx) => ctx.startTimer('k', 'first', 100));
    await advance(50);
    ref.send((ctx) => ctx.startTimer('k', 'second', 100));
    await advance(60);
    assert.deepEqual(got, [], 'the first timer would have fired at 100: it was replaced');
    await advance(40);
    assert.deepEqual(got, ['second']);
    await system.shutdown();
  });

  it('drops the message of a timer cancelled after it fired but before the actor took it', async () => {
    const { ref, got, clock, system } = setup();
    ref.send((ctx) => ctx.startTimer('k', 'fired', 100));
    await settle(system);
    // The cancel is queued first; the timer fires behind it, so its message waits in the mailbox.
    let cancelled: boolean | undefined;
    ref.send((ctx) => {
      cancelled = ctx.cancelTimer('k');
    });
    clock.advance(100);
    await settle(system);
    assert.equal(cancelled, true, 'its message was still to be delivered: the cancel stopped it');
    assert.deepEqual(got, [], 'its queued message was dropped');
    await system.shutdown();
  });

  it('counts a fired timer as active while its message waits in the mailbox: it will still deliver', async () => {
    const { ref, got, clock, system } = setup();
    ref.send((ctx) => ctx.startTimer('k', 'fired', 100));
    await settle(system);
    // Asked while the timer's message, fired behind this request, waits to be taken.
    let active: boolean | undefined;
    ref.send((ctx) => {
      active = ctx.isTimerActive('k');
    });
    clock.advance(100);
    await settle(system);
    assert.equal(active, true);
    assert.deepEqual(got, ['fired'], 'and it delivered');
    let after: boolean | undefined;
    ref.send((ctx) => {
      after = ctx.isTimerActive('k');
    });
    await settle(system);
    assert.equal(after, false, 'taken: no longer active');
    await system.shutdown();
  });

  it('tells whether a timer will still deliver, and repeats an interval timer until cancelled', async () => {
    const { ref, got, advance, system } = setup();
    const active: boolean[] = [];
    ref.send((ctx) => {
      ctx.startTimer('once', 'once', 10);
      ctx.startIntervalTimer('tick', 'tick', 100);
      active.push(ctx.isTimerActive('once'), ctx.isTimerActive('tick'), ctx.isTimerActive('none'));
    });
    await advance(350);
    ref.send((ctx) => {
      active.push(
        ctx.isTimerActive('once'),
        ctx.cancelTimer('tick'),
        ctx.isTimerActive('tick'),
        ctx.cancelTimer('tick'),
      );
    });
    await advance(500);
    assert.deepEqual(active, [true, true, false, false, true, false, false]);
    assert.deepEqual(got, ['once', 'tick', 'tick', 'tick']);
    await system.shutdown();
  });

  it('cancels every keyed timer when a supervised actor restarts', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    const got: string[] = [];
    const W = key<'arm' | 'crash' | 'fired'>('w');
    const worker: Behavior<'arm' | 'crash' | 'fired', undefined> = {
      receive(_s, m, ctx) {
        if (m === 'arm') ctx.startTimer('k', 'fired', 100);
        else if (m === 'crash') throw new Error('crash');
        else got.push(m);
      },
    };
    await system.start(supervisor({ children: [{ id: 'w', behavior: worker, name: W }] }));
    system.whereis(W)?.send('arm');
    await settle(system);
    system.whereis(W)?.send('crash');
    await settle(system);
    clock.advance(200);
    await settle(system);
    assert.deepEqual(got, [], 'the timer of the ended incarnation did not deliver');
    await system.shutdown();
  });
});

describe('ctx.setReceiveTimeout', () => {
  it('sends its message after each idle period, counts every message as activity, and stops when cancelled', async () => {
    const { ref, got, advance, system } = setup();
    ref.send((ctx) => ctx.setReceiveTimeout(1_000, 'idle'));
    await advance(900);
    ref.send('touch');
    await advance(900);
    assert.deepEqual(got, ['touch'], 'a message 900 ms in: not idle yet at 1,800');
    await advance(100);
    assert.deepEqual(got, ['touch', 'idle'], 'idle 1,000 ms after the last message');
    await advance(1_000);
    assert.deepEqual(got, ['touch', 'idle', 'idle'], 'again after the next idle period');
    let cancelled: boolean | undefined;
    ref.send((ctx) => {
      cancelled = ctx.cancelReceiveTimeout();
    });
    await advance(5_000);
    assert.equal(cancelled, true);
    assert.deepEqual(got, ['touch', 'idle', 'idle']);
    await system.shutdown();
  });

  it('counts the time an async handler runs as busy: the idle period starts when it settles', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    const got: Array<[string, number]> = [];
    let release: () => void = () => {};
    const ref = system.spawn<'arm' | 'slow' | 'idle'>(async (m, ctx) => {
      got.push([m, clock.now()]);
      if (m === 'arm') ctx.setReceiveTimeout(1_000, 'idle');
      if (m === 'slow') await new Promise<void>((r) => (release = r));
    });
    ref.send('arm');
    await settle(system);
    ref.send('slow');
    await settle(system);
    clock.advance(2_500); // the handler is still awaiting its promise
    await settle(system);
    assert.deepEqual(
      got.map(([m]) => m),
      ['arm', 'slow'],
      'no idle while the handler runs',
    );
    release();
    await settle(system);
    clock.advance(999);
    await settle(system);
    assert.equal(got.length, 2, 'not idle 999 ms after it settled');
    clock.advance(1);
    await settle(system);
    assert.deepEqual(got.at(-1), ['idle', clock.now()], 'idle a whole period after it settled');
    await system.shutdown();
  });

  it('is dropped by a restart in place', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    const got: string[] = [];
    const W = key<'arm' | 'crash' | 'idle'>('w');
    const worker: Behavior<'arm' | 'crash' | 'idle', undefined> = {
      receive(_s, m, ctx) {
        if (m === 'arm') ctx.setReceiveTimeout(100, 'idle');
        else if (m === 'crash') throw new Error('crash');
        else got.push(m);
      },
    };
    await system.start(supervisor({ children: [{ id: 'w', behavior: worker, name: W }] }));
    system.whereis(W)?.send('arm');
    system.whereis(W)?.send('crash');
    await settle(system);
    clock.advance(500);
    await settle(system);
    assert.deepEqual(got, []);
    await system.shutdown();
  });

  it('refuses a period that is not a finite number > 0', () => {
    const { ref, system } = setup();
    let error: unknown;
    ref.send((ctx) => {
      try {
        ctx.setReceiveTimeout(0, 'idle');
      } catch (e) {
        error = e;
      }
    });
    return settle(system).then(() => {
      assert.match(
        String(error),
        /ctx\.setReceiveTimeout\(ms, msg\): the delay must be a finite number of milliseconds > 0; got 0/,
      );
    });
  });
});

describe('ctx.pipeToSelf', () => {
  it("delivers a promise's value or error as a message made by toMessage, without blocking the actor", async () => {
    const { ref, got, system } = setup();
    let resolveOk: (v: number) => void = () => {};
    let rejectBad: (e: Error) => void = () => {};
    ref.send((ctx) => {
      ctx.pipeToSelf(new Promise<number>((r) => (resolveOk = r)), (o) => (o.ok ? `value ${o.value}` : 'no'));
      ctx.pipeToSelf(new Promise<number>((_r, j) => (rejectBad = j)), (o) =>
        o.ok ? 'no' : `error ${o.error.message}`,
      );
    });
    ref.send('meanwhile');
    await settle(system);
    assert.deepEqual(got, ['meanwhile'], 'the actor took its next message at once');
    resolveOk(42);
    rejectBad(new Error('boom'));
    await settle(system);
    assert.deepEqual(got, ['meanwhile', 'value 42', 'error boom']);
    await system.shutdown();
  });

  it('logs a toMessage that throws and sends nothing; after death the message is a dead letter', async () => {
    const errors: string[] = [];
    const system = new ActorSystem({ logger: { error: (_o, m) => errors.push(m ?? ''), warn() {} } });
    const dead: DeadLetter[] = [];
    system.onDeadLetter((d) => dead.push(d));
    const got: string[] = [];
    let release: () => void = () => {};
    const ref = system.spawn<Msg>((m, ctx) => {
      if (typeof m === 'function') m(ctx);
      else got.push(m);
    });
    ref.send((ctx) => {
      ctx.pipeToSelf(Promise.resolve(1), () => {
        throw new Error('bad map');
      });
      ctx.pipeToSelf(new Promise<void>((r) => (release = r)), () => 'late');
    });
    await settle(system);
    assert.deepEqual(got, []);
    assert.match(errors.join('\n'), /pipeToSelf of Ref<\d+>: toMessage threw; nothing was sent/);
    system.kill(ref);
    release();
    await settle(system);
    assert.deepEqual(
      dead.map((d) => [d.message, d.reason]),
      [['late', 'dead']],
    );
    await system.shutdown();
  });
});

type ClientMsg = { type: 'query'; q: string; reply: Reply<string> } | { type: 'ready' } | { type: 'crash' };

describe('ctx.stash', () => {
  it('puts messages aside and back at the front of the mailbox, in order, ahead of later mail', async () => {
    const { ref, got, system } = setup();
    ref.send((ctx) => {
      ctx.stash('a');
      ctx.stash('b');
    });
    ref.send('c');
    await settle(system);
    assert.deepEqual(got, ['c']);
    let n: number | undefined;
    ref.send((ctx) => {
      n = ctx.unstashAll();
      ctx.self.send('d');
    });
    await settle(system);
    assert.equal(n, 2);
    assert.deepEqual(got, ['c', 'a', 'b', 'd']);
    await system.shutdown();
  });

  it('gives a stashed DOWN or EXIT back to info, not receive, once unstashed', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const seen: string[] = [];
    const watched = system.spawn((_m: 'stop', ctx: Context<'stop'>) => ctx.stop());
    const linked = system.spawn((_m: 'stop', ctx: Context<'stop'>) => ctx.stop({ shutdown: 'bye' }));
    type W = { type: 'watch' } | { type: 'ready' };
    const watcher: Behavior<W, boolean> = {
      init: () => false,
      receive(ready, msg, ctx) {
        seen.push(`receive ${msg.type}`);
        if (msg.type === 'watch') {
          ctx.trapExit(true);
          ctx.monitor(watched as never);
          ctx.link(linked as never);
          return ready;
        }
        ctx.unstashAll();
        return true;
      },
      info(ready, msg, ctx) {
        if (!ready) {
          seen.push(`stash ${msg.type}`);
          ctx.stash(msg); // no cast: an info message can be stashed
          return ready;
        }
        seen.push(`info ${msg.type}`);
        return ready;
      },
    };
    const ref = system.spawn(watcher);
    ref.send({ type: 'watch' });
    await settle(system);
    watched.send('stop');
    await settle(system);
    linked.send('stop');
    await settle(system);
    ref.send({ type: 'ready' });
    await settle(system);
    assert.deepEqual(seen, ['receive watch', 'stash DOWN', 'stash EXIT', 'receive ready', 'info DOWN', 'info EXIT']);
    await system.shutdown();
  });

  it('keeps a stashed request pending, then answers it', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const client = system.spawn<ClientMsg>(
      (() => {
        let ready = false;
        return (m: ClientMsg, ctx: Context<ClientMsg>) => {
          if (m.type === 'query') {
            if (!ready) ctx.stash(m);
            else m.reply(`answer ${m.q}`);
          } else if (m.type === 'ready') {
            ready = true;
            ctx.unstashAll();
          }
        };
      })(),
    );
    const answer = client.call({ type: 'query', q: 'x' });
    await settle(system);
    client.send({ type: 'ready' });
    assert.equal(await answer, 'answer x');
    await system.shutdown();
  });

  it('crashes the actor past its capacity, saying so', async () => {
    const errors: string[] = [];
    const system = new ActorSystem({
      logger: { error: (o, m) => errors.push(`${m} ${String((o as { reason?: unknown }).reason)}`), warn() {} },
    });
    const ref = system.spawn<Msg>((m, ctx) => {
      if (typeof m === 'function') m(ctx);
      else ctx.stash(m);
    });
    for (let i = 0; i < 10_001; i++) ref.send(`m${i}`);
    const reason = await system.exited(ref as never);
    assert.match(String(reason), /the stash of Ref<\d+> is full \(10000 messages\); unstash before stashing more/);
    await system.shutdown();
  });

  it('returns the stash to the mailbox across a restart in place, or to dead letters when the actor dies', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const got: string[] = [];
    const dead: DeadLetter[] = [];
    system.onDeadLetter((d) => dead.push(d));
    const W = key<string>('w');
    let incarnation = 0;
    const worker: Behavior<string, number> = {
      init: () => ++incarnation,
      receive(n, m, ctx) {
        if (m === 'crash') throw new Error('crash');
        if (m === 'die') ctx.kill();
        else if (n === 1) ctx.stash(m);
        else got.push(`${n}:${m}`);
      },
    };
    await system.start(supervisor({ children: [{ id: 'w', behavior: worker, name: W }] }));
    const w = system.whereis(W);
    w?.send('a');
    w?.send('b');
    w?.send('crash');
    w?.send('c');
    await settle(system);
    assert.deepEqual(got, ['2:a', '2:b', '2:c'], 'the stash came back ahead of the mail behind the crash');
    await system.shutdown();
    const lone = system === undefined ? undefined : new ActorSystem({ logger: silentLogger });
    const lost: DeadLetter[] = [];
    lone?.onDeadLetter((d) => lost.push(d));
    const solo = lone?.spawn<Msg>((m, ctx) => {
      if (typeof m === 'function') m(ctx);
      else ctx.stash(m);
    });
    solo?.send('x');
    solo?.send('y');
    if (lone !== undefined) await settle(lone);
    if (solo !== undefined) lone?.kill(solo as never);
    assert.deepEqual(
      lost.map((d) => [d.message, d.reason]),
      [
        ['x', 'dead'],
        ['y', 'dead'],
      ],
    );
    assert.equal(dead.length, 1, 'only the poison message was lost in the restart');
    await lone?.shutdown();
  });
});
