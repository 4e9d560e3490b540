/**
 * A deferred reply: the handler keeps the `reply` function and calls it later, from another
 * message. Here callers wait for a gate to open; the actor keeps serving other messages meanwhile.
 * A reply is one-shot: calling it again, or after the caller timed out, does nothing.
 * Run: `node --conditions=source --import tsx examples/snippets/deferred-reply.ts`.
 */
import { ActorSystem, type Behavior, type Reply } from 'troupe';

type GateMsg =
  | { type: 'wait'; reply: Reply<string> }
  | { type: 'waiting'; reply: Reply<number> }
  | { type: 'open'; password: string };

type GateState = { waiters: Array<Reply<string>> };

const gate: Behavior<GateMsg, GateState> = {
  init: () => ({ waiters: [] }),
  receive(state, msg) {
    switch (msg.type) {
      case 'wait':
        state.waiters.push(msg.reply); // answered later, by 'open'
        return;
      case 'waiting':
        msg.reply(state.waiters.length);
        return;
      case 'open':
        for (const reply of state.waiters) reply(`open: ${msg.password}`);
        return { waiters: [] };
    }
  },
};

export async function main(): Promise<{ waiting: number; answers: string[] }> {
  const system = new ActorSystem();
  const ref = system.spawn(gate);
  const first = ref.call({ type: 'wait' }, { timeoutMs: Number.POSITIVE_INFINITY }); // waits as long as it takes
  const second = ref.call({ type: 'wait' });
  const waiting = await ref.call({ type: 'waiting' }); // 2: the actor is not blocked by the open calls
  ref.send({ type: 'open', password: 'sesame' });
  const answers = await Promise.all([first, second]);
  await system.shutdown();
  return { waiting, answers };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
