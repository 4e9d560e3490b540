import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createConnection } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Server, type SocketArgs, type SocketEvent, serve } from '@troupe/uws';
import { ActorSystem, type Behavior, silentLogger, whichChildren } from 'troupe';
import WebSocket from 'ws';
import { freePort } from '../../scripts/nats-server.js';

interface Session {
  name: string;
  restarts: number;
}

type EchoMsg = SocketEvent;

/** Echoes frames; 'crash' throws; 'bytes:N' sends N bytes of binary; reports restarts via the session. */
const echo: Behavior<EchoMsg, SocketArgs<Session>, SocketArgs<Session>> = {
  init(_ctx, args) {
    const session = args.socket.session;
    // 'fragile' starts once; every later init throws (a restart that can never succeed).
    if (session.name === 'fragile' && session.restarts > 0) {
      session.restarts++;
      throw new Error('cannot restart');
    }
    args.socket.send(`hello ${session.name} #${session.restarts++}`);
    return args;
  },
  receive(state, msg) {
    const socket = state.socket;
    switch (msg.type) {
      case 'socket.message': {
        if (msg.data === 'crash') throw new Error('crash on purpose');
        if (msg.data === 'stats') {
          const { framesOut, bytesOut, dropped } = socket.stats;
          socket.send(`stats ${framesOut} ${bytesOut} ${dropped} ${socket.framesOut === framesOut}`);
          return state;
        }
        if (msg.data === 'bye') {
          socket.end(4000, 'bye');
          return state;
        }
        if (typeof msg.data === 'string' && msg.data.startsWith('flood:')) {
          const n = Number(msg.data.slice(6));
          for (let i = 0; i < n; i++) socket.send(new Uint8Array(64 * 1024));
          socket.send(`buffered ${socket.bufferedAmount + socket.pendingBytes > 0}`);
          return state;
        }
        socket.send(msg.data, msg.isBinary);
        return state;
      }
      case 'socket.drain':
        socket.send(`drained ${msg.bufferedAmount}`);
        return state;
    }
  },
};

async function start(extra: Partial<Parameters<typeof serve<Session, EchoMsg>>[1]> = {}) {
  const system = new ActorSystem({ logger: silentLogger });
  const server = await serve<Session, EchoMsg>(system, {
    port: 0,
    socket: { behavior: echo },
    upgrade: (req) => {
      const name = req.query.get('name');
      if (name === null) return { ok: false, status: 400, message: 'name required' };
      if (name === 'mallory') return { ok: false, status: 401, message: 'no' };
      return { ok: true, session: { name, restarts: 0 } };
    },
    ...extra,
  });
  return { system, server };
}

class Client {
  readonly ws: WebSocket;
  readonly frames: Array<string | Buffer> = [];
  #waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | undefined;
  constructor(url: string) {
    this.ws = new WebSocket(url);
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.frames.push(isBinary ? data : data.toString());
      for (const w of this.#waiters.splice(0)) w();
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.#waiters.splice(0)) w();
    });
    this.ws.on('error', () => {});
  }
  async open(): Promise<void> {
    await once(this.ws, 'open');
  }
  /** Waits until `n` frames have arrived (or the socket closed) and returns them all. */
  async next(n = 1): Promise<Array<string | Buffer>> {
    while (this.frames.length < n && this.closed === undefined) {
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    return this.frames.splice(0, n);
  }
  async closedWith(): Promise<{ code: number; reason: string }> {
    while (this.closed === undefined) await new Promise<void>((r) => this.#waiters.push(r));
    return this.closed;
  }
}

async function connect(server: Server, name = 'alice'): Promise<Client> {
  const c = new Client(`ws://127.0.0.1:${server.port}/ws?name=${name}`);
  await c.open();
  return c;
}

/** A socket actor that ends itself (normal exit) on 'quit': a transient child, so not restarted. */
const quitter: Behavior<SocketEvent, SocketArgs<{}>, SocketArgs<{}>> = {
  init: (_c, a) => a,
  receive(s, msg, ctx) {
    if (msg.type === 'socket.message' && msg.data === 'quit') ctx.stop();
    return s;
  },
};

/** Opens a socket without a session query; resolves with the HTTP status if the upgrade is refused. */
async function openSocket(port: number): Promise<{ ws: WebSocket; status?: number | undefined }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  return new Promise((resolve) => {
    ws.on('open', () => resolve({ ws }));
    ws.on('unexpected-response', (_req, res) => resolve({ ws, status: res.statusCode }));
    ws.on('error', () => {});
  });
}

