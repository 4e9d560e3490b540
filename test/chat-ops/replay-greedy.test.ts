import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startServer } from '../chat/client.js';

describe('the limits against replays', () => {
  it('holds a client that does not read but keeps asking for replays (join + since) to the soft limit', async (t) => {
    const HARD = 256 * 1024;
    const SOFT = 64 * 1024;
    const server = await startServer(t, { softLimit: SOFT, hardLimit: HARD, history: 200 });
    const filler = await server.connect('filler');
    await filler.request({ type: 'join', room: 'lobby' });
    for (let i = 0; i < 150; i++) filler.send({ type: 'message', room: 'lobby', content: 'x'.repeat(8_000) });
    await filler.sync();

    const greedy = await server.connect('greedy');
    const joined = await greedy.request({ type: 'join', room: 'lobby' });
    (greedy.ws as unknown as { _socket: Socket })._socket.pause(); // stops reading
    const gapsBefore = server.chat.world.counters.gaps;
    for (let i = 0; i < 60; i++) greedy.send({ type: 'join', room: 'lobby', since: { epoch: joined.epoch, id: 0 } });

    const handle = [...server.chat.world.users.lookup('greedy').values()][0];
    assert.ok(handle);
    let peak = 0;
    for (let i = 0; i < 2_000 && server.chat.world.counters.gaps - gapsBefore < 60; i++) {
      peak = Math.max(peak, handle.bufferedAmount + handle.pendingBytes);
      await new Promise((r) => setImmediate(r));
    }
    // Each of the 60 replays of a 1.2 MB history stopped at the soft limit with a gap.
    assert.equal(server.chat.world.counters.gaps - gapsBefore, 60);
    // What the server holds for it: at most the soft limit of what the kernel did not take, plus one
    // replay's worth queued behind it in the same batch; far under the hard limit, so no close.
    assert.ok(
      peak <= 2 * SOFT + 16 * 1024,
      `peaked at ${(peak / 1024).toFixed(0)} KiB against a ${SOFT / 1024} KiB soft limit`,
    );
    assert.equal(handle.closed, false);
    assert.equal(filler.ws.readyState, filler.ws.OPEN, 'the other client is untouched');
  });
});
