/**
 * A local NATS server for `chat:cluster`, the cluster tests and the benchmarks: Debian's
 * `nats-server` with JetStream, started on a free loopback port (its store in a fresh temporary
 * folder, or one given) and stopped by its PID. `natsServerPath()` is undefined without the binary;
 * callers say how to install it (`INSTALL`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const INSTALL = 'apt-get install -y --no-install-recommends nats-server';

/** The nats-server binary, or undefined if it is not installed. */
export function natsServerPath(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  const p = (r.stdout ?? '').trim();
  return r.status === 0 && p !== '' ? p : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1');
  });
}

/** A running nats-server. */
export interface Nats {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Its JetStream store. */
  readonly store: string;
  /** Stops it; the store is removed unless `keepStore` (a server started again on it keeps its streams). */
  stop(keepStore?: boolean): Promise<void>;
}

/**
 * Starts a nats-server with JetStream (its store in a fresh temporary folder, or in `store`) on a
 * free loopback port, or on `port` (to start one again where a stopped one was); resolves once it
 * accepts connections.
 */
export async function startNats(binary: string, port?: number, existing?: string): Promise<Nats> {
  if (port === undefined) port = await freePort();
  const store = existing ?? mkdtempSync(join(tmpdir(), 'troupe-nats-'));
  const child: ChildProcess = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], {
    stdio: 'ignore',
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('nats-server did not start');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 200 && !(await accepts(port)); i++) await new Promise((r) => setTimeout(r, 10));
  if (!(await accepts(port))) {
    process.kill(pid, 'SIGKILL');
    throw new Error(`nats-server did not accept connections on port ${port} within 2 s`);
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid,
    store,
    async stop(keepStore = false) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        return;
      }
      const t = setTimeout(() => {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }, 2_000);
      await exited;
      clearTimeout(t);
      if (!keepStore) rmSync(store, { recursive: true, force: true });
    },
  };
}
