/**
 * `ctx.setReceiveTimeout(ms, msg)`: an actor that has had no message for `ms` is sent `msg`
 * (GenServer's `timeout`, Akka's `setReceiveTimeout`), here to end an idle session. Every message
 * counts as activity, so a session that keeps talking stays. With a `SimulatedClock` the test moves
 * time by hand.
 * Run: `node --conditions=source --import tsx examples/snippets/receive-timeout.ts`.
 */
import { ActorSystem, type Behavior } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type SessionMsg = { type: 'touch' } | { type: 'idle' };

const session: Behavior<SessionMsg, number> = {
  init(ctx) {
    ctx.setReceiveTimeout(30_000, { type: 'idle' }); // set in init: a restart drops it
    return 0;
  },
  receive(touches, msg, ctx) {
    if (msg.type === 'idle') ctx.stop(); // 30 s without a message
    return msg.type === 'touch' ? touches + 1 : touches;
  },
};

export async function main(): Promise<Record<string, unknown>> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const ref = system.spawn(session);
  await settle(system);
  for (let i = 0; i < 3; i++) {
    clock.advance(20_000); // 20 s, then a message: never 30 s idle
    ref.send({ type: 'touch' });
    await settle(system);
  }
  const aliveWhileTalking = ref.alive; // true, 60 s after it started
  clock.advance(30_000);
  await settle(system);
  const aliveAfterSilence = ref.alive; // false: 30 s without a message
  await system.shutdown();
  return { aliveWhileTalking, aliveAfterSilence };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
