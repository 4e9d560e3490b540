import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { type Fault, startBaseline } from '../../bench/chat/baseline-server.js';
import { LoadGroup, sourceAddress, type Tally } from '../../bench/chat/load.js';
import { lostOf, violations } from '../../bench/chat/scenario.js';
import type { Encoding } from '../../bench/chat/wire.js';
import { OP_PING, OP_PONG, WsClient } from '../../bench/chat/ws-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs a small load (2 rooms of 100, 4 messages/s per connection for `seconds`) against the
 * baseline server with `fault`, then waits until every expected delivery arrived or none arrived for
 * 400 ms (at most 3 s), and returns the load generator's tally.
 */
async function runLoad(fault: Fault | undefined, encoding: Encoding = 'json', seconds = 1): Promise<Tally> {
  const server = await startBaseline({ port: 0, fault });
  const group = new LoadGroup({
    port: server.port,
    encoding,
    first: 0,
    count: 200,
    roomSize: 100,
    total: 200,
    payloadBytes: 1024,
  });
  try {
    const c = await group.connect(5_000);
    assert.equal(c.failed, 0, c.firstError);
    group.setRate(4);
    await sleep(seconds * 1000);
    group.setRate(0);
    const t0 = Date.now();
    let last = -1;
    let lastChange = t0;
    while (Date.now() - t0 < 3_000) {
      const got = group.delivered + group.tally.shedDeliveries;
      if (got >= group.tally.expected) break;
      if (got !== last) {
        last = got;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > 400) break;
      await sleep(25);
    }
    return { ...group.tally };
  } finally {
    group.close();
    server.close();
    await sleep(50);
  }
}

const lost = (t: Tally) => t.expected - t.deliveredRoom - t.deliveredDm;

describe('chat load generator: correctness checks', () => {
  it('finds nothing wrong with a correct server, and every expected delivery arrives', async () => {
    const t = await runLoad(undefined);
    assert.ok(t.sentRoom > 300 && t.sentDm > 300, `sent ${t.sentRoom} room messages and ${t.sentDm} DMs`);
    assert.equal(t.expected, t.sentRoom * 100 + t.sentDm);
    assert.equal(lost(t), 0);
    assert.equal(t.acks, t.sentRoom + t.sentDm);
    for (const k of ['skipped', 'duplicates', 'reordered', 'corrupt', 'undecodable', 'errors', 'dropped'] as const) {
      assert.equal(t[k], 0, k);
    }
  });

  it('finds nothing wrong over MessagePack either', async () => {
    const t = await runLoad(undefined, 'msgpack', 0.5);
    assert.ok(t.sentRoom > 100);
    assert.equal(lost(t), 0);
    assert.equal(t.skipped + t.duplicates + t.reordered + t.corrupt + t.undecodable + t.errors, 0);
  });

  it('catches a server that drops a room message: skipped ids and lost deliveries, no gap frame', async () => {
    const t = await runLoad({ kind: 'drop', every: 50 });
    const drops = Math.floor(t.sentRoom / 50);
    assert.ok(drops >= 5, `${drops} drops`);
    // Every member of the room misses the dropped id: 100 per drop, the last one maybe not yet seen.
    assert.ok(t.skipped >= (drops - 1) * 100, `skipped ${t.skipped}`);
    assert.ok(lost(t) >= drops * 100, `lost ${lost(t)}`);
    assert.equal(t.announcedLost, 0);
    assert.equal(t.gaps, 0);
  });

  it('catches a server that reorders room messages', async () => {
    const t = await runLoad({ kind: 'reorder', every: 50 });
    const swaps = Math.floor(t.sentRoom / 50);
    assert.ok(swaps >= 5);
    // Each swap: every member sees id n+1 before n.
    assert.ok(t.reordered >= (swaps - 1) * 100, `reordered ${t.reordered}`);
    assert.equal(t.duplicates, 0);
  });

  it('catches a server that delivers a room message twice', async () => {
    const t = await runLoad({ kind: 'duplicate', every: 50 });
    const dups = Math.floor(t.sentRoom / 50);
    assert.ok(dups >= 5);
    assert.ok(t.duplicates >= dups * 100, `duplicates ${t.duplicates}`);
    assert.equal(lost(t), 0);
  });

  it('counts refused room messages (load shedding) as answered and not expected, not as lost or errors', async () => {
    const t = await runLoad({ kind: 'shed', every: 10 });
    const refused = Math.floor(t.sentRoom / 10);
    assert.ok(refused >= 20, `${refused} refused`);
    assert.equal(t.shed, refused);
    assert.equal(t.shedDeliveries, refused * 100);
    assert.equal(t.errors, 0);
    assert.equal(lostOf(t), 0);
    assert.deepEqual(violations(t), []);
  });

  it('catches a server that drops a DM', async () => {
    const t = await runLoad({ kind: 'drop-dm', every: 20 });
    const drops = Math.floor(t.sentDm / 20);
    assert.ok(drops >= 5);
    assert.equal(lost(t), drops);
    assert.equal(t.skipped, 0);
  });
});

