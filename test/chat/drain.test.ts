import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { http, join, startServer } from './client.js';

/** Resolves with the error code of a TCP connect to the port (undefined if it connected). */
async function tcpConnect(port: number): Promise<string | undefined> {
  const socket = connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  } finally {
    socket.destroy();
  }
}

describe('chat drain', () => {
  it('closes every connection with 1012 and stops accepting', async (t) => {
    const srv = await startServer(t);
    const clients = await Promise.all([
      srv.connect('alice'),
      srv.connect('alice'),
      srv.connect('bob', 'msgpack'),
      srv.connect('idle'),
    ]);
    await join(clients[0]!, 'lobby');
    await join(clients[2]!, 'lobby'); // in MessagePack
    assert.equal(await tcpConnect(srv.port), undefined, 'accepting before the drain');

    await srv.chat.drain();
    for (const c of clients) {
      const closed = await c.closedWith();
      assert.equal(closed.code, 1012, c.label);
    }
    assert.equal(await tcpConnect(srv.port), 'ECONNREFUSED', 'the port no longer accepts');
    await assert.rejects(http(srv.port, 'GET', '/healthz'), /ECONNREFUSED/);
    await assert.rejects(srv.attempt('?user=late'), /ECONNREFUSED/);
    assert.equal(srv.system.stats().actors, 0, 'the whole tree stopped');
  });
});
