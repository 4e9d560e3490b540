/**
 * The state rules of a behaviour object: `init` returns the first state (`undefined` without an
 * `init`); `receive` returns the next one; returning `undefined` (or nothing) keeps the current
 * state, so "no value" must be spelled `null`. An async `receive` resolves to the next state.
 * Run: `node --conditions=source --import tsx examples/snippets/state-rules.ts`.
 */
import { ActorSystem, type Behavior, type Reply } from 'troupe';

type LastMsg =
  | { type: 'set'; value: string }
  | { type: 'clear' }
  | { type: 'set-later'; value: string }
  | { type: 'peek'; reply: Reply<string | null> };

const last: Behavior<LastMsg, string | null> = {
  init: () => null,
  async receive(value, msg) {
    switch (msg.type) {
      case 'set':
        return msg.value; // the next state
      case 'clear':
        return null; // `return undefined` here would keep the old value
      case 'set-later':
        await new Promise((resolve) => setImmediate(resolve));
        return msg.value; // an async handler's resolved value becomes the state
      case 'peek':
        msg.reply(value);
        return; // nothing returned: the state is kept
    }
  },
};

export async function main(): Promise<Array<string | null>> {
  const system = new ActorSystem();
  const ref = system.spawn(last);
  const seen: Array<string | null> = [];
  ref.send({ type: 'set', value: 'a' });
  seen.push(await ref.call({ type: 'peek' })); // 'a'
  seen.push(await ref.call({ type: 'peek' })); // still 'a': peek returned nothing
  ref.send({ type: 'clear' });
  seen.push(await ref.call({ type: 'peek' })); // null
  ref.send({ type: 'set-later', value: 'b' });
  seen.push(await ref.call({ type: 'peek' })); // 'b': peek waits for the async handler
  await system.shutdown();
  return seen;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
