import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, it } from 'node:test';
import { startServer } from '../chat/client.js';

describe('the hard limit against replays', () => {
  it('closes with 1013 a client that does not read but keeps asking for replays (join + since)', async (t) => {
    const HARD = 256 * 1024;
    const server = await startServer(t, { softLimit: 64 * 1024, hardLimit: HARD, history: 200 });
    const filler = await server.connect('filler');
    await filler.request({ type: 'join', room: 'lobby' });
    for (let i = 0; i < 150; i++) filler.send({ type: 'message', room: 'lobby', content: 'x'.repeat(8_000) });
    await filler.sync();

    const greedy = await server.connect('greedy');
    const joined = await greedy.request({ type: 'join', room: 'lobby' });
    (greedy.ws as unknown as { _socket: Socket })._socket.pause(); // stops reading
    for (let i = 0; i < 60; i++) greedy.send({ type: 'join', room: 'lobby', since: { epoch: joined.epoch, id: 0 } });

    const handle = [...server.chat.world.users.lookup('greedy').values()][0];
    assert.ok(handle);
    let peak = 0;
    for (let i = 0; i < 2_000 && !handle.closed; i++) {
      peak = Math.max(peak, handle.bufferedAmount);
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(handle.closed, true, `still open with ${(peak / 1e6).toFixed(1)} MB buffered`);
    assert.equal(handle.closeInfo?.code, 1013);
    assert.ok(peak <= 2 * HARD, `peaked at ${(peak / 1e6).toFixed(1)} MB against a ${HARD / 1024} KiB hard limit`);
    assert.ok(server.chat.world.counters.slowClosed >= 1);
    assert.equal(filler.ws.readyState, filler.ws.OPEN, 'the other client is untouched');
  });
});
