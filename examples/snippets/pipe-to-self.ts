/**
 * `ctx.pipeToSelf(promise, toMessage)`: start async work from a handler without awaiting it there.
 * The actor goes on taking mail; when the promise settles, `toMessage` turns its outcome into a
 * message to the actor, and the handler of that message changes the state (Akka's `pipeToSelf`,
 * Elixir's `Task` with `handle_info`).
 * Run: `node --conditions=source --import tsx examples/snippets/pipe-to-self.ts`.
 */
import { ActorSystem, type Behavior, type Reply } from 'troupe';
import { settle } from 'troupe/testing';

type Profile = { name: string };

type LoaderMsg =
  | { type: 'load'; id: number }
  | { type: 'loaded'; id: number; profile: Profile }
  | { type: 'failed'; id: number; error: string }
  | { type: 'ping'; reply: Reply<string> }
  | { type: 'state'; reply: Reply<Record<number, string>> };

/** Something slow and fallible, like a database or an HTTP call. */
const fetchProfile = async (id: number): Promise<Profile> => {
  await new Promise((r) => setTimeout(r, 10));
  if (id === 13) throw new Error('no such profile');
  return { name: `user-${id}` };
};

const loader: Behavior<LoaderMsg, Record<number, string>> = {
  init: () => ({}),
  receive(state, msg, ctx) {
    switch (msg.type) {
      case 'load':
        ctx.pipeToSelf(fetchProfile(msg.id), (r) =>
          r.ok
            ? { type: 'loaded', id: msg.id, profile: r.value }
            : { type: 'failed', id: msg.id, error: r.error.message },
        );
        return state; // not waiting: the next message is taken at once
      case 'loaded':
        return { ...state, [msg.id]: msg.profile.name };
      case 'failed':
        return { ...state, [msg.id]: `failed: ${msg.error}` };
      case 'ping':
        msg.reply('pong');
        return state;
      case 'state':
        msg.reply(state);
        return state;
    }
  },
};

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem();
  const ref = system.spawn(loader);
  ref.send({ type: 'load', id: 1 });
  ref.send({ type: 'load', id: 13 });
  const whileLoading = await ref.call({ type: 'ping' }); // 'pong': the loads do not block the actor
  const before = await ref.call({ type: 'state' }); // {}
  await new Promise((r) => setTimeout(r, 50));
  await settle(system);
  const after = await ref.call({ type: 'state' }); // { 1: 'user-1', 13: 'failed: no such profile' }
  await system.shutdown();
  return { whileLoading, before, after };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
