/**
 * A supervisor that never gives up: `maxRestarts: Infinity`. Give its children a backoff, so that
 * one that cannot start waits between attempts instead of spinning. The window still counts the
 * restarts within `withinMs` (for `countAt`), and holds only those, whatever `maxRestarts` is.
 * `withinMs` must be finite: `Infinity` would turn `maxRestarts` into a budget for the supervisor's
 * whole life, and is refused (OTP refuses an infinite period too).
 * Run: `node --conditions=source --import tsx examples/snippets/unlimited-restarts.ts`.
 */
import { ActorSystem, type Behavior, key, RestartWindow, silentLogger, supervisor, whichChildren } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Msg = { type: 'crash' };

const FLAKY = key<Msg>('flaky');

const flaky: Behavior<Msg> = {
  receive() {
    throw new Error('flaky');
  },
};

export async function main(): Promise<{
  restarts: number | undefined;
  alive: boolean;
  window: number;
  refused: string;
}> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const sup = await system.start(
    supervisor({
      maxRestarts: Number.POSITIVE_INFINITY, // never give up...
      children: [{ id: 'flaky', behavior: flaky, name: FLAKY, backoff: { initialMs: 100, maxMs: 1_000 } }], // ...but not in a tight loop
    }),
  );
  for (let i = 0; i < 20; i++) {
    system.whereis(FLAKY)?.send({ type: 'crash' }); // the name survives each restart in place
    await settle(system);
    clock.advance(1_000); // the backoff delay passes: the child restarts
    await settle(system);
  }
  const restarts = (await whichChildren(sup))[0]?.restarts; // 20, far past the default 3 in 5,000 ms

  // The window on its own: no limit, and it holds only the restarts inside withinMs.
  const w = new RestartWindow(Number.POSITIVE_INFINITY, 1_000);
  for (let t = 0; t < 10_000; t += 10) w.tryAdd(t); // every one allowed
  const window = w.countAt(10_000); // 100: the restarts of the last 1,000 ms

  let refused = '';
  try {
    supervisor({ maxRestarts: 3, withinMs: Number.POSITIVE_INFINITY, children: [] });
  } catch (e) {
    refused = `${(e as Error).name}: ${(e as Error).message}`;
  }

  const alive = sup.alive;
  await system.shutdown();
  return { restarts, alive, window, refused };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
