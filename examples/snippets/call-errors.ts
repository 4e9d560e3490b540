/**
 * What a failed call says. A `TimeoutError` and an `ExitError` name the call: the request's `type`
 * and the target, by its name in the system registry if it has one, else by its ref. The same
 * facts are fields (`actor`, `target`, `requestType`), for logs and metrics that group failures.
 * Run: `node --conditions=source --import tsx examples/snippets/call-errors.ts`.
 */
import { ActorSystem, type Behavior, ExitError, type Reply, silentLogger, TimeoutError } from 'troupe';
import { SimulatedClock } from 'troupe/testing';

type StoreMsg =
  | { type: 'get'; key: string; reply: Reply<string | undefined> }
  | { type: 'slow'; reply: Reply<string> } // never answered: shows the timeout
  | { type: 'explode'; reply: Reply<string> }; // crashes the actor: shows the exit

const store: Behavior<StoreMsg, Map<string, string>> = {
  init: () => new Map([['greeting', 'hello']]),
  receive(map, msg) {
    switch (msg.type) {
      case 'get':
        msg.reply(map.get(msg.key));
        return;
      case 'slow':
        return;
      case 'explode':
        throw new Error('kaboom');
    }
  },
};

export async function main(): Promise<{
  timeout: string;
  fields: { actor: unknown; target: unknown; requestType: unknown; timeoutMs: number };
  exit: string;
  dead: string;
}> {
  const clock = new SimulatedClock();
  const system = new ActorSystem({ clock, logger: silentLogger });
  const named = system.spawn(store, { name: 'store', label: 'kv' }); // registered: errors say 'store'
  const unnamed = system.spawn(store, { label: 'scratch' }); // not registered: errors say Ref<2 scratch>

  const slow = named.call({ type: 'slow' }, { timeoutMs: 250 });
  clock.advance(250);
  const timeout = await slow.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(timeout instanceof TimeoutError)) throw new Error('expected a TimeoutError');
  // The message: call { type: 'slow' } to 'store' timed out after 250 ms
  const { actor, target, requestType, timeoutMs } = timeout; // 'Ref<1 kv>', "'store'", 'slow', 250

  const exit = await unnamed.call({ type: 'explode' }).then(
    () => 'replied',
    (e: unknown) => (e instanceof ExitError ? e.message : String(e)),
  );
  const dead = await unnamed.call({ type: 'get', key: 'greeting' }).then(
    () => 'replied',
    (e: unknown) => (e instanceof ExitError ? e.message : String(e)),
  );

  await system.shutdown();
  return { timeout: timeout.message, fields: { actor, target, requestType, timeoutMs }, exit, dead };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
