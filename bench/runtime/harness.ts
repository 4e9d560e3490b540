/**
 * The harness the runtime benchmarks share: what a workload is (a name, the figures it measures,
 * its sizes for a default and a `--quick` run, and one function per competitor that performs one
 * measured run and returns a value per figure), the statistics the runner reports, and the small
 * helpers every workload uses (a deferred promise, a forced full GC, a correctness check). A
 * workload file builds one entry with `defineWorkload`; `index.ts` lists the entries.
 */

/** The two competitors: the runtime, and the hand-written mailbox loop in `baseline.ts`. */
export type Competitor = 'troupe' | 'baseline';

/** A goal a figure is held against (from the issue); reported, never asserted. */
export interface Target {
  /** How the table states it, e.g. `>= 10M msg/s`. */
  readonly text: string;
  /** Whether `value` (and `ratio`, value / baseline, when there is a baseline) meets it. */
  readonly met: (value: number, ratio: number | undefined) => boolean;
}

/** One reported number. `name` and `unit` are the ones in bench/README.md: scripts compare runs by them. */
export interface Figure {
  readonly name: string;
  readonly unit: string;
  /** Which way is better; the runner reports the best run (the highest rate, the lowest time or size). */
  readonly better: 'higher' | 'lower';
  /** Digits after the point in the report. */
  readonly decimals: number;
  readonly target?: Target;
}

/** One measured run: a value per figure name. */
export type Sample = Readonly<Record<string, number>>;

/**
 * A benchmark: both competitors run the same `params` (the workload's definition in numbers).
 * `troupe` and `baseline` each perform ONE measured run in a process of their own; the runner
 * decides how many runs, warm-ups and processes there are.
 */
export interface Workload<P> {
  /** Selects the workload on the command line (`pnpm bench:runtime ping-pong`). */
  readonly name: string;
  /** One line for the README-style listing (`--list`). */
  readonly about: string;
  readonly figures: readonly Figure[];
  readonly params: { readonly full: P; readonly quick: P };
  /**
   * `'run'` for figures that earlier runs in the same process would spoil (heap and RSS): every
   * measured run gets a fresh process and no warm-up. Default `'competitor'`: one process per
   * competitor does the warm-ups and then the measured runs.
   */
  readonly freshProcessPer?: 'run' | 'competitor';
  readonly troupe: (params: P) => Promise<Sample>;
  /** The same workload on the hand-written loop; without it the figure has no baseline or ratio. */
  readonly baseline?: (params: P) => Promise<Sample>;
}

/** A workload with its parameter type erased, so entries of different shapes fit in one list. */
export type AnyWorkload = Workload<unknown>;

/** Builds a list entry; checks the parameter type once, here. */
export function defineWorkload<P>(workload: Workload<P>): AnyWorkload {
  return workload as unknown as AnyWorkload;
}

/** Targets of the issue, as reusable shapes. */
export const atLeast = (min: number, text: string): Target => ({ text, met: (v) => v >= min });
export const atMost = (max: number, text: string): Target => ({ text, met: (v) => v <= max });
export const ratioAtMost = (max: number, text: string): Target => ({
  text,
  met: (_v, ratio) => ratio !== undefined && ratio <= max,
});
export const ratioAtLeast = (min: number, text: string): Target => ({
  text,
  met: (_v, ratio) => ratio !== undefined && ratio >= min,
});

/**
 * The best of a non-empty list of runs, and how far the worst is from it (a fraction of the best).
 * Best, not median: on a machine shared with other work, interference only ever makes a run slower
 * or bigger, so the best run is the closest to what the code itself costs.
 */
export function best(values: readonly number[], better: Figure['better']): { best: number; spread: number } {
  const hi = Math.max(...values);
  const lo = Math.min(...values);
  const b = better === 'higher' ? hi : lo;
  return { best: b, spread: (hi - lo) / b };
}

/** A promise and the function that resolves it, for "the last message has arrived". */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * A full, synchronous garbage collection. Needs `--expose-gc` (the runner passes it to every
 * child). Run twice: the first pass can leave objects that only the second finds dead (weak
 * references, finalizers).
 */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('collectGarbage: run node with --expose-gc (pnpm bench:runtime does)');
  gc();
  gc();
}

/** Throws when a workload computed the wrong answer: a fast wrong run must not become a figure. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark self-check failed: ${what}`);
}

/** Lets pending immediates, timers of 0 ms and microtasks run before the next measured run. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
