/**
 * Distribution: refs to actors on other nodes, and everything that crosses between nodes about
 * them: messages, calls and their replies, links, monitors and exit signals.
 *
 * Each node listens on one subject of its own, `<cluster>.n.<node>.<boot>`, and every frame to it
 * goes there through the one NATS connection of the sender, so frames between two nodes arrive in
 * the order they were sent (NATS keeps a publisher's order per subject): a message sent before a
 * link's exit signal arrives before it. The boot id in the subject means that a frame for an
 * earlier run of a node reaches nobody: a call to it gets NATS's no-responders at once.
 *
 * A message for actor `id` goes to `<node subject>.<id>` as the message itself, encoded: nothing
 * wraps it, so a send costs what a raw NATS publish of the same payload costs. Everything else is a
 * msgpackr array on the node subject: `[CALL, id, request, timeoutMs]` (the reply subject on the
 * NATS message), and control frames that name their sender (`[kind, node, boot, ...]`). One
 * connection on each side and one server in between keep the order of a node's publishes across
 * both subjects, so a message sent before an exit signal arrives before it. A local actor is *exported* when its ref first leaves the node: the
 * export table maps ids back to actors for incoming frames, and one monitor per exported actor
 * tells the linked and monitoring nodes of its exit. A node that goes down (or that says it
 * declared this one down: `RESYNC`) takes its links, monitors and pending calls with it, each with
 * `noconnection`, as OTP does.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type ActorSystem,
  type CallOptions,
  type ClockTimer,
  type DistributionHooks,
  ExitError,
  type ExitReason,
  MailboxFullError,
  type MonitorRef,
  Ref,
  type RemoteActors,
  type RemoteWatcher,
  TimeoutError,
} from 'troupe';
import { Codec, type RefTable } from './codec.js';
import { remember } from './membership.js';
import { reasonFromWire, reasonToWire, type SignalReason, wireDescribed } from './reasons.js';

/**
 * A wire exit reason cut down to fit the bus, of the same kind: an error stays an error (its name
 * and the start of its message), a shutdown a shutdown (with a description).
 */
function shrunk(part: unknown, why: string): unknown {
  if (part === null || typeof part !== 'object') return part;
  const w = part as { error?: unknown[] };
  if (Array.isArray(w.error))
    return { error: [String(w.error[0]), `${String(w.error[1]).slice(0, 1_000)} (${why})`, null] };
  return { shutdown: why };
}

const CALL = 1;
const LINK = 2;
const UNLINK = 3;
const EXIT = 4;
const MONITOR = 5;
const DEMONITOR = 6;
const DOWN = 7;
const RESYNC = 8;
/** Frame kinds from here on belong to other parts (groups); `onFrame` hands them on. */
export const FIRST_EXTRA_KIND = 16;

/** The default `timeoutMs` of a call, as a local call's (and gen_server's). */
const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** A pending call to a remote actor. */
interface RemoteCall {
  readonly seq: number;
  readonly peer: Peer;
  readonly ref: RemoteRef;
  readonly resolve: (value: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly details: { actor: string; target: string; requestType: unknown };
  timer: ClockTimer;
}

/** @internal One run (boot) of another node, and everything this node shares with it. */
export class Peer {
  /** Refs to its actors, interned (one object per actor), weakly held. */
  readonly refs = new Map<number, WeakRef<RemoteRef>>();
  /** Links between its actors and ours: theirs -> ours. */
  readonly links = new Map<RemoteRef, Set<Ref<never>>>();
  /** Our monitors of its actors, by monitor id. */
  readonly watching = new Map<MonitorRef, { readonly watcher: RemoteWatcher; readonly target: RemoteRef }>();
  /** Its monitors of our actors: ours -> its monitor ids. */
  readonly watchedBy = new Map<Ref<never>, Set<number>>();
  readonly calls = new Set<RemoteCall>();
  /** False once the node is down: its refs are dead from then on. */
  up = true;
  /** Membership has announced it (a ref can arrive from a node before its first heartbeat). */
  announced = false;
  unannouncedTimer: ClockTimer = undefined;
  constructor(
    readonly name: string,
    readonly boot: string,
    readonly subject: string,
  ) {}
}

/**
 * A ref to an actor on another node. It travels as `[node, boot, id]` and comes back as the same
 * object while anyone holds it: refs compare with `===`.
 */
export class RemoteRef extends Ref<unknown> {
  #dead = false;
  /** The subject its messages go to, made on the first send. */
  #subject: string | undefined = undefined;
  /** @internal */
  constructor(
    id: number,
    /** @internal */
    readonly peer: Peer,
    /** @internal */
    readonly dist: Distribution,
  ) {
    super(id);
  }

