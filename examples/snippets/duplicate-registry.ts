/**
 * Duplicate keys: many actors per key, each with a value (Elixir's `Registry` with
 * `keys: :duplicate`). Topics of a pub/sub, every connection of a user, every member of a room.
 * `dispatch` sends to all of them; `lookup` returns the registry's own map for the key, read-only
 * and live; an actor's entries go the moment it dies.
 * Run: `node --conditions=source --import tsx examples/snippets/duplicate-registry.ts`.
 */
import { ActorSystem, DuplicateRegistry } from 'troupe';
import { settle } from 'troupe/testing';

type ChatMsg = { type: 'said'; from: string; text: string };

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem();
  const inbox: string[] = [];
  const member = (name: string) =>
    system.spawn((msg: ChatMsg) => {
      inbox.push(`${name} got ${msg.from}: ${msg.text}`);
    });
  const alice = member('alice');
  const bob = member('bob');

  // Keys are topics, values are user names; M (ChatMsg) types the refs it hands back.
  const topics = new DuplicateRegistry<string, string, ChatMsg>('topics');
  topics.register('lobby', alice, 'alice');
  topics.register('lobby', bob, 'bob');
  topics.register('dev', alice, 'alice');

  const sent = topics.dispatch('lobby', (ref, name) => ref.send({ type: 'said', from: 'carol', text: `hi ${name}` }));
  await settle(system);

  const lobby = topics.lookup('lobby'); // ReadonlyMap<Ref<ChatMsg>, string>, the registry's own
  const before = [...lobby.values()]; // ['alice', 'bob']
  system.kill(bob); // bob's entries go in the same step
  const after = [...lobby.values()]; // ['alice']: the same map, already updated

  const result = {
    sent, // 2
    inbox,
    before,
    after,
    count: topics.count('lobby'), // 1
    keysOfAlice: topics.keysOf(alice), // ['lobby', 'dev']
    unregister: topics.unregister('dev', alice), // true
    keys: topics.keys(), // ['lobby']
    size: topics.size, // 1 entry over all keys
  };
  await system.shutdown();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
