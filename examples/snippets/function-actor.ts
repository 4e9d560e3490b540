/**
 * An actor as one function of its messages: no init, no terminate, no `info` handler. State, if
 * any, lives in a closure, so a factory gives each actor its own.
 * Run: `node --conditions=source --import tsx examples/snippets/function-actor.ts`.
 */
import { ActorSystem, type Context, type Reply } from 'troupe';

type TallyMsg = { type: 'add'; word: string } | { type: 'count'; word: string; reply: Reply<number> };

// A factory: every call makes a fresh closure, so two tallies never share their counts.
function tally() {
  const counts = new Map<string, number>();
  return (msg: TallyMsg) => {
    switch (msg.type) {
      case 'add':
        counts.set(msg.word, (counts.get(msg.word) ?? 0) + 1);
        break;
      case 'count':
        msg.reply(counts.get(msg.word) ?? 0);
        break;
    }
  };
}

type WhoAmI = { type: 'whoami'; reply: Reply<string> };

export async function main(): Promise<{ a: number; b: number; name: string }> {
  const system = new ActorSystem();
  const first = system.spawn(tally());
  const second = system.spawn(tally());
  for (const word of ['to', 'be', 'or', 'not', 'to', 'be']) first.send({ type: 'add', word });
  second.send({ type: 'add', word: 'to' });

  // The second parameter is the actor's context: its own ref, spawn, links, monitors, timers.
  const named = system.spawn((msg: WhoAmI, ctx: Context<WhoAmI>) => msg.reply(String(ctx.self)), { label: 'named' });

  const result = {
    a: await first.call({ type: 'count', word: 'to' }),
    b: await second.call({ type: 'count', word: 'to' }),
    name: await named.call({ type: 'whoami' }),
  };
  await system.shutdown();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
