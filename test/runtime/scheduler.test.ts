/**
 * The scheduler: sends only queue; each actor gets at most `budget` messages per turn; and an actor
 * that floods itself forever does not starve the event loop (timers, immediates, sockets) or other
 * actors. The flood test runs on the real event loop and asserts on what happened, never on how
 * long it took.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { ActorSystem, type Context } from 'troupe';
import { settle } from 'troupe/testing';

describe('send', () => {
  it("never runs the receiver synchronously inside the sender's handler", async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const receiver = system.spawn((msg: string) => {
      log.push(`receiver got ${msg}`);
    });
    const sender = system.spawn((_: 'go') => {
      log.push('sender before send');
      receiver.send('hello');
      log.push('sender after send');
    });
    sender.send('go');
    assert.deepEqual(log, [], 'nor inside a send from outside');
    await settle(system);
    assert.deepEqual(log, ['sender before send', 'sender after send', 'receiver got hello']);
  });
});

describe('scheduler budget', () => {
  it('gives another actor a turn after at most `budget` messages of a busy one', async () => {
    const system = new ActorSystem({ scheduler: { budget: 10 } });
    let busyHandled = 0;
    let seenByOther: number | undefined;
    const busy = system.spawn((_: number) => {
      busyHandled++;
    });
    const other = system.spawn((_: 'ping') => {
      seenByOther = busyHandled;
    });
    for (let i = 0; i < 1_000; i++) busy.send(i);
    other.send('ping');
    await settle(system);
    assert.equal(busyHandled, 1_000);
    assert.ok(seenByOther !== undefined && seenByOther <= 10, `other ran after ${seenByOther} busy messages`);
  });

  it('rejects a budget or a time slice that is not one, with a teaching RangeError', () => {
    assert.throws(
      () => new ActorSystem({ scheduler: { budget: 0 } }),
      (e: unknown) => e instanceof RangeError && /scheduler\.budget must be an integer >= 1; got 0/.test(e.message),
    );
    assert.throws(
      () => new ActorSystem({ scheduler: { sliceMs: 0 } }),
      (e: unknown) => e instanceof RangeError && /scheduler\.sliceMs must be a number > 0; got 0/.test(e.message),
    );
  });
});

describe('scheduler fairness under a flood', () => {
  it('lets immediates, timers, a loopback TCP round trip and other actors run while an actor floods itself', {
    timeout: 30_000,
  }, async () => {
    const BUDGET = 50;
    const system = new ActorSystem({ scheduler: { budget: BUDGET } });
    let floods = 0;
    const gaps: number[] = [];
    const other = system.spawn((msg: { sentAt: number; done?: () => void }) => {
      gaps.push(floods - msg.sentAt);
      msg.done?.();
    });
    // Every message sends the next one: this actor always has work. At its 10th message it also
    // writes to `other`, which must get a turn within one budget of the flooder's messages.
    const flooder = system.spawn((_: 'again', ctx: Context<'again'>) => {
      floods++;
      if (floods === 10) other.send({ sentAt: floods });
      ctx.self.send('again');
    });
    // An actor behind a socket: it answers each chunk on the same connection.
    const echo = system.spawn((msg: { socket: Socket; data: string }) => {
      msg.socket.write(msg.data.toUpperCase());
    });
    const server = createServer((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (data: string) => echo.send({ socket, data }));
    });
    let client: Socket | undefined;
    try {
      flooder.send('again');
      const progress: string[] = [];
      /** Records that the flood went on across `step`. */
      const during = async (name: string, step: () => Promise<unknown>) => {
        const before = floods;
        const out = await step();
        progress.push(`${name}: ${floods > before ? 'flood running' : 'flood stalled'}`);
        return out;
      };

      await during('setImmediate', () => new Promise((resolve) => setImmediate(resolve)));
      await during('setTimeout(0)', () => new Promise((resolve) => setTimeout(resolve, 0)));
      const reply = await during('tcp', async () => {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const { port } = server.address() as AddressInfo;
        return new Promise<string>((resolve, reject) => {
          const c = connect(port, '127.0.0.1', () => c.write('ping'));
          client = c;
          c.setEncoding('utf8');
          c.once('data', resolve);
          c.once('error', reject);
        });
      });
      await during('outside send', () => new Promise<void>((done) => other.send({ sentAt: floods, done })));

      assert.equal(reply, 'PING');
      assert.deepEqual(progress, [
        'setImmediate: flood running',
        'setTimeout(0): flood running',
        'tcp: flood running',
        'outside send: flood running',
      ]);
      assert.equal(gaps.length, 2, 'other got both messages while the flood ran');
      for (const gap of gaps) assert.ok(gap <= BUDGET, `other waited ${gap} flood messages (budget ${BUDGET})`);
      assert.ok(system.stats().yields > 0, 'the scheduler yielded to the event loop');
      assert.equal(flooder.alive, true);
    } finally {
      system.kill(flooder);
      client?.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
    const stoppedAt = floods;
    await settle(system);
    assert.equal(floods, stoppedAt, 'the flood ends with the kill');
    assert.equal(system.stats().queued, 0);
  });
});

