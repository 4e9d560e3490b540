/**
 * The smallest useful actor: a counter with a typed request/reply, in the functional style.
 * Run: `pnpm example`.
 */
import { ActorSystem, type Behavior, type Reply } from 'troupe';

type CounterMsg = { type: 'inc'; by: number } | { type: 'get'; reply: Reply<number> };

const counter: Behavior<CounterMsg, number> = {
  init: () => 0,
  receive(count, msg) {
    switch (msg.type) {
      case 'inc':
        return count + msg.by;
      case 'get':
        msg.reply(count);
        return count;
    }
  },
};

export async function main(): Promise<number> {
  const system = new ActorSystem();
  const ref = system.spawn(counter);
  ref.send({ type: 'inc', by: 2 });
  ref.send({ type: 'inc', by: 40 });
  const total = await ref.call({ type: 'get' }); // typed: number
  await system.shutdown();
  return total;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`count = ${await main()}`);
}
