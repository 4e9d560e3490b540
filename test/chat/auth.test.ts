import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { mintToken } from '../../examples/chat/src/index.js';
import { greeting, is, startServer } from './client.js';

const SECRET = 'test-secret';

function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

/** A token built by hand, as PROTOCOL.md defines it (mintToken refuses bad user names). */
function handToken(secret: string, user: string, expiry: number): string {
  const mac = createHmac('sha256', secret).update(`${user}.${expiry}`).digest();
  return `${b64url(user)}.${expiry}.${b64url(mac)}`;
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('chat upgrade', () => {
  it('refuses a missing or bad user name with HTTP 400', async (t) => {
    const srv = await startServer(t);
    for (const query of ['', '?user=', '?name=alice', '?user=has%20space', `?user=${'x'.repeat(65)}`, '?user=%C3%A9']) {
      const a = await srv.attempt(query);
      assert.deepEqual(a, { ok: false, status: 400 }, query);
    }
    const ok = await srv.attempt(`?user=${'x'.repeat(64)}`);
    assert.equal(ok.ok, true, '64 characters is a name');
  });

  it('with an auth secret, refuses a missing, malformed, expired or forged token, and ?user= alone, with 401', async (t) => {
    const srv = await startServer(t, { authSecret: SECRET });
    const valid = mintToken(SECRET, 'alice');
    const [u, e, m] = valid.split('.') as [string, string, string];
    const expiredAt = Math.floor(Date.now() / 1000) - 1;
    const refused: Record<string, string> = {
      'no token': '',
      'user alone': '?user=alice',
      'empty token': '?token=',
      'two parts': `?token=${u}.${e}`,
      'four parts': `?token=${valid}.x`,
      'not base64url': `?token=${encodeURIComponent(`${u}!.${e}.${m}`)}`,
      'expiry not a number': `?token=${u}.soon.${m}`,
      expired: `?token=${mintToken(SECRET, 'alice', 60, Date.now() - 3_600_000)}`,
      'expired, hand-made': `?token=${handToken(SECRET, 'alice', expiredAt)}`,
      'another secret': `?token=${mintToken('other-secret', 'alice')}`,
      'user swapped': `?token=${b64url('mallory')}.${e}.${m}`,
      'expiry moved': `?token=${u}.${Number(e) + 1}.${m}`,
      'mac truncated': `?token=${u}.${e}.${m.slice(0, -2)}`,
      'user breaks the name pattern': `?token=${handToken(SECRET, 'bad user', inAnHour())}`,
      'empty user': `?token=${handToken(SECRET, '', inAnHour())}`,
    };
    for (const [what, query] of Object.entries(refused)) {
      assert.deepEqual(await srv.attempt(query), { ok: false, status: 401 }, what);
    }
  });

  it('with an auth secret, accepts a valid token from mintToken', async (t) => {
    const srv = await startServer(t, { authSecret: SECRET });
    const a = await srv.attempt(`?token=${mintToken(SECRET, 'alice')}`);
    assert.ok(a.ok);
    assert.deepEqual(greeting(await a.client.next()), { type: 'welcome', user: 'alice' });

    // The token names the user; a ?user= beside it changes nothing.
    const b = await srv.attempt(`?token=${mintToken(SECRET, 'bob')}&user=mallory`);
    assert.ok(b.ok);
    assert.deepEqual(greeting(await b.client.next()), { type: 'welcome', user: 'bob' });

    const c = await srv.attempt(`?token=${mintToken(SECRET, 'carol')}`);
    assert.ok(c.ok);
    assert.deepEqual(greeting(await c.client.next(is('welcome'))), { type: 'welcome', user: 'carol' });
    assert.deepEqual((await c.client.request({ type: 'ping' })).type, 'pong');
  });

  it('with an auth secret, refuses every other spelling of a valid token with 401 and accepts the canonical one', async (t) => {
    const srv = await startServer(t, { authSecret: SECRET });
    // A token whose MAC has a character of the URL-safe alphabet to re-spell as the standard one.
    let valid = '';
    for (let i = 0; !/[-_]/.test(valid.split('.')[2] ?? ''); i++) valid = mintToken(SECRET, `alice.${i}`);
    const [u, e, m] = valid.split('.') as [string, string, string];
    const user = Buffer.from(u, 'base64url').toString('utf8');
    const pad = (s: string) => s + '='.repeat((4 - (s.length % 4)) % 4);
    /** The same bytes with the unused low bits of the last character set: Node decodes both alike. */
    const lowBits = (s: string) => {
      const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const unused = s.length % 4 === 2 ? 0b1111 : 0b11;
      const last = abc[abc.indexOf(s.at(-1) as string) | unused] as string;
      return s.slice(0, -1) + last;
    };
    assert.notEqual(pad(u), u, 'the user part needs padding');
    assert.notEqual(pad(m), m, 'the MAC needs padding');
    assert.notEqual(lowBits(u), u);
    assert.notEqual(lowBits(m), m);
    assert.deepEqual(Buffer.from(lowBits(m), 'base64url'), Buffer.from(m, 'base64url'), 'the same MAC bytes');
    const respelled: Record<string, string> = {
      'expiry zero-padded to 13 digits': `${u}.${e.padStart(13, '0')}.${m}`,
      'expiry zero-padded to 12 digits': `${u}.${e.padStart(12, '0')}.${m}`,
      'expiry with one leading zero': `${u}.0${e}.${m}`,
      'MAC padded': `${u}.${e}.${pad(m)}`,
      'MAC in the +/ alphabet': `${u}.${e}.${m.replaceAll('-', '+').replaceAll('_', '/')}`,
      'MAC padded, +/ alphabet': `${u}.${e}.${pad(m.replaceAll('-', '+').replaceAll('_', '/'))}`,
      'MAC with other trailing bits': `${u}.${e}.${lowBits(m)}`,
      'MAC in standard base64 as Node writes it': `${u}.${e}.${Buffer.from(m, 'base64url').toString('base64')}`,
      'user padded': `${pad(u)}.${e}.${m}`,
      'user with other trailing bits': `${lowBits(u)}.${e}.${m}`,
      'user in standard base64, padded': `${Buffer.from(user).toString('base64')}.${e}.${m}`,
      'all three re-spelled': `${pad(u)}.00${e}.${pad(m)}`,
    };
    for (const [what, token] of Object.entries(respelled)) {
      assert.notEqual(token, valid, what);
      assert.deepEqual(await srv.attempt(`?token=${encodeURIComponent(token)}`), { ok: false, status: 401 }, what);
    }
    // The canonical token is accepted, and the server still serves a fresh client.
    const a = await srv.attempt(`?token=${encodeURIComponent(valid)}`);
    assert.ok(a.ok);
    assert.deepEqual(greeting(await a.client.next(is('welcome'))), { type: 'welcome', user });
    const fresh = await srv.attempt(`?token=${mintToken(SECRET, 'fresh')}`);
    assert.ok(fresh.ok);
    assert.deepEqual(greeting(await fresh.client.next(is('welcome'))), { type: 'welcome', user: 'fresh' });
    assert.equal((await fresh.client.request({ type: 'ping' })).type, 'pong');
  });

  it('with an origin allow-list, refuses other origins with 403 and allows no Origin header', async (t) => {
    const srv = await startServer(t, { allowedOrigins: ['https://chat.example', 'http://localhost:8080'] });
    for (const origin of ['https://evil.example', 'https://chat.example.evil', 'null', 'HTTPS://CHAT.EXAMPLE.']) {
      assert.deepEqual(await srv.attempt('?user=alice', { origin }), { ok: false, status: 403 }, origin);
    }
    // The origin is checked before the name.
    assert.deepEqual(await srv.attempt('?user=bad%20name', { origin: 'https://evil.example' }), {
      ok: false,
      status: 403,
    });
    for (const origin of ['https://chat.example', 'http://localhost:8080']) {
      const a = await srv.attempt('?user=alice', { origin });
      assert.equal(a.ok, true, origin);
    }
    const bare = await srv.attempt('?user=alice');
    assert.ok(bare.ok, 'a client without an Origin header is allowed');
    assert.deepEqual(greeting(await bare.client.next()), { type: 'welcome', user: 'alice' });
  });

  it('checks origin and token together', async (t) => {
    const srv = await startServer(t, { authSecret: SECRET, allowedOrigins: ['https://chat.example'] });
    const token = mintToken(SECRET, 'alice');
    assert.deepEqual(await srv.attempt(`?token=${token}`, { origin: 'https://evil.example' }), {
      ok: false,
      status: 403,
    });
    assert.deepEqual(await srv.attempt('?user=alice', { origin: 'https://chat.example' }), { ok: false, status: 401 });
    assert.equal((await srv.attempt(`?token=${token}`, { origin: 'https://chat.example' })).ok, true);
  });
});
