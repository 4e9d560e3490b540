/**
 * A hot upgrade: a running counter gets new code that counts by two, and keeps its count. Like OTP's
 * code change, the upgrade waits in the mailbox: messages sent before it run on the old code,
 * messages sent after it on the new. No message is lost or handled twice, and the ref stays the same.
 * Run: `node --conditions=source --import tsx examples/snippets/hot-upgrade.ts`.
 */
import { ActorSystem, type Behavior, type Reply, type UpgradeResult } from 'troupe';

type CounterMsg = { type: 'inc' } | { type: 'get'; reply: Reply<number> };

const countByOne: Behavior<CounterMsg, number> = {
  init: () => 0,
  receive(count, msg) {
    switch (msg.type) {
      case 'inc':
        return count + 1;
      case 'get':
        msg.reply(count);
        return count;
    }
  },
};

const countByTwo: Behavior<CounterMsg, number> = {
  init: () => 0, // not run by an upgrade: the running actor keeps its state
  receive(count, msg) {
    switch (msg.type) {
      case 'inc':
        return count + 2;
      case 'get':
        msg.reply(count);
        return count;
    }
  },
};

export async function main(): Promise<{ before: number; upgrade: UpgradeResult; after: number; later: number }> {
  const system = new ActorSystem();
  const counter = system.spawn(countByOne);

  for (let i = 0; i < 3; i++) counter.send({ type: 'inc' });
  const before = await counter.call({ type: 'get' }); // 3

  counter.send({ type: 'inc' }); // sent before the upgrade: old code, +1
  const upgrading = system.upgrade(counter, countByTwo); // waits in the mailbox behind that inc
  counter.send({ type: 'inc' }); // sent after the upgrade: new code, +2
  const upgrade = await upgrading; // { ok: true }
  const after = await counter.call({ type: 'get' }); // 3 + 1 + 2 = 6

  counter.send({ type: 'inc' });
  const later = await counter.call({ type: 'get' }); // 8: counting by two from the kept count

  await system.shutdown();
  return { before, upgrade, after, later };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
