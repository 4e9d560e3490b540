/**
 * `settle(system)`: runs the scheduler until its run queue stays empty across an event-loop turn,
 * so every message sent so far, and every message those handlers sent, has been handled, and
 * promise-returning handlers that only wait on other promises have finished. It does not move a
 * simulated clock: advance it, then settle. A system it has seen has its waiting calls rejected if
 * its simulated clock finds them waiting in vain (`stall.ts`).
 */
import { type ActorSystem, schedulerOf } from '../system/system.js';
import { watchForStalls } from './stall.js';

/** Options of {@link settle}. */
export interface SettleOptions {
  /** Give up (throw) after this many rounds with work still queued. Default 1,000. */
  readonly maxRounds?: number;
  /** Messages one round may handle before it lets the event loop turn. Default 100,000. */
  readonly messagesPerRound?: number;
}

/**
 * Runs the system until no actor has work.
 * @example
 * counter.send({ type: 'inc' });
 * await settle(system);
 */
export async function settle(system: ActorSystem, options: SettleOptions = {}): Promise<void> {
  watchForStalls(system);
  const maxRounds = options.maxRounds ?? 1_000;
  const perRound = options.messagesPerRound ?? 100_000;
  for (let round = 0; round < maxRounds; round++) {
    schedulerOf(system).drainNow(perRound);
    // Let promises (async handlers, init, terminate) and immediates run, then look again.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (schedulerOf(system).queued === 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (schedulerOf(system).queued === 0) return;
    }
  }
  throw new Error(`settle: actors still had work after ${maxRounds} rounds (an actor that messages itself forever?)`);
}