  get node(): string {
    return this.peer.name;
  }

  send(msg: unknown): boolean {
    return this.dist.send(this, msg);
  }

  sendWait(msg: unknown): Promise<boolean> {
    try {
      return Promise.resolve(this.send(msg));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  call(request: never, options?: CallOptions): Promise<never> {
    return this.dist.call(this, request, options?.timeoutMs) as Promise<never>;
  }

  get alive(): boolean {
    return !this.#dead && this.peer.up;
  }

  /** @internal */
  get subject(): string {
    let s = this.#subject;
    if (s === undefined) {
      s = `${this.peer.subject}.${this.id}`;
      this.#subject = s;
    }
    return s;
  }

  /** @internal This node learned that the actor exited. */
  markDead(): void {
    this.#dead = true;
  }

  toString(): string {
    return `Ref<${this.id}@${this.peer.name}>`;
  }

  override toJSON(): { ref: number; node: string } {
    return { ref: this.id, node: this.peer.name };
  }
}

/** What the distribution needs from its surroundings. */
export interface DistributionOptions {
  readonly cluster: string;
  readonly node: string;
  readonly boot: string;
  /** An unannounced node whose refs arrived is given up after this long without a heartbeat. */
  readonly downAfterMs: number;
}

/** @internal */
export class Distribution implements RemoteActors, RefTable {
  readonly node: string;
  readonly boot: string;
  readonly subject: string;
  readonly #cluster: string;
  readonly #replyPrefix: string;
  readonly #codec: Codec;
  readonly #peers = new Map<string, Peer>();
  /**
   * The last run of each node that went down, by name: it may come back (a node cut off, not gone).
   * The newest REMEMBER_DOWN of them.
   */
  readonly #down = new Map<string, Peer>();
  /** Local actors whose refs left this node, by id. */
  readonly #exports = new Map<number, Ref<never>>();
  /** Local actor -> the remote actors it is linked to. */
  readonly #links = new Map<Ref<never>, Set<RemoteRef>>();
  /** Local actor -> the peers that monitor it. */
  readonly #watchedBy = new Map<Ref<never>, Set<Peer>>();
  readonly #calls = new Map<number, RemoteCall>();
  readonly #finalizer = new FinalizationRegistry<{ peer: Peer; id: number }>(({ peer, id }) => {
    if (peer.refs.get(id)?.deref() === undefined) peer.refs.delete(id);
  });
  #callSeq = 0;
  #hooks: DistributionHooks | undefined;
  /** Frames of kinds >= FIRST_EXTRA_KIND, for the parts built on this one. */
  extra: ((peer: Peer, frame: unknown[]) => void) | undefined;
  /** Peer down (or what was shared with it is gone), for the parts built on this one. */
  onPeerDown: ((peer: Peer) => void) | undefined;
  /** Peer up (or to be told everything again), for the parts built on this one. */
  onPeerUp: ((peer: Peer) => void) | undefined;
  /** Whether the NATS connection is up: while it is not, remote sends and calls fail at once. */
  connected = true;
  /** Frames that could not be decoded (not ours, or damaged). */
  malformed = 0;
  /** Frames for actors that are not (or no longer) here. */
  undeliverable = 0;
  /** Frames and bytes sent and received, for metrics and the bench. */
  framesOut = 0;
  framesIn = 0;

  constructor(
    readonly system: ActorSystem,
    readonly nc: NatsConnection,
    readonly options: DistributionOptions,
  ) {
    this.node = options.node;
    this.boot = options.boot;
    this.#cluster = options.cluster;
    this.subject = nodeSubject(options.cluster, options.node, options.boot);
    this.#replyPrefix = `${options.cluster}.r.${options.node}.${options.boot}`;
    this.#codec = new Codec(this);
  }

