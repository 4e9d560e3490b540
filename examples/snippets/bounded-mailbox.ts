/**
 * Mailboxes are unbounded unless `spawn` is given `mailbox: { capacity, overflow }`. When a bounded
 * mailbox is full, the overflow policy decides: `drop-newest` refuses the arriving message (a dead
 * letter), `drop-oldest` evicts the oldest queued one (a dead letter) to make room, `reject` refuses
 * the arriving message and leaves it with the sender (not a dead letter). `sendWait` waits for room
 * instead, under every policy.
 * Run: `node --conditions=source --import tsx examples/snippets/bounded-mailbox.ts`.
 */
import { ActorSystem, type OverflowPolicy } from 'troupe';
import { settle } from 'troupe/testing';

type Outcome = { sent: boolean[]; handled: number[]; deadLetters: number[] };

async function flood(overflow: OverflowPolicy): Promise<Outcome> {
  const system = new ActorSystem();
  const deadLetters: number[] = [];
  system.onDeadLetter((dl) => deadLetters.push(dl.message as number));
  const handled: number[] = [];
  const ref = system.spawn(
    (n: number) => {
      handled.push(n);
    },
    { mailbox: { capacity: 2, overflow } },
  );
  // Five sends in one synchronous burst: the actor runs only after this code yields.
  const sent = [1, 2, 3, 4, 5].map((n) => ref.send(n));
  await settle(system);
  await system.shutdown();
  return { sent, handled, deadLetters };
}

async function waitForRoom(): Promise<{ queued: boolean[]; handled: number[] }> {
  const system = new ActorSystem();
  const handled: number[] = [];
  const ref = system.spawn(
    (n: number) => {
      handled.push(n);
    },
    { mailbox: { capacity: 1, overflow: 'reject' } },
  );
  // Each sendWait resolves true once its message is in the mailbox; waiters are served in order.
  const queued = await Promise.all([1, 2, 3].map((n) => ref.sendWait(n)));
  await settle(system);
  await system.shutdown();
  return { queued, handled };
}

export async function main(): Promise<Record<OverflowPolicy | 'sendWait', unknown>> {
  return {
    'drop-newest': await flood('drop-newest'),
    'drop-oldest': await flood('drop-oldest'),
    reject: await flood('reject'),
    sendWait: await waitForRoom(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
