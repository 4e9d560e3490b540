#!/usr/bin/env node
/**
 * The chat server's command line: `troupe-chat [--port 9001] ...` (see `--help`). One line on start
 * with the address; SIGTERM or SIGINT drains gracefully (close 1012) and exits 0.
 */
import { ActorSystem } from 'troupe';
import { helpText, parseOptions } from './options.js';
import { startChat } from './server.js';

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
const system = new ActorSystem();
let chat: Awaited<ReturnType<typeof startChat>>;
try {
  chat = await startChat(system, options);
} catch (e) {
  console.error(`troupe-chat: could not start: ${(e as Error).message}`);
  process.exit(1);
}
console.log(
  `troupe-chat listening on http://${options.host}:${chat.port} (ws://${options.host}:${chat.port}/ws)${
    options.authSecret ? ' with token auth' : ''
  }${options.testFaults ? ' with TEST FAULT ENDPOINTS' : ''}`,
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`troupe-chat: ${signal}, draining`);
  const deadline = setTimeout(() => {
    console.error('troupe-chat: drain took over 10 s; exiting');
    process.exit(1);
  }, 10_000);
  await chat.drain();
  await system.shutdown();
  clearTimeout(deadline);
  console.log('troupe-chat: stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