  /** Starts listening; `hooks` are the system's, from `attachDistribution`. */
  start(hooks: DistributionHooks): void {
    this.#hooks = hooks;
    this.nc.subscribe(this.subject, {
      callback: (err, m) => {
        if (err === null) this.#onFrame(m.data, m.reply);
      },
    });
    const at = this.subject.length + 1;
    this.nc.subscribe(`${this.subject}.*`, {
      callback: (err, m) => {
        if (err === null) this.#onMessage(Number(m.subject.slice(at)), m.data);
      },
    });
    this.nc.subscribe(`${this.#replyPrefix}.*`, {
      callback: (err, m) => {
        if (err === null) this.#onReply(m.subject, m.data, m.headers?.code === 503);
      },
    });
  }

  get hooks(): DistributionHooks {
    return this.#hooks as DistributionHooks;
  }

  /** The live peers (announced by membership), by name. */
  peer(name: string): Peer | undefined {
    const p = this.#peers.get(name);
    return p?.announced === true ? p : undefined;
  }

  // ---- membership -------------------------------------------------------------------------------

  /** Membership heard `name` (this boot of it) for the first time; `rejoined`: it had been declared down. */
  peerUp(name: string, boot: string, rejoined: boolean): void {
    let p = this.#peers.get(name);
    if (p !== undefined && p.boot !== boot) {
      this.peerDown(name, p.boot);
      p = undefined;
    }
    if (p === undefined) {
      // The same run of a node that was down (cut off, not gone): its refs work again, as a
      // reconnected Erlang node's pids do. Its links and monitors ended when it went down.
      const was = this.#down.get(name);
      if (was?.boot === boot) {
        p = was;
        p.up = true;
      } else p = new Peer(name, boot, nodeSubject(this.#cluster, name, boot));
      this.#down.delete(name);
      this.#peers.set(name, p);
    }
    if (p.unannouncedTimer !== undefined) {
      this.system.clock.clearTimeout(p.unannouncedTimer);
      p.unannouncedTimer = undefined;
    }
    p.announced = true;
    // It went on while this node had declared it down: it must forget what it shared with this node too.
    if (rejoined) this.control(p, [RESYNC, this.node, this.boot]);
    this.onPeerUp?.(p);
  }

  /** Membership declared `name` (this boot of it) down: its links, monitors and calls end with `noconnection`. */
  peerDown(name: string, boot: string): void {
    const p = this.#peers.get(name);
    if (p === undefined || p.boot !== boot) return;
    this.#peers.delete(name);
    remember(this.#down, name, p);
    p.up = false;
    p.announced = false;
    if (p.unannouncedTimer !== undefined) {
      this.system.clock.clearTimeout(p.unannouncedTimer);
      p.unannouncedTimer = undefined;
    }
    this.#sever(p);
  }

  /** Ends everything shared with `p` with `noconnection`: links, monitors both ways, pending calls. */
  #sever(p: Peer): void {
    const hooks = this.hooks;
    const links = [...p.links];
    const watching = [...p.watching];
    const calls = [...p.calls];
    p.links.clear();
    p.watching.clear();
    p.calls.clear();
    for (const [local] of p.watchedBy) this.#watchedBy.get(local)?.delete(p);
    p.watchedBy.clear();
    for (const [remote, locals] of links) {
      for (const local of locals) {
        this.#links.get(local)?.delete(remote);
        hooks.exitSignal(local, remote as Ref<never>, 'noconnection');
      }
    }
    for (const [id, { watcher, target }] of watching) this.#deliverDown(watcher, id, target, 'noconnection');
    for (const c of calls) this.#failCall(c, new ExitError(c.ref.toString(), 'noconnection', c.details));
    this.onPeerDown?.(p);
  }

  // ---- refs on the wire (RefTable) --------------------------------------------------------------

  write(ref: Ref<never>): [string, string, number] {
    if (ref instanceof RemoteRef) {
      if (ref.dist !== this) throw new TypeError(`${String(ref)} belongs to another ActorSystem's cluster`);
      return [ref.peer.name, ref.peer.boot, ref.id];
    }
    this.export(ref);
    return [this.node, this.boot, ref.id];
  }

  read(node: string, boot: string, id: number): Ref<never> {
    if (node === this.node) {
      const local = boot === this.boot ? this.#exports.get(id) : undefined;
      // Home again, or an actor of this node that has exited (or of an earlier run of it): a dead ref.
      return local ?? (this.#deadRef(node, boot, id) as Ref<never>);
    }
    let p = this.#peers.get(node);
    if (p !== undefined && p.boot !== boot) return this.#deadRef(node, boot, id) as Ref<never>;
    if (p === undefined) {
      const was = this.#down.get(node);
      p = was?.boot === boot ? was : this.#unannounced(node, boot);
    }
    return this.refOf(p, id) as Ref<never>;
  }

  /** The interned ref to actor `id` of `p`. */
  refOf(p: Peer, id: number): RemoteRef {
    const held = p.refs.get(id)?.deref();
    if (held !== undefined) return held;
    // Not marked dead while its node is down: the node may come back (then the ref works again).
    const ref = new RemoteRef(id, p, this);
    p.refs.set(id, new WeakRef(ref));
    this.#finalizer.register(ref, { peer: p, id });
    return ref;
  }

  /** A ref to a node's run that is over: dead from the start. */
  #deadRef(node: string, boot: string, id: number): RemoteRef {
    const p = new Peer(node, boot, nodeSubject(this.#cluster, node, boot));
    p.up = false;
    const ref = new RemoteRef(id, p, this);
    ref.markDead();
    return ref;
  }

  /**
   * A node whose ref arrived before its first heartbeat (a registry entry read at once on joining):
   * tentatively up, given up if membership does not announce it within two `downAfterMs`.
   */
  #unannounced(node: string, boot: string): Peer {
    const p = new Peer(node, boot, nodeSubject(this.#cluster, node, boot));
    this.#peers.set(node, p);
    p.unannouncedTimer = this.system.clock.setTimeout(
      () => {
        p.unannouncedTimer = undefined;
        if (!p.announced) this.peerDown(node, boot);
      },
      2 * this.options.downAfterMs,
      true,
    );
    return p;
  }

  /** Makes a local actor reachable from other nodes; its exit is told to those that link or watch it. */
  export(ref: Ref<never>): void {
    const id = ref.id;
    if (this.#exports.get(id) === ref) return;
    this.#exports.set(id, ref);
    this.system.monitor(ref, (reason) => this.#localExited(ref, reason));
  }

  /** The exported local actor `id`, while it lives. */
  local(id: number): Ref<never> | undefined {
    return this.#exports.get(id);
  }

  #localExited(local: Ref<never>, reason: ExitReason): void {
    if (this.#exports.get(local.id) === local) this.#exports.delete(local.id);
    const linked = this.#links.get(local);
    if (linked !== undefined) {
      this.#links.delete(local);
      for (const remote of linked) {
        const p = remote.peer;
        const mine = p.links.get(remote);
        mine?.delete(local);
        if (mine?.size === 0) p.links.delete(remote);
        this.control(p, [EXIT, this.node, this.boot, remote.id, local.id, reasonToWire(reason), 1]);
      }
    }
    const watchers = this.#watchedBy.get(local);
    if (watchers !== undefined) {
      this.#watchedBy.delete(local);
      for (const p of watchers) {
        const ids = p.watchedBy.get(local);
        p.watchedBy.delete(local);
        if (ids !== undefined)
          for (const id of ids) this.control(p, [DOWN, this.node, this.boot, id, reasonToWire(reason)]);
      }
    }
  }

  // ---- send and call ----------------------------------------------------------------------------

  send(ref: RemoteRef, msg: unknown): boolean {
    const p = ref.peer;
    if (!p.up || !this.connected) {
      this.hooks.undelivered(ref as Ref<never>, msg, 'noconnection');
      return false;
    }
    const data = this.#codec.encode(msg, '.send(msg)', ref);
    this.nc.publish(ref.subject, data);
    this.framesOut++;
    return true;
  }

  call(ref: RemoteRef, request: unknown, timeoutMs: number | undefined): Promise<unknown> {
    if (request === null || typeof request !== 'object') {
      return Promise.reject(
        new TypeError(`call(request): the request must be an object such as { type: 'get' }; got ${String(request)}`),
      );
    }
    const ms = timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      return Promise.reject(new RangeError(`call: timeoutMs must be a number >= 0 or Infinity; got ${String(ms)}`));
    }
    const actor = ref.toString();
    const details = { actor, target: actor, requestType: (request as { type?: unknown }).type };
    const p = ref.peer;
    if (!p.up || !this.connected) return Promise.reject(new ExitError(actor, 'noconnection', details));
    let data: Uint8Array;
    try {
      data = this.#codec.encode([CALL, ref.id, request, ms], `${actor}.call(request)`);
      this.fits(data, `${actor}.call(request)`);
    } catch (e) {
      return Promise.reject(e);
    }
    const seq = ++this.#callSeq;
    return new Promise((resolve, reject) => {
      const c: RemoteCall = { seq, peer: p, ref, resolve, reject, details, timer: undefined };
      this.#calls.set(seq, c);
      p.calls.add(c);
      if (ms !== Number.POSITIVE_INFINITY) {
        c.timer = this.system.clock.setTimeout(() => {
          c.timer = undefined;
          this.#failCall(c, new TimeoutError(ms, 'call', details));
        }, ms);
      }
      this.#publish(p.subject, data, `${this.#replyPrefix}.${seq}`);
    });
  }

  #settle(c: RemoteCall): boolean {
    if (this.#calls.get(c.seq) !== c) return false;
    this.#calls.delete(c.seq);
    c.peer.calls.delete(c);
    if (c.timer !== undefined) this.system.clock.clearTimeout(c.timer);
    return true;
  }

  #failCall(c: RemoteCall, e: Error): void {
    if (this.#settle(c)) c.reject(e);
  }

  #onReply(subject: string, data: Uint8Array, noResponders: boolean): void {
    const seq = Number(subject.slice(subject.lastIndexOf('.') + 1));
    const c = this.#calls.get(seq);
    if (c === undefined) return;
    if (noResponders) {
      // Nobody listens on that node's subject: that run of the node is gone.
      this.#failCall(c, new ExitError(c.ref.toString(), 'noconnection', c.details));
      return;
    }
    let r: unknown;
    try {
      r = this.#codec.decode(data);
    } catch {
      this.malformed++;
      return;
    }
    if (!Array.isArray(r)) return;
    if (r[0] === 1) {
      if (this.#settle(c)) c.resolve(r[1]);
      return;
    }
    const actor = c.ref.toString();
    switch (r[1]) {
      case 'exit': {
        const reason = reasonFromWire(r[2], c.peer.name) as ExitReason;
        if (reason !== 'noconnection') c.ref.markDead();
        this.#failCall(c, new ExitError(actor, reason, c.details));
        return;
      }
      case 'full':
        this.#failCall(c, new MailboxFullError(actor));
        return;
      default:
        this.#failCall(c, new Error(`${actor}: ${String(r[2])}`));
    }
  }

  /** A call from another node: made here as a local call, answered on `reply`. */
  #answer(id: number, request: unknown, ms: unknown, reply: string | undefined): void {
    if (reply === undefined) return;
    const local = this.#exports.get(id);
    if (local === undefined) {
      this.undeliverable++;
      this.#respond(reply, [0, 'exit', 'noproc']);
      return;
    }
    const timeoutMs = typeof ms === 'number' && ms >= 0 ? ms : DEFAULT_CALL_TIMEOUT_MS;
    (local as Ref<{ type: string; reply: (v: unknown) => void }>).call(request as never, { timeoutMs }).then(
      (value) => this.#respond(reply, [1, value], `${String(local)}: the reply`),
      (e: unknown) => {
        if (e instanceof ExitError) this.#respond(reply, [0, 'exit', reasonToWire(e.reason)]);
        else if (e instanceof MailboxFullError) this.#respond(reply, [0, 'full']);
        // The caller has timed out too (it has the same timeout): nothing to say.
        else if (!(e instanceof TimeoutError))
          this.#respond(reply, [0, 'error', e instanceof Error ? e.message : String(e)]);
      },
    );
  }

  #respond(reply: string, frame: unknown[], what?: string): void {
    let data: Uint8Array;
    try {
      data = this.#codec.encode(frame, what ?? 'reply');
      this.fits(data, what ?? 'reply');
    } catch (e) {
      // The caller hears why (not a reply, nor a timeout later).
      data = this.#codec.encode([0, 'error', e instanceof Error ? e.message : String(e)], 'reply');
    }
    this.#publish(reply, data);
  }

  /**
   * Throws a RangeError for a frame over the NATS server's max_payload (1 MB by default), which
   * nats.js would refuse to publish: said to whoever sent it, never dropped in silence.
   */
  /** @internal Throws a RangeError if `data` is too big for the NATS server's max_payload. */
  fits(data: Uint8Array, what: string): void {
    if (this.#tooBig(data)) {
      throw new RangeError(
        `${what}: ${data.byteLength} bytes encoded, over the NATS server's max_payload (${this.nc.info?.max_payload} bytes, less 1 KiB for headers)`,
      );
    }
  }

  /** Over the server's max_payload, less 1 KiB for the headers and subjects around it. */
  #tooBig(data: Uint8Array): boolean {
    const max = this.nc.info?.max_payload;
    return max !== undefined && data.byteLength > max - 1024;
  }

  /** Publishes; after the connection closed (the cluster was left), nothing goes out and nothing throws. */
  #publish(subject: string, data: Uint8Array, reply?: string): void {
    if (this.nc.isClosed()) return;
    try {
      if (reply === undefined) this.nc.publish(subject, data);
      else this.nc.publish(subject, data, { reply });
      this.framesOut++;
    } catch {
      // Closing: the frame is moot.
    }
  }

  // ---- links, monitors, exit signals (RemoteActors) ---------------------------------------------

  owns(ref: Ref<never>): boolean {
    return ref instanceof RemoteRef && ref.dist === this;
  }

  link(local: Ref<never>, remote: Ref<never>): void {
    const r = remote as unknown as RemoteRef;
    if (!r.alive) {
      this.hooks.exitSignal(local, remote, r.peer.up ? 'noproc' : 'noconnection');
      return;
    }
    const mine = setIn(this.#links, local);
    if (mine.has(r)) return;
    mine.add(r);
    const theirs = setIn(r.peer.links, r);
    theirs.add(local);
    this.export(local);
    this.control(r.peer, [LINK, this.node, this.boot, r.id, local.id]);
  }

  unlink(local: Ref<never>, remote: Ref<never>): void {
    const r = remote as unknown as RemoteRef;
    if (!this.#unpair(local, r)) return;
    this.control(r.peer, [UNLINK, this.node, this.boot, r.id, local.id]);
  }

  /** Removes the link pair; false if there was none. */
  #unpair(local: Ref<never>, r: RemoteRef): boolean {
    const mine = this.#links.get(local);
    if (mine === undefined || !mine.delete(r)) return false;
    if (mine.size === 0) this.#links.delete(local);
    const theirs = r.peer.links.get(r);
    theirs?.delete(local);
    if (theirs?.size === 0) r.peer.links.delete(r);
    return true;
  }

  monitor(id: MonitorRef, watcher: RemoteWatcher, remote: Ref<never>): void {
    const r = remote as unknown as RemoteRef;
    if (!r.alive) {
      this.#deliverDown(watcher, id, r, r.peer.up ? 'noproc' : 'noconnection');
      return;
    }
    r.peer.watching.set(id, { watcher, target: r });
    this.control(r.peer, [MONITOR, this.node, this.boot, r.id, id]);
  }

  demonitor(id: MonitorRef, remote: Ref<never>): void {
    const r = remote as unknown as RemoteRef;
    if (r.peer.watching.delete(id)) this.control(r.peer, [DEMONITOR, this.node, this.boot, r.id, id]);
  }

  exit(from: Ref<never> | undefined, remote: Ref<never>, reason: SignalReason): void {
    const r = remote as unknown as RemoteRef;
    if (!r.alive) return;
    if (from !== undefined) this.export(from);
    this.control(r.peer, [EXIT, this.node, this.boot, r.id, from?.id ?? 0, reasonToWire(reason), 0]);
  }

  #deliverDown(watcher: RemoteWatcher, id: MonitorRef, target: RemoteRef, reason: ExitReason): void {
    if (typeof watcher === 'function') {
      try {
        watcher(reason, target as Ref<never>);
      } catch (e) {
        this.system.logger.error({ err: e, actor: String(target) }, 'a monitor callback threw');
      }
    } else this.hooks.down(watcher, id, target as Ref<never>, reason);
  }

  // ---- frames -----------------------------------------------------------------------------------

  /** Sends a control frame to `p`; dropped while NATS is down (the peer's loss then cleans up). */
  control(p: Peer, frame: unknown[]): void {
    if (!p.up) return;
    let data: Uint8Array;
    try {
      data = this.#codec.encode(frame, 'an exit signal');
    } catch {
      // A { shutdown: detail } whose detail is not data travels as its description.
      data = this.#codec.encode(frame.map(wireDescribed), 'an exit signal');
    }
    if (this.#tooBig(data)) {
      // An exit reason too big for the bus (a huge detail or stack) travels as a short
      // description, so links and monitors elsewhere still hear of the exit.
      data = this.#codec.encode(
        frame.map((part) => shrunk(part, `an exit reason of ${data.byteLength} bytes, too big for the bus`)),
        'an exit signal',
      );
    }
    this.#publish(p.subject, data);
  }

  /** Sends encoded bytes to a peer's subject (a frame the parts built on this one made). */
  publishTo(p: Peer, data: Uint8Array): void {
    if (p.up) this.#publish(p.subject, data);
  }

  /** Sends encoded bytes to any subject of the cluster. */
  publishRaw(subject: string, data: Uint8Array): void {
    if (this.connected) this.#publish(subject, data);
  }

  /** Encodes with this node's codec (for the parts built on it). */
  encode(value: unknown, what: string): Uint8Array {
    return this.#codec.encode(value, what);
  }

  /** Decodes with this node's codec; throws for bytes that are not a value. */
  decodeValue(data: Uint8Array): unknown {
    return this.#codec.decode(data);
  }

  /** The boot (run) of the node a ref's actor lives on. */
  bootOf(ref: Ref<never>): string {
    return ref instanceof RemoteRef ? ref.peer.boot : this.boot;
  }

  /** A message for the local actor `id`. */
  #onMessage(id: number, data: Uint8Array): void {
    this.framesIn++;
    let msg: unknown;
    try {
      msg = this.#codec.decode(data);
    } catch {
      this.malformed++;
      return;
    }
    const local = this.#exports.get(id);
    if (local !== undefined) (local as Ref<unknown>).send(msg);
    else this.undeliverable++;
  }

