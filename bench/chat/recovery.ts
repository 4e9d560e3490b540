/**
 * Recovery, on the Troupe server only (the baseline has no actors to crash): the fixed load while
 * the load generator crashes actors through the chat's fault injection (`--test-faults`), alternately
 * a room actor and the socket actor of one connection: first a 10 s window of 40 crashes a second
 * that warms the crash path up (quick: 2 s), then the measured 30 s window of 10 a second (quick:
 * 4 s), so about 150 crashes of each kind are timed (a p99 over 100 or fewer would be the worst of
 * them: a maximum, not a p99).
 *
 * Why a warm-up window of crashes: the load's warm-up runs the message path often enough for V8 to
 * optimize it, but not the crash path, which runs only when an actor crashes. Until it is warm, each
 * crash path function that turns hot is compiled by TurboFan on a background thread, and with the
 * server pinned to one core that thread takes the core from the event loop for 1-3 ms (once 12) in
 * the middle of a recovery (measured with `--trace-opt`: every slow recovery of a run began within a
 * few ms of a compile; with `--no-opt` only the first crash was slow). A long-running server is past that; the
 * warm-up window's figures (`recovery-inproc-warmup-*`) show what the first crashes of a process cost.
 * For the same reason nothing of the benchmark's own runs in the server when an actor crashes but
 * the chat's `--test-faults` timing: the server used to subscribe to the system's events to stamp
 * `crashed` and `restarted`, and that subscriber, called only on crashes, was the compile inside a
 * slow recovery in two of three traced runs.
 *
 * Each crash is a `_crash` frame on a member's WebSocket (`{"type":"_crash"}` crashes that
 * connection's actor, with `"room"` the socket actor passes the crash to the room's), and right
 * behind it, on the same socket, a probe: a room message from that member. The probe queues behind
 * the crash in the crashed actor's mailbox, so it cannot be delivered before the actor has crashed,
 * been restarted and handled it. Two figures per crash:
 *
 * - in the server (`recovery-inproc-*`): the chat's own timing (examples/chat/src/faults.ts), from
 *   the moment the injected crash is thrown to the moment the first message through that actor
 *   after it (the probe) is written to a member's socket. No load generator in it.
 * - end to end (`recovery-*`): from the same moment the crash is thrown (the server's clock is the
 *   load generator's, monotonic) to the probe's first delivery at any member: the workload spec's
 *   "time from a kill to the next message delivered through that actor", with the trip out of the
 *   server and the load generator's read in it.
 *
 * The notes add the latency of plain messages in the same window. `lost` counts every expected
 * delivery of the whole run (load and probes) that never arrived.
 */
import { runFixedLoad } from './fixed-load.js';
import { Histogram } from './histogram.js';
import type { CrashEvents, WindowSummary } from './runner.js';
import { withServer } from './runner.js';
import { atMost, contention, type Figure, loadgenBottleneck, lostOf, type Scenario, violations } from './scenario.js';

const CRASHES_PER_S = 10;
/** In the warm-up window: enough crashes for V8 to have compiled most of the crash path by its end (not all: some functions a crash runs once need more than 400 to turn hot). */
const WARMUP_CRASHES_PER_S = 40;

