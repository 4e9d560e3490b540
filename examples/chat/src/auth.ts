/**
 * Tokens: `base64url(user) "." expiryUnixSeconds "." base64url(HMAC-SHA256(secret, user "." expiry))`,
 * as PROTOCOL.md defines them. `mintToken` makes one (for development: `troupe-chat-token`);
 * `verifyToken` checks one in constant time and answers with the user or why not.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isName } from './protocol.js';

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

function sign(secret: string, user: string, expiry: number): Buffer {
  return createHmac('sha256', secret).update(`${user}.${expiry}`).digest();
}

/**
 * A token for `user`, valid for `ttlS` seconds from `nowMs`.
 * @example mintToken('s3cret', 'alice', 3600)
 */
export function mintToken(secret: string, user: string, ttlS = 3600, nowMs = Date.now()): string {
  if (!isName(user))
    throw new TypeError(
      `mintToken: the user must be 1 to 64 characters of A-Z a-z 0-9 _ . -; got ${JSON.stringify(user)}`,
    );
  const expiry = Math.floor(nowMs / 1000) + ttlS;
  return `${b64url(user)}.${expiry}.${b64url(sign(secret, user, expiry))}`;
}

export type TokenCheck =
  | { readonly ok: true; readonly user: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'expired' | 'forged' | 'bad_user' };

function fromB64url(s: string): Buffer | undefined {
  // Padding is tolerated on input.
  const t = s.replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(t)) return undefined;
  return Buffer.from(t, 'base64url');
}

export function verifyToken(secret: string, token: string, nowMs = Date.now()): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [u, e, m] = parts as [string, string, string];
  const userBytes = fromB64url(u);
  const mac = fromB64url(m);
  if (userBytes === undefined || mac === undefined || !/^\d{1,12}$/.test(e)) return { ok: false, reason: 'malformed' };
  const user = userBytes.toString('utf8');
  const expiry = Number(e);
  const expected = sign(secret, user, expiry);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return { ok: false, reason: 'forged' };
  if (expiry * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  if (!isName(user)) return { ok: false, reason: 'bad_user' };
  return { ok: true, user };
}
