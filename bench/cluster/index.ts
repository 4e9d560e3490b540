/**
 * The cluster benchmark (`pnpm bench:cluster [--quick] [--json]`): processes on this machine
 * joined through one local nats-server, beside raw nats.js doing the same work in the same run.
 *
 * - `cluster-send`: msg/s from an actor's `send` on one node to an actor on another, acknowledged
 *   every 2,000 (at most two windows in flight), against raw `nc.publish` of the same msgpackr
 *   payload to a raw subscriber that acknowledges the same way.
 * - `cluster-call-p50-us` (and `-p99-us`): one `call` after another to an actor on another node,
 *   against raw `nc.request` to a raw responder that decodes and re-encodes the same payload.
 * - `group-publish-nats-msgs`: NATS messages per `cluster.groups.publish` to a group of 9 members
 *   on 3 other nodes (one per node), every member checked to get every message.
 * - `paced-R-cpu-us`: CPU (user + system) of NATS, the receiving and the sending process per
 *   message, while one actor's `send` sends R messages a second to an actor on another node, against
 *   raw `nc.publish` at the same rate; best of the runs, like every figure here.
 * - `node-down-ms`: a node killed with SIGKILL, to `nodedown` seen by both other nodes (the later
 *   of the two), with the default heartbeat (250 ms) and `downAfterMs` (1,000 ms); the median of
 *   three kills.
 *
 * Each competitor runs in processes of its own; the figure is the best of the runs (a shared
 * machine only ever makes a run slower). A missing nats-server is an error with the install command.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { arch, cpus, platform } from 'node:os';
import { fileURLToPath } from 'node:url';
import { INSTALL, natsServerPath, startNats as startNatsServer } from '../../scripts/nats-server.js';
import { cpuTimeUs } from '../chat/proc.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
if (args.some((a) => !['--quick', '--json'].includes(a))) {
  console.error('usage: pnpm bench:cluster [--quick] [--json]');
  process.exit(2);
}
const out = json ? process.stderr : process.stdout;
const RUNS = quick ? 1 : 3;
const SENDS = quick ? 100_000 : 400_000;
const CALLS = quick ? 2_000 : 10_000;
const PUBLISHES = quick ? 2_000 : 10_000;
const KILLS = quick ? 1 : 3;
/** [messages, per second] of the paced runs: 8 s at a quiet chat's bus rate, 4 s at a busy one's. */
const PACED: ReadonlyArray<readonly [number, number]> = quick
  ? [[2_000, 1_000]]
  : [
      [2_000, 250],
      [16_000, 2_000],
      [64_000, 16_000],
    ];

const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
let clusters = 0;

async function startNats(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const bin = natsServerPath();
  if (bin === undefined) {
    console.error(`bench:cluster needs nats-server; install it with: ${INSTALL}`);
    process.exit(1);
  }
  const nats = await startNatsServer(bin);
  return { url: nats.url, pid: nats.pid, stop: () => nats.stop() };
}

/** A worker process and the JSON lines it prints. */
interface Worker {
  readonly child: ChildProcess;
  next(): Promise<unknown>;
  lines: unknown[];
}

function start(role: string, url: string, cluster: string, arg?: string | number): Worker {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', worker, role, url, cluster, ...(arg === undefined ? [] : [String(arg)])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: unknown[] = [];
  const waiting: Array<(v: unknown) => void> = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const v = JSON.parse(buf.slice(0, i)) as unknown;
      buf = buf.slice(i + 1);
      const w = waiting.shift();
      if (w !== undefined) w(v);
      else lines.push(v);
    }
  });
  return {
    child,
    lines,
    next: () => {
      const v = lines.shift();
      if (v !== undefined) return Promise.resolve(v);
      return new Promise((resolve) => waiting.push(resolve));
    },
  };
}

