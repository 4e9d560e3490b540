/**
 * Request/reply: put `reply: Reply<T>` in a message type and `ref.call(request)` returns a
 * `Promise<T>`. A call rejects with `TimeoutError` when no reply comes within `timeoutMs` (default
 * 5,000 ms, on the system's clock) and with `ExitError` when the actor is dead or dies first.
 * Run: `node --conditions=source --import tsx examples/snippets/request-reply.ts`.
 */
import {
  ActorSystem,
  type Behavior,
  DEFAULT_CALL_TIMEOUT_MS,
  ExitError,
  type Reply,
  silentLogger,
  TimeoutError,
} from 'troupe';
import { SimulatedClock } from 'troupe/testing';

type KvMsg =
  | { type: 'put'; key: string; value: number; reply: Reply<'ok'> }
  | { type: 'get'; key: string; reply: Reply<number | undefined> }
  | { type: 'ignore'; reply: Reply<never> } // never answered: shows the timeout
  | { type: 'explode'; reply: Reply<never> }; // crashes the actor: shows ExitError

const kv: Behavior<KvMsg, Map<string, number>> = {
  init: () => new Map(),
  receive(map, msg) {
    switch (msg.type) {
      case 'put':
        map.set(msg.key, msg.value);
        msg.reply('ok');
        return;
      case 'get':
        msg.reply(map.get(msg.key));
        return;
      case 'ignore':
        return;
      case 'explode':
        throw new Error('kaboom');
    }
  },
};

export async function main(): Promise<{
  put: 'ok';
  got: number | undefined;
  defaultTimeoutMs: number;
  timeout: string;
  exit: string;
  dead: string;
}> {
  const clock = new SimulatedClock(); // call timeouts read the system's clock
  const system = new ActorSystem({ clock, logger: silentLogger });
  const store = system.spawn(kv);

  const put = await store.call({ type: 'put', key: 'a', value: 1 }); // 'ok'
  const got = await store.call({ type: 'get', key: 'a' }); // number | undefined

  const pending = store.call({ type: 'ignore' }, { timeoutMs: 1_000 });
  clock.advance(1_000); // a second passes with no reply
  const timeout = await pending.then(
    () => 'replied',
    (e: unknown) => (e instanceof TimeoutError ? `TimeoutError after ${e.timeoutMs} ms` : String(e)),
  );

  const exit = await store.call({ type: 'explode' }).then(
    () => 'replied',
    (e: unknown) => (e instanceof ExitError ? `ExitError: ${(e.reason as Error).message}` : String(e)),
  );
  // The actor is dead now: a call fails at once with the reason it died of.
  const dead = await store.call({ type: 'get', key: 'a' }).then(
    () => 'replied',
    (e: unknown) => (e instanceof ExitError ? e.message : String(e)),
  );

  await system.shutdown();
  return { put, got, defaultTimeoutMs: DEFAULT_CALL_TIMEOUT_MS, timeout, exit, dead };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
