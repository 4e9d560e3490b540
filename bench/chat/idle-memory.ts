/**
 * Idle memory: the server's resident set with N idle connections, each joined to its room of 100,
 * minus the same server's resident set with none, scaled to 10,000 connections. N is 10,000 and
 * then 19,000 (the second fleet adds 9,000 to the same server), the most one server process can hold
 * under the machine's 20,000 open files; `--quick` measures 4,000 only.
 *
 * Before the "none" reading, 200 connections join and leave (rooms of their own), so that code
 * compiled on the first connections, and the pools that a first connection sizes, are not charged
 * to the per-connection figure. Each reading comes 1.5 s after the last join (presence batches are
 * out; 1 s with --quick), right after a full GC in the server (both servers, the same request), so garbage from the
 * connection storm is not counted as memory the connections hold.
 */
import { addTally, emptyTally } from './load.js';
import { sleep } from './proc.js';
import { Fleet, withFleet, withServer } from './runner.js';
import { ratioAtMost, type Scenario } from './scenario.js';

const MB = 2 ** 20;

export const idleMemory: Scenario = {
  name: 'idle-memory',
  about: 'RSS of 10,000 and 19,000 idle joined connections over none, per 10k (quick: 4,000)',
  competitors: ['baseline', 'troupe'],
  figures: [
    {
      name: 'mb-per-10k',
      unit: 'MB',
      better: 'lower',
      decimals: 1,
      target: ratioAtMost(1.25, '<= 1.25x baseline'),
    },
    { name: 'mb-per-10k-at-19k', unit: 'MB', better: 'lower', decimals: 1 },
    { name: 'heap-mb-per-10k', unit: 'MB', better: 'lower', decimals: 1 },
  ],
  run(competitor, ctx) {
    const sizes = ctx.quick ? [4_000] : [10_000, 19_000];
    const label = `idle-memory ${competitor}`;
    return withServer(competitor, ctx, {}, async (server) => {
      // Warm-up connections in rooms of their own, far from the measured ones' names.
      await withFleet(ctx, { port: server.port, first: 1_000_000, connections: 200, label }, async (f) => {
        await f.connect();
        await sleep(300);
      });
      await sleep(1_000);
      await server.gc();
      const rss0 = server.rss();
      const heap0 = (await server.mem()).heapUsed;
      const total0 = (await server.mem()).heapTotal;
      const readings: Array<{ n: number; rss: number; heap: number; total: number }> = [];
      const fleets: Fleet[] = [];
      let tally = emptyTally();
      try {
        let have = 0;
        for (const n of sizes) {
          const f = Fleet.start(ctx, { port: server.port, first: have, connections: n - have, total: n, label });
          fleets.push(f);
          await f.connect();
          have = n;
          ctx.progress.update(`${label}: ${n} connected, settling`);
          await sleep(ctx.quick ? 1_000 : 1_500);
          await server.gc();
          const mem = await server.mem();
          readings.push({ n, rss: server.rss(), heap: mem.heapUsed, total: mem.heapTotal });
        }
        for (const f of fleets) tally = addTally(tally, await f.tally());
      } finally {
        await Promise.allSettled(fleets.map((f) => f.close()));
      }
      const per10k = (r: { n: number; rss: number }, base: number) => ((r.rss - base) / MB / r.n) * 10_000;
      const first = readings[0] as (typeof readings)[number];
      const last = readings[readings.length - 1] as (typeof readings)[number];
      const figures: Record<string, number> = {
        'mb-per-10k': per10k(first, rss0),
        'heap-mb-per-10k': ((first.heap - heap0) / MB / first.n) * 10_000,
      };
      if (readings.length > 1) figures['mb-per-10k-at-19k'] = per10k(last, rss0);
      const notes = [
        `${competitor}: RSS ${(rss0 / MB).toFixed(1)} MB with none, ${readings
          .map((r) => `${(r.rss / MB).toFixed(1)} MB with ${r.n.toLocaleString('en-US')}`)
          .join(', ')}; JS heap ${(heap0 / MB).toFixed(1)} -> ${readings
          .map((r) => (r.heap / MB).toFixed(1))
          .join(' -> ')} MB used, ${(total0 / MB).toFixed(1)} -> ${readings
          .map((r) => (r.total / MB).toFixed(1))
          .join(' -> ')} MB reserved by V8`,
      ];
      return {
        figures,
        checks: [{ scenario: 'idle-memory', competitor, connections: last.n, tally, loadgenCpuPct: Number.NaN }],
        notes,
      };
    });
  },
};
