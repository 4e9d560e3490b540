/**
 * Server-wide room limits: `--max-total-rooms` refuses the join (or message) that would create one
 * room more with `server_full` and applies nothing; rooms that stop (empty for `roomIdleMs`) free
 * their places, so a flood of create-then-leave rooms holds nothing for long. `--history-bytes`
 * keeps a room's history under a byte budget: the oldest messages go first, and a `since` older
 * than what is kept answers `recovered: false`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Encoded } from '../../examples/chat/src/codec.js';
import { RoomStore } from '../../examples/chat/src/store.js';
import { join, startServer } from './client.js';

describe('room limits', () => {
  it('answers server_full to a join that would pass --max-total-rooms, and frees places as rooms stop', async (t) => {
    const srv = await startServer(t, { maxTotalRooms: 3, roomIdleMs: 50 });
    const c = await srv.connect('alice');
    for (const r of ['a', 'b', 'c']) await join(c, r);
    const refused = await c.request({ type: 'join', room: 'd' });
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'server_full');
    assert.match(refused.reason as string, /limit of 3 rooms/);
    assert.equal(srv.chat.world.rooms.size, 3, 'nothing was created');
    // Joining a room that exists is fine at the limit.
    const other = await srv.connect('bob');
    await join(other, 'a');
    // Leave one: once it stops (empty for roomIdleMs), its place is free.
    await c.request({ type: 'leave', room: 'c' });
    await c.until(() => (srv.chat.world.rooms.size === 2 ? true : undefined), 'room c to stop');
    await join(c, 'd');
    // A flood of create-then-leave holds at most the limit, and each stops.
    for (let i = 0; i < 20; i++) {
      const f = await c.request({ type: 'join', room: `flood-${i}` });
      if (f.type === 'joined') await c.request({ type: 'leave', room: `flood-${i}` });
      else assert.equal(f.code, 'server_full');
      assert.ok(srv.chat.world.rooms.size <= 3);
    }
  });

  it('keeps at most --history-bytes of a room history, the newest, and says recovered:false before it', async (t) => {
    const srv = await startServer(t, { historyBytes: 20_000, history: 1_000, rate: 10_000, burst: 10_000 });
    const c = await srv.connect('alice');
    const joined = await join(c, 'lobby');
    for (let i = 0; i < 40; i++) c.send({ type: 'message', room: 'lobby', content: 'y'.repeat(1_000) });
    await c.syncRoom('lobby');
    const reader = await srv.connect('reader');
    // About 1,100 bytes per message: 20,000 bytes keep the last 18.
    const old = await reader.request({ type: 'join', room: 'lobby', since: { epoch: joined.epoch, id: 10 } });
    assert.equal(old.recovered, false, 'message 11 is gone');
    const recent = await reader.request({ type: 'join', room: 'lobby', since: { epoch: joined.epoch, id: 30 } });
    assert.equal(recent.recovered, true);
    await reader.until(() => (reader.received('message').length === 10 ? true : undefined), 'the last ten');
  });

  it('counts bytes in the store: the oldest go first, the newest always stays', () => {
    const store = new RoomStore(5, 250);
    const frame = (n: number) =>
      new Encoded({ type: 'message', room: 'r', from: 'u', content: 'z'.repeat(n), ts: 0, id: 0 });
    for (const n of [50, 50, 50]) store.append(frame(n), 100);
    assert.equal(store.bytes, 300 - 100, 'three of 100 against 250: the oldest went');
    assert.equal(store.oldestId, 2);
    assert.equal(store.covers(1), true, 'since 1: messages 2 and 3 are there');
    assert.equal(store.covers(0), false, 'since 0: message 1 is gone');
    store.append(frame(10), 1_000);
    assert.equal(store.oldestId, 4, 'one message over the limit is kept alone');
    assert.equal(store.bytes, 1_000);
    for (let i = 0; i < 10; i++) store.append(frame(1), 10);
    assert.equal(store.bytes, 50, 'the count limit (5) drops bytes too');
    assert.equal(store.after(store.oldestId - 1).length, 5);
  });
});
