/**
 * A behaviour's `name` and `summary(state)`: what `inspect({ summaries: true })` and the observer
 * show of an actor (its state only where its behaviour says how), and `system.survey`, which visits
 * every actor without building a snapshot.
 * Run: `node --conditions=source --import tsx examples/snippets/summaries.ts`.
 */
import { ActorSystem, silentLogger, supervisor } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type RoomMsg = { type: 'join'; user: string };

const room = {
  name: 'room',
  init: () => ({ members: new Set<string>() }),
  receive: (s: { members: Set<string> }, m: RoomMsg) => {
    s.members.add(m.user);
  },
  summary: (s: { members: Set<string> }) => `${s.members.size} members`,
};

export async function main(): Promise<{
  behavior: string;
  plain: unknown;
  summary: unknown;
  app: unknown;
  busiest: number;
}> {
  const system = new ActorSystem({ clock: new SimulatedClock(), logger: silentLogger });
  const app = await system.start(supervisor({ children: [{ id: 'lobby', behavior: room }] }));
  const lobby = system.inspect().roots[0]?.children[0];
  if (lobby === undefined) throw new Error('no lobby');
  (lobby.ref as unknown as { send(m: RoomMsg): void }).send({ type: 'join', user: 'alice' });
  (lobby.ref as unknown as { send(m: RoomMsg): void }).send({ type: 'join', user: 'bob' });
  await settle(system);
  const plain = system.inspect().roots[0]?.children[0]?.summary; // undefined: not asked for
  const summary = system.inspect({ summaries: true }).roots[0]?.children[0]?.summary; // '2 members'
  const appSummary = system.describe(app, { summaries: true })?.summary;
  // Every actor, without a snapshot: the most messages any one has handled.
  let busiest = 0;
  system.survey((_ref, _spawner, _mailbox, handled) => {
    busiest = Math.max(busiest, handled);
  });
  await system.shutdown();
  return { behavior: lobby.behavior, plain, summary, app: appSummary, busiest };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
