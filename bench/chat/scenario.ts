/**
 * What a chat scenario is: a name, the figures it reports (bench/README.md's names, units and the
 * issue's targets), the competitors it runs (the baseline first, then Troupe; recovery runs on
 * Troupe only), and a function that runs it once against one competitor and returns a value per
 * figure plus the correctness checks of the load generator and any notes (flags) for the report.
 */

import type { Figure } from '../runtime/harness.js';
import type { Tally } from './load.js';
import type { RampStep } from './report.js';
import type { Competitor, RunContext } from './runner.js';

export type { Figure, Target } from '../runtime/harness.js';
export { atMost, ratioAtMost } from '../runtime/harness.js';

/** One correctness row: what the load generator saw in one run. */
export interface Check {
  readonly scenario: string;
  readonly competitor: Competitor;
  readonly connections: number;
  readonly tally: Tally;
  /** The load processes' CPU over the measured window, % of one core. */
  readonly loadgenCpuPct: number;
}

export interface Outcome {
  readonly figures: Readonly<Record<string, number>>;
  readonly checks: readonly Check[];
  readonly notes: readonly string[];
  /** The load generator, not the server, set the limit (saturation): the figure is a lower bound. */
  readonly loadgenBound?: boolean;
  /** What `--report` draws beyond the figures. */
  readonly series?: Series;
}

/** A scenario's data for the report's charts (report.ts). */
export interface Series {
  /** Saturation: every step of the ramp. */
  readonly ramp?: readonly RampStep[];
  /** Recovery: each crash's time to the next delivery, ms, inside the server and end to end. */
  readonly recoveryInproc?: readonly number[];
  readonly recoveryEndToEnd?: readonly number[];
}

export interface Scenario {
  readonly name: string;
  readonly about: string;
  readonly figures: readonly Figure[];
  readonly competitors: readonly Competitor[];
  /** Not in the default set; runs only when named (the soak). */
  readonly onDemand?: boolean;
  run(competitor: Competitor, ctx: RunContext): Promise<Outcome>;
}

/** Lost deliveries in a tally: expected minus received (announced gaps included). */
export function lostOf(t: Tally): number {
  // A message the server refused (load shedding) is answered, not lost.
  return Math.max(0, t.expected - t.shedDeliveries - t.deliveredRoom - t.deliveredDm);
}

/** Problems the checks found, as short phrases; empty when the run was clean. */
export function violations(t: Tally): string[] {
  const out: string[] = [];
  const lost = lostOf(t);
  if (lost > t.announcedLost) out.push(`${lost - t.announcedLost} lost without a gap frame`);
  if (t.skipped > 0) out.push(`${t.skipped} room ids skipped`);
  if (t.duplicates > 0) out.push(`${t.duplicates} duplicates`);
  if (t.reordered > 0) out.push(`${t.reordered} out of order`);
  if (t.corrupt > 0) out.push(`${t.corrupt} corrupt contents`);
  if (t.undecodable > 0) out.push(`${t.undecodable} undecodable frames`);
  if (t.connectFailed > 0) out.push(`${t.connectFailed} connect failures`);
  if (t.dropped > 0) out.push(`${t.dropped} connections dropped`);
  if (t.errors > 0) out.push(`${t.errors} error frames (${t.errorCodes})`);
  const sent = t.sentRoom + t.sentDm;
  if (t.unavailable > 0) out.push(`${t.unavailable} sends answered unavailable`);
  if (t.acks + t.shed + t.unavailable !== sent)
    out.push(`${sent - t.acks - t.shed - t.unavailable} of ${sent} sends not answered`);
  return out;
}

/**
 * Whether the load generator was (or may have been) the bottleneck of a window: it wanted its whole
 * core (CPU time plus time runnable but waiting for the core), its sends fell behind schedule, or
 * its event loop ran so late that receive times are late.
 */
export function loadgenBottleneck(w: {
  loadgenCpuPct: number;
  loadgenWaitPct: number;
  sendLagMs: number;
  loopP99Ms: number;
}): string[] {
  const out: string[] = [];
  if (w.loadgenCpuPct + w.loadgenWaitPct >= 90) {
    out.push(
      `load generator on its core ${w.loadgenCpuPct.toFixed(0)}% + waiting for it ${w.loadgenWaitPct.toFixed(0)}%`,
    );
  }
  if (w.sendLagMs > 100) out.push(`sends up to ${w.sendLagMs.toFixed(0)} ms behind schedule`);
  if (w.loopP99Ms > 50) out.push(`load generator event-loop delay p99 ${w.loopP99Ms.toFixed(0)} ms`);
  return out;
}

/** The server wanted its whole core in this window (CPU time plus run-queue wait). */
export function serverSaturated(w: { serverCpuPct: number; serverWaitPct: number }): boolean {
  return w.serverCpuPct + w.serverWaitPct >= 90;
}

/**
 * A note when the server or the load generator was ready to run but did not have its core for a
 * noticeable share of the window (other processes on the machine, or kernel interrupt work).
 */
export function contention(
  label: string,
  w: { serverWaitPct: number; loadgenWaitPct: number; cores: string },
): string[] {
  if (w.serverWaitPct < 5 && w.loadgenWaitPct < 5) return [];
  return [
    `${label}: ready to run but not running: the server ${w.serverWaitPct.toFixed(0)}% of the window, the load ` +
      `generator ${w.loadgenWaitPct.toFixed(0)}% (latency figures suffer first); ${w.cores}`,
  ];
}

/**
 * Whether a load step held (saturation, s5): p99 under 1 s, and at least 95% of the deliveries its
 * sends asked for arrived within the window.
 */
export function stepHeld(w: {
  readonly hist: { readonly count: number; quantile(q: number): number };
  readonly delivered: number;
  readonly expected: number;
}): boolean {
  return w.hist.count > 0 && w.hist.quantile(0.99) / 1000 < 1_000 && w.delivered >= 0.95 * w.expected;
}
