/**
 * Process groups, as OTP's `pg`: any actor may join any number of groups, an actor in several
 * times counts once per join, and every node knows every group's members cluster-wide. A publish to
 * a group sends to its local members directly and crosses to each other node that has members once
 * (one NATS message per node), where that node fans it out to its own.
 *
 * Each node is the authority on its own members. It broadcasts its joins and leaves on
 * `<cluster>.pg`, each numbered in one sequence per node run; a node that comes up is sent every
 * other node's whole membership as a snapshot at that sequence. A receiver applies a change only if
 * it is the next of that node's sequence; one older than its snapshot is already in it, and a gap
 * asks for a fresh snapshot. A node that goes down takes its members with it. Changes made while a
 * node's NATS connection was down went nowhere (and changes of others it may have missed): when it
 * is back it says where its sequence is and asks the others for theirs, and whoever is behind asks
 * for a snapshot.
 */
import { type ActorSystem, Key, type Ref } from 'troupe';
import { type Distribution, FIRST_EXTRA_KIND, type Peer, type RemoteRef } from './distribution.js';

const JOIN = FIRST_EXTRA_KIND;
const LEAVE = FIRST_EXTRA_KIND + 1;
const SNAPSHOT = FIRST_EXTRA_KIND + 2;
const WANT_SNAPSHOT = FIRST_EXTRA_KIND + 3;
const PUBLISH = FIRST_EXTRA_KIND + 4;
/** `[SEQ, node, boot, seq, ask]`: where a node's sequence is (after a reconnect); `ask`: and say where yours is. */
const SEQ = FIRST_EXTRA_KIND + 5;

/** A group name: a string, or a typed `key<M>('name')` whose members accept `M`. */
export type GroupName<M = never> = string | Key<M>;

function groupOf(name: unknown, where: string): string {
  const n = name instanceof Key ? name.name : name;
  if (typeof n !== 'string' || n.length === 0 || n.length > 1_024) {
    throw new TypeError(`${where}: a group name is a non-empty string (or key<M>('name')) of up to 1,024 characters`);
  }
  return n;
}

/** What one other node's members are, as far as this node knows. */
interface Remote {
  /** The last change of its sequence applied; -1 before its snapshot arrived. */
  seq: number;
  /** A snapshot was asked for and has not come yet. */
  asked: boolean;
  readonly groups: Map<string, RemoteRef[]>;
}

/**
 * The process groups of a node, as `cluster.groups`.
 * @example
 * cluster.groups.join('chat:lobby', ref);
 * cluster.groups.publish('chat:lobby', { type: 'say', text: 'hello' });
 * cluster.groups.members('chat:lobby'); // every member, on every node
 */
export class ProcessGroups {
  /** Local members by group, in join order (an actor joined twice is there twice). */
  readonly #local = new Map<string, Ref<never>[]>();
  /** The groups each local member is in, for its exit. */
  readonly #memberOf = new Map<Ref<never>, string[]>();
  /** The monitor of each local member, ended when it leaves its last group. */
  readonly #watches = new Map<Ref<never>, () => void>();
  readonly #remote = new Map<Peer, Remote>();
  readonly #subject: string;
  #seq = 0;
  #closed = false;
  #off: (() => void) | undefined;

