/**
 * Saturation: the fixed load's 2,000 connections, with the per-connection rate doubled step by step
 * (0.5, 1, 2, 4 ... 32 messages/s, about 50k to 3.2M offered deliveries/s; quick: from 1), each step a 1 s warm-up
 * and a 2 s window (quick: 0.5 s and 1.5 s), until a step fails: p99 latency over 1 s, or fewer than
 * 95% of the deliveries its sends asked for arrived within it. Then (not with --quick), after a drain,
 * one more step at the geometric middle of the last pass and the first failure. The figure is the
 * deliveries/s of the best passing step. If even the first step fails, the rate is halved until a
 * step passes (down to 0.125/s).
 *
 * The load generator has one core. When a step fails while the load generator's CPU is near that
 * core (or its sends fell behind) and the server's is not, the load generator was the limit, not the
 * server: the result says so, and the figure is then a lower bound of the server's saturation.
 */
import type { Tally } from './load.js';
import { type Fleet, type RunContext, type ServerProc, type WindowSummary, withFleet, withServer } from './runner.js';
import {
  type Figure,
  loadgenBottleneck,
  type Scenario,
  serverSaturated,
  stepHeld,
  type Target,
  violations,
} from './scenario.js';

const RATES = [0.5, 1, 2, 4, 8, 16, 32];
const QUICK_RATES = [1, 2, 4, 8, 16];
const CONNECTIONS = 2_000;

const ratioAtLeast = (min: number, text: string): Target => ({
  text,
  met: (_v, ratio) => ratio !== undefined && ratio >= min,
});

const figures: Figure[] = [
  {
    name: 'saturation',
    unit: 'deliveries/s',
    better: 'higher',
    decimals: 0,
    target: ratioAtLeast(0.75, '>= 0.75x baseline'),
  },
  { name: 'saturation-server-cpu-pct', unit: '%', better: 'lower', decimals: 1 },
  { name: 'saturation-loadgen-cpu-pct', unit: '%', better: 'lower', decimals: 1 },
];

interface Step {
  readonly rate: number;
  readonly w: WindowSummary;
  readonly p99Ms: number;
  readonly ok: boolean;
}

async function step(server: ServerProc, fleet: Fleet, ctx: RunContext, rate: number, label: string): Promise<Step> {
  await fleet.rate(rate);
  await fleet.watch(ctx.quick ? 0.5 : 1, `${label} ${rate} msg/s per connection, warm-up`);
  const w = await fleet.window(server, ctx.quick ? 1.5 : 2, `${label} ${rate} msg/s per connection`);
  const p99Ms = w.hist.quantile(0.99) / 1000;
  const ok = stepHeld(w);
  return { rate, w, p99Ms, ok };
}

function describe(s: Step): string {
  return (
    `${String(s.rate).padStart(5)}/s: offered ${Math.round(s.w.expected / s.w.seconds).toLocaleString('en-US')}/s, ` +
    `delivered ${Math.round(s.w.deliveredPerS).toLocaleString('en-US')}/s (${((s.w.delivered / Math.max(1, s.w.expected)) * 100).toFixed(0)}%), ` +
    `p99 ${s.p99Ms.toFixed(1)} ms, server CPU ${s.w.serverCpuPct.toFixed(0)}% (+${s.w.serverWaitPct.toFixed(0)}% waiting), ` +
    `load CPU ${s.w.loadgenCpuPct.toFixed(0)}% (+${s.w.loadgenWaitPct.toFixed(0)}%) ` +
    `${s.ok ? 'pass' : 'FAIL'}`
  );
}

export const saturation: Scenario = {
  name: 'saturation',
  about: '2,000 connections, rate doubled until p99 > 1 s or < 95% delivered: best deliveries/s',
  competitors: ['baseline', 'troupe'],
  figures,
  run(competitor, ctx) {
    const label = `saturation ${competitor}`;
    return withServer(competitor, ctx, {}, (server) =>
      withFleet(ctx, { port: server.port, connections: CONNECTIONS, label }, async (fleet) => {
        await fleet.connect();
        const steps: Step[] = [];
        let best: Step | undefined;
        let failed: Step | undefined;
        for (const rate of ctx.quick ? QUICK_RATES : RATES) {
          const s = await step(server, fleet, ctx, rate, label);
          steps.push(s);
          if (!s.ok) {
            failed = s;
            break;
          }
          best = s;
        }
        // Even the first step failed: halve the rate until a step passes.
        for (let rate = (steps[0]?.rate ?? 1) / 2; best === undefined && rate >= 0.125; rate /= 2) {
          await fleet.rate(0);
          await fleet.drain(8_000);
          const s = await step(server, fleet, ctx, rate, label);
          steps.push(s);
          if (s.ok) best = s;
          else failed = s;
        }
        if (!ctx.quick && best !== undefined && failed !== undefined && failed.rate > best.rate * 1.5) {
          // Let the failed step's backlog go before the refining step.
          await fleet.rate(0);
          await fleet.drain(8_000);
          const s = await step(server, fleet, ctx, Math.round(Math.sqrt(best.rate * failed.rate) * 100) / 100, label);
          steps.push(s);
          if (s.ok && s.w.deliveredPerS > best.w.deliveredPerS) best = s;
        }
        await fleet.rate(0);
        const tally: Tally = await fleet.drain(ctx.quick ? 4_000 : 10_000);
        const limit = failed ?? steps[steps.length - 1];
        const notes = steps.map((s) => `${label}: ${describe(s)}`);
        let loadgenBound = false;
        if (limit !== undefined) {
          const why = loadgenBottleneck(limit.w);
          loadgenBound = why.length > 0 && !serverSaturated(limit.w);
          if (loadgenBound) {
            notes.push(
              `${label}: at the limit the LOAD GENERATOR was the bottleneck (${why.join('; ')}; server CPU ` +
                `${limit.w.serverCpuPct.toFixed(0)}%): the figure is a lower bound for this server`,
            );
          } else if (failed !== undefined) {
            notes.push(
              `${label}: at the limit the server was on its core ${limit.w.serverCpuPct.toFixed(0)}% of the time ` +
                `and waited for it ${limit.w.serverWaitPct.toFixed(0)}%; the load generator ${limit.w.loadgenCpuPct.toFixed(0)}% ` +
                `and ${limit.w.loadgenWaitPct.toFixed(0)}%; ${limit.w.cores}`,
            );
          }
        }
        const bad = violations(tally).filter((v) => !v.startsWith('0 '));
        if (bad.length > 0) notes.push(`${label}: checks after overload: ${bad.join('; ')}`);
        return {
          figures: {
            saturation: best?.w.deliveredPerS ?? 0,
            'saturation-server-cpu-pct': best?.w.serverCpuPct ?? Number.NaN,
            'saturation-loadgen-cpu-pct': best?.w.loadgenCpuPct ?? Number.NaN,
          },
          checks: [
            {
              scenario: 'saturation',
              competitor,
              connections: CONNECTIONS,
              tally,
              loadgenCpuPct: best?.w.loadgenCpuPct ?? Number.NaN,
            },
          ],
          notes,
          loadgenBound,
          series: {
            ramp: steps.map((s) => ({
              offered: s.w.expected / s.w.seconds,
              delivered: s.w.deliveredPerS,
              p50Ms: s.w.hist.quantile(0.5) / 1000,
              p99Ms: s.p99Ms,
              p999Ms: s.w.hist.quantile(0.999) / 1000,
            })),
          },
        };
      }),
    );
  },
};
