/**
 * call: request/reply round trips per second between two actors. A client actor's async handler
 * awaits `server.call({ type: 'get' })` in a loop, with call's defaults (a 5,000 ms timeout armed
 * per call); the server replies at once. The baseline's client does the same with a hand-written
 * promise per request whose `resolve` travels in the message as the reply function. Higher is
 * better; the issue sets no target.
 */
import { ActorSystem, type Reply } from 'troupe';
import * as baseline from './baseline.js';
import { check, deferred, defineWorkload, type Sample } from './harness.js';

export interface CallParams {
  /** Round trips, one after the other. */
  readonly calls: number;
}

type ServerMsg = { type: 'get'; reply: Reply<number> };

async function troupe(p: CallParams): Promise<Sample> {
  const system = new ActorSystem();
  const server = system.spawn((msg: ServerMsg) => msg.reply(1));
  const done = deferred<number>();
  const client = system.spawn(async (_msg: 'go') => {
    let sum = 0;
    for (let i = 0; i < p.calls; i++) sum += await server.call({ type: 'get' });
    done.resolve(sum);
  });
  const t0 = performance.now();
  client.send('go');
  const sum = await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(sum === p.calls, 'call replies');
  await system.shutdown();
  return { call: p.calls / s };
}

export const call = defineWorkload<CallParams>({
  name: 'call',
  about: 'request/reply round trips between two actors (ref.call with its defaults); round trips/s',
  figures: [{ name: 'call', unit: 'round trips/s', better: 'higher', decimals: 0 }],
  params: { full: { calls: 500_000 }, quick: { calls: 100_000 } },
  troupe,
  baseline: baseline.call,
});
