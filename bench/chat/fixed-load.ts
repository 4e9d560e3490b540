/**
 * Fixed load: 2,000 connections in 20 rooms of 100, each sending 0.25 messages/s (half room
 * broadcasts to 100 members, half DMs), about 25,000 deliveries/s; a 3 s warm-up, then 30 s measured
 * as three consecutive 10 s windows (`--quick`: 1 s, then 3 x 1.5 s), then the load stops and drains.
 * Figures: server CPU time per delivery, one-way latency p50/p99/p99.9, deliveries/s, the load
 * generator's own CPU, and the deliveries lost over the whole run.
 *
 * Each figure is the median of the three windows' values: this machine is shared, and a burst of
 * outside work in one window (it happens: one run here saw a 417 ms p99 that the next did not) would
 * otherwise decide the figure. The notes print every window. `runFixedLoad` is shared with the
 * recovery scenario (the same load while actors crash: a warm-up window of crashes, then one measured).
 */
import type { Tally } from './load.js';
import {
  type Competitor,
  latencies,
  type Measured,
  type RunContext,
  type WindowSummary,
  withFleet,
  withServer,
} from './runner.js';
import {
  atMost,
  contention,
  loadgenBottleneck,
  lostOf,
  type Outcome,
  ratioAtMost,
  type Scenario,
  violations,
} from './scenario.js';

export const FIXED = { connections: 2_000, ratePerConn: 0.25 } as const;

export interface FixedLoadOptions {
  readonly label: string;
  readonly warmupS: number;
  /** Consecutive measured windows, and the length of each (or of each in turn). */
  readonly windows: number;
  readonly seconds: number | readonly number[];
  /** Crashes per second during the windows, or during each in turn (recovery). Default none. */
  readonly faultsPerS?: number | readonly number[];
  /** Another load than FIXED's (s4): connections, rate, room size, DMs or not. */
  readonly load?: LoadShape;
}

/** What the connections do: how many, how often each sends, in rooms of how many, DMs or not. */
export interface LoadShape {
  readonly connections: number;
  readonly ratePerConn: number;
  readonly roomSize?: number;
  readonly dms?: boolean;
}

export interface FixedLoadResult {
  readonly windows: readonly WindowSummary[];
  readonly tally: Tally;
}

/** Where the fixed load goes: one server, or a cluster's processes (one port each). */
export interface Target extends Measured {
  readonly port: number;
  readonly ports?: readonly number[];
}

/** The fixed load against a running server: connect, warm up, measure, stop, drain. */
export function runFixedLoad(server: Target, ctx: RunContext, o: FixedLoadOptions): Promise<FixedLoadResult> {
  const at = { port: server.port, ...(server.ports === undefined ? {} : { ports: server.ports }) };
  const { ratePerConn, ...shape } = o.load ?? FIXED;
  return withFleet(ctx, { ...at, ...shape, label: o.label }, async (fleet) => {
    await fleet.connect();
    await fleet.rate(ratePerConn);
    await fleet.watch(o.warmupS, `${o.label} warm-up`);
    const windows: WindowSummary[] = [];
    const each = <T>(v: T | readonly T[], i: number): T => (Array.isArray(v) ? (v[i] as T) : (v as T));
    for (let i = 0; i < o.windows; i++) {
      const mark = await fleet.beginWindow(server);
      // Crashes start inside each window and stop inside the last, so every one is timed.
      const faults = o.faultsPerS === undefined ? undefined : each(o.faultsPerS, i);
      if (faults !== undefined) await fleet.faults(faults);
      const seconds = each(o.seconds, i);
      await fleet.watch(seconds, `${o.label}${o.windows > 1 ? ` window ${i + 1}/${o.windows}` : ''}`);
      if (i === o.windows - 1 && faults !== undefined) await fleet.faults(0);
      windows.push(await fleet.endWindow(mark));
    }
    await fleet.rate(0);
    const tally = await fleet.drain(ctx.quick ? 3_000 : 10_000);
    return { windows, tally };
  });
}

/**
 * The fixed load's figures from its windows (each the median of the windows' values), the notes of
 * every window, and the correctness check of the whole run.
 */
export function fixedOutcome(
  scenario: string,
  competitor: Competitor,
  label: string,
  { windows, tally }: FixedLoadResult,
  connections: number = FIXED.connections,
): Outcome {
  const per = windows.map((w) => ({ w, l: latencies(w.hist), cpu: w.serverCpuUs / w.delivered }));
  const notes: string[] = [];
  per.forEach(({ w, l, cpu }, i) => {
    const tag = `${label} window ${i + 1}`;
    notes.push(
      `${tag}: ${cpu.toFixed(2)} us/delivery (server on its core ${w.serverCpuPct.toFixed(0)}%), p50 ${l.p50.toFixed(2)} ` +
        `p99 ${l.p99.toFixed(2)} p99.9 ${l.p999.toFixed(2)} ms, ${Math.round(w.deliveredPerS).toLocaleString('en-US')} ` +
        `delivered/s; ${w.cores}`,
    );
    notes.push(...contention(tag, w));
    const slow = loadgenBottleneck(w);
    if (slow.length > 0) notes.push(`${tag}: the load generator may have been a bottleneck: ${slow.join('; ')}`);
  });
  const bad = violations(tally);
  if (bad.length > 0) notes.push(`${label}: CORRECTNESS: ${bad.join('; ')}`);
  const loadgenCpuPct = median(per.map((p) => p.w.loadgenCpuPct));
  return {
    figures: {
      'cpu-us-per-delivery': median(per.map((p) => p.cpu)),
      'p50-ms': median(per.map((p) => p.l.p50)),
      'p99-ms': median(per.map((p) => p.l.p99)),
      'p999-ms': median(per.map((p) => p.l.p999)),
      'delivered-per-s': median(per.map((p) => p.w.deliveredPerS)),
      'loadgen-cpu-pct': loadgenCpuPct,
      'fixed-lost': lostOf(tally),
    },
    checks: [{ scenario, competitor, connections, tally, loadgenCpuPct }],
    notes,
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const fixedLoad: Scenario = {
  name: 'fixed-load',
  about: '2,000 connections x 0.25 msg/s (~25k deliveries/s), 3 x 10 s windows, medians (quick: 3 x 1.5 s)',
  competitors: ['baseline', 'troupe'],
  figures: [
    {
      name: 'cpu-us-per-delivery',
      unit: 'us',
      better: 'lower',
      decimals: 2,
      target: ratioAtMost(1.25, '<= 1.25x baseline'),
    },
    { name: 'p50-ms', unit: 'ms', better: 'lower', decimals: 2 },
    { name: 'p99-ms', unit: 'ms', better: 'lower', decimals: 2, target: ratioAtMost(1.5, '<= 1.5x baseline') },
    { name: 'p999-ms', unit: 'ms', better: 'lower', decimals: 2 },
    { name: 'delivered-per-s', unit: 'deliveries/s', better: 'higher', decimals: 0 },
    { name: 'loadgen-cpu-pct', unit: '%', better: 'lower', decimals: 1, target: atMost(85, '< 85% of its core') },
    { name: 'fixed-lost', unit: 'deliveries', better: 'lower', decimals: 0, target: atMost(0, '0') },
  ],
  run(competitor, ctx) {
    const label = `fixed-load ${competitor}`;
    return withServer(competitor, ctx, {}, async (server) => {
      const result = await runFixedLoad(server, ctx, {
        label,
        warmupS: ctx.quick ? 1 : 3,
        windows: 3,
        seconds: ctx.quick ? 1.5 : 10,
      });
      return fixedOutcome('fixed-load', competitor, label, result);
    });
  },
};
