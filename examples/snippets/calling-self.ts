/**
 * An actor must not call itself: the request would wait in its own mailbox, behind the message
 * being handled, so the reply could only time out. Such a call rejects at once with a
 * `CallingSelfError` (OTP's `calling_self`); awaited in a handler, it crashes the actor with that
 * error as its exit reason, at once rather than `timeoutMs` later. The fix is to run the code
 * directly: the state is right there.
 * Run: `node --conditions=source --import tsx examples/snippets/calling-self.ts`.
 */
import { ActorSystem, type Behavior, type ExitReason, type Reply, silentLogger } from 'troupe';
import { SimulatedClock } from 'troupe/testing';

type PricesMsg =
  | { type: 'price'; item: string; reply: Reply<number> }
  | { type: 'total'; items: string[]; reply: Reply<number> }
  | { type: 'total-by-calling-itself'; items: string[]; reply: Reply<number> };

const prices: Behavior<PricesMsg, Map<string, number>> = {
  init: () =>
    new Map([
      ['tea', 3],
      ['cake', 4],
    ]),
  async receive(table, msg, ctx) {
    switch (msg.type) {
      case 'price':
        msg.reply(table.get(msg.item) ?? 0);
        return;
      case 'total':
        // Right: read the state directly.
        msg.reply(msg.items.reduce((sum, item) => sum + (table.get(item) ?? 0), 0));
        return;
      case 'total-by-calling-itself': {
        // Wrong: this 'price' request would wait behind the message being handled. It rejects at once.
        let sum = 0;
        for (const item of msg.items) sum += await ctx.self.call({ type: 'price', item });
        msg.reply(sum);
        return;
      }
    }
  },
};

export async function main(): Promise<{ total: number; refused: string; waitedMs: number; alive: boolean }> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const ref = system.spawn(prices, { label: 'prices' });

  const total = await ref.call({ type: 'total', items: ['tea', 'cake'] }); // 7

  const refused = await ref.call({ type: 'total-by-calling-itself', items: ['tea'] }).then(
    () => 'replied',
    async () => {
      const reason: ExitReason = await system.exited(ref); // the actor crashed of its own call
      return reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    },
  );
  const waitedMs = clock.now(); // 0: no timeout had to pass

  await system.shutdown();
  return { total, refused, waitedMs, alive: ref.alive };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
