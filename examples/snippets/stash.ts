/**
 * Stash: an actor that must wait for something before it can take some of its mail puts those
 * messages aside with `ctx.stash(msg)` and takes `ctx.unstashAll()` to put them back, in order, at
 * the front of its mailbox (Akka's stash). Here a client that queues queries until it is connected.
 * Run: `node --conditions=source --import tsx examples/snippets/stash.ts`.
 */
import { ActorSystem, type Behavior, type Reply } from 'troupe';

type ClientMsg =
  | { type: 'query'; sql: string; reply: Reply<string> }
  | { type: 'connected' }
  | { type: 'stashed'; reply: Reply<number> };

const client: Behavior<ClientMsg, { connected: boolean }> = {
  init: () => ({ connected: false }),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'query':
        if (!state.connected) {
          ctx.stash(msg); // not yet: the call waits, the actor takes its next message
          return state;
        }
        msg.reply(`rows for ${msg.sql}`);
        return state;
      case 'connected':
        ctx.unstashAll(); // the stashed queries come next, in the order they arrived
        return { connected: true };
      case 'stashed':
        msg.reply(ctx.stashed);
        return state;
    }
  },
};

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem();
  const ref = system.spawn(client);
  const first = ref.call({ type: 'query', sql: 'select 1' });
  const second = ref.call({ type: 'query', sql: 'select 2' });
  const stashedBefore = await ref.call({ type: 'stashed' }); // 2
  ref.send({ type: 'connected' });
  const answers = await Promise.all([first, second]); // ['rows for select 1', 'rows for select 2']
  const stashedAfter = await ref.call({ type: 'stashed' }); // 0
  await system.shutdown();
  return { stashedBefore, answers, stashedAfter };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
