import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Actor,
  type ActorInfo,
  ActorSystem,
  type Context,
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
  it('streams spawned, crashed, restarted, crash_report, dead_letter, exited and intensity_exceeded events', async () => {
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
      'crash_report', // written after the restart
      'crashed',
      'dead_letter',
      'crash_report', // written before giving up
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

describe('behaviour names and summaries', () => {
  it('shows a behaviour its name, and its summary of the state only when asked for summaries', async () => {
    const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
    type CountMsg = { type: 'add'; n: number };
    const counter = {
      name: 'counter',
      init: () => ({ total: 0 }),
      receive: (s: { total: number }, m: CountMsg) => ({ total: s.total + m.n }),
      summary: (s: { total: number }) => `total ${s.total}`,
    };
    const ref = await system.start(counter);
    ref.send({ type: 'add', n: 5 });
    await settle(system);
    const plain = find(system.inspect().roots, (n) => n.ref === (ref as Ref<never>));
    assert.equal(plain?.behavior, 'counter');
    assert.equal(plain?.summary, undefined, 'no summary unless asked: it runs the behaviour code');
    const summed = find(system.inspect({ summaries: true }).roots, (n) => n.ref === (ref as Ref<never>));
    assert.equal(summed?.summary, 'total 5');
    // Supervisors name themselves and sum up their children and their restart window.
    const sup = await system.start(supervisor({ children: [{ id: 'c', behavior: counter }] }));
    const s = system.describe(sup as Ref<never>, { summaries: true });
    assert.equal(s?.behavior, 'supervisor');
    assert.equal(s?.summary, 'one_for_one, 1 children, restarts 0/3 in 5000 ms');
    await system.shutdown();
  });

  it('reads a summary that throws as a note, and a class actor by its summary method', async () => {
    const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
    const bad = await system.start({
      receive() {},
      summary: () => {
        throw new Error('no state yet');
      },
    });
    assert.equal(system.describe(bad as Ref<never>, { summaries: true })?.summary, '(summary failed: no state yet)');
    class Tally extends Actor<{ type: 'hit' }> {
      hits = 0;
      receive() {
        this.hits++;
      }
      override summary() {
        return `${this.hits} hits`;
      }
    }
    const t = await system.start(Tally);
    t.send({ type: 'hit' });
    t.send({ type: 'hit' });
    await settle(system);
    const info = system.describe(t as Ref<never>, { summaries: true });
    assert.equal(info?.behavior, 'Tally');
    assert.equal(info?.summary, '2 hits');
    await system.shutdown();
  });
});

describe('system.survey and system.describe', () => {
  it('visits every live actor with its spawner, mailbox and handled count; describes one without children', async () => {
    const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
    const rooms = await system.start(dynamicSupervisor({ child: { behavior: worker } }));
    const a = await startChild(rooms, undefined);
    const b = await startChild(rooms, undefined);
    assert.ok(a.ok && b.ok);
    a.ref.send({ type: 'work' });
    a.ref.send({ type: 'work' });
    await settle(system);
    b.ref.send({ type: 'work' }); // still in b's mailbox: no turn has run
    const seen = new Map<Ref<never>, { spawner: Ref<never> | undefined; mailbox: number; handled: number }>();
    const n = system.survey((ref, spawner, mailbox, handled) => seen.set(ref, { spawner, mailbox, handled }));
    assert.equal(n, system.stats().actors);
    assert.equal(seen.size, 3);
    assert.deepEqual(seen.get(rooms as Ref<never>), { spawner: undefined, mailbox: 0, handled: 2 });
    assert.deepEqual(seen.get(a.ref as Ref<never>), { spawner: rooms, mailbox: 0, handled: 2 });
    assert.deepEqual(seen.get(b.ref as Ref<never>), { spawner: rooms, mailbox: 1, handled: 0 });
    const info = system.describe(rooms as Ref<never>);
    assert.equal(info?.behavior, 'dynamic supervisor');
    assert.deepEqual(info?.children, []);
    assert.equal(info?.relations, undefined, 'relations only when asked for');
    // Relations: who it is linked to, who monitors it, what it monitors.
    const before = system.describe(a.ref as Ref<never>, { relations: true })?.relations;
    const watcher = await system.start({
      init(ctx: Context<never>) {
        ctx.link(a.ref as Ref<never>);
        ctx.monitor(b.ref as Ref<never>);
      },
      receive() {},
    });
    const undo = system.monitor(a.ref as Ref<never>, () => {});
    const rel = system.describe(a.ref as Ref<never>, { relations: true })?.relations;
    assert.deepEqual(rel?.links, [watcher]);
    assert.equal(rel?.monitoredBy, (before?.monitoredBy ?? 0) + 1);
    assert.deepEqual(system.describe(watcher as Ref<never>, { relations: true })?.relations?.monitoring, [b.ref]);
    undo();
    assert.equal(
      system.describe(a.ref as Ref<never>, { relations: true })?.relations?.monitoredBy,
      before?.monitoredBy,
    );
    // An actor that has stopped is not described.
    const stopped = system.spawn(worker);
    await system.stop(stopped as Ref<never>);
    assert.equal(system.describe(stopped as Ref<never>), undefined);
    await system.shutdown();
  });
});
