/**
 * Restart backoff, an option OTP does not have (Akka does): the n-th consecutive restart of a child
 * waits `min(maxMs, initialMs * factor^(n-1))`, spread by +/- `jitter` (a fraction) so that many
 * children do not restart in lockstep. A child that has run for `resetAfterMs` without exiting
 * starts again from `initialMs`. Messages sent meanwhile wait in its mailbox.
 */

/** Backoff settings; every field but `initialMs` has a default. */
export interface BackoffOptions {
  /** Delay before the first restart. */
  readonly initialMs: number;
  /** Upper bound of the delay. Default 30,000 ms. */
  readonly maxMs?: number;
  /** Growth per consecutive restart. Default 2. */
  readonly factor?: number;
  /** Random spread as a fraction of the delay, 0 to 1. Default 0.2 (+/- 20%). */
  readonly jitter?: number;
  /** Running this long without an exit resets the delay to `initialMs`. Default 10 x `initialMs`, at least 1,000 ms. */
  readonly resetAfterMs?: number;
}

/** @internal Validated backoff with every default filled in. */
export interface Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  readonly jitter: number;
  readonly resetAfterMs: number;
}

/** @internal */
export function normalizeBackoff(o: BackoffOptions, where: string): Backoff {
  const num = (v: unknown, name: string, ok: (n: number) => boolean, rule: string): number => {
    if (typeof v !== 'number' || Number.isNaN(v) || !ok(v)) {
      throw new RangeError(`${where}: backoff.${name} must be ${rule}; got ${String(v)}`);
    }
    return v;
  };
  if (o === null || typeof o !== 'object') {
    throw new TypeError(`${where}: backoff must be { initialMs, maxMs?, factor?, jitter?, resetAfterMs? } or false`);
  }
  const initialMs = num(o.initialMs, 'initialMs', (n) => n >= 0 && Number.isFinite(n), 'a finite number >= 0');
  const maxMs = num(
    o.maxMs ?? Math.max(30_000, initialMs),
    'maxMs',
    (n) => n >= initialMs,
    `a number >= initialMs (${initialMs})`,
  );
  const factor = num(o.factor ?? 2, 'factor', (n) => n >= 1, 'a number >= 1');
  const jitter = num(o.jitter ?? 0.2, 'jitter', (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1');
  const resetAfterMs = num(
    o.resetAfterMs ?? Math.max(1_000, initialMs * 10),
    'resetAfterMs',
    (n) => n > 0,
    'a number of milliseconds > 0',
  );
  return { initialMs, maxMs, factor, jitter, resetAfterMs };
}

/**
 * @internal The delay before restart number `attempt` (1 for the first consecutive restart).
 * `random` returns a number in [0, 1).
 */
export function backoffDelay(b: Backoff, attempt: number, random: () => number): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** Math.max(0, attempt - 1));
  if (b.jitter === 0) return base;
  const spread = base * b.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(b.maxMs, base + spread));
}
