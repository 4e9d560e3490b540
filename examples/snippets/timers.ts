/**
 * Timers: `ctx.sendAfter(ref, msg, ms)` sends once, `ctx.sendInterval(ref, msg, ms)` repeats until
 * cancelled. Both return a `Timer` with `cancel()`, and timers started by an actor are cancelled
 * when it exits. Timers read the system's clock, so with a `SimulatedClock` time moves only when
 * the test advances it.
 * Run: `node --conditions=source --import tsx examples/snippets/timers.ts`.
 */
import { ActorSystem, type Behavior, type Reply, type Timer } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type TickerMsg =
  | { type: 'tick' }
  | { type: 'nudge' }
  | { type: 'count'; reply: Reply<{ ticks: number; nudges: number }> };

type TickerState = { ticks: number; nudges: number; interval: Timer };

const ticker: Behavior<TickerMsg, TickerState> = {
  init(ctx) {
    // Owned by this actor: cancelled automatically when it exits.
    return { ticks: 0, nudges: 0, interval: ctx.sendInterval(ctx.self, { type: 'tick' }, 1_000) };
  },
  receive(state, msg) {
    switch (msg.type) {
      case 'tick':
        return { ...state, ticks: state.ticks + 1 };
      case 'nudge':
        return { ...state, nudges: state.nudges + 1 };
      case 'count':
        msg.reply({ ticks: state.ticks, nudges: state.nudges });
        return;
    }
  },
};

export async function main(): Promise<{
  counts: { ticks: number; nudges: number };
  cancelResults: boolean[];
  nudgeActive: boolean;
  pendingBeforeStop: number;
  pendingAfterStop: number;
}> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const ref = await system.start(ticker); // init has armed the interval

  const nudge = system.sendAfter(ref, { type: 'nudge' }, 500); // a timer from outside any actor
  const never = system.sendAfter(ref, { type: 'nudge' }, 2_000);
  const cancelResults = [never.cancel(), never.cancel()]; // [true, false]: the second is a no-op

  clock.advance(3_500); // fires the nudge at 500 and ticks at 1,000, 2,000 and 3,000
  await settle(system);
  // No timeoutMs: a call's timeout timer would stay on the clock and count in clock.pending below.
  const counts = await ref.call({ type: 'count' }, { timeoutMs: Number.POSITIVE_INFINITY });
  const nudgeActive = nudge.active; // false: a one-shot timer is done once it fired

  const pendingBeforeStop = clock.pending; // the interval's next tick
  await system.stop(ref);
  const pendingAfterStop = clock.pending; // 0: the interval died with its actor
  await system.shutdown();
  return { counts, cancelResults, nudgeActive, pendingBeforeStop, pendingAfterStop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
