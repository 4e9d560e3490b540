/**
 * The Troupe chat server as the benchmark runs it: what `examples/chat/src/main.ts` does (the chat's
 * own option parser, an `ActorSystem` with the same pino logger, JSON lines on stdout, `startChat`),
 * plus the runner's IPC requests (`mem`, `gc`; ipc.ts) that the baseline answers too. It prints one
 * JSON line `{"listening":PORT}` once it listens. Run from the TypeScript sources
 * (`--conditions=source`), so it measures the working tree.
 *
 * With `--test-faults` (the recovery scenario) the runner fetches the chat's own timing of each
 * injected crash and the first delivery written after it (`chat.world.faults`, on
 * `process.hrtime`, the load generator's clock) with `{ cmd: 'crash-events' }`. Nothing here
 * subscribes to the system's event stream: a subscriber is code that runs only when an actor
 * crashes, so V8 compiles it in the middle of some recovery (bench/chat/recovery.ts), and in
 * production nothing subscribes either.
 */
import { createRequire } from 'node:module';
import { ActorSystem, type Logger } from 'troupe';
import { logCluster, parseOptions, startChat } from '../../examples/chat/src/index.js';
import { serveServerRequests } from './ipc.js';

// tsx turns source maps on; production (`node dist/main.js`) runs without them, and they make every
// Error.stack (each crash report) several times dearer. Both servers turn them off.
process.setSourceMapsEnabled(false);

// The chat's own logger set-up (main.ts), with pino as the chat package resolves it.
type Pino = ((options: object) => Logger & { info(obj: object, msg?: string): void }) & {
  stdSerializers: { err: unknown };
};
const { pino } = createRequire(new URL('../../examples/chat/package.json', import.meta.url))('pino') as {
  pino: Pino;
};
const logger = pino({
  base: { app: 'troupe-chat' },
  serializers: { reason: pino.stdSerializers.err, err: pino.stdSerializers.err },
});

const parsed = parseOptions(process.argv.slice(2), process.env);
if (!parsed.ok || parsed.help) {
  console.error(`troupe-server: ${parsed.ok ? 'no --help here' : parsed.error}`);
  process.exit(2);
}
const system = new ActorSystem({ logger });

const chat = await startChat(system, parsed.options);
logCluster(chat, system, logger);
if (process.send !== undefined) {
  serveServerRequests(3_600_000, (r) => {
    if (r.cmd !== 'crash-events') throw new Error(`unknown request ${r.cmd}`);
    return { recoveries: chat.world.faults?.take() ?? [] };
  });
}
// The runner's SIGINT: exit normally, so that --cpu-prof and --heap-prof write their files.
process.on('SIGINT', () => process.exit(0));
console.log(JSON.stringify({ listening: chat.port }));
