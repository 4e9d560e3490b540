/**
 * `@troupe/uws/metrics`: an actor system's telemetry as prom-client metrics. `actorMetrics` listens
 * to the system's event stream (calls and their latency, crashes, restarts, dead letters, restart
 * intensity exceeded, mailboxes growing) and registers counters, a histogram and gauges on a
 * registry you give it; what the system counts itself (live actors, the run queue, the backlog) is
 * read at scrape time. A separate entry, so that the main one never loads prom-client: install it
 * (`prom-client@^15`) only if you use this.
 *
 * @module @troupe/uws/metrics
 */
import { Counter, Gauge, Histogram, type Metric, type Registry, type RegistryContentType } from 'prom-client';
import type { ActorSystem, SystemEvent } from 'troupe';

/** The options of {@link actorMetrics}. */
export interface ActorMetricsOptions {
  /** The prom-client registry to register the metrics on (required). */
  readonly registry: Registry<RegistryContentType>;
  /** The start of every metric name; default `'troupe_'`. */
  readonly prefix?: string;
  /**
   * How many distinct values the `request_type` and `reason` labels keep; default 50. Values seen
   * after that many are counted under `other`, so a protocol with open-ended request types cannot
   * grow the registry without bound.
   */
  readonly maxLabelValues?: number;
  /** The call latency histogram's buckets, in seconds; default 50 µs to 10 s ({@link CALL_BUCKETS_S}). */
  readonly buckets?: readonly number[];
}

/** What {@link actorMetrics} returns. */
export interface ActorMetrics {
  /** Stops listening to the system's events and removes the metrics from the registry. Idempotent. */
  close(): void;
}