  /** @internal */
  constructor(
    private readonly system: ActorSystem,
    private readonly dist: Distribution,
    cluster: string,
  ) {
    this.#subject = `${cluster}.pg`;
    dist.extra = (p, f) => this.#onFrame(p, f);
    dist.onPeerDown = (p) => this.#remote.delete(p);
    dist.onPeerUp = (p) => this.peerUp(p);
    const sub = dist.nc.subscribe(this.#subject, {
      callback: (err, m) => {
        if (err !== null) return;
        let f: unknown;
        try {
          f = dist.decodeValue(m.data);
        } catch {
          dist.malformed++;
          return;
        }
        if (!Array.isArray(f) || typeof f[1] !== 'string' || typeof f[2] !== 'string') return;
        if (f[1] === dist.node) return;
        const p = dist.peer(f[1]);
        if (p !== undefined && p.boot === f[2]) this.#onFrame(p, f);
      },
    });
    this.#off = () => sub.unsubscribe();
  }

  /**
   * Adds the local actor `ref` to `group` (again, if it is in it already: OTP's pg counts joins).
   * It leaves every group when it exits.
   * @example cluster.groups.join(ROOM, ref);
   */
  join<M>(group: Key<M>, ref: Ref<M>): void;
  join(group: string, ref: Ref<never>): void;
  join(group: GroupName<unknown>, ref: Ref<never>): void {
    const g = groupOf(group, 'cluster.groups.join(group, ref)');
    if (this.dist.owns(ref)) {
      throw new TypeError(`cluster.groups.join: ${String(ref)} is an actor of node '${ref.node}'; join it there`);
    }
    if (!ref.alive) return;
    this.dist.export(ref);
    let list = this.#local.get(g);
    if (list === undefined) {
      list = [];
      this.#local.set(g, list);
    }
    list.push(ref);
    let of = this.#memberOf.get(ref);
    if (of === undefined) {
      of = [];
      this.#memberOf.set(ref, of);
      this.#watches.set(
        ref,
        this.system.monitor(ref, () => this.#exited(ref)),
      );
    }
    of.push(g);
    this.#broadcast([JOIN, this.dist.node, this.dist.boot, ++this.#seq, g, [ref.id]]);
  }

  /** Removes one join of the local actor `ref` from `group`; false if it was not in it. */
  leave<M>(group: Key<M>, ref: Ref<M>): boolean;
  leave(group: string, ref: Ref<never>): boolean;
  leave(group: GroupName<unknown>, ref: Ref<never>): boolean {
    const g = groupOf(group, 'cluster.groups.leave(group, ref)');
    const list = this.#local.get(g);
    const i = list?.indexOf(ref) ?? -1;
    if (list === undefined || i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.#local.delete(g);
    const of = this.#memberOf.get(ref);
    of?.splice(of.indexOf(g), 1);
    if (of?.length === 0) {
      this.#memberOf.delete(ref);
      this.#watches.get(ref)?.();
      this.#watches.delete(ref);
    }
    this.#broadcast([LEAVE, this.dist.node, this.dist.boot, ++this.#seq, g, [ref.id]]);
    return true;
  }

  /** Every member of `group` on every node (local ones first), once per join. */
  members<M>(group: Key<M>): Ref<M>[];
  members(group: string): Ref<never>[];
  members(group: GroupName<unknown>): Ref<never>[] {
    const g = groupOf(group, 'cluster.groups.members(group)');
    const out = [...(this.#local.get(g) ?? [])];
    for (const r of this.#remote.values()) {
      const refs = r.groups.get(g);
      if (refs !== undefined) for (const ref of refs) out.push(ref as Ref<never>);
    }
    return out;
  }

  /** The members of `group` on this node. */
  localMembers<M>(group: Key<M>): Ref<M>[];
  localMembers(group: string): Ref<never>[];
  localMembers(group: GroupName<unknown>): Ref<never>[] {
    return [...(this.#local.get(groupOf(group, 'cluster.groups.localMembers(group)')) ?? [])];
  }

  /** Every group with a member anywhere, sorted. */
  groups(): string[] {
    const all = new Set(this.#local.keys());
    for (const r of this.#remote.values()) for (const g of r.groups.keys()) all.add(g);
    return [...all].sort();
  }

  /**
   * Sends `msg` to every member of `group`: local members directly, and one message to each other
   * node with members, which delivers it to its own. Returns how many nodes it went to, this one
   * included if it has members. A message that cannot travel to the other nodes with members throws
   * a `TypeError`, and one too big for the NATS server's `max_payload` a `RangeError`, before
   * anything is sent (local members get nothing either). With no other node to reach (none has
   * members, or NATS is away), it is not encoded at all, and goes to the local members.
   * @example cluster.groups.publish(ROOM, { type: 'say', text: 'hi' });
   */
  publish<M>(group: Key<M>, msg: M): number;
  publish(group: string, msg: unknown): number;
  publish(group: GroupName<unknown>, msg: unknown): number {
    const g = groupOf(group, 'cluster.groups.publish(group, msg)');
    const targets: Peer[] = [];
    for (const [p, r] of this.#remote) if (r.groups.has(g) && p.up) targets.push(p);
    let nodes = 0;
    if (targets.length > 0 && this.dist.connected) {
      const what = `cluster.groups.publish('${g}', msg)`;
      const data = this.dist.encode([PUBLISH, this.dist.node, this.dist.boot, g, msg], what);
      // Too big for the bus: nobody gets it, rather than the local members alone.
      this.dist.fits(data, what);
      for (const p of targets) this.dist.publishTo(p, data);
      nodes += targets.length;
    }
    const local = this.#local.get(g);
    if (local !== undefined) {
      for (const ref of local) (ref as Ref<unknown>).send(msg);
      nodes++;
    }
    return nodes;
  }

  #exited(ref: Ref<never>): void {
    const of = this.#memberOf.get(ref);
    if (of === undefined) return;
    this.#memberOf.delete(ref);
    this.#watches.delete(ref);
    for (const g of new Set(of)) {
      const list = this.#local.get(g);
      if (list === undefined) continue;
      const kept = list.filter((r) => r !== ref);
      const gone = list.length - kept.length;
      if (kept.length === 0) this.#local.delete(g);
      else this.#local.set(g, kept);
      this.#broadcast([LEAVE, this.dist.node, this.dist.boot, ++this.#seq, g, new Array(gone).fill(ref.id)]);
    }
  }

  #broadcast(frame: unknown[]): void {
    if (this.#closed) return;
    this.dist.publishRaw(this.#subject, this.dist.encode(frame, 'a group change'));
  }

  /**
   * @internal A node came up: it gets this node's whole membership, and is asked for its own (the
   * one it sent when it heard of this node may have come before this node heard of it).
   */
  peerUp(p: Peer): void {
    this.#remote.set(p, { seq: -1, asked: true, groups: new Map() });
    this.#sendSnapshot(p);
    this.dist.control(p, [WANT_SNAPSHOT, this.dist.node, this.dist.boot]);
  }

  /**
   * @internal The NATS connection is back: the others hear where this node's sequence is (changes
   * made meanwhile went nowhere) and say where theirs are (this node may have missed some).
   */
  reconnected(): void {
    // A snapshot asked for before the connection went may never come: the beacons decide again.
    for (const r of this.#remote.values()) r.asked = false;
    this.#broadcast([SEQ, this.dist.node, this.dist.boot, this.#seq, 1]);
  }

  #sendSnapshot(p: Peer): void {
    const groups: Array<[string, number[]]> = [];
    for (const [g, refs] of this.#local) groups.push([g, refs.map((r) => r.id)]);
    this.dist.control(p, [SNAPSHOT, this.dist.node, this.dist.boot, this.#seq, groups]);
  }

  #onFrame(p: Peer, f: unknown[]): void {
    const kind = f[0];
    if (kind === PUBLISH) {
      const local = this.#local.get(f[3] as string);
      if (local !== undefined) for (const ref of local) (ref as Ref<unknown>).send(f[4]);
      return;
    }
    if (kind === WANT_SNAPSHOT) {
      this.#sendSnapshot(p);
      return;
    }
    let r = this.#remote.get(p);
    if (r === undefined) {
      r = { seq: -1, asked: false, groups: new Map() };
      this.#remote.set(p, r);
    }
    const seq = f[3] as number;
    if (kind === SEQ) {
      if (f[4] === 1) {
        this.dist.control(p, [SEQ, this.dist.node, this.dist.boot, this.#seq, 0]);
        // It was away: a snapshot asked of it meanwhile may be lost.
        r.asked = false;
      }
      // Behind (or never given a snapshot): a fresh one, asked for once.
      if ((r.seq < 0 || seq > r.seq) && !r.asked) {
        r.seq = -1;
        r.asked = true;
        this.dist.control(p, [WANT_SNAPSHOT, this.dist.node, this.dist.boot]);
      }
      return;
    }
    if (kind === SNAPSHOT) {
      r.groups.clear();
      for (const [g, ids] of f[4] as Array<[string, number[]]>) {
        r.groups.set(
          g,
          ids.map((id) => this.dist.refOf(p, id)),
        );
      }
      r.seq = seq;
      r.asked = false;
      return;
    }
    if (kind !== JOIN && kind !== LEAVE) return;
    if (r.seq >= 0 && seq <= r.seq) return; // in its snapshot already
    if (r.seq < 0 || seq !== r.seq + 1) {
      // Before any snapshot, or a change was missed: start again from a snapshot (asked for once).
      r.seq = -1;
      if (!r.asked) {
        r.asked = true;
        this.dist.control(p, [WANT_SNAPSHOT, this.dist.node, this.dist.boot]);
      }
      return;
    }
    r.seq = seq;
    const g = f[4] as string;
    const ids = f[5] as number[];
    let list = r.groups.get(g);
    if (kind === JOIN) {
      if (list === undefined) {
        list = [];
        r.groups.set(g, list);
      }
      for (const id of ids) list.push(this.dist.refOf(p, id));
      return;
    }
    if (list === undefined) return;
    for (const id of ids) {
      const i = list.findIndex((ref) => ref.id === id);
      if (i >= 0) list.splice(i, 1);
    }
    if (list.length === 0) r.groups.delete(g);
  }

  /** @internal Leaving: this node's members are gone for the others. */
  close(): void {
    this.#closed = true;
    this.#off?.();
    for (const off of this.#watches.values()) off();
    this.#watches.clear();
  }
}
