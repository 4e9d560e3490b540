/**
 * What the cluster tests share: one real nats-server per test file (started in `before`, stopped
 * by PID in `after`; without the binary each test skips with the install command, except under
 * CI=true), waiting for a condition, and nodes in child processes.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Cluster, type ClusterOptions, joinCluster } from '@troupe/cluster';
import { ActorSystem } from 'troupe';
import { INSTALL, type Nats, natsServerPath, startNats } from './nats.js';

/** Heartbeats every 100 ms, down after 500 ms: the tests' membership, quick to notice a death. */
export const FAST = { heartbeatMs: 100, downAfterMs: 500 } as const;

let nats: Nats | undefined;
let missing: string | undefined;
let binary: string | undefined;

/** Registers the file's `before` / `after` that start and stop its nats-server. */
export function withNats(): void {
  before(async () => {
    binary = natsServerPath();
    if (binary === undefined) {
      if (process.env.CI === 'true') assert.fail(`nats-server is missing; CI installs it with: ${INSTALL}`);
      missing = `needs nats-server: ${INSTALL}`;
      return;
    }
    nats = await startNats(binary);
  });
  after(async () => {
    await nats?.stop();
  });
}

/** The server, or a skip of this test with the install command when there is none. */
export function server(t: TestContext): Nats | undefined {
  if (nats === undefined) t.skip(missing);
  return nats;
}

/** Stops the file's server and starts a new one on the same port, on the same store (a NATS restart). */
export async function restartNats(): Promise<Nats> {
  const old = nats as Nats;
  await old.stop(true);
  nats = await startNats(binary as string, old.port, old.store);
  return nats;
}

/** Stops the file's server, keeping its store (a test that restarts it later calls `startAgain`). */
export async function stopNats(): Promise<number> {
  const old = nats as Nats;
  stoppedStore = old.store;
  await old.stop(true);
  return old.port;
}

/** Starts the file's server again on `port`, on the store the stopped one left. */
export async function startAgain(port: number): Promise<Nats> {
  nats = await startNats(binary as string, port, stoppedStore);
  return nats;
}

/** Starts the file's server again on `port` on a new, empty store: it lost its streams and buckets. */
export async function startAgainEmpty(port: number): Promise<Nats> {
  if (stoppedStore !== undefined) rmSync(stoppedStore, { recursive: true, force: true });
  stoppedStore = undefined;
  nats = await startNats(binary as string, port);
  return nats;
}

let stoppedStore: string | undefined;

export async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A system joined to `cluster` as `node`. */
export async function node(
  url: string,
  name: string,
  cluster: string,
  extra: Partial<ClusterOptions> = {},
): Promise<{ system: ActorSystem; cluster: Cluster }> {
  const system = new ActorSystem();
  const c = await joinCluster(system, { servers: url, node: name, cluster, ...FAST, ...extra });
  return { system, cluster: c };
}

/** Two nodes that see each other. */
export async function pair(url: string, cluster: string) {
  const a = await node(url, 'a', cluster);
  const b = await node(url, 'b', cluster);
  await until(() => a.system.nodes().includes('b') && b.system.nodes().includes('a'), 'a and b to see each other');
  return {
    a,
    b,
    async close() {
      await a.cluster.leave();
      await b.cluster.leave();
      await a.system.shutdown();
      await b.system.shutdown();
    },
  };
}

/** A node in a child process (fixtures/node.ts), which prints lines the test can wait for. */
export interface ChildNode {
  readonly child: ChildProcess;
  readonly lines: string[];
  kill(): void;
}

export function childNode(url: string, name: string, cluster: string, role = 'idle'): ChildNode {
  const script = fileURLToPath(new URL('./fixtures/node.ts', import.meta.url));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, url, name, role], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, CLUSTER_NAME: cluster },
  });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
  return {
    child,
    lines,
    kill() {
      child.kill('SIGKILL');
    },
  };
}
