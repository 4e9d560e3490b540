/**
 * Restart backoff, which OTP does not have: the n-th consecutive restart of a child waits
 * `min(maxMs, initialMs * factor^(n-1))`, spread by +/- `jitter` so that many children do not
 * restart in lockstep. A child that ran for `resetAfterMs` without exiting starts over at
 * `initialMs`. Messages sent meanwhile wait in its mailbox. The supervisor's `random` option
 * (default `Math.random`) makes the jitter reproducible in tests.
 * Run: `node --conditions=source --import tsx examples/snippets/restart-backoff.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  type ChildStatus,
  key,
  type Reply,
  silentLogger,
  supervisor,
  whichChildren,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Msg = { type: 'crash' } | { type: 'ping'; reply: Reply<string> };

const FLAKY = key<Msg>('flaky');

export async function main(): Promise<{ delays: number[]; during: ChildStatus | undefined; ping: string }> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const starts: number[] = [];
  const flaky: Behavior<Msg> = {
    init() {
      starts.push(clock.now());
      return undefined;
    },
    receive(_state, msg) {
      if (msg.type === 'crash') throw new Error('flaky');
      msg.reply(`pong at ${clock.now()} ms`);
    },
  };
  const sup = await system.start(
    supervisor({
      maxRestarts: 10,
      random: () => 0, // the low end of the jitter: every delay is 20% shorter than its base
      children: [
        {
          id: 'flaky',
          behavior: flaky,
          name: FLAKY, // kept through every restart in place
          backoff: { initialMs: 100, factor: 2, maxMs: 1_000, jitter: 0.2, resetAfterMs: 5_000 },
        },
      ],
    }),
  );
  const ref = system.whereis(FLAKY); // Ref<Msg> | undefined
  if (ref === undefined) throw new Error('flaky is not registered');

  const delays: number[] = [];
  let during: ChildStatus | undefined;
  const crashAndWait = async () => {
    const crashedAt = clock.now();
    ref.send({ type: 'crash' });
    await settle(system);
    during = (await whichChildren(sup))[0]?.status; // 'restarting' while it waits
    while (starts.at(-1) === undefined || (starts.at(-1) as number) <= crashedAt) {
      clock.advanceToNext();
      await settle(system);
    }
    delays.push((starts.at(-1) as number) - crashedAt);
  };

  await crashAndWait(); // 80: 100 - 20%
  await crashAndWait(); // 160: 200 - 20%
  await crashAndWait(); // 320: 400 - 20%
  clock.advance(5_000); // stable for resetAfterMs
  await crashAndWait(); // 80 again

  // A message sent during the backoff waits for the next incarnation.
  ref.send({ type: 'crash' });
  const pinged = ref.call({ type: 'ping' }, { timeoutMs: Number.POSITIVE_INFINITY });
  await settle(system);
  clock.advance(160); // the second consecutive restart: 160 ms
  const ping = await pinged;
  await system.shutdown();
  return { delays, during, ping };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
