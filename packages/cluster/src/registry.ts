/**
 * The cluster registry: one name, one live actor, cluster-wide (OTP's `global`, Akka's cluster
 * singleton lookup). A name is a lease in a JetStream KV bucket: claimed with create-if-absent,
 * fenced by the revision the claim returned (every later change by its owner is a compare-and-swap
 * on that revision, so an owner that lost its lease can never undo a newer one), and released when
 * its actor exits, its node leaves, or its node is declared down (every node that sees the
 * `nodedown` tries the fenced delete; one succeeds). Lookups are answered from a local cache that a
 * watch of the bucket keeps current, without a round trip.
 *
 * NATS 2.9 has no per-key TTL and no expiry events, so nothing expires by itself: a node that
 * cannot reach NATS stops answering for its own names within half of `downAfterMs` of its last
 * heartbeat echo (it *suspends*), well before the others can declare it down and free them; when
 * it is back it checks each lease, keeps the ones still its own, claims again the ones that were
 * freed, and exits the actors whose names someone else now holds (`NameTakenError`), so two live
 * owners of one name never exist. Entries whose node is gone and that no `nodedown` cleared (the
 * whole cluster stopped, say) are removed by a periodic reconciliation.
 */
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ActorSystem, Key, type NameService, NameTakenError, type Ref, type RegisterResult } from 'troupe';
import type { Distribution } from './distribution.js';

/** A cluster-wide name: a string, or a typed `key<M>('name')` with a string name. */
export type ClusterName<M = never> = string | Key<M>;

/** Why a registry operation could not be done: NATS is out of reach, or the registry is closed. */
export class RegistryUnavailableError extends Error {
  override readonly name = 'RegistryUnavailableError';
}

interface Entry {
  readonly ref: Ref<never>;
  readonly rev: number;
  readonly node: string;
  readonly boot: string;
  /** When reconciliation first found its node gone (clock ms); -1 while its node lives. */
  orphanSince: number;
}

interface Held {
  readonly ref: Ref<never>;
  rev: number;
  /** Ends the monitor that frees the name when its actor exits (the name let go before that). */
  off?: () => void;
}

/** The wire value of an entry: the ref's record. */
interface EntryValue {
  readonly ref: Ref<never>;
}

function nameOf(name: unknown, where: string): string {
  const n = name instanceof Key ? name.name : name;
  if (typeof n !== 'string' || n.length === 0 || n.length > 1_024) {
    throw new TypeError(`${where}: a cluster name is a non-empty string (or key<M>('name')) of up to 1,024 characters`);
  }
  return n;
}

/** KV keys are subject tokens: a name travels as its base64url spelling. */
function kvKey(name: string): string {
  return Buffer.from(name, 'utf8').toString('base64url');
}

function fromKvKey(k: string): string {
  return Buffer.from(k, 'base64url').toString('utf8');
}

/** @internal */
export interface RegistryOptions {
  readonly bucket: string;
  readonly downAfterMs: number;
  /** Whether this node's lease on its names is current (its heartbeat came back recently). */
  readonly current: () => boolean;
}

/**
 * The cluster-wide registry of a node, as `cluster.registry`.
 * @example
 * const r = await cluster.registry.register('leader', ref);
 * if (!r.ok && r.reason === 'taken') console.log(`${r.ref} leads`);
 * cluster.registry.whereis<LeaderMsg>(LEADER)?.send({ type: 'hello' });
 */
