/**
 * Hearing of an entry's end: a registry's `onExit` is told of each entry an actor took with it when
 * it died (not of `unregister`), with the key and the value, once the entry is gone. One callback
 * for the whole registry instead of a monitor per member: a room hears that a member's connection
 * ended, as the chat's rooms do.
 * Run: `node --conditions=source --import tsx examples/snippets/registry-exit.ts`.
 */
import { ActorSystem, DuplicateRegistry, type Ref } from 'troupe';
import { settle } from 'troupe/testing';

type RoomMsg = { type: 'member.exit'; user: string };

export async function main(): Promise<Record<string, unknown>> {
  const system = new ActorSystem();
  const heard: string[] = [];
  const lobby = system.spawn((msg: RoomMsg) => {
    heard.push(`${msg.user} left`);
  });
  const rooms = new Map<string, Ref<RoomMsg>>([['lobby', lobby]]);

  const members = new DuplicateRegistry<string, string>('members', {
    // Inside the runtime, as the member dies: hand the work on in a message.
    onExit: (room, _ref, user) => void rooms.get(room)?.send({ type: 'member.exit', user }),
  });
  const alice = system.spawn((_m: never) => {});
  const bob = system.spawn((_m: never) => {});
  members.register('lobby', alice, 'alice');
  members.register('lobby', bob, 'bob');

  members.unregister('lobby', alice); // its own doing: not an exit
  system.kill(alice);
  system.kill(bob); // bob's entry goes, and the room hears of it
  await settle(system);

  const result = { heard, left: members.count('lobby') };
  await system.shutdown();
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await main());
}
