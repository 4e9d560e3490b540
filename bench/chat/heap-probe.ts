/**
 * An on-demand memory probe of one server (not part of `pnpm bench:chat`): what the idle-memory
 * scenario measures, for one competitor, at a size you choose, with the JS heap's growth per
 * connection and optionally a heap snapshot before and after to diff. Unpinned and one load process
 * per 5,000 connections, so it can run beside other work.
 *
 *     node --conditions=source --import tsx bench/chat/heap-probe.ts [--connections=4000[,N...]]
 *          [--baseline] [--snapshots=DIR] [--settle-ms=1500] [--settle-before-ms=1000]
 *
 * As idle-memory does: 200 warm-up connections join and leave first, then (after
 * `--settle-before-ms`) a full GC and the "none" reading, with the young generation's size then;
 * then N connections join rooms of 100 (hello, join), and 1.5 s later (`--settle-ms`) a full GC
 * and the second reading; with several sizes, fleets are added up to each. It prints heap
 * used and heap total grown per connection, RSS grown per 10k, and the heap spaces that grew, from
 * none and from the previous size (what a connection costs once the one-time costs are paid). With
 * `--snapshots=DIR` the server writes a `.heapsnapshot` (via `--heapsnapshot-signal`) at every
 * reading into DIR.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { MemReport } from './ipc.js';
import { killChildrenOnExit, sleep } from './proc.js';
import { type Competitor, Fleet, type HeapSpace, Progress, type RunContext, ServerProc } from './runner.js';

const MB = 2 ** 20;

function option(name: string): string | undefined {
  const a = process.argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : '';
}

const sizes = (option('connections') ?? '4000').split(',').map(Number);
const kind: Competitor = option('baseline') === undefined ? 'troupe' : 'baseline';
const snapDir = option('snapshots');
const settleMs = Number(option('settle-ms') ?? 1_500);
// Given 12 s or more, V8's memory reducer shrinks the young generation to its minimum first, so
// both servers' storms grow it from the same size (a server's start-up can leave it at 16 MB).
const settleBeforeMs = Number(option('settle-before-ms') ?? 1_000);
if (sizes.some((n, i) => !Number.isInteger(n) || n < 100 || n % 100 !== 0 || n <= (sizes[i - 1] ?? 0))) {
  throw new Error('--connections: increasing multiples of 100, comma-separated');
}
if (snapDir !== undefined) mkdirSync(resolve(snapDir), { recursive: true });

killChildrenOnExit();
const ctx: RunContext = {
  quick: true,
  pin: false,
  encoding: 'json',
  progress: new Progress(),
  soakMinutes: 0,
  serverFlags: snapDir === undefined ? [] : ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${resolve(snapDir)}`],
  loadFlags: [],
};

/** Asks the server for a snapshot and waits until the file is written (the server answers again). */
async function snapshot(server: ServerProc, label: string): Promise<void> {
  if (snapDir === undefined) return;
  const dir = resolve(snapDir);
  const before = new Set(readdirSync(dir));
  process.kill(server.pid, 'SIGUSR2');
  for (;;) {
    await sleep(500);
    const fresh = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (fresh === undefined) continue;
    // Written on the server's main thread: once it answers, the file is complete.
    await server.mem();
    console.log(
      `snapshot ${label}: ${resolve(dir, fresh)} (${(statSync(resolve(dir, fresh)).size / MB).toFixed(1)} MB)`,
    );
    return;
  }
}

const server = await ServerProc.start(kind, ctx);
try {
  const start = (await server.heapSpaces()).find((sp) => sp.space === 'new_space');
  console.log(`new space at start: ${((start?.size ?? 0) / MB).toFixed(1)} MB`);
  const warm = Fleet.start(ctx, { port: server.port, first: 1_000_000, connections: 200, label: 'warm-up' });
  await warm.connect();
  await sleep(300);
  await warm.close();
  await sleep(settleBeforeMs);
  await server.gc();
  const before = (await server.heapSpaces()).find((sp) => sp.space === 'new_space');
  console.log(`new space before the connections: ${((before?.size ?? 0) / MB).toFixed(1)} MB`);
  interface Reading {
    readonly n: number;
    readonly rss: number;
    readonly mem: MemReport;
    readonly spaces: HeapSpace[];
  }
  const read = async (n: number): Promise<Reading> => {
    const mem = await server.mem();
    const spaces = await server.heapSpaces();
    const r = { n, rss: server.rss(), mem, spaces };
    await snapshot(server, `${n}`);
    return r;
  };
  const none = await read(0);
  const fleets: Fleet[] = [];
  try {
    let prev = none;
    for (const n of sizes) {
      const fleet = Fleet.start(ctx, {
        port: server.port,
        first: prev.n,
        connections: n - prev.n,
        total: n,
        label: kind,
      });
      fleets.push(fleet);
      const t0 = performance.now();
      await fleet.connect();
      const connectMs = performance.now() - t0;
      await sleep(settleMs);
      await server.gc();
      const r = await read(n);
      report(none, r, connectMs);
      // With more than one size, the step from the last one: what a connection costs once the
      // one-time costs (young generation growth, compiled code) are paid.
      if (prev !== none) report(prev, r, connectMs);
      prev = r;
    }
  } finally {
    await Promise.allSettled(fleets.map((f) => f.close()));
  }
} finally {
  await server.stop();
}
process.exit(0);

function report(from: { n: number; rss: number; mem: MemReport; spaces: HeapSpace[] }, to: typeof from, ms: number) {
  const n = to.n - from.n;
  const per = (a: number, b: number) => Math.round((b - a) / n);
  console.log(
    JSON.stringify({
      competitor: kind,
      connections: `${from.n} -> ${to.n}`,
      connectMs: Math.round(ms),
      heapUsedPerConn: per(from.mem.heapUsed, to.mem.heapUsed),
      heapTotalPerConn: per(from.mem.heapTotal, to.mem.heapTotal),
      externalPerConn: per(from.mem.external, to.mem.external),
      rssMbPer10k: Number((((to.rss - from.rss) / MB / n) * 10_000).toFixed(1)),
      rssMb: `${(from.rss / MB).toFixed(1)} -> ${(to.rss / MB).toFixed(1)}`,
      heapTotalMb: `${(from.mem.heapTotal / MB).toFixed(1)} -> ${(to.mem.heapTotal / MB).toFixed(1)}`,
    }),
  );
  // Where the reservation grew: new space grows with what survives scavenges, old space with what lives.
  const mb = (x: number) => (x / MB).toFixed(1);
  for (const sp of to.spaces) {
    const before = from.spaces.find((x) => x.space === sp.space);
    if (before === undefined || (sp.size === before.size && sp.used === before.used)) continue;
    console.log(
      `  ${sp.space.padEnd(24)} size ${mb(before.size)} -> ${mb(sp.size)} MB, used ${mb(before.used)} -> ${mb(sp.used)} MB`,
    );
  }
}