export class ClusterRegistry {
  readonly #cache = new Map<string, Entry>();
  readonly #held = new Map<string, Held>();
  readonly #claiming = new Map<string, Ref<never>>();
  readonly #service: NameService<unknown>;
  #kv: KV | undefined;
  #watch: { stop(): void } | undefined;
  /** When the current watch has delivered every existing name. */
  #initialized: Promise<void> | undefined;
  #ready: Promise<void> | undefined;
  /**
   * Watches being made. `close` waits for them (each is a few JetStream requests, bounded by their
   * timeouts), not for a whole open, which also waits for the watch to catch up: a connection closed
   * while nats.js makes a watch leaves that watch's heartbeat timer running (it is started before the
   * subscribe that then throws), and the timer keeps the process alive, logging `closed connection`
   * every 5 s. A watch made is stopped by `close` or, made after it, by the open itself.
   */
  readonly #making = new Set<Promise<unknown>>();
  #closed = false;
  /**
   * From a reconnect until the bucket is open again and every lease this node holds has been
   * checked against it: the bucket may be gone, and a name this node held may have been freed and
   * taken meanwhile, so its own names are not answered for. `#reconnects` counts the checks begun,
   * so that only the newest one ends the doubt.
   */
  #inDoubt = false;
  #reconnects = 0;
  #reconcile: ReturnType<typeof setInterval> | undefined;
  /** Claims whose actor exited or lost the name, for tests and metrics. */
  lost = 0;

