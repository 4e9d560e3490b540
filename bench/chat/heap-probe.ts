/**
 * An on-demand memory probe of one server (not part of `pnpm bench:chat`): what the idle-memory
 * scenario measures, for one competitor, at a size you choose, with the JS heap's growth per
 * connection and optionally a heap snapshot before and after to diff. Unpinned and one load process
 * per 5,000 connections, so it can run beside other work.
 *
 *     node --conditions=source --import tsx bench/chat/heap-probe.ts [--connections=4000]
 *          [--baseline] [--snapshots=DIR] [--settle-ms=1500]
 *
 * As idle-memory does: 200 warm-up connections join and leave first, then a full GC and the "none"
 * reading; then N connections join rooms of 100 (hello, join), and 1.5 s later (`--settle-ms`) a
 * full GC and the second reading. It prints heap used and heap total grown per connection, RSS grown per 10k, and
 * the heap spaces that grew.
 * With `--snapshots=DIR` the server writes a `.heapsnapshot` (via `--heapsnapshot-signal`) at both
 * readings into DIR.
 */
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { killChildrenOnExit, sleep } from './proc.js';
import { type Competitor, Fleet, Progress, type RunContext, ServerProc } from './runner.js';

const MB = 2 ** 20;

function option(name: string): string | undefined {
  const a = process.argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : '';
}

const n = Number(option('connections') ?? 4_000);
const kind: Competitor = option('baseline') === undefined ? 'troupe' : 'baseline';
const snapDir = option('snapshots');
const settleMs = Number(option('settle-ms') ?? 1_500);
if (!Number.isInteger(n) || n < 100 || n % 100 !== 0) throw new Error('--connections must be a multiple of 100');
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
  await sleep(1_000);
  await server.gc();
  const m0 = await server.mem();
  const s0 = await server.heapSpaces();
  const rss0 = server.rss();
  await snapshot(server, 'none');
  const fleet = Fleet.start(ctx, { port: server.port, first: 0, connections: n, label: kind });
  const t0 = performance.now();
  await fleet.connect();
  const connectMs = performance.now() - t0;
  await sleep(settleMs);
  await server.gc();
  const m1 = await server.mem();
  const s1 = await server.heapSpaces();
  const rss1 = server.rss();
  await snapshot(server, `${n}`);
  await fleet.close();
  const per = (a: number, b: number) => ((b - a) / n).toFixed(0);
  console.log(
    JSON.stringify({
      competitor: kind,
      connections: n,
      connectMs: Math.round(connectMs),
      heapUsedPerConn: Number(per(m0.heapUsed, m1.heapUsed)),
      heapTotalPerConn: Number(per(m0.heapTotal, m1.heapTotal)),
      externalPerConn: Number(per(m0.external, m1.external)),
      rssMbPer10k: Number((((rss1 - rss0) / MB / n) * 10_000).toFixed(1)),
      rss0Mb: Number((rss0 / MB).toFixed(1)),
      heapTotal0Mb: Number((m0.heapTotal / MB).toFixed(1)),
      heapTotal1Mb: Number((m1.heapTotal / MB).toFixed(1)),
    }),
  );
  // Where the reservation grew: new space grows with the allocation rate, old space with what lives.
  const mb = (x: number) => (x / MB).toFixed(1);
  for (const sp of s1) {
    const before = s0.find((x) => x.space === sp.space);
    if (before === undefined || (sp.size === before.size && sp.used === before.used)) continue;
    console.log(
      `  ${sp.space.padEnd(24)} size ${mb(before.size)} -> ${mb(sp.size)} MB, used ${mb(before.used)} -> ${mb(sp.used)} MB`,
    );
  }
} finally {
  await server.stop();
}
process.exit(0);
