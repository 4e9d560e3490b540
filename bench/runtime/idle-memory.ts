/**
 * Idle actor memory: 1,000,000 actors spawned and never sent anything, each kept reachable by its
 * ref. Two figures, bytes per actor: `idle-actor-bytes` is V8's used heap after a full GC minus the
 * same before spawning, `idle-actor-rss` the process's resident set size likewise (it also counts
 * the heap's unused room and the allocator's slack, so it is noisier). The array holding the refs
 * is allocated before the first reading, so it is not counted. Every measured run gets a fresh
 * process (the runner's `freshProcessPer: 'run'`) so earlier work leaves nothing behind in the
 * heap. Lower is better; the target from the issue is <= 200 bytes of heap per idle actor.
 */
import { ActorSystem, type Ref } from 'troupe';
import * as baseline from './baseline.js';
import { atMost, check, collectGarbage, defineWorkload, type Sample } from './harness.js';

export interface IdleParams {
  readonly actors: number;
}

async function troupe(p: IdleParams): Promise<Sample> {
  const system = new ActorSystem();
  const keep = new Array<Ref<unknown>>(p.actors);
  const idle = (_msg: unknown): void => {};
  collectGarbage();
  const before = process.memoryUsage();
  for (let i = 0; i < p.actors; i++) keep[i] = system.spawn(idle);
  collectGarbage();
  const after = process.memoryUsage();
  check(system.stats().actors === p.actors && keep[p.actors - 1] !== undefined, 'idle actors alive');
  return {
    'idle-actor-bytes': (after.heapUsed - before.heapUsed) / p.actors,
    'idle-actor-rss': (after.rss - before.rss) / p.actors,
  };
}

export const idleMemory = defineWorkload<IdleParams>({
  name: 'idle-memory',
  about: '1,000,000 idle spawned actors; bytes per actor (heap after GC, and RSS)',
  figures: [
    { name: 'idle-actor-bytes', unit: 'B', better: 'lower', decimals: 1, target: atMost(200, '<= 200 B') },
    { name: 'idle-actor-rss', unit: 'B', better: 'lower', decimals: 1 },
  ],
  params: { full: { actors: 1_000_000 }, quick: { actors: 200_000 } },
  freshProcessPer: 'run',
  troupe,
  baseline: baseline.idleMemory,
});
