import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ActorInfo,
  ActorSystem,
  dynamicSupervisor,
  key,
  type Ref,
  type SystemEvent,
  silentLogger,
  startChild,
  supervisor,
  whichChildren,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type Msg = { type: 'work' } | { type: 'boom' };
const worker = (m: Msg) => {
  if (m.type === 'boom') throw new Error('boom');
};

function find(nodes: readonly ActorInfo[], pred: (n: ActorInfo) => boolean): ActorInfo | undefined {
  for (const n of nodes) {
    if (pred(n)) return n;
    const inChild = find(n.children, pred);
    if (inChild) return inChild;
  }
  return undefined;
}

describe('system.inspect', () => {
  it('returns the live tree: supervisors and children with ids, names, status and counts', async () => {
    const clock = new SimulatedClock();
    const system = new ActorSystem({ clock, logger: silentLogger });
    const rooms = dynamicSupervisor({ child: { behavior: worker } });
    const root = await system.start(
      supervisor({
        children: [
          { id: 'rooms', behavior: rooms },
          { id: 'clock', behavior: worker },
        ],
      }),
      { name: 'root' },
    );
    const roomsRef = (await whichChildren(root))[0]?.ref as never;
    const r = await startChild(roomsRef, undefined);
    assert.ok(r.ok);
    const loner = system.spawn(worker, { label: 'loner' });

    const snap = system.inspect();
    assert.equal(snap.actors, 5);
    assert.deepEqual(
      snap.roots.map((n) => n.ref),
      [root, loner],
    );
    const rootInfo = snap.roots[0] as ActorInfo;
    assert.deepEqual(rootInfo.names, ['root']);
    assert.deepEqual(
      rootInfo.children.map((c) => c.childId),
      ['rooms', 'clock'],
    );
    assert.equal(rootInfo.children[0]?.children.length, 1);
    assert.equal(snap.roots[1]?.label, 'loner');
    assert.equal(snap.roots[1]?.restarts, undefined, 'unsupervised actors have no restart count');

    // Counts move as messages flow, and restarts and uptime show.
    const child = (r.ok ? r.ref : undefined) as unknown as Ref<Msg>;
    child.send({ type: 'work' });
    child.send({ type: 'work' });
    await settle(system);
    clock.advance(1_500);
    child.send({ type: 'boom' });
    await settle(system);
    clock.advance(250);
    const after = find(system.inspect().roots, (n) => n.ref === (child as Ref<never>));
    assert.ok(after);
    assert.equal(after.handled, 3);
    assert.equal(after.restarts, 1);
    assert.equal(after.uptimeMs, 250);
    assert.equal(after.status, 'idle');
    assert.equal(after.mailbox, 0);
    await system.shutdown();
  });

  it('shows queued mail and the status of a waiting actor', async () => {
    const system = new ActorSystem();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = system.spawn(async (_: string) => {
      await gate;
    });
    slow.send('a');
    slow.send('b');
    slow.send('c');
    await settle(system);
    const info = system.inspect().roots[0];
    assert.equal(info?.status, 'waiting');
    assert.equal(info?.mailbox, 2);
    release();
    await settle(system);
    assert.equal(system.inspect().roots[0]?.handled, 3);
  });
});

describe('system.subscribe', () => {
  it('streams spawned, crashed, restarted, dead_letter, exited and intensity_exceeded events', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const events: SystemEvent[] = [];
    const unsubscribe = system.subscribe((e) => events.push(e));
    const W = key<Msg>('w');
    await system.start(supervisor({ maxRestarts: 1, children: [{ id: 'w', behavior: worker, name: W }] }));
    // Found by name: a whichChildren call would be one more event (a `call`).
    const w = system.whereis(W) as Ref<Msg>;
    w.send({ type: 'boom' });
    await settle(system);
    w.send({ type: 'boom' });
    await settle(system);
    w.send({ type: 'work' });
    const types = events.map((e) => e.type);
    assert.deepEqual(types, [
      'spawned', // the supervisor
      'spawned', // w
      'crashed',
      'dead_letter', // the poison message
      'restarted',
      'crashed',
      'dead_letter',
      'intensity_exceeded',
      'exited', // w, retired
      'exited', // the supervisor, with shutdown
      'dead_letter', // the last send, to a dead ref
    ]);
    const exit = events.filter((e) => e.type === 'exited').at(-1);
    assert.equal(exit?.type === 'exited' && exit.reason, 'shutdown');
    unsubscribe();
    system.spawn(worker);
    assert.equal(events.length, types.length, 'nothing after unsubscribing');
  });

  it('isolates a throwing listener', () => {
    const errors: string[] = [];
    const system = new ActorSystem({ logger: { error: (_o, m) => errors.push(String(m)), warn() {} } });
    system.subscribe(() => {
      throw new Error('bad listener');
    });
    const seen: string[] = [];
    system.subscribe((e) => seen.push(e.type));
    system.spawn(worker);
    assert.deepEqual(seen, ['spawned']);
    assert.deepEqual(errors, ['event listener threw']);
  });
});
