/**
 * A dynamic supervisor starts many children of one template at run time, each with its own args,
 * and knows them by ref. It is always one_for_one; `maxChildren` (default no limit) caps how many
 * run at once; a child that exits for good is forgotten. When it stops, it asks every child to stop
 * at once (a static supervisor goes one by one), each by its shutdown spec.
 * Run: `node --conditions=source --import tsx examples/snippets/dynamic-supervisor.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  countChildren,
  dynamicSupervisor,
  type Reply,
  spawnChild,
  startChild,
  terminateChild,
  whichChildren,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type SessionMsg = { type: 'whoami'; reply: Reply<string> };

export async function main(): Promise<{
  third: string;
  whoami: string;
  ids: string[];
  terminated: string[];
  spawned: string;
  counts: { specs: number; active: number };
  stoppedAtMs: number;
}> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  // Each session takes one second to close: its terminate waits on the clock.
  const session: Behavior<SessionMsg, string, string> = {
    init: (_ctx, user) => user,
    receive(user, msg) {
      msg.reply(user);
    },
    terminate: () => new Promise<void>((resolve) => clock.setTimeout(resolve, 1_000)),
  };
  const sessions = await system.start(
    dynamicSupervisor({ child: { behavior: session, restart: 'transient', label: 'session' }, maxChildren: 3 }),
  );

  const alice = await startChild(sessions, 'alice'); // resolves after alice's init
  const bob = await startChild(sessions, 'bob');
  if (!alice.ok || !bob.ok) throw new Error('no room');
  const whoami = await alice.ref.call({ type: 'whoami' }); // alice.ref is a Ref<SessionMsg>

  // spawnChild: synchronous, in the caller's turn; the ref comes back before init has run.
  const carol = spawnChild(sessions, 'carol');
  const third = await startChild(sessions, 'dave'); // { ok: false, reason: 'max_children' }

  const ids = (await whichChildren(sessions)).map((c) => c.id); // children are known by ref: the ids are ref ids
  const closing = terminateChild(sessions, bob.ref); // by ref; bob's terminate takes a second
  await settle(system);
  clock.advance(1_000);
  const terminated = [await closing, await terminateChild(sessions, bob.ref)].map((r) => (r.ok ? 'ok' : r.reason));
  const { specs, active } = await countChildren(sessions);

  // Stopping: alice and carol are asked at once, so both are done after one second, not two.
  const start = clock.now();
  const stopped = system.stop(sessions, 'shutdown');
  await settle(system);
  clock.advance(1_000);
  await stopped;

  return {
    third: third.ok ? 'started' : third.reason,
    whoami,
    ids,
    terminated,
    spawned: carol.ok ? String(carol.ref) : carol.reason,
    counts: { specs, active },
    stoppedAtMs: clock.now() - start,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
