#!/usr/bin/env node
/**
 * The chat server's command line: `troupe-chat [--port 9001] ...` (see `--help`). One plain line on
 * start with the address, then structured logs (pino, JSON lines on stdout): crash reports with their
 * supervisor, child id, reason and last messages. SIGTERM or SIGINT drains gracefully (close 1012)
 * and exits 0.
 */
import { pino } from 'pino';
import { ActorSystem } from 'troupe';
import { helpText, parseOptions, profile } from './options.js';
import { logCluster, startChat } from './server.js';

const parsed = parseOptions(process.argv.slice(2), process.env);
if (!parsed.ok) {
  console.error(`troupe-chat: ${parsed.error}\nRun with --help for the options.`);
  process.exit(2);
}
if (parsed.help) {
  console.log(helpText());
  process.exit(0);
}
const options = parsed.options;
// pino's shape is the runtime's Logger shape; errors under `reason` get pino's error serializer.
const logger = pino({
  base: { app: 'troupe-chat' },
  serializers: { reason: pino.stdSerializers.err, err: pino.stdSerializers.err },
});
const system = new ActorSystem({ logger });
let chat: Awaited<ReturnType<typeof startChat>>;
try {
  chat = await startChat(system, options);
} catch (e) {
  console.error(`troupe-chat: could not start: ${(e as Error).message}`);
  process.exit(1);
}
logCluster(chat, system, logger);
const running = profile(options);
console.log(
  `troupe-chat listening on http://${options.host}:${chat.port} (ws://${options.host}:${chat.port}/ws)${
    options.testFaults ? ' with TEST FAULT ENDPOINTS (loopback clients only)' : ''
  }`,
);
console.log(
  running.ok && running.name === 'token'
    ? 'profile: token auth (user names come from tokens signed with --auth-secret)'
    : 'profile: DEVELOPMENT - user names are trusted from ?user=, so any client can be any user and read its DMs; ' +
        'use --auth-secret for anything but development',
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'draining');
  const deadline = setTimeout(() => {
    logger.error('drain took over 10 s; exiting');
    process.exit(1);
  }, 10_000);
  await chat.drain();
  await system.shutdown();
  clearTimeout(deadline);
  logger.info('stopped');
  logger.flush();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
