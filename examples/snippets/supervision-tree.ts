/**
 * A supervision tree: a static supervisor that starts a counter and a dynamic supervisor for chat
 * rooms. The counter crashes and is restarted in place (same ref, `init` runs again with its spec's
 * args, the mail queued behind the crash is kept); rooms are started at run time under the dynamic
 * supervisor.
 * Run: `node --conditions=source --import tsx examples/snippets/supervision-tree.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  type ChildInfo,
  type DynamicSupervisorRequest,
  dynamicSupervisor,
  key,
  type Reply,
  silentLogger,
  startChild,
  supervisor,
  whichChildren,
} from 'troupe';

type CounterMsg = { type: 'inc' } | { type: 'get'; reply: Reply<number> } | { type: 'crash' };

const counter: Behavior<CounterMsg, number, number> = {
  init: (_ctx, start) => start,
  receive(count, msg) {
    switch (msg.type) {
      case 'inc':
        return count + 1;
      case 'get':
        msg.reply(count);
        return count;
      case 'crash':
        throw new Error('bad input');
    }
  },
};

type RoomMsg = { type: 'say'; text: string } | { type: 'log'; reply: Reply<string[]> };

const room: Behavior<RoomMsg, string[], string> = {
  init: (_ctx, topic) => [`topic: ${topic}`],
  receive(log, msg) {
    switch (msg.type) {
      case 'say':
        return [...log, msg.text];
      case 'log':
        msg.reply(log);
        return log;
    }
  },
};

// Typed names: a lookup by one is a Ref of that actor's messages, and it holds across restarts.
const COUNTER = key<CounterMsg>('counter');
const ROOMS = key<DynamicSupervisorRequest<string, RoomMsg>>('rooms');

// The tree: started in this order, stopped in reverse; one_for_one restarts only the child that failed.
const app = supervisor({
  strategy: 'one_for_one',
  children: [
    { id: 'counter', behavior: counter, args: 10, name: COUNTER },
    { id: 'rooms', behavior: dynamicSupervisor({ child: { behavior: room, restart: 'transient' } }), name: ROOMS },
  ],
});

export async function main(): Promise<{
  before: number;
  after: number;
  sameRef: boolean;
  lobby: string[];
  children: Array<Pick<ChildInfo, 'id' | 'type' | 'status' | 'restarts'>>;
}> {
  const system = new ActorSystem({ logger: silentLogger }); // the crash below is on purpose
  const sup = await system.start(app); // resolves once every child has started, in order

  const count = system.whereis(COUNTER); // Ref<CounterMsg> | undefined
  if (count === undefined) throw new Error('counter is not registered');
  count.send({ type: 'inc' });
  count.send({ type: 'inc' });
  const before = await count.call({ type: 'get' }); // 12
  count.send({ type: 'crash' }); // restarted from its args: 10
  count.send({ type: 'inc' }); // queued behind the crash: kept, handled by the new incarnation
  const after = await count.call({ type: 'get' }); // 11
  const sameRef = system.whereis(COUNTER) === count;

  const rooms = system.whereis(ROOMS); // a DynamicSupervisor<RoomMsg, string>, by name: no cast
  if (rooms === undefined) throw new Error('rooms is not running');
  const started = await startChild(rooms, 'lobby'); // the args for this room's init
  if (!started.ok) throw new Error(started.reason);
  started.ref.send({ type: 'say', text: 'hello' });
  const lobby = await started.ref.call({ type: 'log' });

  const children = (await whichChildren(sup)).map(({ id, type, status, restarts }) => ({ id, type, status, restarts }));
  await system.shutdown();
  return { before, after, sameRef, lobby, children };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
