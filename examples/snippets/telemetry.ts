/**
 * Telemetry: `system.subscribe` gets a `call` event for every call that settles (its latency on
 * the system clock and how it ended) and a `mailbox_depth` event when a mailbox reaches 1,024
 * messages and each doubling after, for a dashboard (`@troupe/uws/metrics` turns them into
 * prom-client metrics). With no subscriber, none of them is built.
 * Run: `node --conditions=source --import tsx examples/snippets/telemetry.ts`.
 */
import { ActorSystem, type Reply, type SystemEvent } from 'troupe';
import { SimulatedClock, settle } from 'troupe/testing';

type DbMsg = { type: 'query'; reply: Reply<string> } | { type: 'write'; row: number };

export async function main(): Promise<string[]> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock });
  const seen: string[] = [];
  system.subscribe((e: SystemEvent) => {
    if (e.type === 'call') seen.push(`call ${e.requestType} ${e.outcome} in ${e.ms} ms`);
    if (e.type === 'mailbox_depth') seen.push(`mailbox of ${e.ref} at ${e.depth}`);
  });
  let pending: Reply<string> | undefined;
  const db = system.spawn(
    (msg: DbMsg) => {
      if (msg.type === 'query') pending = msg.reply; // answered later, when the data is in
    },
    { label: 'db' },
  );
  const answered = db.call({ type: 'query' });
  await settle(system);
  clock.advance(20);
  pending?.('rows'); // call query replied in 20 ms
  await answered;
  const late = db.call({ type: 'query' }, { timeoutMs: 50 });
  await settle(system);
  clock.advance(50); // nobody answers within 50 ms
  await late.catch(() => {}); // call query timeout in 50 ms
  for (let row = 0; row < 1_100; row++) db.send({ type: 'write', row }); // mailbox of Ref<1 db> at 1024
  await settle(system);
  await system.shutdown();
  return seen;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