const figures: Figure[] = [
  { name: 'recovery-inproc-p50-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-inproc-p99-ms', unit: 'ms', better: 'lower', decimals: 3, target: atMost(1, '< 1 ms') },
  { name: 'recovery-inproc-room-p99-ms', unit: 'ms', better: 'lower', decimals: 3, target: atMost(1, '< 1 ms') },
  { name: 'recovery-inproc-socket-p99-ms', unit: 'ms', better: 'lower', decimals: 3, target: atMost(1, '< 1 ms') },
  { name: 'recovery-inproc-warmup-room-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-inproc-warmup-socket-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-p50-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-probe-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'recovery-plain-p99-ms', unit: 'ms', better: 'lower', decimals: 3 },
  { name: 'lost', unit: 'deliveries', better: 'lower', decimals: 0, target: atMost(0, '0') },
  { name: 'recovery-crashes', unit: 'crashes', better: 'higher', decimals: 0 },
];

interface Timed {
  readonly recovery: Histogram;
  readonly probe: Histogram;
  readonly inproc: Histogram;
  readonly inprocRoom: Histogram;
  readonly inprocSocket: Histogram;
  /** The crashes thrown before the measured window (the warm-up window's), in the server. */
  readonly warmupRoom: Histogram;
  readonly warmupSocket: Histogram;
  /** Every sample, ms, for the report's distribution. */
  readonly inprocMs: number[];
  readonly endToEndMs: number[];
  unmatched: number;
  undelivered: number;
}

/**
 * The server's recoveries (crash thrown, probe written) thrown before `fromNs`, the measured
 * window's first crash sent, are the warm-up window's. Each crash the load generator logged pairs
 * with the recovery it caused: crashes are sent one at a time, so it is the first crash thrown
 * after the send and before the next one.
 */
export function matchCrashes(log: WindowSummary['crashLog'], events: CrashEvents, fromNs: number): Timed {
  const t: Timed = {
    recovery: new Histogram(),
    probe: new Histogram(),
    inproc: new Histogram(),
    inprocRoom: new Histogram(),
    inprocSocket: new Histogram(),
    warmupRoom: new Histogram(),
    warmupSocket: new Histogram(),
    inprocMs: [],
    endToEndMs: [],
    unmatched: 0,
    undelivered: 0,
  };
  for (const [crash, written, actor] of events.recoveries) {
    const us = (written - crash) / 1000;
    if (crash < fromNs) {
      (actor === 'room' ? t.warmupRoom : t.warmupSocket).record(us);
      continue;
    }
    t.inproc.record(us);
    t.inprocMs.push(us / 1000);
    (actor === 'room' ? t.inprocRoom : t.inprocSocket).record(us);
  }
  const entries = [...log].sort((a, b) => a[0] - b[0]);
  const thrown = events.recoveries.map(([crash]) => crash).sort((a, b) => a - b);
  let k = 0;
  for (let i = 0; i < entries.length; i++) {
    const [sent, first] = entries[i] as [number, number];
    const limit = (entries[i + 1]?.[0] ?? Number.POSITIVE_INFINITY) as number;
    while (k < thrown.length && (thrown[k] as number) < sent) k++;
    const kill = thrown[k];
    if (kill === undefined || kill >= limit) {
      t.unmatched++;
      continue;
    }
    k++;
    if (first === 0) {
      t.undelivered++;
      continue;
    }
    t.recovery.record((first - kill) / 1000);
    t.endToEndMs.push((first - kill) / 1e6);
    t.probe.record((first - sent) / 1000);
  }
  return t;
}

const ms = (h: Histogram, q: number) => (h.count === 0 ? Number.NaN : h.quantile(q) / 1000);
const both = (h: Histogram) => `p50 ${ms(h, 0.5).toFixed(3)} / p99 ${ms(h, 0.99).toFixed(3)} ms`;

export const recovery: Scenario = {
  name: 'recovery',
  about: `fixed load with ${CRASHES_PER_S} room/socket actor crashes per second (Troupe only), a window to warm up, one measured: crash to next delivery`,
  competitors: ['troupe'],
  figures,
  run(competitor, ctx) {
    const label = `recovery ${competitor}`;
    return withServer(competitor, ctx, { testFaults: true }, async (server) => {
      const { windows, tally } = await runFixedLoad(server, ctx, {
        label,
        warmupS: ctx.quick ? 1 : 3,
        // The first window's crashes warm the crash path up; the second is measured.
        windows: 2,
        seconds: ctx.quick ? [2, 4] : [10, 30],
        faultsPerS: [WARMUP_CRASHES_PER_S, CRASHES_PER_S],
      });
      const w = windows[1] as WindowSummary;
      const fromNs = Math.min(...w.crashLog.map(([sent]) => sent));
      const t = matchCrashes(w.crashLog, await server.crashEvents(), fromNs);
      const notes: string[] = [];
      const bad = violations(tally);
      if (bad.length > 0) notes.push(`${label}: CORRECTNESS: ${bad.join('; ')}`);
      notes.push(...contention(label, w));
      const slow = loadgenBottleneck(w);
      if (slow.length > 0) notes.push(`${label}: the load generator may have been a bottleneck: ${slow.join('; ')}`);
      notes.push(
        `${label}: ${w.crashes} crashes (${t.unmatched} without a recovery timed in the server), ` +
          `${t.recovery.count} probes timed, ${t.undelivered} never delivered, ${t.inproc.count} timed in the server`,
        `${label}: in the server, crash -> probe written: rooms ${both(t.inprocRoom)}, socket actors ${both(t.inprocSocket)}; ` +
          `crash and probe sent -> first delivery ${both(t.probe)}; ` +
          `plain messages, every member, ${both(w.hist)}`,
        `${label}: the warm-up window's ${(windows[0] as WindowSummary).crashes} crashes, in the server: ` +
          `rooms ${both(t.warmupRoom)}, socket actors ${both(t.warmupSocket)}`,
      );
      return {
        figures: {
          'recovery-inproc-p50-ms': ms(t.inproc, 0.5),
          'recovery-inproc-p99-ms': ms(t.inproc, 0.99),
          'recovery-inproc-room-p99-ms': ms(t.inprocRoom, 0.99),
          'recovery-inproc-socket-p99-ms': ms(t.inprocSocket, 0.99),
          'recovery-inproc-warmup-room-p99-ms': ms(t.warmupRoom, 0.99),
          'recovery-inproc-warmup-socket-p99-ms': ms(t.warmupSocket, 0.99),
          'recovery-p50-ms': ms(t.recovery, 0.5),
          'recovery-p99-ms': ms(t.recovery, 0.99),
          // The crash and probe's trip, send to first delivery, through the actor that just restarted.
          'recovery-probe-p99-ms': ms(t.probe, 0.99),
          // Every delivery of the same window, crash or not: the floor under recovery-p99-ms.
          'recovery-plain-p99-ms': ms(w.hist, 0.99),
          lost: lostOf(tally),
          'recovery-crashes': w.crashes,
        },
        checks: [{ scenario: 'recovery', competitor, connections: 2_000, tally, loadgenCpuPct: w.loadgenCpuPct }],
        notes,
        series: { recoveryInproc: t.inprocMs, recoveryEndToEnd: t.endToEndMs },
      };
    });
  },
};
