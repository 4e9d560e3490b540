/**
 * Chat processes for the cluster tests: `troupe-chat` as users run it (examples/chat/src/main.ts on
 * its TypeScript sources), on port 0 of 127.0.0.1, joined to the test's nats-server; and clients of
 * them. Every process is killed when the test ends, whatever happened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChatClient, http, is, metric } from '../chat/client.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface ChatProc {
  readonly node: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything it printed. */
  output(): string;
  /** Resolves with its exit code (null when killed by a signal) and signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  connect(user: string): Promise<ChatClient>;
  health(): Promise<{ status: number; body: Record<string, unknown> }>;
}

let clusters = 0;

/** A cluster name of its own for each test, so that tests sharing one NATS server never meet. */
export function clusterName(): string {
  return `t${process.pid}x${++clusters}`;
}

/** Starts a chat process of cluster `name` on the NATS server at `url`. */
export async function chatProcess(
  t: TestContext,
  url: string,
  name: string,
  node: string,
  extra: readonly string[] = [],
): Promise<ChatProc> {
  const args = ['--conditions=source', '--import', 'tsx', 'examples/chat/src/main.ts', '--port', '0'];
  args.push('--cluster', url, '--cluster-name', name, '--node', node, ...extra);
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  let out = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    out += d;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${node}: no startup line in 30 s:\n${out}`)), 30_000);
    child.stdout?.on('data', (d: string) => {
      out += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`${node} exited with ${code} before it listened:\n${out}`));
    });
  });
  const clients: ChatClient[] = [];
  t.after(() => Promise.all(clients.map((c) => c.close())));
  return {
    node,
    port,
    child,
    exited,
    output: () => out,
    async connect(user) {
      const c = new ChatClient(`ws://127.0.0.1:${port}/ws?user=${encodeURIComponent(user)}`);
      clients.push(c);
      await c.next(is('welcome'), `the welcome of ${user} on ${node}`, 10_000);
      return c;
    },
    async health() {
      const r = await http(port, 'GET', '/healthz');
      return { status: r.status, body: JSON.parse(r.body) as Record<string, unknown> };
    },
  };
}

/** A metric of a process (/metrics answers loopback clients). */
export async function metricOf(p: ChatProc, name: string): Promise<number | undefined> {
  return metric((await http(p.port, 'GET', '/metrics')).body, name);
}

/** Waits until every process sees `n` processes, and an inbox host on each. */
export async function formed(procs: readonly ChatProc[], n = procs.length, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const hs = await Promise.all(procs.map((p) => p.health()));
    const hosts = await Promise.all(procs.map((p) => metricOf(p, 'chat_cluster_inbox_hosts')));
    if (hs.every((h) => h.body.nodes === n && h.body.cluster === 'up') && hosts.every((x) => x === n)) return;
    if (Date.now() > end) throw new Error(`the cluster did not form: ${JSON.stringify(hs.map((h) => h.body))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
