/**
 * Tokens: `base64url(user) "." expiryUnixSeconds "." base64url(HMAC-SHA256(secret, user "." expiry))`,
 * as PROTOCOL.md defines them. `mintToken` makes one (for development: `troupe-chat-token`);
 * `verifyToken` accepts only that canonical spelling, compares the MAC in constant time, and answers
 * with the user or why not.
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

/** Decodes base64url, or undefined unless `s` is exactly the canonical (unpadded) encoding. */
function fromCanonicalB64url(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64url');
  // Node ignores trailing bits and stray characters: re-encode to refuse every other spelling.
  return b64url(b) === s ? b : undefined;
}

/**
 * Accepts only the canonical spelling: the token must equal `mintToken`'s encoding of the parts it
 * parses to (base64url without padding, the expiry in decimal without leading zeros, the user's
 * UTF-8 re-encoded to the same text); the MAC is compared with `timingSafeEqual`.
 */
export function verifyToken(secret: string, token: string, nowMs = Date.now()): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [u, e, m] = parts as [string, string, string];
  const userBytes = fromCanonicalB64url(u);
  const mac = fromCanonicalB64url(m);
  if (userBytes === undefined || mac === undefined || !/^(?:0|[1-9]\d{0,11})$/.test(e))
    return { ok: false, reason: 'malformed' };
  const user = userBytes.toString('utf8');
  const expiry = Number(e);
  // Invalid UTF-8 decodes to U+FFFD and would re-encode differently: one spelling only.
  if (`${b64url(user)}.${expiry}.${b64url(mac)}` !== token) return { ok: false, reason: 'malformed' };
  const expected = sign(secret, user, expiry);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return { ok: false, reason: 'forged' };
  if (expiry * 1000 <= nowMs) return { ok: false, reason: 'expired' };
  if (!isName(user)) return { ok: false, reason: 'bad_user' };
  return { ok: true, user };
}