/** A hand-rolled WebSocket server that writes its frames a few bytes at a time. */
async function tricklingServer(frames: Buffer[], onClientFrame: (opcode: number, payload: Buffer) => void) {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    let buf = Buffer.alloc(0);
    let upgraded = false;
    s.on('data', async (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const key = /sec-websocket-key: (\S+)/i.exec(buf.subarray(0, end).toString())?.[1] ?? '';
        buf = buf.subarray(end + 4);
        upgraded = true;
        const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        const all = Buffer.concat([
          Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`),
          Buffer.from(`Sec-WebSocket-Accept: ${accept}\r\n\r\n`),
          ...frames,
        ]);
        // 1 to 7 bytes per write, each its own read on the client side.
        for (let i = 0; i < all.length; ) {
          const n = 1 + (i % 7);
          s.write(all.subarray(i, i + n));
          i += n;
          await new Promise((r) => setTimeout(r, 0));
        }
      }
      // Client frames: always masked.
      while (buf.length >= 6) {
        const b1 = buf[1] as number;
        assert.ok(b1 & 0x80, 'client frames are masked');
        const len = b1 & 0x7f;
        const head = len === 126 ? 4 : 2;
        const size = len === 126 ? buf.readUInt16BE(2) : len;
        if (buf.length < head + 4 + size) break;
        const mask = buf.subarray(head, head + 4);
        const payload = Buffer.from(buf.subarray(head + 4, head + 4 + size));
        for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number);
        onClientFrame((buf[0] as number) & 0x0f, payload);
        buf = buf.subarray(head + 4 + size);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const head = payload.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, payload.length]) : Buffer.alloc(4);
  if (payload.length >= 126) {
    head[0] = (fin ? 0x80 : 0) | opcode;
    head[1] = 126;
    head.writeUInt16BE(payload.length, 2);
  }
  return Buffer.concat([head, payload]);
}

describe('chat load generator: raw WebSocket client', () => {
  it('reassembles frames split across reads, fragmented messages included, and answers pings masked', async () => {
    const big = Buffer.from('y'.repeat(1500));
    const frames = [
      serverFrame(1, Buffer.from('{"type":"welcome","user":"u0"}')),
      serverFrame(1, big),
      serverFrame(OP_PING, Buffer.from('hi')),
      serverFrame(1, Buffer.from('frag'), false),
      serverFrame(0, Buffer.from('mented')),
      serverFrame(2, Buffer.from([1, 2, 3])),
    ];
    const fromClient: Array<[number, string]> = [];
    const server = await tricklingServer(frames, (op, p) => fromClient.push([op, p.toString()]));
    const got: string[] = [];
    try {
      const client = new WsClient(
        { port: server.port, path: '/ws?user=u0' },
        {
          open: () => {},
          message: (buf, start, end, binary) =>
            got.push(`${binary ? 'bin' : 'txt'}:${buf.toString('latin1', start, end)}`),
          closed: () => {},
        },
      );
      const t0 = Date.now();
      while (got.length < 4 && Date.now() - t0 < 5_000) await sleep(10);
      client.sendText('{"type":"ping"}');
      await sleep(50);
      client.close();
    } finally {
      server.close();
    }
    assert.deepEqual(got, [
      'txt:{"type":"welcome","user":"u0"}',
      `txt:${big.toString()}`,
      'txt:fragmented',
      `bin:${Buffer.from([1, 2, 3]).toString('latin1')}`,
    ]);
    assert.deepEqual(fromClient.slice(0, 2), [
      [OP_PONG, 'hi'],
      [1, '{"type":"ping"}'],
    ]);
  });

  it('spreads a large load over source addresses: 5,000 connections to each of 127.0.0.1, .2, ...', async () => {
    // Every connection from one address takes a local port for its destination, and Linux's search
    // for a free one slows as the ports fill: 200,000 connections need dozens of addresses.
    assert.equal(sourceAddress(0), '127.0.0.1');
    assert.equal(sourceAddress(4_999), '127.0.0.1');
    assert.equal(sourceAddress(5_000), '127.0.0.2');
    assert.equal(sourceAddress(199_999), '127.0.0.40');
    assert.equal(sourceAddress(250 * 5_000), '127.0.1.1');
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    try {
      const seen = once(server, 'connection') as Promise<[Socket]>;
      const client = new WsClient(
        { port, path: '/ws?user=u5000', localAddress: sourceAddress(5_000) },
        { open: () => {}, message: () => {}, closed: () => {} },
      );
      const [socket] = await seen;
      assert.equal(socket.remoteAddress, '127.0.0.2');
      client.destroy();
      socket.destroy();
    } finally {
      server.close();
    }
  });
});
