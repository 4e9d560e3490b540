/**
 * A deterministic test with `troupe/testing`: a `SimulatedClock` so timers fire only when the test
 * advances time, `settle` to run actors until none has work, and a probe that records what it
 * receives. In a node:test file, `main` is the body of an `it(...)`.
 * Run: `node --conditions=source --import tsx examples/snippets/testing-with-probe.ts`.
 */
import assert from 'node:assert/strict';
import { ActorSystem, type Behavior, type Ref } from 'troupe';
import { createProbe, SimulatedClock, settle } from 'troupe/testing';

type Pong = { type: 'pong'; seq: number };
type PingerMsg = { type: 'ping'; seq: number; replyTo: Ref<Pong> };

// Answers every ping 100 ms later.
export const pinger: Behavior<PingerMsg> = {
  receive(_state, msg, ctx) {
    ctx.sendAfter(msg.replyTo, { type: 'pong', seq: msg.seq }, 100);
  },
};

export async function main(): Promise<Pong[]> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const probe = createProbe<Pong>(system);
  const ref = system.spawn(pinger);

  ref.send({ type: 'ping', seq: 1, replyTo: probe.ref });
  ref.send({ type: 'ping', seq: 2, replyTo: probe.ref });
  await settle(system);
  await probe.expectNoMessage(); // nothing before the delay

  clock.advance(99);
  await probe.expectNoMessage(); // still nothing at 99 ms
  clock.advance(1);
  const first = await probe.expectMessage({ type: 'pong', seq: 1 }); // a partial match
  const second = await probe.expectMessage((m) => m.seq === 2); // or a predicate
  assert.equal(clock.now(), 100);

  await system.shutdown();
  return [first, second];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