describe('scheduler slice per event-loop iteration', () => {
  it('stops running actors inline once one phase of callbacks has spent the slice: the rest waits for the check phase', async () => {
    // Socket frames arrive as many callbacks in one poll phase, each followed by a microtask
    // checkpoint; timer callbacks do the same, so a burst of timers stands in for a burst of frames.
    const system = new ActorSystem({ scheduler: { sliceMs: 5 } });
    const callbacks = 200;
    let handled = 0;
    const worker = system.spawn((_: number) => {
      const until = performance.now() + 1;
      while (performance.now() < until) {
        // 1 ms of work per message: the whole burst is at least 200 ms of work.
      }
      handled++;
    });
    let handledAtCheckPhase: number | undefined;
    const burstDone = new Promise<void>((resolve) => {
      for (let i = 0; i < callbacks; i++) {
        setTimeout(() => {
          // Queued by the first callback: the first thing the check phase after the burst runs.
          if (i === 0) {
            setImmediate(() => {
              handledAtCheckPhase = handled;
              resolve();
            });
          }
          worker.send(i);
        }, 0);
      }
    });
    await burstDone;
    // Before: every message ran inline in its callback's microtask checkpoint (200 of 200 here).
    assert.ok(
      handledAtCheckPhase !== undefined && handledAtCheckPhase < callbacks / 4,
      `${handledAtCheckPhase} ran inline`,
    );
    await settle(system);
    assert.equal(handled, callbacks, 'and nothing was lost: the rest ran after the phase');
  });
});

describe('system.backlogMs', () => {
  it('grows with a pass over many busy actors: each waits for the turns of those ahead of it', async () => {
    const system = new ActorSystem({ scheduler: { budget: 2 } });
    assert.equal(system.backlogMs, 0, 'idle');
    const seen: number[] = [];
    const actors = Array.from({ length: 10 }, (_, i) =>
      system.spawn((n: number) => {
        const until = performance.now() + 1;
        while (performance.now() < until) {
          // 1 ms of work per message
        }
        if (n === 0) seen[i] = system.backlogMs;
      }),
    );
    for (const a of actors) for (let n = 0; n < 4; n++) a.send(n);
    await settle(system);
    // The tenth actor's first turn came after nine turns of 2 ms each in the same pass.
    assert.ok((seen[9] as number) >= 18, `backlog ${seen[9]} ms at the tenth actor`);
    assert.equal(system.backlogMs, 0, 'idle again');
  });

  it('stays at a few turns for an actor that keeps messaging itself: the queue never runs dry, yet nothing waits long', async () => {
    const system = new ActorSystem({ scheduler: { budget: 10 } });
    const turnStart: number[] = [];
    let worst = 0;
    let stop = false;
    const flooder = system.spawn((n: number, ctx: Context<number>) => {
      const now = performance.now();
      const turn = Math.floor(n / 10);
      if (n % 10 === 0) turnStart[turn] = now;
      // Never older than the start of a turn 20 turns (200 messages) back.
      if (turn >= 20) worst = Math.max(worst, system.backlogMs - (now - (turnStart[turn - 20] as number)));
      if (!stop && n < 20_000) ctx.self.send(n + 1);
    });
    flooder.send(0);
    await new Promise((r) => setTimeout(r, 30));
    stop = true;
    await settle(system);
    assert.ok(turnStart.length > 100, `${turnStart.length} turns`);
    assert.ok(worst <= 0, `backlogMs ran ${worst} ms past 20 turns`);
  });
});

describe('system.onDrained', () => {
  it('runs after each batch of work, once per batch, until removed', async () => {
    const system = new ActorSystem();
    const log: string[] = [];
    const off = system.onDrained(() => log.push('drained'));
    const ref = system.spawn((m: string) => void log.push(m));
    ref.send('a');
    ref.send('b');
    await settle(system);
    assert.deepEqual(log.slice(0, 3), ['a', 'b', 'drained']);
    off();
    const before = log.length;
    ref.send('c');
    await settle(system);
    assert.deepEqual(log.slice(before), ['c']);
  });
});
