/**
 * Membership: who is in the cluster. Every node publishes a heartbeat on `<cluster>.hb` every
 * `heartbeatMs`, with its name and its boot id (a node that restarts under the same name is a new
 * incarnation). A node seen for the first time, or with a new boot id, is up; one not heard from
 * for `downAfterMs` is declared down with `noconnection`; one that leaves says so on `<cluster>.bye`
 * and is down at once with `left`. Every node sees the others' heartbeats on the same subjects, so
 * they agree on the same events, each within about `downAfterMs` of the cause.
 *
 * A process that dies (SIGKILL, a crash) is found sooner: a node silent for `probeAfterMs` is asked
 * on a subject only it answers (`<cluster>.alive.<node>.<boot>`), and when NATS itself says nobody
 * subscribes to it ("no responders": the server dropped that node's connection), it is declared down
 * with `noconnection` at once. A node that is alive but slow (a long GC, a starved core) keeps its
 * connection and its subscription: the question just goes unanswered, and only `downAfterMs` of
 * silence declares it down, as before. Silence is counted only while this node runs: after a stall of
 * its own it does not declare the others down for what it could not hear (`#sweep`).
 */
import { pack, unpack } from 'msgpackr';

/** A heartbeat or a goodbye: who, and which boot of it. */
interface Beat {
  readonly node: string;
  readonly boot: string;
}

/** Decodes a beat; anything else on the subject (another program, a bad encoder) is ignored. */
function withBeat(data: Uint8Array, use: (b: Beat) => void): void {
  let b: unknown;
  try {
    b = unpack(data);
  } catch {
    return;
  }
  const beat = b as Partial<Beat> | null;
  if (beat !== null && typeof beat === 'object' && typeof beat.node === 'string' && typeof beat.boot === 'string') {
    use(beat as Beat);
  }
}

/** The transport membership needs: publish, subscribe with a callback, and requests. */
export interface Bus {
  publish(subject: string, data: Uint8Array): void;
  subscribe(subject: string, onMessage: (data: Uint8Array) => void): () => void;
  /** Answers every request on `subject` (with nothing) until the returned function is called. */
  answer(subject: string): () => void;
  /**
   * Asks `subject`: `gone` when the transport says nothing subscribes to it, `here` when answered,
   * `unknown` when neither came within `timeoutMs` (or this node could not ask).
   */
  ask(subject: string, timeoutMs: number): Promise<'gone' | 'here' | 'unknown'>;
}

/** The subject only one run of a node answers, to say that it still has a connection. */
/**
 * How many nodes that went down each node remembers, by name (the newest): a node whose run came
 * back is known for the same one (its refs work again). Bounded, so that a cluster whose nodes get
 * new names (a pod per deploy) does not grow without end; a node forgotten comes back as a new one.
 */
export const REMEMBER_DOWN = 1_024;

/** Sets `key` in `map` as its newest entry, and forgets the oldest past `max`. */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, max = REMEMBER_DOWN): void {
  map.delete(key);
  map.set(key, value);
  if (map.size <= max) return;
  for (const k of map.keys()) {
    map.delete(k);
    if (map.size <= max) return;
  }
}

export function aliveSubject(cluster: string, node: string, boot: string): string {
  return `${cluster}.alive.${node}.${boot}`;
}

/** What membership reports, about one run (`boot`) of a node. */
export interface MembershipEvents {
  /** `rejoined`: this run of the node had been declared down here, and is heard again. */
  up(node: string, boot: string, rejoined: boolean): void;
  down(node: string, boot: string, reason: 'left' | 'noconnection'): void;
}

export interface MembershipOptions {
  readonly cluster: string;
  readonly node: string;
  readonly boot: string;
  readonly heartbeatMs: number;
  readonly downAfterMs: number;
  /** Silence after which a node is asked whether it still has a connection (< downAfterMs). */
  readonly probeAfterMs: number;
  /** Monotonic milliseconds. */
  readonly now: () => number;
}

interface Peer {
  readonly boot: string;
  lastSeen: number;
  /** Whether a question to it (`probeAfterMs`) is still waiting for its answer. */
  asking: boolean;
  /** When it was last asked (monotonic ms): at most once a heartbeat. */
  askedAt: number;
}

