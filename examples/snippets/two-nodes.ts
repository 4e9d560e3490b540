/**
 * Two nodes of one cluster, through a NATS server with JetStream (`nats-server -js`): node `b`
 * registers a counter under a cluster-wide name; node `a` finds it, calls it, sends it a ref of its
 * own inside a message, and monitors it; when the counter exits on `b`, `a`'s monitor gets the real
 * reason. In production each node is a process (or a machine) of its own; here both live in one.
 * Run: `nats-server -js &` then `node --conditions=source --import tsx examples/snippets/two-nodes.ts`.
 */
import { joinCluster } from '@troupe/cluster';
import { ActorSystem, type Behavior, describeReason, key, type Ref, type Reply } from 'troupe';

type CounterMsg =
  | { type: 'add'; by: number; reply: Reply<number> }
  | { type: 'subscribe'; to: Ref<number> }
  | { type: 'stop' };

const COUNTER = key<CounterMsg>('counter');

const counter: Behavior<CounterMsg, { n: number; subscribers: Ref<number>[] }> = {
  init: () => ({ n: 0, subscribers: [] }),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'add':
        state.n += msg.by;
        for (const s of state.subscribers) s.send(state.n); // a ref that came from another node
        msg.reply(state.n);
        return;
      case 'subscribe':
        state.subscribers.push(msg.to);
        return;
      case 'stop':
        ctx.stop({ shutdown: 'maintenance' });
        return;
    }
  },
};

export async function main(servers = process.env.NATS_URL ?? 'nats://127.0.0.1:4222') {
  const systemA = new ActorSystem();
  const systemB = new ActorSystem();
  const a = await joinCluster(systemA, { servers, node: 'a', cluster: 'snippet' });
  const b = await joinCluster(systemB, { servers, node: 'b', cluster: 'snippet' });

  // On node b: a counter, registered cluster-wide.
  await b.registry.register(COUNTER, systemB.spawn(counter));

  // On node a: find it (from a local cache the registry keeps current), and use it as any ref.
  while (a.registry.whereis(COUNTER) === undefined) await new Promise((r) => setTimeout(r, 10));
  const remote = a.registry.whereis(COUNTER) as Ref<CounterMsg>;
  const seen: number[] = [];
  const subscriber = systemA.spawn((n: number) => void seen.push(n));
  remote.send({ type: 'subscribe', to: subscriber }); // a ref travels inside a message
  const total = await remote.call({ type: 'add', by: 42 }); // typed: number

  const down = new Promise<string>((resolve) => {
    systemA.monitor(remote, (reason) => resolve(describeReason(reason)));
  });
  remote.send({ type: 'stop' });
  const reason = await down;

  const result = { node: remote.node, total, seen, reason, nodesOfA: systemA.nodes() };
  await b.leave();
  await a.leave();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await main());
