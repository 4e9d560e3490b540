/**
 * `@troupe/uws` against raw TCP peers: pongs (which uWS writes itself) count against `bufferLimit`
 * and in `bufferedAmount`; a message over `maxPayload` is closed with 1009 while it is within uWS's
 * cap (maxPayload plus at most 64 KiB) and dropped by uWS past it.
 */
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { type SocketArgs, type SocketEvent, type SocketHandle, serve } from '@troupe/uws';
import { ActorSystem, type Behavior, silentLogger } from 'troupe';

const handles: SocketHandle<unknown>[] = [];
const echo: Behavior<SocketEvent, SocketArgs<unknown>, SocketArgs<unknown>> = {
  init(_ctx, args) {
    handles.push(args.socket);
    return args;
  },
  receive(state, msg) {
    if (msg.type === 'socket.message') state.socket.send(msg.data, msg.isBinary);
    return state;
  },
};

function masked(opcode: number, payload: Buffer, fin = true): Buffer {
  const n = payload.length;
  const header = n < 126 ? Buffer.from([0, 0x80 | n]) : Buffer.from([0, 0x80 | 126, n >> 8, n & 0xff]);
  header[0] = (fin ? 0x80 : 0) | opcode;
  return Buffer.concat([header, Buffer.alloc(4), payload]); // mask 0: the payload as is
}

async function rawOpen(port: number): Promise<{ sock: Socket; data: () => Buffer; gone: Promise<void> }> {
  const sock = createConnection({ host: '127.0.0.1', port });
  const gone = new Promise<void>((resolve) => {
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
  });
  sock.write(
    'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  let buf = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
  });
  while (buf.indexOf('\r\n\r\n') < 0) await new Promise((r) => setTimeout(r, 5));
  const at = buf.indexOf('\r\n\r\n') + 4;
  return { sock, data: () => buf.subarray(at), gone };
}

/** The code of the server's close frame in `data` (after any pongs), if it sent one. */
function closeCodeOf(data: Buffer): number | undefined {
  for (let at = 0; at + 2 <= data.length; ) {
    const op = (data[at] as number) & 0x0f;
    let len = (data[at + 1] as number) & 0x7f;
    let start = at + 2;
    if (len === 126) {
      len = data.readUInt16BE(start);
      start += 2;
    } else if (len === 127) {
      len = Number(data.readBigUInt64BE(start));
      start += 8;
    }
    if (op === 0x8) return len >= 2 ? data.readUInt16BE(start) : undefined;
    at = start + len;
  }
  return undefined;
}

describe('@troupe/uws and hostile peers', () => {
  it('counts pongs in bufferedAmount and closes a ping flooder that never reads at the bufferLimit', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    let exceeded = 0;
    const limit = 1024 * 1024;
    const server = await serve(system, {
      socket: { behavior: echo },
      bufferLimit: { bytes: limit, onExceeded: () => exceeded++ },
    });
    const raw = await rawOpen(server.port);
    raw.sock.pause();
    const batch = Buffer.concat(Array.from({ length: 1_000 }, () => masked(0x9, Buffer.alloc(125))));
    const handle = handles.at(-1) as SocketHandle<unknown>;
    let maxBuffered = 0;
    for (let i = 0; i < 400 && exceeded === 0; i++) {
      await new Promise<void>((resolve) => raw.sock.write(batch, () => resolve()));
      await new Promise((r) => setImmediate(r));
      maxBuffered = Math.max(maxBuffered, handle.bufferedAmount);
    }
    assert.equal(exceeded, 1, 'closed for the buffer limit');
    assert.equal(handle.closeInfo?.code, 1013);
    assert.ok(maxBuffered > 0 && maxBuffered <= limit + 127, `bufferedAmount saw the pongs (${maxBuffered})`);
    raw.sock.resume();
    await raw.gone;
    assert.equal(closeCodeOf(raw.data()), 1013, 'every pong, then the close frame');
    await server.stop();
    await system.shutdown();
  });

  it('closes with 1009 a message over maxPayload within uWS cap, in one frame or fragments; drops one past it', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const server = await serve(system, { socket: { behavior: echo }, maxPayload: 1000 });
    const cases: Array<[string, Buffer[], number | undefined]> = [
      ['one frame', [masked(0x2, Buffer.alloc(1001))], 1009],
      ['fragments', [masked(0x2, Buffer.alloc(600), false), masked(0x0, Buffer.alloc(600))], 1009],
      ['past the cap', [masked(0x2, Buffer.alloc(1500), false), masked(0x0, Buffer.alloc(1500), false)], undefined],
    ];
    for (const [what, frames, code] of cases) {
      const raw = await rawOpen(server.port);
      for (const f of frames) raw.sock.write(f);
      await raw.gone;
      assert.equal(closeCodeOf(raw.data()), code, what);
    }
    const ok = await rawOpen(server.port);
    ok.sock.write(masked(0x1, Buffer.from('still fine')));
    while (!ok.data().includes('still fine')) await new Promise((r) => setTimeout(r, 5));
    ok.sock.destroy();
    await server.stop();
    await system.shutdown();
  });
});