/** @internal Tracks the other nodes from their heartbeats. */
export class Membership {
  readonly #peers = new Map<string, Peer>();
  /** Runs of nodes declared down for silence, by name: heard again, they were cut off, not gone. */
  readonly #silenced = new Map<string, string>();
  /** When this node last heard its own heartbeat come back through NATS (monotonic ms); -1: never. */
  lastEcho = -1;
  #echoed: (() => void) | undefined;
  /** Resolves once this node's first heartbeat has come back through NATS: it is visible to all. */
  readonly echoed = new Promise<void>((resolve) => {
    this.#echoed = resolve;
  });
  readonly #offs: Array<() => void> = [];
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  #stopped = false;
  /** The sweep's period, and when it last ran and last credited a stall of this node (monotonic ms). */
  #sweepMs = 0;
  #lastSweep = 0;
  #creditedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly bus: Bus,
    private readonly o: MembershipOptions,
    private readonly events: MembershipEvents,
  ) {}

  start(): void {
    const { cluster } = this.o;
    this.#offs.push(this.bus.subscribe(`${cluster}.hb`, (d) => withBeat(d, (b) => this.#heard(b))));
    this.#offs.push(this.bus.subscribe(`${cluster}.bye`, (d) => withBeat(d, (b) => this.#left(b))));
    // Before the first heartbeat: NATS handles a connection's subscriptions and publishes in order,
    // so whoever hears this node can ask it at once.
    this.#offs.push(this.bus.answer(aliveSubject(cluster, this.o.node, this.o.boot)));
    this.#beat();
    this.#timers.push(setInterval(() => this.#beat(), this.o.heartbeatMs));
    // Sweep often enough that a silent node is declared down within a fraction of a heartbeat.
    this.#sweepMs = Math.max(10, Math.floor(this.o.heartbeatMs / 4));
    this.#lastSweep = this.o.now();
    this.#timers.push(setInterval(() => this.#sweep(), this.#sweepMs));
  }

  /** The other live nodes, by name. */
  nodes(): string[] {
    return [...this.#peers.keys()].sort();
  }

  /** Says goodbye and stops; the others declare this node down with `left` at once. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.bus.publish(`${this.o.cluster}.bye`, pack({ node: this.o.node, boot: this.o.boot } satisfies Beat));
    for (const off of this.#offs) off();
    for (const [node, p] of this.#peers) this.events.down(node, p.boot, 'left');
    this.#peers.clear();
  }

  /**
   * A heartbeat out of turn: after a reconnect, so that this node's own echo (and with it its lease
   * on its names) is current again within a round trip, not up to a heartbeat later.
   */
  beat(): void {
    this.#beat();
  }

  #beat(): void {
    if (!this.#stopped)
      this.bus.publish(`${this.o.cluster}.hb`, pack({ node: this.o.node, boot: this.o.boot } satisfies Beat));
  }

  #heard(b: Beat): void {
    if (this.#stopped) return;
    const now = this.o.now();
    if (b.node === this.o.node) {
      if (b.boot === this.o.boot) {
        this.lastEcho = now;
        this.#echoed?.();
        this.#echoed = undefined;
      }
      return;
    }
    const known = this.#peers.get(b.node);
    if (known !== undefined && known.boot === b.boot) {
      known.lastSeen = now;
      return;
    }
    // A new boot of a known name: the old incarnation is gone, the new one is up.
    if (known !== undefined) this.events.down(b.node, known.boot, 'noconnection');
    const rejoined = this.#silenced.get(b.node) === b.boot;
    this.#silenced.delete(b.node);
    this.#peers.set(b.node, { boot: b.boot, lastSeen: now, asking: false, askedAt: 0 });
    this.events.up(b.node, b.boot, rejoined);
    // Answer at once, so that the newcomer sees this node without waiting a heartbeat.
    this.#beat();
  }

  #left(b: Beat): void {
    const known = this.#peers.get(b.node);
    if (this.#stopped || known === undefined || known.boot !== b.boot) return;
    this.#peers.delete(b.node);
    this.events.down(b.node, b.boot, 'left');
  }

  #sweep(): void {
    const now = this.o.now();
    const last = this.#lastSweep;
    this.#lastSweep = now;
    // This node itself did not run for a while (a long task or GC, a starved process): its timers
    // fire before it reads what its peers sent meanwhile, and peers in the same process sent
    // nothing. Silence counts only while this node was there to hear it, so the stall is not held
    // against them. At most once per downAfterMs, so that a node that is always late still
    // declares a dead peer down.
    const stall = now - last - this.#sweepMs;
    if (stall > this.o.heartbeatMs && now - this.#creditedAt >= this.o.downAfterMs) {
      this.#creditedAt = now;
      for (const p of this.#peers.values()) p.lastSeen = Math.min(now, p.lastSeen + stall);
    }
    for (const [node, p] of this.#peers) {
      const silent = now - p.lastSeen;
      if (silent >= this.o.downAfterMs) this.#declareDown(node, p);
      else if (silent >= this.o.probeAfterMs && !p.asking && now - p.askedAt >= this.o.heartbeatMs) this.#ask(node, p);
    }
  }

  #declareDown(node: string, p: Peer): void {
    this.#peers.delete(node);
    remember(this.#silenced, node, p.boot);
    this.events.down(node, p.boot, 'noconnection');
  }

  /** Asks a silent node whether it still has a connection; NATS answering for it that it has none is its end. */
  #ask(node: string, p: Peer): void {
    p.asking = true;
    p.askedAt = this.o.now();
    void this.bus.ask(aliveSubject(this.o.cluster, node, p.boot), this.o.heartbeatMs).then(
      (answer) => {
        p.asking = false;
        // Only the same run, still silent and not yet declared down: a beat that came meanwhile wins.
        if (answer !== 'gone' || this.#stopped || this.#peers.get(node) !== p) return;
        if (this.o.now() - p.lastSeen < this.o.probeAfterMs) return;
        this.#declareDown(node, p);
      },
      () => {
        p.asking = false;
      },
    );
  }
}
