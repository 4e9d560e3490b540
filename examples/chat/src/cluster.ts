#!/usr/bin/env node
/**
 * `troupe-chat-cluster` (`pnpm chat:cluster`): a chat cluster on this machine. It starts a local
 * NATS server with JetStream (unless `--nats URL` names one) and N chat processes on one port
 * (`--processes N`, default the number of cores), each a `troupe-chat --cluster ...` with the
 * other options passed through; their output is prefixed with their node name. Ctrl-C (SIGINT) or
 * SIGTERM drains every chat process (their sockets close with 1012), then stops NATS.
 *
 *     pnpm chat:cluster --processes 3 --port 9001
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { INSTALL, type Nats, natsServerPath, startNats } from './nats-server.js';

const USAGE = `Usage: troupe-chat-cluster [--processes N] [--nats URL] [--nats-port P] [chat options]
  --processes N   chat processes on the shared port (default: the number of cores, here ${availableParallelism()})
  --nats URL      use this NATS server (with JetStream) instead of starting one
  --nats-port P   the port of the NATS server it starts (default: a free one)
  --nats-store D  the JetStream store of the NATS server it starts, kept after it stops, so the
                  history outlives the cluster (default: a temporary folder, removed at the end)
  anything else   passed to every chat process (troupe-chat --help lists them), e.g. --port 9001`;

interface Parsed {
  readonly processes: number;
  readonly nats: string | undefined;
  readonly natsPort: number | undefined;
  readonly natsStore: string | undefined;
  readonly rest: readonly string[];
}

function parse(argv: readonly string[]): Parsed | string {
  let processes = availableParallelism();
  let nats: string | undefined;
  let natsPort: number | undefined;
  let natsStore: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg];
    const value = () => inline ?? argv[++i];
    if (flag === '--processes') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1 || n > 64) return `--processes must be a whole number from 1 to 64`;
      processes = n;
    } else if (flag === '--nats') {
      nats = value();
      if (nats === undefined) return '--nats needs a URL';
    } else if (flag === '--nats-port') {
      natsPort = Number(value());
      if (!Number.isInteger(natsPort) || natsPort < 1 || natsPort > 65_535) return '--nats-port must be a port number';
    } else if (flag === '--nats-store') {
      natsStore = value();
      if (natsStore === undefined) return '--nats-store needs a folder';
    } else if (flag === '--help' || flag === '-h') return USAGE;
    else if (flag === '--cluster' || flag === '--node') return `${flag} is set by troupe-chat-cluster itself`;
    else rest.push(arg);
  }
  return { processes, nats, natsPort, natsStore, rest };
}

const got = parse(process.argv.slice(2));
if (typeof got === 'string') {
  const help = got === USAGE;
  (help ? console.log : console.error)(got);
  process.exit(help ? 0 : 2);
}
const parsed: Parsed = got;

let nats: Nats | undefined;
let url = parsed.nats;
if (url === undefined) {
  const binary = natsServerPath();
  if (binary === undefined) {
    console.error(
      `troupe-chat-cluster: nats-server is not installed. Install it with:\n  ${INSTALL}\nor give one with --nats URL`,
    );
    process.exit(1);
  }
  if (parsed.natsStore !== undefined) mkdirSync(parsed.natsStore, { recursive: true });
  nats = await startNats(binary, parsed.natsPort, parsed.natsStore);
  url = nats.url;
  console.log(`troupe-chat-cluster: NATS with JetStream on ${url} (pid ${nats.pid}, store ${nats.store})`);
}

// Beside this file: main.js when built, main.ts when run from the sources (tsx).
const main = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './main.ts' : './main.js', import.meta.url));
const hasPort = parsed.rest.some((a) => a === '--port' || a.startsWith('--port='));
const chats: ChildProcess[] = [];
for (let i = 1; i <= parsed.processes; i++) {
  const node = `chat-${i}`;
  const args = [main, ...(hasPort ? [] : ['--port', '9001']), ...parsed.rest, '--cluster', url, '--node', node];
  // The same options for all, from the flags; the environment passes through as well.
  const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    let buf = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        out.write(`[${node}] ${buf.slice(0, nl)}\n`);
        buf = buf.slice(nl + 1);
      }
    });
  }
  child.on('exit', (code, signal) => {
    console.log(`troupe-chat-cluster: ${node} exited (${signal ?? code})`);
    if (!stopping && chats.every((c) => c.exitCode !== null || c.signalCode !== null))
      void stop('every chat process exited', 1);
  });
  chats.push(child);
}

let stopping = false;
async function stop(why: string, code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`troupe-chat-cluster: ${why}; draining the chat processes`);
  await Promise.all(
    chats.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          // A chat's own drain gives up after 10 s; past 15 s, kill it.
          setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
        }),
    ),
  );
  await nats?.stop(parsed.natsStore !== undefined);
  console.log('troupe-chat-cluster: stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
