/**
 * Recovery, on the Troupe server only (the baseline has no actors to crash): the fixed load while
 * the load generator crashes 5 actors a second through the chat's fault-injection hook, alternately
 * a room actor (`POST /_test/crash?room=NAME`) and the socket actor of one connection
 * (`?user=NAME`), for 20 s (quick: 4 s).
 *
 * As soon as a crash request is answered, the load generator sends a probe through the crashed
 * actor: a room message to that room from a random member, or from the crashed connection. The
 * probe queues behind the crash in the actor's mailbox, so it cannot be delivered before the actor
 * has crashed, been restarted and handled it. One sample is the time from the crash, as the server
 * itself saw it (its `crashed` event, on the same monotonic clock), to the probe's first delivery at
 * any member: the workload spec's (bench/README.md) "time from a kill to the next message delivered through that actor". It
 * includes the crash answer's trip to the load generator and the probe's trip through the server,
 * so the notes break it down: the restart alone (`crashed` to `restarted`, inside the server), the
 * probe's own latency, and the latency of plain messages in the same window. `lost` counts every
 * expected delivery of the whole run (load and probes) that never arrived.
 */
import { runFixedLoad } from './fixed-load.js';
import { Histogram } from './histogram.js';
import type { CrashEvents, WindowSummary } from './runner.js';
import { withServer } from './runner.js';
import { atMost, contention, type Figure, loadgenBottleneck, lostOf, type Scenario, violations } from './scenario.js';

const CRASHES_PER_S = 5;

const figures: Figure[] = [
  { name: 'recovery-p50-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-p99-ms', unit: 'ms', better: 'lower', decimals: 3, target: atMost(1, '< 1 ms') },
  { name: 'recovery-restart-p50-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-restart-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-probe-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-plain-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'lost', unit: 'deliveries', better: 'lower', decimals: 0, target: atMost(0, '0') },
  { name: 'recovery-crashes', unit: 'crashes', better: 'higher', decimals: 0 },
];

interface Timed {
  readonly recovery: Histogram;
  readonly restart: Histogram;
  readonly answer: Histogram;
  readonly probe: Histogram;
  unmatched: number;
  undelivered: number;
}

/**
 * Pairs each logged crash request with the server's crash event that it caused: requests go one at
 * a time, so it is the first `crashed` event after the request and before the next one.
 */
export function matchCrashes(log: WindowSummary['crashLog'], events: CrashEvents): Timed {
  const t: Timed = {
    recovery: new Histogram(),
    restart: new Histogram(),
    answer: new Histogram(),
    probe: new Histogram(),
    unmatched: 0,
    undelivered: 0,
  };
  const entries = [...log].sort((a, b) => a[0] - b[0]);
  const crashed = [...events.crashed].sort((a, b) => a[0] - b[0]);
  let k = 0;
  for (let i = 0; i < entries.length; i++) {
    const [t0, t1, sent, first] = entries[i] as [number, number, number, number];
    const limit = (entries[i + 1]?.[0] ?? Number.POSITIVE_INFINITY) as number;
    while (k < crashed.length && (crashed[k] as [number, string])[0] < t0) k++;
    const ev = crashed[k];
    if (ev === undefined || ev[0] >= limit) {
      t.unmatched++;
      continue;
    }
    k++;
    const [kill, ref] = ev;
    const up = events.restarted.find(([ns, r]) => r === ref && ns >= kill);
    if (up !== undefined) t.restart.record((up[0] - kill) / 1000);
    t.answer.record((t1 - kill) / 1000);
    if (first === 0) {
      t.undelivered++;
      continue;
    }
    t.recovery.record((first - kill) / 1000);
    t.probe.record((first - sent) / 1000);
  }
  return t;
}

const ms = (h: Histogram, q: number) => (h.count === 0 ? Number.NaN : h.quantile(q) / 1000);
const both = (h: Histogram) => `p50 ${ms(h, 0.5).toFixed(3)} / p99 ${ms(h, 0.99).toFixed(3)} ms`;

export const recovery: Scenario = {
  name: 'recovery',
  about: `fixed load with ${CRASHES_PER_S} room/socket actor crashes per second (Troupe only): crash to next delivery`,
  competitors: ['troupe'],
  figures,
  run(competitor, ctx) {
    const label = `recovery ${competitor}`;
    return withServer(competitor, ctx, { testFaults: true }, async (server) => {
      const { windows, tally } = await runFixedLoad(server, ctx, {
        label,
        warmupS: ctx.quick ? 1 : 3,
        windows: 1,
        seconds: ctx.quick ? 4 : 20,
        faultsPerS: CRASHES_PER_S,
      });
      const w = windows[0] as WindowSummary;
      const t = matchCrashes(w.crashLog, await server.crashEvents());
      const notes: string[] = [];
      const bad = violations(tally);
      if (bad.length > 0) notes.push(`${label}: CORRECTNESS: ${bad.join('; ')}`);
      notes.push(...contention(label, w));
      const slow = loadgenBottleneck(w);
      if (slow.length > 0) notes.push(`${label}: the load generator may have been a bottleneck: ${slow.join('; ')}`);
      notes.push(
        `${label}: ${w.crashes} crashes (${w.crashMisses} found no actor, ${t.unmatched} without a server crash event), ` +
          `${t.recovery.count} probes timed, ${t.undelivered} never delivered`,
        `${label}: kill -> restarted (in the server) ${both(t.restart)}; kill -> answer at the load generator ` +
          `${both(t.answer)}; probe send -> first delivery ${both(t.probe)}; plain messages, every member, ${both(w.hist)}`,
      );
      return {
        figures: {
          'recovery-p50-ms': ms(t.recovery, 0.5),
          'recovery-p99-ms': ms(t.recovery, 0.99),
          'recovery-restart-p50-ms': ms(t.restart, 0.5),
          'recovery-restart-p99-ms': ms(t.restart, 0.99),
          // The probe's own trip, send to first delivery, through the actor that just restarted.
          'recovery-probe-p99-ms': ms(t.probe, 0.99),
          // Every delivery of the same window, crash or not: the floor under recovery-p99-ms.
          'recovery-plain-p99-ms': ms(w.hist, 0.99),
          lost: lostOf(tally),
          'recovery-crashes': w.crashes,
        },
        checks: [{ scenario: 'recovery', competitor, connections: 2_000, tally, loadgenCpuPct: w.loadgenCpuPct }],
        notes,
      };
    });
  },
};
