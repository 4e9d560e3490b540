/**
 * Child specifications: what a supervisor starts, how it restarts it and how it stops it. Specs are
 * checked when they are given, and a mistake throws a TypeError that says what is accepted and what
 * was received. Defaults, in words: `restart` is `permanent`; `type` is `supervisor` when the
 * behaviour was made by `supervisor()` or `dynamicSupervisor()`, else `worker`; `shutdown` is
 * 5,000 ms for a worker and `infinity` for a supervisor; the mailbox is kept across restarts; no
 * backoff; no restart limit of its own (only the supervisor's intensity); the last 3 handled messages
 * go into crash reports.
 */

import { toImpl } from '../actor/behavior.js';
import { Key, type Name } from '../actor/names.js';
import type { MailboxOptions } from '../mailbox/bounded.js';
import { assertMailboxOptions } from '../mailbox/bounded.js';
import { type Backoff, type BackoffOptions, normalizeBackoff } from './backoff.js';

/** When a child is restarted: always, only after an abnormal exit, or never. */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** How a child is stopped: ms to wait for `terminate` before a kill, a kill at once, or no limit. */
export type Shutdown = number | 'brutal_kill' | 'infinity';

/** What a supervisor starts. `behavior` is anything `spawn` accepts. */
export interface ChildSpec<A = unknown> {
  /** Unique among the supervisor's children. */
  readonly id: string;
  /** A function, behaviour object, Actor class, or another supervisor's behaviour. */
  readonly behavior: unknown;
  /** Passed to `init` at every start and restart. */
  readonly args?: A;
  /** Default `permanent`. */
  readonly restart?: RestartType;
  /** Default 5,000 ms for workers, `infinity` for supervisors. */
  readonly shutdown?: Shutdown;
  /** Default: `supervisor` for supervisor behaviours, else `worker`. */
  readonly type?: 'worker' | 'supervisor';
  /** A bounded mailbox; default unbounded. */
  readonly mailbox?: MailboxOptions;
  /** Keep queued messages across a restart (only the poison message is lost). Default true; false drops them as OTP does. */
  readonly keepMailbox?: boolean;
  /** Wait before restarting, growing with consecutive restarts. Default: restart at once. */
  readonly backoff?: BackoffOptions | false;
  /**
   * A limit of this child's own, beside its supervisor's intensity (Akka's per-child retries): a child
   * that would need restart number `maxRestarts + 1` within `withinMs` is not restarted; it ends for
   * good with its exit reason (its links and monitors fire) and the supervisor carries on. For a
   * dynamic supervisor of many independent children, where one hot-looping child must neither spin
   * nor use up the intensity that every other child shares. Default: none.
   */
  readonly restartLimit?: RestartLimit | false;
  /** Start every incarnation with exits trapped. Default false. */
  readonly trapExit?: boolean;
  /** How many recently handled messages a crash report shows. Default 3; 0 keeps none but the poison message. */
  readonly reportMessages?: number;
  /** A label for logs; default the id. */
  readonly label?: string;
  /**
   * Registers the child under this name when it starts (as the `name` option of `spawn`: a string,
   * a typed `Key`, a structured key, or `{ via, key }` for another registry), so that its siblings
   * find it by name; a restart in place keeps the name (the ref is the same), and a child started
   * again after it stopped for good registers again. A name held by another actor fails the start
   * with `already_started` and that actor's ref. Default: no name.
   * @example
   * const CACHE = key<CacheMsg>('cache');
   * supervisor({ children: [{ id: 'cache', behavior: Cache, name: CACHE }, { id: 'api', behavior: Api }] });
   * // in Api: ctx.system.whereis(CACHE)?.send({ type: 'get', key }) — typed, and right after any restart
   */
  readonly name?: Name;
}

/** At most `maxRestarts` restarts within `withinMs` milliseconds. */
export interface RestartLimit {
  readonly maxRestarts: number;
  readonly withinMs: number;
}

/** A child spec without `id`, `args` or `name`, for dynamic supervisors (every child shares it). */
export type ChildTemplate<A = unknown> = Omit<ChildSpec<A>, 'id' | 'args' | 'name'>;

/** @internal A checked spec with every default filled in. */
export interface NormalizedSpec {
  readonly id: string;
  readonly behavior: unknown;
  readonly args: unknown;
  readonly restart: RestartType;
  readonly shutdown: Shutdown;
  readonly type: 'worker' | 'supervisor';
  readonly mailbox: MailboxOptions | undefined;
  readonly keepMailbox: boolean;
  readonly backoff: Backoff | undefined;
  readonly restartLimit: RestartLimit | undefined;
  readonly trapExit: boolean;
  readonly reportMessages: number;
  readonly label: string;
  readonly name: Name | undefined;
  /** The spec as given, for crash reports. */
  readonly given: ChildSpec<unknown>;
}

/** The brand of behaviours made by `supervisor()` and `dynamicSupervisor()` (a child spec's `type` defaults from it). */
export const SUPERVISOR_BEHAVIOR: unique symbol = Symbol('troupe.supervisor');

