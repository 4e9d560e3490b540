/**
 * More of the probe, on a `SimulatedClock`: `within` bounds the simulated time a block of
 * assertions may take, `expectTerminated` checks that an actor has exited and returns why, and a
 * call that waits for simulated time nobody advances is rejected with a `SimulatedTimeError`
 * instead of hanging. In a node:test file, `main` is the body of an `it(...)`.
 * Run: `node --conditions=source --import tsx examples/snippets/probe-within.ts`.
 */
import assert from 'node:assert/strict';
import { ActorSystem, type Behavior, type Ref, type Reply } from 'troupe';
import { createProbe, SimulatedClock, SimulatedTimeError, settle } from 'troupe/testing';

type Pong = { type: 'pong'; seq: number };
type PingerMsg =
  | { type: 'ping'; seq: number; replyTo: Ref<Pong> }
  | { type: 'count'; reply: Reply<number> }
  | { type: 'counted'; reply: Reply<number> }
  | { type: 'quit' };

// Answers every ping 150 ms later; tells how many it got, a second after it is asked; stops on quit.
const pinger: Behavior<PingerMsg, number> = {
  init: () => 0,
  receive(pings, msg, ctx) {
    switch (msg.type) {
      case 'ping':
        ctx.sendAfter(msg.replyTo, { type: 'pong', seq: msg.seq }, 150);
        return pings + 1;
      case 'count':
        // The count is ready a second later: a reply that needs the clock to move.
        ctx.sendAfter(ctx.self, { type: 'counted', reply: msg.reply }, 1_000);
        return pings;
      case 'counted':
        msg.reply(pings);
        return pings;
      case 'quit':
        ctx.stop();
        return pings;
    }
  },
};

export async function main(): Promise<{ pong: Pong; late: string; forgotten: string; reason: unknown }> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const probe = createProbe<Pong>(system);
  const ref = system.spawn(pinger, { label: 'pinger' });

  // The pong must come within 200 ms: the block advances to the pinger's timer, wherever it is.
  const pong = await probe.within(200, async () => {
    ref.send({ type: 'ping', seq: 1, replyTo: probe.ref });
    await settle(system);
    clock.advanceToNext(); // to +150 ms
    return probe.expectMessage({ type: 'pong', seq: 1 });
  });

  // Not within 100 ms: the assertions pass, but the block took 150 ms of simulated time.
  const late = await probe
    .within(100, async () => {
      ref.send({ type: 'ping', seq: 2, replyTo: probe.ref });
      await settle(system);
      clock.advanceToNext();
      await probe.expectMessage({ type: 'pong', seq: 2 });
    })
    .then(
      () => 'in time',
      (e: Error) => e.message, // expected the block to finish within 100 ms, it took 150 ms
    );

  // A call whose answer needs a timer to fire, awaited without advancing the clock.
  const forgotten = await ref.call({ type: 'count' }).then(
    (count) => `counted ${count}`,
    (e: unknown) => {
      assert.ok(e instanceof SimulatedTimeError); // no clock.advance(1_000), and nothing else could run
      return e.message;
    },
  );

  ref.send({ type: 'quit' });
  const reason = await probe.expectTerminated(ref); // 'normal'

  await system.shutdown();
  return { pong, late, forgotten, reason };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
