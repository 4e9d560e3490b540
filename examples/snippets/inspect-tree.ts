/**
 * `system.inspect()` returns a snapshot of every live actor as a tree: each actor under the one that
 * spawned it (a supervisor's children under the supervisor), with its child id, registered names,
 * label, behaviour, status, mailbox length, messages handled and, for supervised actors only, its
 * restart count and the uptime of its current incarnation. `system.stats()` gives the counters.
 * Run: `node --conditions=source --import tsx examples/snippets/inspect-tree.ts`.
 */
import {
  type ActorInfo,
  ActorSystem,
  type DynamicSupervisor,
  dynamicSupervisor,
  silentLogger,
  startChild,
  supervisor,
  whichChildren,
} from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type RoomMsg = { type: 'say' } | { type: 'crash' };

function room(msg: RoomMsg): void {
  if (msg.type === 'crash') throw new Error('bad frame');
}

function janitor(_msg: never): void {}

// One line per actor, indented by depth.
function render(nodes: readonly ActorInfo[], depth = 0): string[] {
  return nodes.flatMap((n) => [
    `${'  '.repeat(depth)}${n.ref} ${n.behavior} id=${n.childId ?? '-'} names=[${n.names.join()}] ${n.status}` +
      ` mailbox=${n.mailbox} handled=${n.handled} restarts=${n.restarts ?? '-'} uptime=${n.uptimeMs ?? '-'}`,
    ...render(n.children, depth + 1),
  ]);
}

export async function main(): Promise<{ tree: string[]; actors: number; stats: Record<string, number> }> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const app = await system.start(
    supervisor({
      children: [
        { id: 'rooms', behavior: dynamicSupervisor({ child: { behavior: room, label: 'room' } }) },
        { id: 'janitor', behavior: janitor },
      ],
    }),
    { name: 'app', label: 'app' },
  );
  const rooms = (await whichChildren(app))[0]?.ref as unknown as DynamicSupervisor<RoomMsg, undefined>;
  const lobby = await startChild(rooms, undefined);
  if (!lobby.ok) throw new Error(lobby.reason);
  system.spawn((_msg: string) => {}, { label: 'loner' }); // not supervised: no restarts, no uptime

  lobby.ref.send({ type: 'say' });
  lobby.ref.send({ type: 'say' });
  await settle(system);
  clock.advance(1_500);
  lobby.ref.send({ type: 'crash' }); // restarted in place: restarts 1, uptime from now
  await settle(system);
  clock.advance(250);

  const snapshot = system.inspect();
  const { actors, deadLetters, queued } = system.stats();
  await system.shutdown();
  return { tree: render(snapshot.roots), actors: snapshot.actors, stats: { actors, deadLetters, queued } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
