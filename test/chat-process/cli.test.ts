/**
 * The chat server as users run it: one process from the command line. Its options and --help,
 * the one-line startup log, token minting, and the graceful drain on SIGTERM/SIGINT (every
 * connection closed with 1012, exit 0).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const root = fileURLToPath(new URL('../../', import.meta.url));
const main = 'examples/chat/src/main.ts';
const tokenCli = 'examples/chat/src/token.ts';
const node = (script: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });

interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  readonly firstLine: string;
  readonly output: () => string;
}

async function startServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', main, '--port', '0', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    out += d;
  });
  const firstLine = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no startup line in 20 s: ${out}`)), 20_000);
    child.stdout?.on('data', (d: string) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before starting: ${out}`)));
  });
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(firstLine)?.[1]);
  return { child, port, firstLine, output: () => out };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function openClient(url: string): Promise<{ ws: WebSocket; closed: Promise<number>; frames: unknown[] }> {
  const ws = new WebSocket(url);
  const frames: unknown[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(String(d))));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, closed, frames }));
    ws.once('error', reject);
  });
}

describe('troupe-chat command line', () => {
  it('prints every option with its flag, environment variable and default on --help', () => {
    const r = node(main, ['--help']);
    assert.equal(r.status, 0);
    for (const name of [
      '--port',
      'PORT',
      '--auth-secret',
      'CHAT_AUTH_SECRET',
      '--soft-limit',
      '--test-faults',
      '--history',
    ]) {
      assert.ok(r.stdout.includes(name), `--help mentions ${name}`);
    }
  });

  it('refuses to run the development profile on a host others can reach, unless --insecure-names', () => {
    const r = node(main, ['--host', '0.0.0.0', '--port', '0']);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /--host 0\.0\.0\.0 is reachable from other machines, and without --auth-secret any client can claim any user name/,
    );
    assert.match(r.stderr, /--insecure-names/);
  });

  it('refuses a bad option with a message and exit code 2', () => {
    const r = node(main, ['--port', 'many']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--port \(PORT\) must be a whole number >= 0; got "many"/);
    const u = node(main, ['--bogus']);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /unknown option --bogus/);
  });

  it('logs one line with the address, serves, and drains on SIGTERM: every socket closes with 1012, exit 0', async () => {
    const server = await startServer([]);
    try {
      assert.match(
        server.firstLine,
        /^troupe-chat listening on http:\/\/127\.0\.0\.1:\d+ \(ws:\/\/127\.0\.0\.1:\d+\/ws\)$/,
      );
      // The development profile says so, loudly.
      await until(
        () => server.output().includes('profile: DEVELOPMENT - user names are trusted from ?user='),
        'the profile line',
      );
      const clients = await Promise.all(
        ['alice', 'bob', 'carol'].map((u) => openClient(`ws://127.0.0.1:${server.port}/ws?user=${u}`)),
      );
      for (const c of clients) c.ws.send(JSON.stringify({ type: 'join', room: 'lobby' }));
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM');
      const codes = await Promise.all(clients.map((c) => c.closed));
      assert.deepEqual(codes, [1012, 1012, 1012]);
      const [code] = await exited;
      assert.equal(code, 0, server.output());
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('accepts a token minted by troupe-chat-token when started with --auth-secret, and refuses ?user=', async () => {
    const minted = node(tokenCli, ['--user', 'alice', '--ttl', '60'], { CHAT_AUTH_SECRET: 's3cret' });
    assert.equal(minted.status, 0, minted.stderr);
    const token = minted.stdout.trim();
    const server = await startServer([], { CHAT_AUTH_SECRET: 's3cret' });
    try {
      await until(() => server.output().includes('profile: token auth'), 'the profile line');
      const c = await openClient(`ws://127.0.0.1:${server.port}/ws?token=${token}`);
      await new Promise<void>((resolve) => {
        const check = () => (c.frames.length > 0 ? resolve() : setTimeout(check, 5));
        check();
      });
      assert.deepEqual((c.frames[0] as { type: string; user: string }).user, 'alice');
      assert.equal((c.frames[0] as { type: string }).type, 'welcome');
      c.ws.close();
      const plain = new WebSocket(`ws://127.0.0.1:${server.port}/ws?user=alice`);
      plain.on('error', () => {});
      const [, res] = (await once(plain, 'unexpected-response')) as [unknown, { statusCode: number }];
      assert.equal(res.statusCode, 401);
      plain.terminate();
      server.child.kill('SIGINT');
      const [code] = await once(server.child, 'exit');
      assert.equal(code, 0);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('writes a structured crash report (pino JSON) when a room actor crashes, and keeps serving', async () => {
    const server = await startServer(['--test-faults']);
    try {
      const c = await openClient(`ws://127.0.0.1:${server.port}/ws?user=alice`);
      c.ws.send(JSON.stringify({ type: 'join', room: 'lobby', ref: 'j' }));
      await waitFor(() => c.frames.some((f) => (f as { ref?: string }).ref === 'j'));
      const res = await fetch(`http://127.0.0.1:${server.port}/_test/crash?room=lobby`, { method: 'POST' });
      assert.deepEqual(await res.json(), { crashed: 1 });
      await waitFor(() => server.output().includes('injected crash in room lobby'));
      const report = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => typeof r.childId === 'string');
      assert.ok(report, server.output());
      assert.equal(report.app, 'troupe-chat');
      assert.equal((report.reason as { message: string }).message, 'injected crash in room lobby');
      assert.match((report.reason as { stack: string }).stack, /room\.ts/);
      assert.deepEqual(report.messages, [{ type: 'crash' }]);
      c.ws.send(JSON.stringify({ type: 'message', room: 'lobby', content: 'still here', ref: 'm' }));
      await waitFor(() => c.frames.some((f) => (f as { ref?: string }).ref === 'm'));
      c.ws.close();
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('condition not met within 4 s');
}
