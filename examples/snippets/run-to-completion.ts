/**
 * Each actor handles one message at a time, to completion. `send` only queues: it never runs the
 * receiver, even when an actor sends to itself, so a handler is never re-entered. A handler may be
 * async: the actor takes its next message only after the promise settles, while other actors keep
 * running.
 * Run: `node --conditions=source --import tsx examples/snippets/run-to-completion.ts`.
 */
import { ActorSystem, type Context } from 'troupe';
import { settle } from 'troupe/testing';

export async function main(): Promise<string[]> {
  const system = new ActorSystem();
  const log: string[] = [];

  // An async handler: 'b' starts only after 'a' has finished, awaits included.
  const slow = system.spawn(async (msg: string) => {
    log.push(`slow start ${msg}`);
    await new Promise((resolve) => setImmediate(resolve)); // stands in for I/O
    log.push(`slow end ${msg}`);
  });

  // A self-send is queued behind the current message, not run inside it.
  const fast = system.spawn((n: number, ctx: Context<number>) => {
    log.push(`fast ${n} begin`);
    if (n > 0) ctx.self.send(n - 1);
    log.push(`fast ${n} end`);
  });

  slow.send('a');
  slow.send('b');
  fast.send(1);
  log.push('sends returned'); // nothing has run yet: handlers run after this code yields

  await settle(system); // runs until no actor has work left
  await system.shutdown();
  return log;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
