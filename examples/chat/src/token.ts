#!/usr/bin/env node
/**
 * Mints a development token for the chat server's token auth:
 * `troupe-chat-token --user alice [--ttl 3600] [--secret S]` (the secret defaults to
 * CHAT_AUTH_SECRET). Prints the token, or with `--url http://host:port` the page's URL with it.
 */
import { mintToken } from './auth.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

const secret = arg('secret') ?? process.env.CHAT_AUTH_SECRET;
const user = arg('user');
const ttl = Number(arg('ttl') ?? 3600);
if (
  process.argv.includes('--help') ||
  secret === undefined ||
  user === undefined ||
  !Number.isInteger(ttl) ||
  ttl <= 0
) {
  console.error(
    'usage: troupe-chat-token --user NAME [--ttl SECONDS] [--secret S | CHAT_AUTH_SECRET=S] [--url http://HOST:PORT]',
  );
  process.exit(process.argv.includes('--help') ? 0 : 2);
}
try {
  const token = mintToken(secret, user, ttl);
  const url = arg('url');
  // With --url: the browser page's address, which connects with the token.
  console.log(url === undefined ? token : `${url.replace(/\/$/, '')}/?token=${token}`);
} catch (e) {
  console.error(`troupe-chat-token: ${(e as Error).message}`);
  process.exit(2);
}
