/**
 * `send` never throws and never runs the receiver: it queues the message and returns `true`, or
 * returns `false` when the actor is dead. Undeliverable messages become dead letters: counted in
 * `system.stats()` and passed to `onDeadLetter` listeners. Messages still queued when an actor
 * stops are dead letters too.
 * Run: `node --conditions=source --import tsx examples/snippets/dead-letters.ts`.
 */
import { ActorSystem, type DeadLetter } from 'troupe';
import { settle } from 'troupe/testing';

export async function main(): Promise<{ sent: boolean[]; letters: string[]; count: number }> {
  const system = new ActorSystem();
  const letters: DeadLetter[] = [];
  const unsubscribe = system.onDeadLetter((dl) => letters.push(dl));

  const seen: string[] = [];
  const sink = system.spawn((msg: string) => {
    seen.push(msg);
  });
  const sent = [sink.send('one')]; // true: queued
  await settle(system);

  sink.send('queued, never handled');
  await system.stop(sink); // stops before the queued message: it becomes a dead letter
  sent.push(sink.send('too late')); // false: the actor is dead

  unsubscribe();
  const count = system.stats().deadLetters;
  await system.shutdown();
  return { sent, letters: letters.map((dl) => `${dl.reason}: ${String(dl.message)}`), count };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
