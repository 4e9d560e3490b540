/**
 * S5, capacity: the seed's mix at 10 messages a second per connection (half room broadcasts to 100
 * members, half DMs, 1 KiB contents: about 505 deliveries a second per connection), with as many
 * connections as one server process sustains. Steps of connections, each a fresh fleet on the same
 * server: 200, doubled while a step passes (up to 6,400), then halved intervals between the last pass
 * and the first failure down to 100 connections (quick: doubling only, from 100). A step is a 1 s
 * warm-up and a 3 s window (quick: 0.5 s and 1.5 s), and passes when its p99 stays under 1 s and at
 * least 95% of the deliveries its sends asked for arrived within the window; then the load stops
 * and drains before the next. The figure is the largest passing step.
 *
 * As in the saturation scenario the load generator has one core: when the limit step's load
 * generator was near its core and the server was not, the figure is a lower bound (`s5-loadgen-bound`).
 * On demand (`pnpm bench:chat s5`).
 */
import type { Tally } from './load.js';
import { type RunContext, type ServerProc, type WindowSummary, withFleet, withServer } from './runner.js';
import { type Figure, loadgenBottleneck, type Scenario, serverSaturated, stepHeld, violations } from './scenario.js';

const RATE = 10;
const MAX_CONNECTIONS = 6_400;

const figures: Figure[] = [
  { name: 's5-connections', unit: 'connections', better: 'higher', decimals: 0 },
  { name: 's5-delivered-per-s', unit: 'deliveries/s', better: 'higher', decimals: 0 },
  { name: 's5-p99-ms', unit: 'ms', better: 'lower', decimals: 1 },
  { name: 's5-loadgen-bound', unit: '0/1', better: 'lower', decimals: 0 },
];

interface Step {
  readonly connections: number;
  readonly w: WindowSummary;
  readonly p99Ms: number;
  readonly ok: boolean;
  readonly tally: Tally;
}

async function step(server: ServerProc, ctx: RunContext, connections: number, label: string): Promise<Step> {
  const what = `${label} ${connections} connections`;
  return withFleet(ctx, { port: server.port, connections, label: what }, async (fleet) => {
    await fleet.connect();
    await fleet.rate(RATE);
    await fleet.watch(ctx.quick ? 0.5 : 1, `${what}, warm-up`);
    const w = await fleet.window(server, ctx.quick ? 1.5 : 3, what);
    await fleet.rate(0);
    const tally = await fleet.drain(ctx.quick ? 3_000 : 8_000);
    const p99Ms = w.hist.quantile(0.99) / 1000;
    const ok = stepHeld(w);
    return { connections, w, p99Ms, ok, tally };
  });
}

function describe(s: Step): string {
  return (
    `${String(s.connections).padStart(5)} connections: offered ${Math.round(s.w.expected / s.w.seconds).toLocaleString('en-US')}/s, ` +
    `delivered ${Math.round(s.w.deliveredPerS).toLocaleString('en-US')}/s (${((s.w.delivered / Math.max(1, s.w.expected)) * 100).toFixed(0)}%), ` +
    `p99 ${s.p99Ms.toFixed(1)} ms, server CPU ${s.w.serverCpuPct.toFixed(0)}%, load CPU ${s.w.loadgenCpuPct.toFixed(0)}% ` +
    `${s.ok ? 'pass' : 'FAIL'}`
  );
}

export const capacity: Scenario = {
  name: 's5',
  about: '10 msg/s per connection (50% rooms of 100, 50% DMs): most connections with p99 < 1 s',
  competitors: ['baseline', 'troupe'],
  figures,
  // About 80 s for both servers: the default run stays within the workload spec's three minutes.
  onDemand: true,
  async run(competitor, ctx) {
    const label = `s5 ${competitor}`;
    return withServer(competitor, ctx, {}, async (server) => {
      const steps: Step[] = [];
      let best: Step | undefined;
      let failed: Step | undefined;
      for (let n = ctx.quick ? 100 : 200; n <= MAX_CONNECTIONS; n *= 2) {
        const s = await step(server, ctx, n, label);
        steps.push(s);
        if (!s.ok) {
          failed = s;
          break;
        }
        best = s;
      }
      if (!ctx.quick) {
        let lo = best?.connections ?? 0;
        let hi = failed?.connections;
        while (hi !== undefined && hi - lo > 100) {
          const mid = Math.round((lo + hi) / 200) * 100;
          if (mid <= lo || mid >= hi) break;
          const s = await step(server, ctx, mid, label);
          steps.push(s);
          if (s.ok) {
            lo = mid;
            best = s;
          } else {
            hi = mid;
            failed = s;
          }
        }
      }
      const notes = steps.map((s) => `${label}: ${describe(s)}`);
      let loadgenBound = false;
      if (failed !== undefined) {
        const why = loadgenBottleneck(failed.w);
        loadgenBound = why.length > 0 && !serverSaturated(failed.w);
        if (loadgenBound) {
          notes.push(
            `${label}: at the limit the LOAD GENERATOR was the bottleneck (${why.join('; ')}; server CPU ` +
              `${failed.w.serverCpuPct.toFixed(0)}%): the figure is a lower bound for this server`,
          );
        }
      } else
        notes.push(`${label}: every step passed, up to ${MAX_CONNECTIONS} connections: the figure is a lower bound`);
      const passed = steps.filter((s) => s.ok);
      const bad = passed.flatMap((s) => violations(s.tally).map((v) => `${s.connections} connections: ${v}`));
      if (bad.length > 0) notes.push(`${label}: CORRECTNESS: ${bad.join('; ')}`);
      return {
        figures: {
          's5-connections': best?.connections ?? 0,
          's5-delivered-per-s': best?.w.deliveredPerS ?? 0,
          's5-p99-ms': best?.p99Ms ?? Number.NaN,
          's5-loadgen-bound': loadgenBound ? 1 : 0,
        },
        checks: passed.map((s) => ({
          scenario: 's5',
          competitor,
          connections: s.connections,
          tally: s.tally,
          loadgenCpuPct: s.w.loadgenCpuPct,
        })),
        notes,
        loadgenBound,
      };
    });
  },
};
