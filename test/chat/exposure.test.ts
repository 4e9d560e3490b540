/**
 * Nothing exposed that should not be, over real sockets: HEAD answers carry no body; an upgrade
 * without valid WebSocket headers gets HTTP 400 (raw `net` sockets, since a WebSocket library will
 * not send them); `/metrics` with `--metrics-token` needs the bearer token; the fault endpoints
 * need a token when auth is on; the development profile refuses a host others can reach. After each,
 * the server still serves a fresh client.
 */
import assert from 'node:assert/strict';
import { connect as tcp } from 'node:net';
import { describe, it } from 'node:test';
import { isLoopbackAddress } from '@troupe/uws';
import { ActorSystem, silentLogger } from 'troupe';
import { mintToken } from '../../examples/chat/src/auth.js';
import { DEFAULTS, parseOptions } from '../../examples/chat/src/options.js';
import { startChat } from '../../examples/chat/src/server.js';
import { join, startServer } from './client.js';

/** Sends raw bytes, reads until the server closes or 500 ms of quiet: the whole response. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tcp(port, '127.0.0.1', () => s.write(text));
    let got = '';
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(quiet);
      s.destroy();
      resolve(got);
    };
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
      clearTimeout(quiet);
      quiet = setTimeout(done, 300);
    });
    s.on('end', done);
    s.on('error', reject);
    quiet = setTimeout(done, 2_000);
  });
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='; // RFC 6455's sample: 16 bytes
const upgrade = (headers: Record<string, string | undefined>) =>
  `GET /ws?user=mallory HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
const GOOD = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': KEY, 'Sec-WebSocket-Version': '13' };

describe('chat: nothing exposed', () => {
  it('answers HEAD with the headers GET would send and no body', async (t) => {
    const srv = await startServer(t);
    for (const path of ['/', '/healthz', '/nope']) {
      const get = await srv.http('GET', path);
      const res = await raw(srv.port, `HEAD ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      const [head, body] = res.split('\r\n\r\n') as [string, string | undefined];
      assert.match(head, new RegExp(`^HTTP/1\\.1 ${get.status} `), `${path}: GET's status`);
      assert.equal(body ?? '', '', `${path}: no body`);
      const length = /\r\ncontent-length: (\d+)/i.exec(head)?.[1];
      assert.equal(Number(length), Buffer.byteLength(get.body), `${path}: GET's content-length`);
    }
    const c = await srv.connect('alice');
    await join(c, 'lobby');
  });

  it('answers HTTP 400 to an upgrade without valid WebSocket headers, and 101 to a valid one', async (t) => {
    const srv = await startServer(t);
    const cases: Record<string, Record<string, string | undefined>> = {
      'no Upgrade': { ...GOOD, Upgrade: undefined },
      'no Connection: Upgrade': { ...GOOD, Connection: 'keep-alive' },
      'a key that is not base64 of 16 bytes': { ...GOOD, 'Sec-WebSocket-Key': 'short' },
      'a 15-byte key': { ...GOOD, 'Sec-WebSocket-Key': 'AAAAAAAAAAAAAAAAAAAA' },
      'a key of 24 characters that is not 16 bytes': { ...GOOD, 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZR==' },
      'version 8': { ...GOOD, 'Sec-WebSocket-Version': '8' },
      'no version': { ...GOOD, 'Sec-WebSocket-Version': undefined },
    };
    for (const [what, headers] of Object.entries(cases)) {
      const res = await raw(srv.port, upgrade(headers));
      assert.match(res, /^HTTP\/1\.1 400 /, `${what}: ${res.split('\r\n')[0]}`);
      assert.match(res, /a WebSocket upgrade needs GET with Upgrade: websocket, Connection: Upgrade/, what);
      assert.match(res, /\r\nsec-websocket-version: 13\r\n/i, `${what}: says which version it speaks`);
    }
    const ok = await raw(srv.port, upgrade(GOOD));
    assert.match(ok, /^HTTP\/1\.1 101 /);
    const c = await srv.connect('alice');
    await join(c, 'lobby');
  });

  it('never takes an unmasked client frame for a message (uWebSockets.js reads it as masked), and serves others', async (t) => {
    const srv = await startServer(t);
    const s = tcp(srv.port, '127.0.0.1', () => s.write(upgrade(GOOD)));
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      got += d;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.match(got, /^HTTP\/1\.1 101 /);
    const before = got.length;
    // A text frame with the mask bit clear (RFC 6455 5.1: a server MUST close on it): {"type":"ping"}
    const frame = Buffer.from('{"type":"ping"}');
    s.write(Buffer.concat([Buffer.from([0x81, frame.length]), frame]));
    await new Promise((r) => setTimeout(r, 300));
    const after = got.slice(before);
    assert.doesNotMatch(after, /pong/, 'no answer: the frame was not taken as a ping');
    s.destroy();
    const c = await srv.connect('alice');
    await join(c, 'lobby');
  });

  it('keeps /metrics behind --metrics-token when one is set', async (t) => {
    const srv = await startServer(t, { metricsToken: 'm3trics' });
    const get = (auth?: string) =>
      new Promise<number>((resolve, reject) => {
        const s = tcp(srv.port, '127.0.0.1', () =>
          s.write(
            `GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${auth === undefined ? '' : `Authorization: ${auth}\r\n`}\r\n`,
          ),
        );
        let got = '';
        s.on('data', (d) => {
          got += d.toString('latin1');
        });
        s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(got)?.[1])));
        s.on('error', reject);
      });
    assert.equal(await get(), 401, 'no token');
    assert.equal(await get('Bearer wrong!!'), 401, 'a wrong token');
    assert.equal(await get('Bearer m3trics'), 200, 'the token');
  });

  it('answers the fault endpoints only with a valid token when auth is on', async (t) => {
    const secret = 'fault-secret';
    const srv = await startServer(t, { authSecret: secret, testFaults: true });
    const post = (auth?: string) =>
      raw(
        srv.port,
        `POST /_test/crash?user=nobody HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n${
          auth === undefined ? '' : `Authorization: ${auth}\r\n`
        }\r\n`,
      );
    assert.match(await post(), /^HTTP\/1\.1 401 /);
    assert.match(await post('Bearer not-a-token'), /^HTTP\/1\.1 401 /);
    const token = mintToken(secret, 'ops', 60);
    const ok = await post(`Bearer ${token}`);
    assert.match(ok, /^HTTP\/1\.1 200 /);
    assert.match(ok, /\{"crashed":0\}/);
  });

  it('refuses the development profile on a host others can reach, unless --insecure-names', async () => {
    const refused = parseOptions(['--host', '0.0.0.0'], {});
    assert.ok(!refused.ok && /--host 0\.0\.0\.0 is reachable from other machines/.test(refused.error));
    assert.ok(parseOptions(['--host', '0.0.0.0', '--insecure-names'], {}).ok);
    assert.ok(parseOptions(['--host', '0.0.0.0'], { CHAT_AUTH_SECRET: 'x' }).ok, 'token auth is fine anywhere');
    assert.ok(parseOptions(['--host', '127.0.0.2'], {}).ok, 'loopback is fine');
    // startChat refuses it too, before it listens.
    const system = new ActorSystem({ logger: silentLogger });
    await assert.rejects(startChat(system, { ...DEFAULTS, port: 0, host: '0.0.0.0' }), /--insecure-names/);
    await system.shutdown();
  });

  it('tells loopback addresses as uWebSockets.js spells them from others', () => {
    for (const a of [
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '0000:0000:0000:0000:0000:0000:0000:0001',
      '::ffff:127.0.0.1',
      '0000:0000:0000:0000:0000:ffff:7f00:0001',
    ]) {
      assert.equal(isLoopbackAddress(a), true, a);
    }
    for (const a of [
      '10.0.0.1',
      '192.168.1.127',
      '0000:0000:0000:0000:0000:ffff:0a00:0001',
      '::ffff:10.0.0.1',
      'fe80::1',
      '2001:db8::1',
      '',
    ]) {
      assert.equal(isLoopbackAddress(a), false, a);
    }
  });
});