  #onFrame(data: Uint8Array, reply: string | undefined): void {
    this.framesIn++;
    let f: unknown;
    try {
      f = this.#codec.decode(data);
    } catch {
      this.malformed++;
      return;
    }
    if (!Array.isArray(f)) {
      this.malformed++;
      return;
    }
    const kind = f[0];
    if (kind === CALL) {
      this.#answer(f[1] as number, f[2], f[3], reply);
      return;
    }
    if (typeof f[1] !== 'string' || typeof f[2] !== 'string') {
      this.malformed++;
      return;
    }
    const p = this.#peers.get(f[1]);
    // From a run of that node that is over (or one never heard of): whatever it says is moot.
    if (p === undefined || p.boot !== f[2] || !p.up) return;
    this.#onControl(p, kind as number, f);
  }

  #onControl(p: Peer, kind: number, f: unknown[]): void {
    const hooks = this.hooks;
    switch (kind) {
      case LINK: {
        const local = this.#exports.get(f[3] as number);
        const remote = this.refOf(p, f[4] as number);
        if (local === undefined || !local.alive) {
          this.control(p, [EXIT, this.node, this.boot, f[4], f[3], 'noproc', 1]);
          return;
        }
        const mine = setIn(this.#links, local);
        mine.add(remote);
        const theirs = setIn(p.links, remote);
        theirs.add(local);
        return;
      }
      case UNLINK: {
        const local = this.#exports.get(f[3] as number);
        if (local !== undefined) this.#unpair(local, this.refOf(p, f[4] as number));
        return;
      }
      case EXIT: {
        const local = this.#exports.get(f[3] as number);
        if (local === undefined) return;
        const reason = reasonFromWire(f[5], p.name);
        if (f[6] === 1) {
          const remote = this.refOf(p, f[4] as number);
          // A link's signal counts only while the link is there (an unlink may have crossed it).
          if (!this.#unpair(local, remote)) return;
          remote.markDead();
          hooks.exitSignal(local, remote as Ref<never>, reason);
          return;
        }
        const from = f[4] === 0 ? local : (this.refOf(p, f[4] as number) as Ref<never>);
        hooks.exitSignal(local, from, reason);
        return;
      }
      case MONITOR: {
        const local = this.#exports.get(f[3] as number);
        if (local === undefined || !local.alive) {
          this.control(p, [DOWN, this.node, this.boot, f[4], 'noproc']);
          return;
        }
        const ids = setIn(p.watchedBy, local);
        ids.add(f[4] as number);
        const peers = setIn(this.#watchedBy, local);
        peers.add(p);
        return;
      }
      case DEMONITOR: {
        const local = this.#exports.get(f[3] as number);
        if (local === undefined) return;
        const ids = p.watchedBy.get(local);
        if (ids === undefined) return;
        ids.delete(f[4] as number);
        if (ids.size === 0) {
          p.watchedBy.delete(local);
          this.#watchedBy.get(local)?.delete(p);
        }
        return;
      }
      case DOWN: {
        const id = f[3] as MonitorRef;
        const m = p.watching.get(id);
        if (m === undefined) return;
        p.watching.delete(id);
        const reason = reasonFromWire(f[4], p.name) as ExitReason;
        m.target.markDead();
        this.#deliverDown(m.watcher, id, m.target, reason);
        return;
      }
      case RESYNC: {
        // It had declared this node down and forgotten what we shared; forget it here too. Even if
        // this node met it again only just: what this node sent it while it held this one down
        // (a monitor, a link made after this node's own flap) was dropped there, and a monitor left
        // here would wait for a DOWN nobody sends. At worst something made since ends once more
        // with noconnection, as it would have in a longer flap.
        if (!p.announced) return;
        // What it took from this node since it met it again (a monitor, a link) is undone there
        // too, so that it keeps nothing for the actors here that no longer count on it.
        for (const [id, m] of p.watching) this.control(p, [DEMONITOR, this.node, this.boot, m.target.id, id]);
        for (const [remote, locals] of p.links)
          for (const local of locals) this.control(p, [UNLINK, this.node, this.boot, remote.id, local.id]);
        this.#sever(p);
        hooks.nodeDown(p.name, 'noconnection');
        hooks.nodeUp(p.name);
        this.onPeerUp?.(p);
        return;
      }
      default:
        if (kind >= FIRST_EXTRA_KIND) this.extra?.(p, f);
        else this.malformed++;
    }
  }

  /**
   * @internal How much this node shares with `node` (for tests): links and monitors to its actors,
   * its monitors of actors here, calls waiting for it.
   */
  sharedWith(node: string): { links: number; monitors: number; watchedBy: number; calls: number } | undefined {
    const p = this.#peers.get(node);
    if (p === undefined) return undefined;
    let links = 0;
    for (const locals of p.links.values()) links += locals.size;
    let watchedBy = 0;
    for (const ids of p.watchedBy.values()) watchedBy += ids.size;
    return { links, monitors: p.watching.size, watchedBy, calls: p.calls.size };
  }

  /** Ends everything shared with every node (the cluster is being left). */
  close(): void {
    for (const p of [...this.#peers.values()]) this.peerDown(p.name, p.boot);
  }
}

/** The set under `key` in `map`, made on first use. */
function setIn<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}

/** The subject a node's run listens on. */
export function nodeSubject(cluster: string, node: string, boot: string): string {
  return `${cluster}.n.${node}.${boot}`;
}