/** The default buckets of the call latency histogram, in seconds: 50 µs to 10 s. */
export const CALL_BUCKETS_S: readonly number[] = [
  0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** The label value of the values a bounded label no longer keeps. */
export const OTHER_LABEL = 'other';

/** The `request_type` of a call whose request has no string `type`. */
const NO_TYPE = 'none';

const OPTION_KEYS: ReadonlySet<string> = new Set(['registry', 'prefix', 'maxLabelValues', 'buckets']);
const OUTCOMES = ['replied', 'timeout', 'exited', 'refused'] as const;
type Outcome = (typeof OUTCOMES)[number];

/**
 * Registers the system's metrics on `registry` and keeps them current from `system.subscribe`.
 * Every name starts with `prefix` (default `'troupe_'`); `maxLabelValues` (default 50) bounds the
 * `request_type` and `reason` labels; `buckets` (default {@link CALL_BUCKETS_S}) are the call
 * histogram's, in seconds. Events are counted from this call on. Listening has a cost: with a
 * subscriber the runtime builds an event object at every call, crash, restart and dead letter (and
 * every call observes the histogram), which it skips while nobody listens.
 *
 * Throws a `TypeError` for a bad option, and an `Error` naming them if some of the metric names are
 * already registered (use another `prefix` for a second system on one registry).
 * @example
 * import { Registry } from 'prom-client';
 * import { actorMetrics } from '@troupe/uws/metrics';
 *
 * const registry = new Registry();
 * const metrics = actorMetrics(system, { registry });
 * // serve `await registry.metrics()` at /metrics; later:
 * metrics.close();
 */
export function actorMetrics(system: ActorSystem, options: ActorMetricsOptions): ActorMetrics {
  const { registry, prefix, maxLabelValues, buckets } = checkOptions(options);
  const p = prefix;
  const requestTypes = new BoundedLabel(maxLabelValues);
  const reasons = new BoundedLabel(maxLabelValues);
  // The events' counts are plain numbers, read at scrape time as the scheduler's are: a crash,
  // restart or dead letter only increments a number (prom-client's labelled increment would hash
  // its labels in the middle of the crash path a supervisor is recovering from).
  const counted = { restarts: 0, crashes: 0, intensity: 0, depthEvents: 0 };
  const deadLettersByReason = new Map<string, number>();
  /** A counter whose value is `read()` at scrape time. */
  const readAtScrape = (read: () => number) =>
    function (this: Counter) {
      this.reset();
      this.inc(read());
    };

  const calls = new Histogram({
    name: `${p}call_duration_seconds`,
    help: 'Time from call to settled (system clock), by outcome (replied, timeout, exited, refused) and request type.',
    labelNames: ['outcome', 'request_type'] as const,
    buckets: [...buckets],
    registers: [],
  });
  const restarts = new Counter({
    name: `${p}actor_restarts_total`,
    help: 'Actors restarted in place by their supervisor.',
    registers: [],
    collect: readAtScrape(() => counted.restarts),
  });
  const crashes = new Counter({
    name: `${p}actor_crashes_total`,
    help: 'Actor handlers (init, receive, terminate) that threw or rejected.',
    registers: [],
    collect: readAtScrape(() => counted.crashes),
  });
  const deadLetters = new Counter({
    name: `${p}dead_letters_total`,
    help: 'Messages that could not be delivered, by reason (dead, mailbox_full, crashed, dropped).',
    labelNames: ['reason'] as const,
    registers: [],
    collect() {
      this.reset();
      for (const [reason, n] of deadLettersByReason) this.inc({ reason }, n);
    },
  });
  const intensity = new Counter({
    name: `${p}supervisor_intensity_exceeded_total`,
    help: 'Supervisors that gave up because a child needed more than maxRestarts restarts within withinMs.',
    registers: [],
    collect: readAtScrape(() => counted.intensity),
  });
  const depthEvents = new Counter({
    name: `${p}mailbox_depth_events_total`,
    help: 'Times a mailbox reached 1024 messages or a doubling of that (2048, 4096, ...).',
    registers: [],
    collect: readAtScrape(() => counted.depthEvents),
  });
  // The deepest mailbox reported since the last scrape: a peak per scrape interval, so a second
  // incident shows as a second peak (a high-water mark since start would stay up for good).
  let deepest = 0;
  const highWater = new Gauge({
    name: `${p}mailbox_depth_high_water`,
    help: 'The largest mailbox depth reported (1024 and up, powers of two) since the last scrape; 0 if none.',
    registers: [],
    collect() {
      this.set(deepest);
      deepest = 0;
    },
  });
  const actors = new Gauge({
    name: `${p}actors`,
    help: 'Live actors.',
    registers: [],
    collect() {
      this.set(system.stats().actors);
    },
  });
  const runQueue = new Gauge({
    name: `${p}run_queue_length`,
    help: 'Actors waiting for a turn in the scheduler.',
    registers: [],
    collect() {
      this.set(system.stats().queued);
    },
  });
  const backlog = new Gauge({
    name: `${p}scheduler_backlog_seconds`,
    help: 'How long the scheduler has had work without running dry (real time); 0 while it keeps up.',
    registers: [],
    collect() {
      this.set(system.backlogMs / 1_000);
    },
  });
  const turns = new Counter({
    name: `${p}scheduler_turns_total`,
    help: 'Actor turns the scheduler ran.',
    registers: [],
    collect: readAtScrape(() => system.stats().turns),
  });
  const yields = new Counter({
    name: `${p}scheduler_yields_total`,
    help: 'Times the scheduler yielded to the event loop with work left.',
    registers: [],
    collect: readAtScrape(() => system.stats().yields),
  });

  // Each metric's own label names do not matter to the registry.
  const all = [
    calls,
    restarts,
    crashes,
    deadLetters,
    intensity,
    depthEvents,
    highWater,
    actors,
    runQueue,
    backlog,
    turns,
    yields,
  ] as unknown as Metric[];
  const names = all.map((m) => (m as unknown as { name: string }).name);
  const taken = names.filter((n) => registry.getSingleMetric(n) !== undefined);
  if (taken.length > 0) {
    throw new Error(
      `actorMetrics(system, { registry }): the registry already has ${taken.join(', ')}; ` +
        `pass another prefix (now '${p}') or close the other actorMetrics first`,
    );
  }
  for (const m of all) registry.registerMetric(m);

  // One child per (outcome, request type) seen: a call's observation skips building and checking labels.
  type Observe = (seconds: number) => void;
  const children = new Map<Outcome, Map<string | undefined, Observe>>(OUTCOMES.map((o) => [o, new Map()]));
  const observeCall = (outcome: Outcome, requestType: string | undefined, seconds: number) => {
    let byType = children.get(outcome);
    if (byType === undefined) {
      byType = new Map();
      children.set(outcome, byType);
    }
    let observe = byType.get(requestType);
    if (observe === undefined) {
      const label = requestTypes.value(requestType ?? NO_TYPE);
      observe = calls.labels({ outcome, request_type: label }).observe;
      // The types over the bound share `other`'s child and are not remembered one by one.
      if (label !== OTHER_LABEL || requestType === OTHER_LABEL) byType.set(requestType, observe);
    }
    observe(seconds);
  };

  const off = system.subscribe((e: SystemEvent) => {
    switch (e.type) {
      case 'call':
        observeCall(e.outcome, e.requestType, e.ms / 1_000);
        break;
      case 'restarted':
        counted.restarts++;
        break;
      case 'crashed':
        counted.crashes++;
        break;
      case 'dead_letter': {
        const reason = reasons.value(e.reason);
        deadLettersByReason.set(reason, (deadLettersByReason.get(reason) ?? 0) + 1);
        break;
      }
      case 'intensity_exceeded':
        counted.intensity++;
        break;
      case 'mailbox_depth':
        counted.depthEvents++;
        if (e.depth > deepest) deepest = e.depth;
        break;
      case 'spawned':
      case 'exited':
      case 'crash_report':
      case 'upgraded':
      case 'nodeup':
      case 'nodedown':
        break;
      default:
        e satisfies never;
    }
  });

  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      off();
      // Only ours: a metric registered under the same name after a close belongs to someone else.
      for (let i = 0; i < all.length; i++) {
        const name = names[i] as string;
        if (registry.getSingleMetric(name) === all[i]) registry.removeSingleMetric(name);
      }
    },
  };
}

