/**
 * Process groups (packages/cluster/src/groups.ts) on an in-process bus between two nodes that can
 * lose frames on purpose: the losses a real network makes only by bad luck. The same code runs over
 * real NATS in groups.test.ts and nats-down.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessGroups } from '@troupe/cluster';
import { ActorSystem, type Ref, silentLogger } from 'troupe';
import { settle } from 'troupe/testing';

interface FakePeer {
  readonly name: string;
  readonly boot: string;
  up: boolean;
}

/** A node's side of the bus: what ProcessGroups uses of a Distribution. */
class FakeDist {
  connected = true;
  /** Control frames from this node to the other are lost while true. */
  dropControl = false;
  malformed = 0;
  extra: ((p: FakePeer, f: unknown[]) => void) | undefined;
  onPeerDown: ((p: FakePeer) => void) | undefined;
  onPeerUp: ((p: FakePeer) => void) | undefined;
  other: FakeDist | undefined;
  readonly peers = new Map<string, FakePeer>();
  readonly subs: Array<(err: null, m: { data: unknown }) => void> = [];
  readonly nc = {
    subscribe: (_subject: string, o: { callback: (err: null, m: { data: unknown }) => void }) => {
      this.subs.push(o.callback);
      return { unsubscribe() {} };
    },
  };
  constructor(
    readonly node: string,
    readonly boot: string,
  ) {}
  encode(v: unknown): unknown {
    return structuredClone(v);
  }
  decodeValue(d: unknown): unknown {
    return d;
  }
  fits(): void {}
  owns(): boolean {
    return false;
  }
  export(): void {}
  peer(name: string): FakePeer | undefined {
    return this.peers.get(name);
  }
  refOf(p: FakePeer, id: number): Ref<never> {
    return { id, node: p.name, alive: true } as unknown as Ref<never>;
  }
  /** A broadcast reaches the other node only while both are connected. */
  publishRaw(_subject: string, data: unknown): void {
    const o = this.other as FakeDist;
    if (this.connected && o.connected) for (const cb of o.subs) cb(null, { data: structuredClone(data) });
  }
  control(_p: FakePeer, frame: unknown[]): void {
    const o = this.other as FakeDist;
    if (!this.connected || !o.connected || this.dropControl) return;
    o.extra?.(o.peers.get(this.node) as FakePeer, structuredClone(frame));
  }
  publishTo(p: FakePeer, data: unknown): void {
    this.control(p, data as unknown[]);
  }
}

function pair() {
  const system = new ActorSystem({ logger: silentLogger });
  const da = new FakeDist('a', 'a1');
  const db = new FakeDist('b', 'b1');
  da.other = db;
  db.other = da;
  da.peers.set('b', { name: 'b', boot: 'b1', up: true });
  db.peers.set('a', { name: 'a', boot: 'a1', up: true });
  const a = new ProcessGroups(system, da as never, 'c');
  const b = new ProcessGroups(system, db as never, 'c');
  // Both come up for each other, as membership says so.
  da.onPeerUp?.(da.peers.get('b') as FakePeer);
  db.onPeerUp?.(db.peers.get('a') as FakePeer);
  return { system, a, b, da, db };
}

test("a snapshot request lost on the way is asked again once the other node is back, and b sees a's members", async () => {
  const { system, a, b, da, db } = pair();
  const member = () => system.spawn((_m: unknown) => {}) as Ref<never>;
  a.join('g', member());
  assert.equal(b.members('g').length, 1);
  // A change a makes while cut off goes nowhere; the next one shows b a gap, and b asks a for a
  // snapshot, which is lost.
  da.connected = false;
  a.join('g', member());
  da.connected = true;
  db.dropControl = true;
  a.join('g', member());
  db.dropControl = false;
  assert.equal(b.members('g').length, 1, "b waits for the snapshot it asked for; a's changes wait with it");
  a.join('g', member());
  assert.equal(b.members('g').length, 1);
  // a's connection goes and comes back: it says where its sequence is, and b asks again.
  da.connected = false;
  da.connected = true;
  a.reconnected();
  await settle(system);
  assert.equal(b.members('g').length, 4, "b has all of a's members again");
  // And follows a's changes from there.
  a.join('g', member());
  assert.equal(b.members('g').length, 5);
  await system.shutdown();
});
