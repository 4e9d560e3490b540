import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { type SocketArgs, type SocketEvent, serve } from '@troupe/uws';
import { ActorSystem, type Behavior, silentLogger } from 'troupe';
import WebSocket from 'ws';

// A socket actor that ends itself (normal exit) on 'quit': a transient child, so not restarted.
const quitter: Behavior<SocketEvent, SocketArgs<{}>, SocketArgs<{}>> = {
  init: (_c, a) => a,
  receive(s, msg, ctx) {
    if (msg.type === 'socket.message' && msg.data === 'quit') ctx.stop();
    return s;
  },
};

async function open(port: number): Promise<{ ws: WebSocket; status?: number | undefined }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  return new Promise((resolve) => {
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode }));
    ws.on('error', () => {});
  });
}

test('a socket whose actor ended by itself frees its maxConnections slot', async () => {
  const system = new ActorSystem({ logger: silentLogger });
  const server = await serve(system, { port: 0, maxConnections: 1, socket: { behavior: quitter } });
  try {
    const a = await open(server.port);
    assert.equal(a.status, undefined);
    const closed = once(a.ws, 'close');
    a.ws.send('quit'); // actor stops; the server closes the socket
    await closed;
    for (let i = 0; i < 200 && (await server.connections()) > 0; i++) await new Promise((r) => setImmediate(r));
    const b = await open(server.port);
    assert.equal(b.status, undefined, `second connection refused with HTTP ${b.status} although none is open`);
    b.ws.close();
  } finally {
    await server.stop();
    await system.shutdown();
  }
});
