/**
 * Refs are typed by the messages they accept. Messages are discriminated unions on `type`, and a
 * handler's `switch` ends with an exhaustiveness check, so adding a message type without handling
 * it is a compile error. `Ref` is contravariant: a `Ref<A | B>` is a `Ref<A>`, never the reverse,
 * and `Ref<never>` stands for any actor.
 * Run: `node --conditions=source --import tsx examples/snippets/typed-refs.ts`.
 */
import { ActorSystem, type Behavior, type Ref, type Reply } from 'troupe';

type Deposit = { type: 'deposit'; amount: number };
type AccountMsg = Deposit | { type: 'withdraw'; amount: number } | { type: 'balance'; reply: Reply<number> };

const account: Behavior<AccountMsg, number> = {
  init: () => 0,
  receive(balance, msg) {
    switch (msg.type) {
      case 'deposit':
        return balance + msg.amount;
      case 'withdraw':
        return balance - msg.amount;
      case 'balance':
        msg.reply(balance);
        return balance;
      default: {
        // Reached only if AccountMsg grows a member this switch does not handle: then `msg` is
        // not `never` and this line stops compiling.
        const unhandled: never = msg;
        throw new Error(`unhandled message ${JSON.stringify(unhandled)}`);
      }
    }
  },
};

// Needs only a ref that accepts deposits; any ref whose messages include Deposit will do.
function payInterest(to: Ref<Deposit>, amount: number): void {
  to.send({ type: 'deposit', amount });
}

// Ref<never> accepts nothing, so every ref is one: the type for "some actor", as links and monitors use.
function describe(refs: ReadonlyArray<Ref<never>>): string[] {
  return refs.map((ref) => `${ref} alive=${ref.alive}`);
}

// Never called: the lines under @ts-expect-error must fail to compile, and `pnpm typecheck` checks that they do.
export function compileErrors(acct: Ref<AccountMsg>, depositsOnly: Ref<Deposit>): void {
  // @ts-expect-error: 'close' is not an AccountMsg
  acct.send({ type: 'close' });
  // @ts-expect-error: amount must be a number
  acct.send({ type: 'deposit', amount: '10' });
  // @ts-expect-error: a ref that takes only deposits cannot stand for one that also takes withdrawals
  const wider: Ref<AccountMsg> = depositsOnly;
  void wider;
}

export async function main(): Promise<{ balance: number; refs: string[] }> {
  const system = new ActorSystem();
  const acct = system.spawn(account, { label: 'acct' });
  acct.send({ type: 'deposit', amount: 100 });
  acct.send({ type: 'withdraw', amount: 30 });
  payInterest(acct, 7); // a Ref<AccountMsg> is a Ref<Deposit>
  const balance = await acct.call({ type: 'balance' }); // typed number, from Reply<number>
  const refs = describe([acct]);
  await system.shutdown();
  return { balance, refs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
