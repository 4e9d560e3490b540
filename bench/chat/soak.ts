/**
 * Soak, on demand (`pnpm bench:chat soak`, not in the default set): the fixed load for 10 minutes
 * (`--soak-minutes=N`) on each server, with the server's RSS (/proc) and JS heap (with no forced
 * GC: what the process really holds) sampled every 10 s. Growth is the last minute's average minus
 * the second minute's (the chat's room history is full by then), so one sample caught before or
 * after a GC does not decide it; the slope of a least-squares line through every sample is in the
 * notes. Also reported: the fixed-load figures over the whole soak, so a slow drift in latency
 * shows too.
 */
import { FIXED } from './fixed-load.js';
import { latencies, withFleet, withServer } from './runner.js';
import { type Figure, lostOf, type Scenario, violations } from './scenario.js';

const MB = 2 ** 20;
const SAMPLE_S = 10;

const figures: Figure[] = [
  { name: 'soak-rss-growth-mb', unit: 'MB', better: 'lower', decimals: 1 },
  { name: 'soak-heap-growth-mb', unit: 'MB', better: 'lower', decimals: 1 },
  { name: 'soak-p99-ms', unit: 'ms', better: 'lower', decimals: 2 },
  { name: 'soak-cpu-us-per-delivery', unit: 'us', better: 'lower', decimals: 2 },
  { name: 'soak-lost', unit: 'deliveries', better: 'lower', decimals: 0 },
];

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export const soak: Scenario = {
  name: 'soak',
  about: 'the fixed load for 10 minutes (--soak-minutes=N); RSS and heap every 10 s, growth (on demand)',
  competitors: ['baseline', 'troupe'],
  onDemand: true,
  figures,
  run(competitor, ctx) {
    const label = `soak ${competitor}`;
    const totalS = Math.max(20, ctx.soakMinutes * 60);
    return withServer(competitor, ctx, {}, (server) =>
      withFleet(ctx, { port: server.port, connections: FIXED.connections, label }, async (fleet) => {
        await fleet.connect();
        await fleet.rate(FIXED.ratePerConn);
        await fleet.watch(5, `${label} warm-up`);
        const samples: Array<{ t: number; rss: number; heap: number }> = [];
        const mark = await fleet.beginWindow(server);
        const t0 = performance.now();
        while ((performance.now() - t0) / 1000 < totalS) {
          const elapsed = (performance.now() - t0) / 1000;
          await fleet.watch(Math.min(SAMPLE_S, totalS - elapsed), `${label} ${Math.floor(elapsed)}/${totalS} s`);
          const mem = await server.mem();
          samples.push({ t: (performance.now() - t0) / 1000, rss: server.rss() / MB, heap: mem.heapUsed / MB });
        }
        const w = await fleet.endWindow(mark);
        await fleet.rate(0);
        const tally = await fleet.drain(10_000);
        // The second minute against the last one: by then the chat's room history (1,000 messages per
        // room, 12.5 messages/s per room here) is full, so what grows after is not the history filling.
        // A soak under 3 minutes compares its first and last thirds instead.
        const perMin = Math.round(60 / SAMPLE_S);
        const long = samples.length >= 3 * perMin;
        const k = long ? perMin : Math.max(1, Math.floor(samples.length / 3));
        const head = long ? samples.slice(perMin, 2 * perMin) : samples.slice(0, k);
        const tail = samples.slice(-k);
        const rssGrowth = mean(tail.map((s) => s.rss)) - mean(head.map((s) => s.rss));
        const heapGrowth = mean(tail.map((s) => s.heap)) - mean(head.map((s) => s.heap));
        const ts = samples.map((s) => s.t / 60);
        const notes = [
          `${label}: RSS MB every ${SAMPLE_S} s: ${samples.map((s) => s.rss.toFixed(0)).join(' ')}`,
          `${label}: heap MB every ${SAMPLE_S} s: ${samples.map((s) => s.heap.toFixed(0)).join(' ')}`,
          `${label}: slope RSS ${slope(
            ts,
            samples.map((s) => s.rss),
          ).toFixed(2)} MB/min, heap ${slope(
            ts,
            samples.map((s) => s.heap),
          ).toFixed(2)} MB/min over ${samples.length} samples`,
        ];
        const bad = violations(tally);
        if (bad.length > 0) notes.push(`${label}: CORRECTNESS: ${bad.join('; ')}`);
        return {
          figures: {
            'soak-rss-growth-mb': rssGrowth,
            'soak-heap-growth-mb': heapGrowth,
            'soak-p99-ms': latencies(w.hist).p99,
            'soak-cpu-us-per-delivery': w.serverCpuUs / w.delivered,
            'soak-lost': lostOf(tally),
          },
          checks: [
            { scenario: 'soak', competitor, connections: FIXED.connections, tally, loadgenCpuPct: w.loadgenCpuPct },
          ],
          notes,
        };
      }),
    );
  },
};