/** A label's values: the first `max` distinct ones are kept, the rest become {@link OTHER_LABEL}. */
class BoundedLabel {
  readonly #kept = new Set<string>();
  constructor(private readonly max: number) {}

  value(v: string): string {
    if (this.#kept.has(v)) return v;
    if (this.#kept.size >= this.max) return OTHER_LABEL;
    this.#kept.add(v);
    return v;
  }
}

function checkOptions(options: ActorMetricsOptions): Required<ActorMetricsOptions> {
  const usage = "actorMetrics(system, { registry, prefix = 'troupe_', maxLabelValues = 50, buckets })";
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${usage}: options must be an object with a prom-client Registry; got ${String(options)}`);
  }
  for (const k of Object.keys(options)) {
    if (!OPTION_KEYS.has(k)) {
      throw new TypeError(`${usage}: unknown option '${k}'; accepted options are ${[...OPTION_KEYS].join(', ')}`);
    }
  }
  const registry = options.registry as Partial<Registry> | undefined;
  if (
    registry === null ||
    typeof registry !== 'object' ||
    typeof registry.registerMetric !== 'function' ||
    typeof registry.getSingleMetric !== 'function'
  ) {
    throw new TypeError(`${usage}: registry must be a prom-client Registry (new Registry()); got ${String(registry)}`);
  }
  const prefix = options.prefix ?? 'troupe_';
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
    throw new TypeError(`${usage}: prefix must match [a-zA-Z_:][a-zA-Z0-9_:]* (or be ''); got ${String(prefix)}`);
  }
  const maxLabelValues = options.maxLabelValues ?? 50;
  if (!Number.isInteger(maxLabelValues) || maxLabelValues < 0) {
    throw new RangeError(`${usage}: maxLabelValues must be an integer >= 0; got ${String(maxLabelValues)}`);
  }
  const buckets = options.buckets ?? CALL_BUCKETS_S;
  if (!Array.isArray(buckets) || buckets.some((b) => typeof b !== 'number' || !Number.isFinite(b) || b <= 0)) {
    throw new TypeError(`${usage}: buckets must be an array of seconds > 0; got ${String(buckets)}`);
  }
  return { registry: options.registry, prefix, maxLabelValues, buckets };
}
