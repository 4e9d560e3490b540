/**
 * A supervised actor is restarted in place: its ref stays the same and stays alive, so links,
 * monitors, registered names and refs held elsewhere all survive the restart. The message that
 * crashed it goes to dead letters (reason `crashed`); mail queued behind it is kept for the next
 * incarnation, or dropped (reason `dropped`) with `keepMailbox: false`. The `call` whose request
 * crashed it rejects; calls queued behind it are answered by the next incarnation. Links and
 * monitors fire only when the ref ends for good.
 * Run: `node --conditions=source --import tsx examples/snippets/restart-in-place.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  type DeadLetter,
  describeReason,
  ExitError,
  key,
  type Ref,
  type Reply,
  silentLogger,
  supervisor,
  terminateChild,
} from 'troupe';
import { settle } from 'troupe/testing';

type SumMsg =
  | { type: 'add'; n: number }
  | { type: 'sum'; reply: Reply<number> }
  | { type: 'divide'; by: number; reply: Reply<number> };

const summer: Behavior<SumMsg, number> = {
  init: () => 0,
  receive(sum, msg) {
    switch (msg.type) {
      case 'add':
        return sum + msg.n;
      case 'sum':
        msg.reply(sum);
        return sum;
      case 'divide':
        if (msg.by === 0) throw new Error('division by zero'); // crashes the actor
        msg.reply(sum / msg.by);
        return sum;
    }
  },
};

// Typed names: whereis(SUMMER) is a Ref<SumMsg>, and the name survives restarts in place.
const SUMMER = key<SumMsg>('summer');
const STRICT = key<SumMsg>('strict');

// Linked to whatever it is told; does not trap exits, so it dies with a linked actor.
const buddy: Behavior<{ type: 'link'; to: Ref<never> }> = {
  receive(_state, msg, ctx) {
    ctx.link(msg.to);
  },
};

export async function main(): Promise<{
  crashed: string;
  answered: number;
  alive: { summer: boolean; buddy: boolean; name: boolean };
  downAtRestart: string[];
  deadLetters: string[];
  afterEnd: { down: string[]; buddy: string };
}> {
  const system = new ActorSystem({ logger: silentLogger });
  const deadLetters: string[] = [];
  system.onDeadLetter((d: DeadLetter) =>
    deadLetters.push(`${d.reason}: ${JSON.stringify(d.message)}${d.error ? ` (${describeReason(d.error)})` : ''}`),
  );
  const sup = await system.start(
    supervisor({
      children: [
        { id: 'summer', behavior: summer, name: SUMMER },
        { id: 'strict', behavior: summer, name: STRICT, keepMailbox: false },
      ],
    }),
  );
  const sum = system.whereis(SUMMER);
  const strict = system.whereis(STRICT);
  if (sum === undefined || strict === undefined) throw new Error('not started');

  const down: string[] = [];
  system.monitor(sum, (reason) => down.push(describeReason(reason)));
  const friend = system.spawn(buddy);
  friend.send({ type: 'link', to: sum });

  sum.send({ type: 'add', n: 5 });
  const poisoned = sum.call({ type: 'divide', by: 0 }); // its request crashes the actor
  sum.send({ type: 'add', n: 2 }); // queued behind the crash: kept
  const queued = sum.call({ type: 'sum' }); // queued too: answered by the next incarnation
  const crashed = await poisoned.then(
    () => 'replied',
    (e: unknown) => (e instanceof ExitError ? `ExitError: ${describeReason(e.reason)}` : String(e)),
  );
  const answered = await queued; // 2: the new incarnation started from init (0), then add 2

  // The restart is invisible from outside: same ref, still alive, still named, nobody told.
  const alive = { summer: sum.alive, buddy: friend.alive, name: system.whereis(SUMMER) === sum };
  const downAtRestart = [...down]; // []: the watch has not fired

  const rejected = strict.call({ type: 'divide', by: 0 }).catch(() => 'rejected');
  strict.send({ type: 'add', n: 1 }); // dropped at the restart: strict does not keep its mailbox
  await rejected;
  await settle(system);

  // Ended for good (terminateChild): now the watch fires and the link kills the buddy.
  await terminateChild(sup, 'summer');
  const afterEnd = { down: [...down], buddy: describeReason(await system.exited(friend)) };

  await system.shutdown();
  return { crashed, answered, alive, downAtRestart, deadLetters, afterEnd };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