const KEYS = new Set([
  'id',
  'behavior',
  'args',
  'restart',
  'shutdown',
  'type',
  'mailbox',
  'keepMailbox',
  'backoff',
  'restartLimit',
  'trapExit',
  'reportMessages',
  'label',
  'name',
]);

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'function') return `function ${v.name || '(anonymous)'}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** @internal Checks a spec and fills in defaults; throws a teaching TypeError/RangeError. */
export function normalizeSpec(spec: ChildSpec<unknown>, where: string): NormalizedSpec {
  if (spec === null || typeof spec !== 'object') {
    throw new TypeError(
      `${where}: a child spec must be an object like { id: 'worker', behavior: Worker }; got ${show(spec)}`,
    );
  }
  for (const k of Object.keys(spec)) {
    if (!KEYS.has(k)) {
      throw new TypeError(`${where}: unknown child spec field '${k}'; accepted fields are ${[...KEYS].join(', ')}`);
    }
  }
  if (typeof spec.id !== 'string' || spec.id.length === 0) {
    throw new TypeError(`${where}: child spec id must be a non-empty string; got ${show(spec.id)}`);
  }
  const at = `${where} (child '${spec.id}')`;
  toImpl(spec.behavior, at);
  const restart = spec.restart ?? 'permanent';
  if (restart !== 'permanent' && restart !== 'transient' && restart !== 'temporary') {
    throw new TypeError(`${at}: restart must be 'permanent', 'transient' or 'temporary'; got ${show(restart)}`);
  }
  const isSup =
    (typeof spec.behavior === 'object' || typeof spec.behavior === 'function') &&
    spec.behavior !== null &&
    SUPERVISOR_BEHAVIOR in spec.behavior;
  const type = spec.type ?? (isSup ? 'supervisor' : 'worker');
  if (type !== 'worker' && type !== 'supervisor') {
    throw new TypeError(`${at}: type must be 'worker' or 'supervisor'; got ${show(type)}`);
  }
  const shutdown = spec.shutdown ?? (type === 'supervisor' ? 'infinity' : 5_000);
  if (
    shutdown !== 'brutal_kill' &&
    shutdown !== 'infinity' &&
    !(typeof shutdown === 'number' && Number.isFinite(shutdown) && shutdown >= 0)
  ) {
    throw new TypeError(
      `${at}: shutdown must be a number of milliseconds >= 0, 'brutal_kill' or 'infinity'; got ${show(shutdown)}`,
    );
  }
  if (spec.mailbox !== undefined) assertMailboxOptions(spec.mailbox, at);
  const reportMessages = spec.reportMessages ?? 3;
  if (!Number.isInteger(reportMessages) || reportMessages < 0) {
    throw new RangeError(`${at}: reportMessages must be an integer >= 0; got ${show(reportMessages)}`);
  }
  const limit = spec.restartLimit;
  if (limit !== undefined && limit !== false) {
    if (limit === null || typeof limit !== 'object') {
      throw new TypeError(`${at}: restartLimit must be { maxRestarts, withinMs } or false; got ${show(limit)}`);
    }
    if (
      limit.maxRestarts !== Number.POSITIVE_INFINITY &&
      (!Number.isInteger(limit.maxRestarts) || limit.maxRestarts < 0)
    ) {
      throw new RangeError(
        `${at}: restartLimit.maxRestarts must be an integer >= 0; got ${show(limit.maxRestarts)} (Infinity is accepted too: no limit)`,
      );
    }
    if (typeof limit.withinMs !== 'number' || !Number.isFinite(limit.withinMs) || !(limit.withinMs > 0)) {
      throw new RangeError(
        `${at}: restartLimit.withinMs must be a number of milliseconds > 0; got ${show(limit.withinMs)} (and finite: an infinite period would make maxRestarts a lifetime budget)`,
      );
    }
  }
  const name = spec.name;
  if (
    name !== undefined &&
    typeof name !== 'string' &&
    !(name instanceof Key) &&
    !Array.isArray(name) &&
    !(typeof name === 'object' && name !== null && 'via' in name && 'key' in name)
  ) {
    throw new TypeError(
      `${at}: name must be a string, a key<M>(...), a structured key such as ['user', 42], or { via, key }; got ${show(name)}`,
    );
  }
  if (spec.keepMailbox !== undefined && typeof spec.keepMailbox !== 'boolean') {
    throw new TypeError(`${at}: keepMailbox must be true or false; got ${show(spec.keepMailbox)}`);
  }
  return {
    id: spec.id,
    behavior: spec.behavior,
    args: spec.args,
    restart,
    shutdown,
    type,
    mailbox: spec.mailbox,
    keepMailbox: spec.keepMailbox ?? true,
    backoff: spec.backoff === undefined || spec.backoff === false ? undefined : normalizeBackoff(spec.backoff, at),
    restartLimit:
      limit === undefined || limit === false ? undefined : { maxRestarts: limit.maxRestarts, withinMs: limit.withinMs },
    trapExit: spec.trapExit === true,
    reportMessages,
    label: spec.label ?? spec.id,
    name,
    given: spec,
  };
}
