/**
 * A replay obeys the soft limit (PROTOCOL.md "Every byte queued for a client is bounded"): a
 * `join` + `since` on a full room by a client that does not read queues what fits under the soft
 * limit, then one `gap` frame whose `from` is the first id not sent; the socket stays open, and
 * resuming from there gets the rest, in order, nothing twice.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startServer } from '../chat/client.js';

describe('replays and the soft limit', () => {
  it('sends what fits, then a gap at the first id not sent; resuming from there gets the rest', async (t) => {
    const SOFT = 64 * 1024;
    const server = await startServer(t, {
      softLimit: SOFT,
      hardLimit: 8 * 1024 * 1024,
      history: 300,
      rate: 10_000,
      burst: 10_000,
    });
    const filler = await server.connect('filler');
    await filler.request({ type: 'join', room: 'lobby' });
    for (let i = 0; i < 250; i++) filler.send({ type: 'message', room: 'lobby', content: 'x'.repeat(8_000) });
    await filler.sync();

    const reader = await server.connect('reader');
    const joined = await reader.request({ type: 'join', room: 'lobby' });
    assert.equal(joined.id, 250);
    const socket = (reader.ws as unknown as { _socket: Socket })._socket;
    socket.pause(); // stops reading: the kernel's buffers fill, then uWS's
    reader.send({ type: 'join', room: 'lobby', since: { epoch: joined.epoch, id: 0 } });
    const handle = [...server.chat.world.users.lookup('reader').values()][0];
    assert.ok(handle);
    let peak = 0;
    for (let i = 0; i < 200; i++) {
      peak = Math.max(peak, handle.bufferedAmount);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(handle.closed, false, 'over the soft limit is not a reason to close at once');
    assert.ok(peak <= SOFT + 16 * 1024, `the server queued ${peak} B for it against a ${SOFT} B soft limit`);
    socket.resume();

    const gap = await reader.next((f) => f.type === 'gap', 'the gap');
    const from = gap.from as number;
    assert.equal(gap.room, 'lobby');
    assert.ok(from > 1 && from <= 250, `gap from ${from}`);
    const replayed = reader.received('message').map((f) => f.id as number);
    assert.deepEqual(
      replayed,
      Array.from({ length: from - 1 }, (_, i) => i + 1),
      'every id before the gap, in order',
    );

    // Resume from each gap until the end: the rest, in order, once each; each round at most the soft limit.
    let at = from - 1;
    let rounds = 1;
    while (at < 250) {
      const again = await reader.request({ type: 'join', room: 'lobby', since: { epoch: joined.epoch, id: at } });
      assert.equal(again.recovered, true);
      const before = reader.received('message').length;
      // The end (0), or the next gap's first id (which may be 250 itself).
      const ended = await reader.until(
        () =>
          reader.received('message').length >= 250 ? 0 : (reader.unread('gap').at(-1)?.from as number | undefined),
        'the next gap or the end',
      );
      if (ended !== 0) await reader.next((f) => f.type === 'gap', 'that gap');
      const got = reader.received('message').length - before;
      assert.ok(got * 8_000 <= SOFT + 16 * 1_024, `round ${rounds} sent ${got} messages`);
      at = ended === 0 ? 250 : ended - 1;
      rounds++;
    }
    t.diagnostic(`250 messages of 8 KB replayed in ${rounds} rounds against a ${SOFT / 1024} KiB soft limit`);
    assert.deepEqual(
      reader.received('message').map((f) => f.id as number),
      Array.from({ length: 250 }, (_, i) => i + 1),
    );
    // And live messages flow again.
    await filler.request({ type: 'message', room: 'lobby', content: 'live', ref: 'live' });
    await reader.until(() => reader.received('message').find((f) => f.content === 'live'), 'the live message');
  });
});