describe('socketServer', () => {
  it('serves each connection with its own actor: text and binary frames arrive as messages', async () => {
    const { system, server } = await start();
    const c = await connect(server);
    assert.deepEqual(await c.next(), ['hello alice #0']);
    c.ws.send('ping');
    c.ws.send(Buffer.from([1, 2, 3]));
    const [text, bin] = await c.next(2);
    assert.equal(text, 'ping');
    assert.deepEqual([...(bin as Buffer)], [1, 2, 3]);
    c.ws.send('stats');
    assert.deepEqual(await c.next(), ['stats 3 21 0 true'], 'three frames, 14 + 4 + 3 bytes, counted as written');
    assert.equal(await server.connections(), 1);
    c.ws.close(1000);
    await c.closedWith();
    await server.stop();
    await system.shutdown();
  });

  it('restarts a crashed socket actor in place and keeps the connection and its session', async () => {
    const { system, server } = await start();
    const c = await connect(server);
    await c.next();
    c.ws.send('crash');
    assert.deepEqual(await c.next(), ['hello alice #1'], 'init ran again with the same socket and session');
    c.ws.send('still here');
    assert.deepEqual(await c.next(), ['still here']);
    assert.equal(c.closed, undefined);
    await server.stop();
    await system.shutdown();
  });

  it('closes with 1011 a connection whose actor keeps failing to restart, and only that one', async () => {
    const { system, server } = await start();
    const fragile = await connect(server, 'fragile');
    const other = await connect(server, 'bob');
    await fragile.next();
    await other.next();
    fragile.ws.send('crash');
    assert.deepEqual(await fragile.closedWith(), { code: 1011, reason: 'internal error' });
    const started = await whichChildren(server.sockets);
    assert.equal(started.length, 1, 'its actor ended for good instead of restarting in a loop');
    other.ws.send('still here');
    assert.deepEqual(await other.next(), ['still here']);
    other.ws.close(1000);
    await other.closedWith();
    await server.stop();
    await system.shutdown();
  });

  it('stops the actor when the client closes', async () => {
    const { system, server } = await start();
    const c = await connect(server);
    await c.next();
    c.ws.close(1000, 'bye');
    await c.closedWith();
    for (let i = 0; i < 50 && (await server.connections()) > 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(await server.connections(), 0);
    assert.deepEqual(await whichChildren(server.sockets), []);
    await server.stop();
    await system.shutdown();
  });

  it('refuses an upgrade with the status the upgrade callback chose', async () => {
    const { system, server } = await start();
    for (const [query, status] of [
      ['', 400],
      ['?name=mallory', 401],
    ] as const) {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws${query}`);
      ws.on('error', () => {});
      const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, status);
      ws.terminate();
    }
    await server.stop();
    await system.shutdown();
  });

  it('closes with 1009 a frame larger than maxPayload, and only that connection', async () => {
    const { system, server } = await start({ maxPayload: 1024 });
    const big = await connect(server, 'big');
    const other = await connect(server, 'other');
    await big.next();
    await other.next();
    big.ws.send('x'.repeat(1025));
    assert.equal((await big.closedWith()).code, 1009);
    other.ws.send('fine');
    assert.deepEqual(await other.next(), ['fine']);
    await server.stop();
    await system.shutdown();
  });

  it('reports the buffered amount and a drain event to the actor of a slow reader', async () => {
    const { system, server } = await start();
    const c = await connect(server);
    await c.next();
    const raw = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    raw.pause();
    c.ws.send('flood:200');
    await new Promise((r) => setTimeout(r, 50));
    raw.resume();
    const frames = await c.next(202);
    assert.ok(frames.includes('buffered true'));
    assert.ok(
      frames.some((f) => typeof f === 'string' && f.startsWith('drained ')),
      'the actor heard the drain',
    );
    await server.stop();
    await system.shutdown();
  });

  it('stops accepting and closes every connection with closeCode when the server stops', async () => {
    const { system, server } = await start({ closeCode: 1012 });
    const a = await connect(server, 'a');
    const b = await connect(server, 'b');
    await a.next();
    await b.next();
    await server.stop();
    assert.equal((await a.closedWith()).code, 1012);
    assert.equal((await b.closedWith()).code, 1012);
    const late = new WebSocket(`ws://127.0.0.1:${server.port}/ws?name=late`);
    const [err] = (await once(late, 'error')) as [Error & { code?: string }];
    assert.equal(err.code, 'ECONNREFUSED');
    await system.shutdown();
  });

  it('frees the maxConnections slot of a socket whose actor ended by itself', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const server = await serve(system, { port: 0, maxConnections: 1, socket: { behavior: quitter } });
    try {
      const a = await openSocket(server.port);
      assert.equal(a.status, undefined);
      const closed = once(a.ws, 'close');
      a.ws.send('quit'); // actor stops; the server closes the socket
      await closed;
      for (let i = 0; i < 200 && (await server.connections()) > 0; i++) await new Promise((r) => setImmediate(r));
      const b = await openSocket(server.port);
      assert.equal(b.status, undefined, `second connection refused with HTTP ${b.status} although none is open`);
      b.ws.close();
    } finally {
      await server.stop();
      await system.shutdown();
    }
  });
});

describe('the listen port', () => {
  it('is its own unless reusePort: a second server on it fails to start; with reusePort both share it', async () => {
    const system = new ActorSystem({ logger: silentLogger });
    const first = await serve(system, { port: 0, socket: { behavior: quitter } });
    try {
      await assert.rejects(
        serve(system, { port: first.port, socket: { behavior: quitter } }),
        /could not listen on 127\.0\.0\.1:\d+ \(in use\? it is not shared without reusePort\)/s,
      );
    } finally {
      await first.stop();
    }
    // A port asked for (uSockets sets SO_REUSEPORT only then: port 0 is never shared).
    const port = await freePort();
    const a = await serve(system, { port, reusePort: true, socket: { behavior: quitter } });
    const b = await serve(system, { port, reusePort: true, socket: { behavior: quitter } });
    try {
      assert.equal(b.port, a.port);
      // The kernel spreads connections over both (by the client's address and port).
      const sockets = await Promise.all(Array.from({ length: 40 }, () => openSocket(a.port)));
      for (const x of sockets) assert.equal(x.status, undefined);
      for (let i = 0; i < 200 && (await a.connections()) + (await b.connections()) < 40; i++) {
        await new Promise((r) => setImmediate(r));
      }
      const [na, nb] = [await a.connections(), await b.connections()];
      assert.equal(na + nb, 40);
      assert.ok(na > 0 && nb > 0, `both servers took connections (${na} and ${nb})`);
      for (const x of sockets) x.ws.close();
    } finally {
      await a.stop();
      await b.stop();
      await system.shutdown();
    }
  });
});

describe('closing from the server', () => {
  it('sends the close frame and then closes the TCP connection (FIN) when the actor ends the socket', async () => {
    const { system, server } = await start();
    const sock = connectRaw(server.port);
    try {
      const got: Buffer[] = [];
      sock.on('data', (d: Buffer) => got.push(d));
      // uWS may half-close right after its close frame: listen for the FIN from the start.
      const ended = once(sock, 'end');
      sock.write(
        'GET /ws?name=raw HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      await until(() => Buffer.concat(got).includes('hello raw'));
      sock.write(maskedFrame(0x1, Buffer.from('bye')));
      // The close frame: opcode 8, code 4000.
      await until(() => Buffer.concat(got).includes(Buffer.from([0x88, 0x05, 0x0f, 0xa0])));
      sock.write(maskedFrame(0x8, Buffer.from([0x0f, 0xa0])));
      const guard = new Promise((_, reject) => setTimeout(() => reject(new Error('no FIN within 2 s')), 2_000).unref());
      await Promise.race([ended, guard]);
    } finally {
      sock.destroy();
      await server.stop();
      await system.shutdown();
    }
  });
});

function connectRaw(port: number): import('node:net').Socket {
  return createConnection({ host: '127.0.0.1', port });
}

/** A client frame (clients must mask), FIN set, payload under 126 bytes. */
function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, body]);
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error('condition not met within 2 s');
}

describe('uWebSockets.js fallback', () => {
  it('refuses to start on the slow JavaScript fallback, with a clear error', () => {
    const script = fileURLToPath(new URL('./fixtures/fallback.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
      env: { ...process.env, UWS_USE_FALLBACK: '1' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stdout, /UwsFallbackError: uWebSockets\.js did not load its native binary/);
    // It names the fix: which build to install for which Node.
    assert.match(
      r.stdout,
      /On Node 20: npm install uWebSockets\.js@npm:@trufflesuite\/uws-js-unofficial@20\.30\.0-unofficial\.0/,
    );
    assert.match(r.stdout, /On Node 22 or 24: a uWebSockets\.js release from github:uNetworking\/uWebSockets\.js/);
  });
});
