/**
 * Hostile clients, over raw TCP (the `ws` library refuses to send these bytes, or to stop reading):
 *
 * - one that floods pings and never reads: uWS answers every ping with a pong itself, outside the
 *   application's writes, so the pongs must count against `--hard-limit` like everything else (and
 *   show in `chat_buffered_bytes`): it is closed with 1013 once uWS holds more than that for it;
 * - messages over `--max-payload`: one frame a byte over (closed with 1009), a header announcing
 *   2^53 bytes and fragments that never end (uWS drops the TCP connection as soon as a header or the
 *   fragments so far announce more than its cap, 2 x maxPayload here, without a close frame: the
 *   documented limitation), and fragments over the limit that end within the cap (1009).
 *
 * After each, a fresh client still chats.
 */
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { join, metric, type Server, startServer } from '../chat/client.js';

interface Raw {
  readonly sock: Socket;
  /** Bytes received after the handshake (only while the socket is read). */
  data: Buffer;
  /** Set once the socket ended, closed or errored. */
  gone: boolean;
}

/** Opens a raw WebSocket connection as `user` and waits for the 101. */
async function rawConnect(port: number, user: string): Promise<Raw> {
  const sock = createConnection({ host: '127.0.0.1', port });
  const raw: Raw = { sock, data: Buffer.alloc(0), gone: false };
  const done = () => {
    raw.gone = true;
  };
  sock.on('end', done);
  sock.on('close', done);
  sock.on('error', done);
  sock.write(
    `GET /ws?user=${user} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let head = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      if (!head.subarray(0, 12).toString().includes('101')) reject(new Error(`upgrade refused: ${head}`));
      raw.data = head.subarray(end + 4);
      sock.on('data', (c: Buffer) => {
        raw.data = Buffer.concat([raw.data, c]);
      });
      resolve();
    };
    sock.on('data', onData);
    sock.once('error', reject);
  });
  return raw;
}

/** A masked client frame. */
function frame(opcode: number, payload: Buffer, fin = true, announced = payload.length): Buffer {
  let header: Buffer;
  if (announced < 126) header = Buffer.from([0, 0x80 | announced]);
  else if (announced < 65_536) {
    header = Buffer.alloc(4);
    header[1] = 0x80 | 126;
    header.writeUInt16BE(announced, 2);
  } else {
    header = Buffer.alloc(10);
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(announced), 2);
  }
  header[0] = (fin ? 0x80 : 0) | opcode;
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i & 3] as number);
  return Buffer.concat([header, mask, body]);
}

interface ServerFrame {
  readonly opcode: number;
  readonly payload: Buffer;
}

/** The complete (unmasked) server frames in `data`. */
function parseFrames(data: Buffer): ServerFrame[] {
  const frames: ServerFrame[] = [];
  let at = 0;
  while (at + 2 <= data.length) {
    const opcode = (data[at] as number) & 0x0f;
    let len = (data[at + 1] as number) & 0x7f;
    let start = at + 2;
    if (len === 126) {
      if (start + 2 > data.length) break;
      len = data.readUInt16BE(start);
      start += 2;
    } else if (len === 127) {
      if (start + 8 > data.length) break;
      len = Number(data.readBigUInt64BE(start));
      start += 8;
    }
    if (start + len > data.length) break;
    frames.push({ opcode, payload: data.subarray(start, start + len) });
    at = start + len;
  }
  return frames;
}

/** The close frame's code, or undefined if the server sent none. */
function closeCode(raw: Raw): number | undefined {
  const close = parseFrames(raw.data).find((f) => f.opcode === 0x8);
  return close === undefined || close.payload.length < 2 ? undefined : close.payload.readUInt16BE(0);
}

async function untilGone(raw: Raw, what: string, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!raw.gone) {
    assert.ok(Date.now() < deadline, `${what}: still open after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Writes `chunk` and waits until the kernel took it; false if the socket is gone. */
function write(raw: Raw, chunk: Buffer): Promise<boolean> {
  if (raw.gone || raw.sock.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => raw.sock.write(chunk, (err) => resolve(err == null && !raw.gone)));
}

async function freshClientChats(srv: Server, user: string): Promise<void> {
  const c = await srv.connect(user);
  await join(c, 'lobby');
  const ack = await c.request({ type: 'message', room: 'lobby', content: 'still here' });
  assert.equal(ack.type, 'ack');
  const health = await srv.http('GET', '/healthz');
  assert.equal(health.status, 200);
}

async function metrics(srv: Server): Promise<string> {
  return (await srv.http('GET', '/metrics')).body;
}

describe('hostile clients', () => {
  it('closes with 1013 a client that floods pings and never reads, once the pongs pass the hard limit', async (t) => {
    const hardLimit = 2 * 1024 * 1024;
    const srv = await startServer(t, { hardLimit, softLimit: 64 * 1024 });
    const raw = await rawConnect(srv.port, 'pinger');
    raw.sock.pause(); // never read: the pongs pile up in the kernel, then in uWS
    const rssBefore = process.memoryUsage().rss;
    // 125-byte pings: 131 bytes in, 127 bytes of pong out. 1,000 per write.
    const batch = Buffer.concat(Array.from({ length: 1_000 }, () => frame(0x9, Buffer.alloc(125, 0x61))));
    const maxPings = 400_000; // 50 MiB: far past the hard limit plus what loopback kernel buffers hold
    let pings = 0;
    let sawBuffered = 0;
    while (pings < maxPings) {
      if (!(await write(raw, batch))) break;
      pings += 1_000;
      const text = await metrics(srv);
      const buffered = metric(text, 'chat_buffered_bytes') ?? 0;
      sawBuffered = Math.max(sawBuffered, buffered);
      if ((metric(text, 'chat_slow_closed_total') ?? 0) >= 1) break;
    }
    const text = await metrics(srv);
    assert.equal(metric(text, 'chat_slow_closed_total'), 1, `not closed after ${pings} pings`);
    assert.equal(metric(text, 'chat_connections'), 0, 'the pinger is no longer a connection');
    assert.ok(sawBuffered > 0, 'chat_buffered_bytes counted the pongs uWS held');
    assert.ok(sawBuffered <= hardLimit + 127, `buffered ${sawBuffered} stayed within the hard limit`);
    const growth = process.memoryUsage().rss - rssBefore;
    assert.ok(growth < 40 * 1024 * 1024, `rss grew by ${growth} bytes`);
    // More pings are ignored now. Read: every pong, then the close frame, then the end.
    await write(raw, batch);
    raw.sock.resume();
    await untilGone(raw, 'the pinger');
    assert.equal(closeCode(raw), 1013);
    const pongs = parseFrames(raw.data).filter((f) => f.opcode === 0xa).length;
    assert.ok(pongs < pings, `${pongs} pongs for ${pings} pings: the rest were never answered`);
    await freshClientChats(srv, 'fresh');
  });

  describe('messages over --max-payload (1 KiB; uWS cap 2 KiB)', () => {
    const maxPayload = 1024;

    it('closes with 1009 one frame a byte over the limit', async (t) => {
      const srv = await startServer(t, { maxPayload });
      const raw = await rawConnect(srv.port, 'big');
      await write(raw, frame(0x1, Buffer.alloc(maxPayload + 1, 0x78)));
      await untilGone(raw, 'big');
      assert.equal(closeCode(raw), 1009);
      await freshClientChats(srv, 'fresh');
    });

    it('closes with 1009 fragments that end over the limit (within uWS cap)', async (t) => {
      const srv = await startServer(t, { maxPayload });
      const raw = await rawConnect(srv.port, 'frag');
      await write(raw, frame(0x1, Buffer.alloc(600, 0x78), false));
      await write(raw, frame(0x0, Buffer.alloc(600, 0x78), true));
      await untilGone(raw, 'frag');
      assert.equal(closeCode(raw), 1009);
      await freshClientChats(srv, 'fresh');
    });

    it('drops (uWS: TCP close, no close frame) a header announcing 2^53 bytes, buffering nothing', async (t) => {
      const srv = await startServer(t, { maxPayload });
      const raw = await rawConnect(srv.port, 'huge');
      const header = frame(0x2, Buffer.alloc(0), true, 2 ** 53).subarray(0, 14);
      await write(raw, Buffer.concat([header, Buffer.alloc(4096, 0x78)]));
      await untilGone(raw, 'huge');
      // uWS refuses the length at the header and closes the socket itself (known limitation: no 1009).
      assert.equal(closeCode(raw), undefined);
      assert.equal(metric(await metrics(srv), 'chat_connections'), 0);
      await freshClientChats(srv, 'fresh');
    });

    it('drops fragments without FIN past uWS cap at once; memory stays bounded over 6 connections', async (t) => {
      const srv = await startServer(t, { maxPayload });
      const raws = await Promise.all(Array.from({ length: 6 }, (_, i) => rawConnect(srv.port, `frag${i}`)));
      const rssBefore = process.memoryUsage().rss;
      const first = frame(0x2, Buffer.alloc(512, 0x78), false);
      const more = frame(0x0, Buffer.alloc(512, 0x78), false);
      const written = await Promise.all(
        raws.map(async (raw) => {
          // Up to 15 MiB each, in 512-byte fragments, 64 KiB per write, never the final frame.
          const chunk = Buffer.concat(Array.from({ length: 128 }, () => more));
          let bytes = 0;
          if (!(await write(raw, first))) return bytes;
          bytes += first.length;
          while (bytes < 15 * 1024 * 1024 && (await write(raw, chunk))) bytes += chunk.length;
          return bytes;
        }),
      );
      for (const [i, raw] of raws.entries()) {
        await untilGone(raw, `frag${i}`);
        assert.equal(closeCode(raw), undefined, 'uWS closes the TCP connection without a close frame');
        assert.ok((written[i] as number) < 15 * 1024 * 1024, `frag${i} was cut off (wrote ${written[i]} bytes)`);
      }
      const growth = process.memoryUsage().rss - rssBefore;
      assert.ok(growth < 16 * 1024 * 1024, `rss grew by ${growth} bytes`);
      assert.equal(metric(await metrics(srv), 'chat_connections'), 0);
      await freshClientChats(srv, 'fresh');
    });
  });
});
