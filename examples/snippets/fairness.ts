/**
 * Fairness: the scheduler gives each actor with work a turn of at most `budget` messages (default
 * 300), then moves it to the back of the run queue; after `sliceMs` of work (default 5 ms) it yields
 * to the event loop so I/O and timers run. Both are options of `new ActorSystem({ scheduler })`.
 * Run: `node --conditions=source --import tsx examples/snippets/fairness.ts`.
 */
import { ActorSystem } from 'troupe';
import { settle } from 'troupe/testing';

async function interleaving(budget?: number): Promise<string> {
  const system = new ActorSystem(budget === undefined ? {} : { scheduler: { budget } });
  const order: string[] = [];
  const a = system.spawn((n: number) => {
    order.push(`a${n}`);
  });
  const b = system.spawn((n: number) => {
    order.push(`b${n}`);
  });
  for (let n = 1; n <= 5; n++) a.send(n);
  for (let n = 1; n <= 5; n++) b.send(n);
  await settle(system);
  await system.shutdown();
  return order.join(' ');
}

export async function main(): Promise<{ defaultBudget: string; budget2: string }> {
  return {
    defaultBudget: await interleaving(), // a's five messages fit in one turn
    budget2: await interleaving(2), // two messages per turn, then the other actor's turn
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