  /** @internal */
  constructor(
    private readonly system: ActorSystem,
    private readonly nc: NatsConnection,
    private readonly dist: Distribution,
    private readonly o: RegistryOptions,
  ) {
    const self = this;
    this.#service = {
      register(key, ref) {
        return self.#registerNow(nameOf(key, 'via'), ref);
      },
      unregister(key) {
        return self.unregisterNow(nameOf(key, 'via'));
      },
      whereis(key) {
        return self.whereis(nameOf(key, 'via'));
      },
    };
  }

  /** @internal Opens the bucket and loads the cache; resolves once lookups see every existing name. */
  open(): Promise<void> {
    this.#ready = this.#open();
    this.#reconcile = setInterval(() => this.#reconcileOrphans(), 2 * this.o.downAfterMs);
    this.#reconcile.unref();
    return this.#ready;
  }

  async #open(): Promise<void> {
    const kv = await new Kvm(this.nc).create(this.o.bucket, { history: 1, storage: 'memory' as never });
    if (this.#closed) return;
    this.#kv = kv;
    // Where the bucket is now: the watch has caught up once it delivered this revision or a later
    // one (it delivers every name's last entry, and this one is some name's last or was replaced
    // by a later one). Not only the watch's `delta`: on nats-server 2.9 a watch made just after a
    // name changed can count one more pending than it delivers (its delta never reaches 0, and the
    // open waited for the next change of any name; seen after a reconnect).
    const state = (await kv.status()).streamInfo.state;
    const empty = state.messages === 0;
    const last = state.last_seq;
    this.#watch?.stop();
    // Checked again here, synchronously before the watch starts: `close` waits only for watches it
    // can see, so none may start once it has begun.
    if (this.#closed) return;
    const making = (async () => {
      const w = await kv.watch();
      // Closed while the watch was being made (a reconnect's retry racing a leave): a watch left
      // running would have its heartbeat monitor resubscribe on a closed connection, and throw.
      if (this.#closed) w.stop();
      return w;
    })();
    this.#making.add(making);
    const watch = await making.finally(() => this.#making.delete(making));
    if (this.#closed) return;
    // Two opens in flight (a reconnect and its retry): the older watch goes.
    this.#watch?.stop();
    this.#watch = watch;
    // What the new watch delivers is the whole truth: entries it does not have are gone.
    this.#cache.clear();
    let caughtUp: () => void = () => {};
    let failed: (e: Error) => void = () => {};
    const initialized = new Promise<void>((resolve, reject) => {
      caughtUp = resolve;
      failed = reject;
    });
    this.#initialized = initialized;
    if (empty) caughtUp();
    void (async () => {
      for await (const e of watch) {
        this.#apply(e.key, e.operation, e.value, e.revision);
        if (e.delta === 0 || e.revision >= last) caughtUp();
      }
    })()
      .catch(() => {
        // The connection closed (leaving), or the bucket went with a restarted server: `reconnected` opens a new watch.
      })
      // A watch that ended before it caught up ends its open too, instead of leaving it waiting for
      // ever: leaving, it is done; stopped by a newer open, it is done when that one has caught up;
      // ended by itself, it failed (`reconnected` tries again).
      .finally(() => {
        if (this.#closed) caughtUp();
        else if (this.#watch !== watch && this.#initialized !== undefined) this.#initialized.then(caughtUp, failed);
        else failed(new Error('cluster.registry: the watch of the names ended before it caught up'));
      });
    await initialized;
  }

  /**
   * Claims `name` for the local actor `ref`, cluster-wide. Resolves `{ ok: true }` once the claim
   * is confirmed (every node's lookups see it within a watch's delivery); `{ ok: false, reason:
   * 'taken', ref }` with the holder's ref if another live actor holds it; `{ ok: false, reason:
   * 'dead' }` if `ref` exited first. Rejects with a `RegistryUnavailableError` while NATS is out of
   * reach. Only actors of this node can be registered here (each node claims for its own).
   * @example
   * const r = await cluster.registry.register('scheduler', ref);
   */
  register<M>(name: Key<M>, ref: Ref<M>): Promise<RegisterResult<M>>;
  register(name: string, ref: Ref<never>): Promise<RegisterResult<never>>;
  async register(name: ClusterName<unknown>, ref: Ref<never>): Promise<RegisterResult<never>> {
    const n = nameOf(name, 'cluster.registry.register(name, ref)');
    this.#assertLocal(ref, 'cluster.registry.register(name, ref)');
    const now = this.#taken(n, ref);
    if (now !== undefined) return now;
    return this.#claim(n, ref);
  }

  /**
   * The live actor registered under `name` anywhere in the cluster, or undefined; from the local
   * cache, so it costs no round trip. While this node cannot reach NATS, and after a reconnect
   * until its leases were checked again, its own names answer undefined (its lease on them is in
   * doubt).
   * @example cluster.registry.whereis(LEADER)?.send({ type: 'hello' });
   */
  whereis<M>(name: Key<M>): Ref<M> | undefined;
  whereis(name: string): Ref<never> | undefined;
  whereis(name: ClusterName<unknown>): Ref<never> | undefined {
    const e = this.#cache.get(nameOf(name, 'cluster.registry.whereis(name)'));
    if (e === undefined || !e.ref.alive) return undefined;
    if (e.node === this.dist.node && (this.#inDoubt || !this.o.current())) return undefined;
    return e.ref;
  }

  /**
   * Whether claims can be made now: NATS is connected, the bucket is open (after a reconnect, open
   * again), and this node's lease on its names is current (its heartbeat came back recently).
   * While it is false, `register` may reject with a `RegistryUnavailableError` and this node's own
   * names look up as undefined. After a reconnect it is false until the bucket is open again and
   * each name this node holds was checked against it (a round trip or two).
   */
  get available(): boolean {
    return !this.#closed && !this.#inDoubt && this.#kv !== undefined && this.#usable();
  }

  #usable(): boolean {
    return this.dist.connected && this.o.current();
  }

  /**
   * Releases `name` if this node holds it; resolves false if it does not. The release is fenced:
   * it removes the entry only if it is still this node's claim.
   */
  async unregister(name: ClusterName<unknown>): Promise<boolean> {
    const n = nameOf(name, 'cluster.registry.unregister(name)');
    const h = this.#held.get(n);
    if (h === undefined) return false;
    this.#held.delete(n);
    h.off?.();
    await this.#release(n, h.rev);
    return true;
  }

  /** @internal The `unregister` of a `via` name: starts the fenced release, answers at once. */
  unregisterNow(name: string): boolean {
    const h = this.#held.get(name);
    if (h === undefined) return false;
    this.#held.delete(name);
    h.off?.();
    void this.#release(name, h.rev);
    return true;
  }

  /** Every name in the cluster, as this node's cache knows them, sorted. */
  names(): string[] {
    return [...this.#cache.keys()].sort();
  }

  /** The names this node holds (its confirmed claims), sorted. */
  held(): string[] {
    return [...this.#held.keys()].sort();
  }

  /**
   * The `name` option of `spawn` or of a child spec for a cluster-wide name (OTP's `{via, global,
   * Name}`): the actor is registered as it starts. A name the cache shows taken fails the spawn
   * with `NameTakenError` (a supervisor's `already_started`). The claim is confirmed a moment later;
   * if another node won the same name meanwhile, the actor exits with a `NameTakenError`.
   * @example
   * supervisor({ children: [{ id: 'leader', behavior: Leader, name: cluster.registry.via('leader') }] });
   */
  via(name: ClusterName<unknown>): { readonly via: NameService<never>; readonly key: string } {
    return { via: this.#service as NameService<never>, key: nameOf(name, 'cluster.registry.via(name)') };
  }

  #assertLocal(ref: Ref<never>, where: string): void {
    if (this.dist.owns(ref)) {
      throw new TypeError(`${where}: ${String(ref)} is an actor of node '${ref.node}'; register it there`);
    }
  }

  /** The result of registering `ref` under `name` if it is decided without NATS; undefined if not. */
  #taken(name: string, ref: Ref<never>): RegisterResult<never> | undefined {
    if (!ref.alive) return { ok: false, reason: 'dead' };
    const claimant = this.#claiming.get(name) ?? this.#held.get(name)?.ref;
    if (claimant === ref && this.#held.has(name)) return { ok: true };
    if (claimant?.alive) return { ok: false, reason: 'taken', ref: claimant };
    const e = this.#cache.get(name);
    if (e?.ref === ref && this.#held.has(name)) return { ok: true };
    if (e?.ref.alive && e.ref !== ref) return { ok: false, reason: 'taken', ref: e.ref };
    return undefined;
  }

  /** `via`: decided from what this node knows now; the claim is confirmed (or lost) later. */
  #registerNow(name: string, ref: Ref<never>): RegisterResult<unknown> {
    const now = this.#taken(name, ref);
    if (now !== undefined) return now as RegisterResult<unknown>;
    void this.#claim(name, ref).then(
      (r) => {
        if (!r.ok && r.reason === 'taken') this.#evict(ref, name, r.ref);
      },
      (e: unknown) => this.#evict(ref, name, undefined, e),
    );
    return { ok: true };
  }

  /** A `via` claimant that did not get its name exits: it must not run as if it held it. */
  #evict(ref: Ref<never>, name: string, holder: Ref<never> | undefined, cause?: unknown): void {
    this.lost++;
    if (!ref.alive) return;
    const reason =
      holder !== undefined
        ? new NameTakenError(name, holder)
        : new RegistryUnavailableError(`cluster name '${name}' could not be claimed: ${String(cause)}`);
    this.system.exit(ref, reason);
  }

  async #claim(name: string, ref: Ref<never>): Promise<RegisterResult<never>> {
    this.#claiming.set(name, ref);
    try {
      await this.#ready?.catch(() => {});
      const kv = this.#kvOrThrow();
      const value = this.dist.encode({ ref } satisfies EntryValue, 'a registry entry');
      let rev: number | undefined;
      for (let attempt = 0; rev === undefined; attempt++) {
        try {
          rev = await kv.create(kvKey(name), value);
        } catch (e) {
          const holder = await this.#holder(kv, name);
          // Only this node writes entries that name its actors: one whose actor is not alive is an
          // earlier run's (this node restarted under its name before anyone declared that run
          // down) or an exited actor's whose release has not landed. Freed (fenced by its
          // revision), and claimed again.
          const stale = holder !== undefined && holder.ref.node === this.dist.node && !holder.ref.alive;
          if (attempt === 0 && (holder === undefined || stale)) {
            if (stale) await this.#release(name, holder.rev);
            continue;
          }
          if (holder !== undefined) return { ok: false, reason: 'taken', ref: holder.ref };
          throw new RegistryUnavailableError(`cluster.registry: claiming '${name}' failed: ${String(e)}`, {
            cause: e,
          });
        }
      }
      if (!ref.alive) {
        await this.#release(name, rev);
        return { ok: false, reason: 'dead' };
      }
      const held: Held = { ref, rev };
      this.#held.set(name, held);
      // Seen here at once; the watch brings the same entry a moment later (and to every other node).
      this.#cache.set(name, { ref, rev, node: this.dist.node, boot: this.dist.boot, orphanSince: -1 });
      held.off = this.system.monitor(ref, () => {
        const h = this.#held.get(name);
        if (h?.ref !== ref) return;
        this.#held.delete(name);
        void this.#release(name, h.rev);
      });
      return { ok: true };
    } finally {
      if (this.#claiming.get(name) === ref) this.#claiming.delete(name);
    }
  }

  async #holder(kv: KV, name: string): Promise<{ ref: Ref<never>; rev: number } | undefined> {
    try {
      const e = await kv.get(kvKey(name));
      if (e === null || e.operation !== 'PUT') return undefined;
      return { ref: (this.dist.decodeValue(e.value) as EntryValue).ref, rev: e.revision };
    } catch {
      return undefined;
    }
  }

  #kvOrThrow(): KV {
    if (this.#closed) throw new RegistryUnavailableError('cluster.registry: the cluster was left');
    if (this.#kv === undefined || !this.dist.connected) {
      throw new RegistryUnavailableError('cluster.registry: NATS is out of reach');
    }
    if (!this.o.current()) {
      throw new RegistryUnavailableError(
        "cluster.registry: this node's lease on its names is in doubt (its heartbeat has not come back lately)",
      );
    }
    return this.#kv;
  }

  /** The fenced delete: only the revision given, never a newer claim. */
  async #release(name: string, rev: number): Promise<void> {
    try {
      await this.#kv?.delete(kvKey(name), { previousSeq: rev });
    } catch {
      // Not ours any more (someone freed it and it was claimed again), or NATS is away: then the
      // reconciliation after the reconnect decides.
    }
  }

  #apply(key: string, op: string, value: Uint8Array, rev: number): void {
    let name: string;
    try {
      name = fromKvKey(key);
    } catch {
      return;
    }
    if (op !== 'PUT') {
      this.#cache.delete(name);
      this.#lostIfNotOurs(name, undefined);
      return;
    }
    let v: EntryValue;
    try {
      v = this.dist.decodeValue(value) as EntryValue;
    } catch {
      return;
    }
    const ref = v?.ref;
    if (ref === undefined || ref === null || typeof ref !== 'object') return;
    this.#cache.set(name, { ref, rev, node: ref.node, boot: this.dist.bootOf(ref), orphanSince: -1 });
    this.#lostIfNotOurs(name, rev);
  }

  /** A name this node holds changed: to its own actor (a claim of ours), or to another's: then it is lost. */
  #lostIfNotOurs(name: string, rev: number | undefined): void {
    const h = this.#held.get(name);
    if (h === undefined || h.rev === rev) return;
    // A delete of our own revision while we still hold the name: someone declared this node down.
    // Claim it again (the reconnect check does the same, if this node was cut off).
    if (rev === undefined) {
      const kv = this.#kv;
      if (kv !== undefined && this.#usable()) void this.#recheck(kv, name, h);
      return;
    }
    const holder = this.#cache.get(name)?.ref;
    // Only this node writes entries that name its own actors: a claim of ours (one made again after
    // a reconnect, whose watch event came before the create's answer).
    if (holder === h.ref) {
      h.rev = rev;
      return;
    }
    this.#held.delete(name);
    this.#evict(h.ref, name, holder);
  }

  /** @internal A node (that run of it) is down: free its names, fenced by their revisions. */
  nodeDown(node: string, boot: string): void {
    // Closed (this node is leaving): the others are not down, only out of this node's sight now.
    // Their names are theirs to keep; freeing them here would let anyone take them from live actors.
    if (this.#closed) return;
    for (const [name, e] of this.#cache) {
      if (e.node === node && e.boot === boot) void this.#release(name, e.rev);
    }
  }

  /**
   * @internal NATS is back: re-open if the bucket was lost (a restarted server keeps no memory
   * bucket), then check each lease: still ours, kept; freed, claimed again; taken, its actor exits.
   */
  async reconnected(): Promise<void> {
    if (this.#closed) return;
    const run = ++this.#reconnects;
    this.#inDoubt = true;
    // A server that just started may not serve JetStream yet: try again until it does.
    for (let attempt = 0; ; attempt++) {
      if (this.#closed || !this.dist.connected) return;
      try {
        this.#ready = this.#open();
        await this.#ready;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(1_000, 100 * (attempt + 1))).unref());
      }
    }
    const kv = this.#kv;
    if (kv === undefined) return;
    let unsure = false;
    for (const [name, h] of [...this.#held]) if (!(await this.#recheck(kv, name, h))) unsure = true;
    if (unsure) setTimeout(() => void this.reconnected(), 500).unref();
    else if (run === this.#reconnects) this.#inDoubt = false;
  }

  /**
   * Checks one lease against the bucket: still this node's, kept; freed, claimed again; taken, its
   * actor exits. False if NATS could not say (then the caller tries again).
   */
  async #recheck(kv: KV, name: string, h: Held): Promise<boolean> {
    let e: Awaited<ReturnType<KV['get']>>;
    try {
      e = await kv.get(kvKey(name));
    } catch {
      return false;
    }
    if (this.#held.get(name) !== h) return true;
    if (e !== null && e.operation === 'PUT') {
      const v = this.dist.decodeValue(e.value) as EntryValue;
      if (v.ref === h.ref) {
        h.rev = e.revision;
        return true;
      }
      this.#held.delete(name);
      this.#evict(h.ref, name, v.ref);
      return true;
    }
    try {
      h.rev = await kv.create(kvKey(name), this.dist.encode({ ref: h.ref } satisfies EntryValue, 'a registry entry'));
      return true;
    } catch {
      const holder = (await this.#holder(kv, name))?.ref;
      // Not taken, and the create failed; or our own claim made meanwhile by the other path: look again.
      if (holder === undefined || holder === h.ref) return false;
      if (this.#held.get(name) === h) {
        this.#held.delete(name);
        this.#evict(h.ref, name, holder);
      }
      return true;
    }
  }

  /** Entries of nodes that are gone, which no `nodedown` freed: freed after two `downAfterMs`. */
  #reconcileOrphans(): void {
    if (this.#kv === undefined || !this.#usable()) return;
    const now = performance.now();
    for (const [name, e] of this.#cache) {
      const live = e.node === this.dist.node ? e.boot === this.dist.boot : this.dist.peer(e.node)?.boot === e.boot;
      if (live) {
        e.orphanSince = -1;
        continue;
      }
      if (e.orphanSince < 0) e.orphanSince = now;
      else if (now - e.orphanSince >= 2 * this.o.downAfterMs) void this.#release(name, e.rev);
    }
  }

  /** @internal Leaving: frees this node's names (fenced) and stops. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#reconcile !== undefined) clearInterval(this.#reconcile);
    this.#watch?.stop();
    await Promise.allSettled([...this.#making]);
    const held = [...this.#held];
    this.#held.clear();
    for (const [, h] of held) h.off?.();
    await Promise.all(held.map(([name, h]) => this.#release(name, h.rev)));
  }
}
