/**
 * events: what the event stream costs. 200,000 actors are spawned, each handles one message and
 * stops (every actor emits `spawned` and `exited` when someone listens). Figures: actors/s with
 * nobody subscribed (`events-off`: the emit points then cost one boolean test each) and with one
 * no-op subscriber (`events-on`: the events are built and delivered). The baseline is the
 * hand-written loop doing the same spawn/message/stop, which has no events at all; so
 * `events-off`'s ratio is what the runtime costs with events unused, and the gap between the two
 * Troupe figures is what listening costs.
 */
import { ActorSystem, type Context } from 'troupe';
import * as baseline from './baseline.js';
import { check, deferred, defineWorkload, type Sample } from './harness.js';

export interface EventsParams {
  readonly actors: number;
}

async function run(p: EventsParams, listen: boolean): Promise<number> {
  const system = new ActorSystem();
  let events = 0;
  if (listen) system.subscribe(() => void events++);
  let left = p.actors;
  const done = deferred<void>();
  const worker = (_: number, ctx: Context<number>) => {
    ctx.stop();
    if (--left === 0) done.resolve();
  };
  const t0 = performance.now();
  for (let i = 0; i < p.actors; i++) system.spawn(worker).send(i);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(!listen || events >= 2 * p.actors, `events delivered: ${events}`);
  check(system.stats().actors === 0, 'every actor stopped');
  await system.shutdown();
  return p.actors / s;
}

async function troupe(p: EventsParams): Promise<Sample> {
  // Alternated, best of two each, so neither side gains from running second (GC and JIT state).
  const on1 = await run(p, true);
  const off1 = await run(p, false);
  const off2 = await run(p, false);
  const on2 = await run(p, true);
  return { 'events-off': Math.max(off1, off2), 'events-on': Math.max(on1, on2) };
}

export const events = defineWorkload<EventsParams>({
  name: 'events',
  about: 'spawn, one message, stop: actors/s with no event subscriber and with one',
  figures: [
    { name: 'events-off', unit: 'actors/s', better: 'higher', decimals: 0 },
    { name: 'events-on', unit: 'actors/s', better: 'higher', decimals: 0 },
  ],
  params: { full: { actors: 200_000 }, quick: { actors: 100_000 } },
  troupe,
  baseline: baseline.spawnStop,
});
