import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type UpgradeChildrenResult, upgradeChildren, whichChildren } from 'troupe';
import { room } from '../../examples/chat/src/room.js';
import { is, join, startServer, supervisors } from './client.js';
import { assertSawAll, stream } from './stream.js';

/** Room code v2: the same room, counting what it handles, so the test can see it runs. */
function roomV2(counter: { handled: number; started: number }): typeof room {
  return {
    ...room,
    init(ctx, args) {
      counter.started++;
      return room.init!(ctx, args);
    },
    receive(state, msg, ctx) {
      counter.handled++;
      return room.receive(state, msg, ctx);
    },
  };
}

describe('chat hot upgrade', () => {
  it('upgrades every room actor while clients chat, with no socket dropped and no message lost or doubled', async (t) => {
    const srv = await startServer(t);
    const users = ['ann', 'ben', 'cat'];
    const clients = await Promise.all(users.map((u) => srv.connect(u)));
    for (const c of clients) await join(c, 'lobby');
    await join(clients[0]!, 'side');
    await join(clients[1]!, 'side');
    const { rooms } = await supervisors(srv);
    const before = await whichChildren(rooms);
    assert.equal(before.length, 2);

    const v2 = { handled: 0, started: 0 };
    let upgrade: UpgradeChildrenResult | undefined;
    let handledAtSwap = 0;
    // Side traffic in a second room during the swap.
    const side = stream([clients[0]!, clients[1]!], { room: 'side', perSender: 20, window: 2 });
    const result = await stream(clients, {
      room: 'lobby',
      perSender: 40,
      window: 4,
      at: {
        acks: 45,
        run: async () => {
          upgrade = await upgradeChildren(rooms, {
            behavior: roomV2(v2),
            migrate: (s: never) => s, // the state is the same shape
          });
          handledAtSwap = v2.handled;
        },
      },
    });
    const sideResult = await side;
    assert.deepEqual(upgrade, { ok: true, upgraded: 2, failed: [] });
    assert.ok(v2.handled > handledAtSwap, 'messages after the swap ran on v2');
    assert.equal(v2.started, 0, 'an upgrade runs no init');

    for (const c of clients) await assertSawAll(c, 'lobby', result, 1);
    for (const c of clients.slice(0, 2)) await assertSawAll(c, 'side', sideResult, 1);
    for (const c of clients) assert.equal(c.closed, undefined, 'no socket dropped');

    // Same actors (no restart), same members; rooms started later run v2 as well.
    const after = await whichChildren(rooms);
    assert.deepEqual(
      after.map((c) => [c.ref, c.restarts]),
      before.map((c) => [c.ref, 0]),
    );
    assert.deepEqual((await clients[2]!.request({ type: 'who', room: 'lobby' })).users, users);
    const joined = await join(clients[2]!, 'lobby');
    assert.deepEqual([joined.members, joined.id], [3, 120]);
    await join(clients[2]!, 'newer');
    assert.equal(v2.started, 1, 'a new room starts on the new code');
    const ack = await clients[2]!.request({ type: 'message', room: 'newer', content: 'v2' });
    assert.equal(ack.id, 1);
    await clients[2]!.next(is('message', { room: 'newer', id: 1 }));
  });
});
