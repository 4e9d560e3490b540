/**
 * restart: an actor that throws on every message, under a one_for_one supervisor with a limit too
 * large to reach, with the supervision semantics on (kept mailbox with the poison message to dead
 * letters, structured crash reports with the last messages built for the logger, the restart window,
 * restart in place keeping the ref). 100,000 messages are queued at once; every one crashes the
 * actor and the next is handled by the next incarnation. Figures: restarts/s and the time from a
 * crash (the throw) to the next message's handler starting, p50 and p99 in µs. The baseline is the
 * hand-written loop with a crash handler that checks a ring-buffer window and re-runs init.
 */
import { ActorSystem, type Ref, silentLogger, supervisor, whichChildren } from 'troupe';
import * as baseline from './baseline.js';
import { check, deferred, defineWorkload, ratioAtLeast, ratioAtMost, type Sample } from './harness.js';

export interface RestartParams {
  readonly messages: number;
  readonly maxRestarts: number;
  readonly withinMs: number;
  /**
   * Throw one error made in advance instead of a new one per crash: the runtime's own cost of a
   * restart, without V8's stack capture (`restart-bare-*`).
   */
  readonly bare?: boolean;
}

const POISON = new Error('poison');

async function troupe(p: RestartParams): Promise<Sample> {
  // The crash reports are built and handed to a logger that drops them: printing is not the runtime.
  const system = new ActorSystem({ logger: silentLogger });
  const gaps: number[] = [];
  let crashedAt = -1;
  let handled = 0;
  const done = deferred<void>();
  const sup = await system.start(
    supervisor({
      maxRestarts: p.maxRestarts,
      withinMs: p.withinMs,
      children: [
        {
          id: 'poisoned',
          behavior: {
            init: () => 0,
            receive(_s: number, _n: number) {
              const now = performance.now();
              if (crashedAt >= 0) gaps.push(now - crashedAt);
              if (++handled === p.messages) done.resolve();
              crashedAt = performance.now();
              throw p.bare === true ? POISON : new Error('poison');
            },
          },
        },
      ],
    }),
  );
  const child = (await whichChildren(sup))[0]?.ref as unknown as Ref<number>;
  const t0 = performance.now();
  for (let i = 0; i < p.messages; i++) child.send(i);
  await done.promise;
  const s = (performance.now() - t0) / 1000;
  check(handled === p.messages, 'every message handled');
  check(child.alive, 'the child is still supervised');
  await system.shutdown();
  return baseline.restartFigures(p.messages, s, gaps, p.bare === true ? 'restart-bare' : 'restart');
}

export const restart = defineWorkload<RestartParams>({
  name: 'restart',
  about: 'a supervised actor that throws on every message; restarts/s and crash-to-next-message µs',
  figures: [
    {
      name: 'restart-rate',
      unit: 'restarts/s',
      better: 'higher',
      decimals: 0,
      target: ratioAtLeast(0.8, '>= 0.8x baseline'),
    },
    { name: 'restart-p50', unit: 'us', better: 'lower', decimals: 2, target: ratioAtMost(1.3, '<= 1.3x baseline') },
    { name: 'restart-p99', unit: 'us', better: 'lower', decimals: 2 },
  ],
  params: {
    full: { messages: 100_000, maxRestarts: 1_000_000, withinMs: 1_000 },
    quick: { messages: 50_000, maxRestarts: 1_000_000, withinMs: 1_000 },
  },
  troupe,
  baseline: baseline.restart,
});

export const restartBare = defineWorkload<RestartParams>({
  name: 'restart-bare',
  about: 'the same with one error thrown again and again: the cost of a restart without making an Error',
  figures: [
    { name: 'restart-bare-rate', unit: 'restarts/s', better: 'higher', decimals: 0 },
    { name: 'restart-bare-p50', unit: 'us', better: 'lower', decimals: 2 },
    { name: 'restart-bare-p99', unit: 'us', better: 'lower', decimals: 2 },
  ],
  params: {
    full: { messages: 100_000, maxRestarts: 1_000_000, withinMs: 1_000, bare: true },
    quick: { messages: 50_000, maxRestarts: 1_000_000, withinMs: 1_000, bare: true },
  },
  troupe,
  baseline: baseline.restart,
});
