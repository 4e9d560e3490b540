/**
 * A script that awaits a call nobody answers gets its `TimeoutError`: while a call waits, its
 * timeout keeps the process alive, and only then (once every call has settled, nothing of them
 * holds the process). Run this file: it prints the error after 100 ms and exits with code 0.
 * A call with `timeoutMs: Infinity` arms no timer, so it keeps nothing alive.
 * Run: `node --conditions=source --import tsx examples/snippets/unanswered-call.ts`.
 */
import { ActorSystem, type Reply, TimeoutError } from 'troupe';

type PingMsg = { type: 'ping'; reply: Reply<'pong'> };

export async function main(): Promise<string> {
  const system = new ActorSystem(); // the real clock: the timeout is 100 real milliseconds
  const silent = system.spawn((_msg: PingMsg) => {}, { label: 'silent' }); // takes every request, answers none
  try {
    await silent.call({ type: 'ping' }, { timeoutMs: 100 }); // the process waits here, kept alive by the timeout
    return 'replied';
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    return e.message;
  } finally {
    await system.shutdown();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main()); // call { type: 'ping' } to Ref<1 silent> timed out after 100 ms
}
