/**
 * Heartbeats: uWS closes a connection that has been silent for `idleTimeoutS` and pings live ones
 * automatically, so a client that answers pings (every WebSocket client does) stays connected
 * however long it is idle, and a dead peer (here: a TCP client that never answers) is closed.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { describe, it } from 'node:test';
import { startServer } from '../chat/client.js';

describe('heartbeats', () => {
  it('keeps an idle client that answers pings, and closes a peer that never answers', async (t) => {
    // 8 s is the smallest idle timeout uWS accepts with automatic pings.
    const server = await startServer(t, { idleTimeoutS: 8 });
    const live = await server.connect('live');
    let pings = 0;
    live.ws.on('ping', () => pings++);
    // A peer that upgrades and then goes silent: it answers nothing, not even pings. (It reads, so
    // that it sees the server close the connection.)
    const dead = createConnection({ host: '127.0.0.1', port: server.port });
    dead.resume();
    dead.write(
      'GET /ws?user=dead HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    const closed = once(dead, 'close');
    const guard = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the silent peer was not closed in 25 s')), 25_000).unref(),
    );
    await Promise.race([closed, guard]);
    assert.ok(pings >= 1, 'the server pinged the idle live client');
    assert.equal(live.ws.readyState, live.ws.OPEN, 'the live client, idle just as long, is still connected');
    await live.sync();
  });
});