async function ready(w: Worker): Promise<void> {
  const v = await w.next();
  if (v !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(v)}`);
}

const stop = (...ws: Worker[]) => {
  for (const w of ws) w.child.kill('SIGKILL');
};

async function pairRun(url: string, sinkRole: string, sendRole: string, n: number): Promise<Record<string, number>> {
  const cluster = `bench${++clusters}`;
  const sink = start(sinkRole, url, cluster);
  await ready(sink);
  const send = start(sendRole, url, cluster, n);
  const r = (await send.next()) as Record<string, number>;
  stop(sink, send);
  return r;
}

/**
 * CPU (user + system) of NATS, the sink and the sender, in µs per message, while the sender sends
 * `n` messages at `rate` a second (`paced` / `raw-paced`).
 */
async function pacedRun(
  nats: { url: string; pid: number },
  sinkRole: string,
  sendRole: string,
  n: number,
  rate: number,
) {
  const cluster = `bench${++clusters}`;
  const sink = start(sinkRole, nats.url, cluster);
  await ready(sink);
  const send = start(sendRole, nats.url, cluster, `${n}@${rate}`);
  const pids = [nats.pid, sink.child.pid as number, send.child.pid as number];
  const cpu = (): number => pids.reduce((t: number, pid) => t + cpuTimeUs(pid), 0);
  await send.next();
  const before = cpu();
  await send.next();
  const us = cpu() - before;
  stop(sink, send);
  return us / n;
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}

interface Row {
  name: string;
  unit: string;
  value: number;
  baseline?: number;
  target?: string;
  met?: boolean;
}
const rows: Row[] = [];

const nats = await startNats();
try {
  // Send throughput, alternating competitors so that drift hits both.
  const troupeSend: number[] = [];
  const rawSend: number[] = [];
  let framesPerMsg = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = await pairRun(nats.url, 'sink', 'send', SENDS);
    troupeSend.push(t.perSec as number);
    framesPerMsg = (t.framesOut as number) / SENDS;
    rawSend.push((await pairRun(nats.url, 'raw-sink', 'raw-send', SENDS)).perSec as number);
  }
  const sendV = Math.max(...troupeSend);
  const sendB = Math.max(...rawSend);
  rows.push({
    name: 'cluster-send',
    unit: 'msg/s',
    value: sendV,
    baseline: sendB,
    target: '>= 0.8x raw',
    met: sendV / sendB >= 0.8,
  });
  rows.push({ name: 'cluster-send-nats-msgs', unit: 'per send', value: framesPerMsg });

  // Call round trips.
  const troupeP50: number[] = [];
  const rawP50: number[] = [];
  const troupeP99: number[] = [];
  const rawP99: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = (await pairRun(nats.url, 'echo', 'call', CALLS)) as unknown as { lat: number[] };
    const r = (await pairRun(nats.url, 'raw-echo', 'raw-call', CALLS)) as unknown as { lat: number[] };
    // The first tenth warms up the JIT and the connections.
    const tl = t.lat.slice(Math.floor(CALLS / 10));
    const rl = r.lat.slice(Math.floor(CALLS / 10));
    troupeP50.push(percentile(tl, 50) * 1_000);
    rawP50.push(percentile(rl, 50) * 1_000);
    troupeP99.push(percentile(tl, 99) * 1_000);
    rawP99.push(percentile(rl, 99) * 1_000);
  }
  const p50V = Math.min(...troupeP50);
  const p50B = Math.min(...rawP50);
  rows.push({
    name: 'cluster-call-p50-us',
    unit: 'us',
    value: p50V,
    baseline: p50B,
    target: '<= 1.2x raw',
    met: p50V / p50B <= 1.2,
  });
  rows.push({ name: 'cluster-call-p99-us', unit: 'us', value: Math.min(...troupeP99), baseline: Math.min(...rawP99) });

  // Group publish to three nodes.
  {
    const cluster = `bench${++clusters}`;
    const members = [1, 2, 3].map((i) => start('member', nats.url, cluster, i));
    for (const m of members) await ready(m);
    const pub = start('publish', nats.url, cluster, PUBLISHES);
    const r = (await pub.next()) as { perPublish: number };
    // Every member gets every message: 3 actors on each node.
    for (const m of members) {
      for (;;) {
        const v = (await m.next()) as { got: number };
        if (v.got >= 3 * PUBLISHES) break;
      }
    }
    stop(pub, ...members);
    rows.push({
      name: 'group-publish-nats-msgs',
      unit: 'per publish',
      value: r.perPublish,
      target: '1 per remote node (3)',
      met: r.perPublish === 3,
    });
  }

  // CPU per message at the rates a chat's bus sends at: a process that sleeps between messages pays
  // for each wake-up (NATS's and both clients'), which a flood shares over many messages.
  for (const [n, rate] of PACED) {
    const troupe: number[] = [];
    const raw: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      troupe.push(await pacedRun(nats, 'sink', 'paced', n, rate));
      raw.push(await pacedRun(nats, 'raw-sink', 'raw-paced', n, rate));
    }
    rows.push({
      name: `paced-${rate}-cpu-us`,
      unit: 'us per msg',
      value: Math.min(...troupe),
      baseline: Math.min(...raw),
    });
  }

  // Node-down detection.
  {
    const detections: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const cluster = `bench${++clusters}`;
      const watchers = [1, 2].map((i) => start('watch', nats.url, cluster, i));
      for (const w of watchers) await ready(w);
      const victim = start('victim', nats.url, cluster);
      await ready(victim);
      for (const w of watchers) await w.next(); // its nodeup
      await new Promise((r) => setTimeout(r, 300));
      const killedAt = performance.timeOrigin + performance.now();
      victim.child.kill('SIGKILL');
      const downs = (await Promise.all(watchers.map((w) => w.next()))) as Array<{ down: number }>;
      detections.push(Math.max(...downs.map((d) => d.down)) - killedAt);
      stop(...watchers);
    }
    const v = percentile(detections, 50);
    rows.push({ name: 'node-down-ms', unit: 'ms', value: v, target: '<= 2000 ms', met: v <= 2_000 });
  }
} finally {
  await nats.stop();
}

const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
out.write(
  `cluster benchmark (${quick ? 'quick' : 'full'}), ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${platform()} ${arch()}, node ${process.version}\n`,
);
out.write(
  `${'figure'.padEnd(26)} ${'unit'.padEnd(12)} ${'troupe'.padStart(12)} ${'raw nats'.padStart(12)} ${'ratio'.padStart(6)}  target\n`,
);
for (const r of rows) {
  const ratio = r.baseline === undefined ? undefined : r.value / r.baseline;
  out.write(
    `${r.name.padEnd(26)} ${r.unit.padEnd(12)} ${fmt(r.value).padStart(12)} ${(r.baseline === undefined ? '' : fmt(r.baseline)).padStart(12)} ${(ratio === undefined ? '' : ratio.toFixed(2)).padStart(6)}  ${r.target ?? ''}${r.met === undefined ? '' : r.met ? '  met' : '  MISSED'}\n`,
  );
  if (json) {
    const line: Record<string, unknown> = { suite: 'cluster', name: r.name, value: r.value, unit: r.unit };
    if (r.baseline !== undefined && ratio !== undefined) {
      line.baseline = r.baseline;
      line.ratio = Number(ratio.toFixed(3));
    }
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}
process.exit(0);
