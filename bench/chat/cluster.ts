/**
 * The chat as a cluster (bench/README.md, "The chat cluster scenarios"): chat processes joined
 * through one local nats-server (JetStream), each on a port of its own so that the load knows which
 * process holds each connection; connection g goes to process g % N, so every room has members on
 * each process and every room message crosses the bus. The servers (every chat process and NATS)
 * share the server CPU, the load keeps the other; CPU per delivery counts all of them.
 *
 * - `cluster-s2`: the fixed load (S2: 2,000 connections in rooms of 100, half room messages, half
 *   DMs) on two processes, beside the same load on one process in the same run (the "baseline"
 *   column is single-process Troupe).
 * - `cluster-failover`: the fixed load on two processes; after the warm-up, SIGKILL the process
 *   that owns most rooms. Figures: per room, the time from the kill to its first delivery of a
 *   message sent after it (p50, p99 over rooms); acknowledged room messages that a socket still
 *   open never got; sockets of the surviving process that closed.
 * - `connections` (on demand): idle joined connections over as many processes as the open-file
 *   limit needs (18,000 each), added in steps under a trickle of traffic, until the target or the
 *   first step whose p99 passes 1 s, or that loses deliveries or connections: how far it got, and
 *   the processes' resident memory per 10,000 connections.
 */
import { spawnSync } from 'node:child_process';
import { type Nats, natsServerPath, startNats } from '../../examples/chat/src/nats-server.js';
import { FIXED, fixedOutcome, runFixedLoad } from './fixed-load.js';
import { emptyTally, type Tally } from './load.js';
import { cpuTimeUs, runQueueWaitUs, sleep } from './proc.js';
import {
  Fleet,
  latencies,
  type Measured,
  type RunContext,
  SERVER_CPU,
  ServerProc,
  type WindowMark,
  withFleet,
  withServer,
} from './runner.js';
import { atMost, lostOf, type Outcome, ratioAtMost, type Scenario, violations } from './scenario.js';

const MB = 2 ** 20;

/** A chat cluster on this machine: a nats-server and N chat processes, one port each. */
export class ClusterServers implements Measured {
  readonly nats: Nats;
  readonly procs: ServerProc[];
  /** How long a process has to exit cleanly on stop (so that --cpu-prof writes its profile). */
  readonly #graceMs: number;

  private constructor(nats: Nats, procs: ServerProc[], graceMs: number) {
    this.nats = nats;
    this.procs = procs;
    this.#graceMs = graceMs;
  }

  static async start(
    ctx: RunContext,
    n: number,
    o: { readonly testFaults?: boolean; readonly args?: readonly string[] } = {},
  ): Promise<ClusterServers> {
    const binary = natsServerPath();
    if (binary === undefined)
      throw new Error('the cluster scenarios need nats-server (apt-get install -y nats-server)');
    const nats = await startNats(binary);
    if (ctx.pin) spawnSync('taskset', ['-pc', String(SERVER_CPU), String(nats.pid)], { stdio: 'ignore' });
    const procs: ServerProc[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const args = ['--cluster', nats.url, '--cluster-name', 'bench', '--node', `n${i + 1}`, ...(o.args ?? [])];
        procs.push(await ServerProc.start('troupe', ctx, { ...o, args }));
      }
      const c = new ClusterServers(nats, procs, ctx.serverFlags.length > 0 ? 5_000 : 0);
      await c.formed();
      return c;
    } catch (e) {
      for (const p of procs) await p.stop();
      await nats.stop();
      throw e;
    }
  }

  get port(): number {
    return (this.procs[0] as ServerProc).port;
  }

  get ports(): number[] {
    return this.procs.map((p) => p.port);
  }

  /** Every process sees the others and their inbox hosts. */
  async formed(ms = 30_000): Promise<void> {
    const n = this.procs.length;
    const end = Date.now() + ms;
    for (;;) {
      const seen = await Promise.all(this.live().map((p) => metrics(p.port, 'chat_cluster_inbox_hosts')));
      if (seen.every((x) => x === this.live().length)) return;
      if (Date.now() > end) throw new Error(`the cluster of ${n} did not form: inbox hosts seen ${seen.join(', ')}`);
      await sleep(50);
    }
  }

  live(): ServerProc[] {
    return this.procs.filter((p) => !this.#dead.has(p));
  }

  readonly #dead = new Set<ServerProc>();

  cpuUs(): number {
    return this.live().reduce((n, p) => n + p.cpuUs(), cpuTimeUs(this.nats.pid));
  }

  /** CPU so far (µs) of NATS and of each chat process. */
  cpuParts(): { nats: number; chats: number[] } {
    return { nats: cpuTimeUs(this.nats.pid), chats: this.live().map((p) => p.cpuUs()) };
  }

  waitUs(): number {
    return this.live().reduce((n, p) => n + p.waitUs(), runQueueWaitUs(this.nats.pid));
  }

  rss(): number {
    return this.live().reduce((n, p) => n + p.rss(), 0);
  }

  async gc(): Promise<void> {
    await Promise.all(this.live().map((p) => p.gc()));
  }

  /** SIGKILLs one process (it stays dead). */
  kill(p: ServerProc): void {
    this.#dead.add(p);
    p.kill();
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(this.#dead.has(p) ? 0 : this.#graceMs)));
    await this.nats.stop();
  }
}

/** One value of a process's `/metrics` (loopback clients may read it). */
async function metrics(port: number, name: string): Promise<number | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined);
  if (r === undefined || !r.ok) return undefined;
  const line = (await r.text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** A process's non-zero `chat_bus_undeliverable_total` and `chat_bus_malformed_total`, as text ('' if none). */
async function busTrouble(port: number): Promise<string> {
  const out: string[] = [];
  for (const name of ['undeliverable', 'malformed']) {
    const n = await metrics(port, `chat_bus_${name}_total`);
    if (n !== undefined && n > 0) out.push(`${name} ${n}`);
  }
  return out.join(' ');
}

async function withCluster<T>(
  ctx: RunContext,
  n: number,
  o: { readonly testFaults?: boolean; readonly args?: readonly string[] },
  body: (c: ClusterServers) => Promise<T>,
): Promise<T> {
  const c = await ClusterServers.start(ctx, n, o);
  try {
    return await body(c);
  } catch (e) {
    const tails = c.procs.map((p, i) => `n${i + 1}: ${p.stderrTail()}`).join('\n');
    if (e instanceof Error) e.message += `\ncluster stderr (last lines):\n${tails}`;
    throw e;
  } finally {
    await c.stop();
  }
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number;
}

// ---- cluster-s2 ----------------------------------------------------------------------------------

export const clusterS2: Scenario = {
  name: 'cluster-s2',
  about: 'the fixed load (S2) on two clustered processes; "baseline" is one Troupe process in the same run',
  competitors: ['baseline', 'troupe'],
  onDemand: true,
  figures: [
    {
      name: 'cluster-s2-cpu-us-per-delivery',
      unit: 'us',
      better: 'lower',
      decimals: 2,
      target: ratioAtMost(1.5, '<= 1.5x one process'),
    },
    { name: 'cluster-s2-p50-ms', unit: 'ms', better: 'lower', decimals: 2 },
    {
      name: 'cluster-s2-p99-ms',
      unit: 'ms',
      better: 'lower',
      decimals: 2,
      target: ratioAtMost(2, '<= 2x one process'),
    },
    { name: 'cluster-s2-lost', unit: 'deliveries', better: 'lower', decimals: 0, target: atMost(0, '0') },
  ],
  async run(competitor, ctx) {
    const label = `cluster-s2 ${competitor === 'baseline' ? 'one process' : 'two processes'}`;
    const load = { label, warmupS: ctx.quick ? 2 : 3, windows: 3, seconds: ctx.quick ? 1.5 : 10 };
    const out =
      competitor === 'baseline'
        ? await withServer('troupe', ctx, {}, async (s) =>
            fixedOutcome('cluster-s2', competitor, label, await runFixedLoad(s, ctx, load)),
          )
        : await withCluster(ctx, 2, {}, async (c) => {
            const before = c.cpuParts();
            const frames0 = await Promise.all(c.procs.map((p) => metrics(p.port, 'chat_bus_frames_out_total')));
            const o = fixedOutcome('cluster-s2', competitor, label, await runFixedLoad(c, ctx, load));
            const after = c.cpuParts();
            const frames1 = await Promise.all(c.procs.map((p) => metrics(p.port, 'chat_bus_frames_out_total')));
            const sent = o.checks.reduce((n, k) => n + k.tally.sentRoom + k.tally.sentDm, 0);
            const bus = frames1.reduce((n: number, f, i) => n + (f ?? 0) - (frames0[i] ?? 0), 0);
            const chats = after.chats.map((x, i) => ((x - (before.chats[i] ?? 0)) / 1e6).toFixed(2));
            const note =
              `${label}: CPU over the whole load: NATS ${((after.nats - before.nats) / 1e6).toFixed(2)} s, ` +
              `chat processes ${chats.join(' + ')} s; ${(bus / Math.max(1, sent)).toFixed(2)} bus frames per message sent`;
            return { ...o, notes: [...o.notes, note] };
          });
    const f = out.figures;
    return {
      ...out,
      figures: {
        'cluster-s2-cpu-us-per-delivery': f['cpu-us-per-delivery'] as number,
        'cluster-s2-p50-ms': f['p50-ms'] as number,
        'cluster-s2-p99-ms': f['p99-ms'] as number,
        'cluster-s2-lost': f['fixed-lost'] as number,
      },
    };
  },
};

// ---- cluster-failover ----------------------------------------------------------------------------

export const clusterFailover: Scenario = {
  name: 'cluster-failover',
  about: 'the fixed load on two processes; SIGKILL the one owning most rooms: time until every room delivers again',
  competitors: ['troupe'],
  onDemand: true,
  figures: [
    { name: 'failover-p50-ms', unit: 'ms', better: 'lower', decimals: 0 },
    { name: 'failover-p99-ms', unit: 'ms', better: 'lower', decimals: 0, target: atMost(5_000, '< 5 s') },
    { name: 'failover-lost', unit: 'messages', better: 'lower', decimals: 0, target: atMost(0, '0') },
    { name: 'failover-closed', unit: 'sockets', better: 'lower', decimals: 0, target: atMost(0, '0') },
    { name: 'failover-unavailable', unit: 'answers', better: 'lower', decimals: 0 },
  ],
  run(_competitor, ctx) {
    const label = 'cluster-failover';
    return withCluster(ctx, 2, {}, async (c) =>
      withFleet(ctx, { port: c.port, ports: c.ports, connections: FIXED.connections, label }, async (fleet) => {
        await fleet.connect();
        await fleet.rate(FIXED.ratePerConn);
        await fleet.watch(ctx.quick ? 2 : 3, `${label} warm-up`);
        // The process that owns most rooms.
        const owned = await Promise.all(c.procs.map((p) => metrics(p.port, 'chat_cluster_owned_rooms')));
        const victim = owned.indexOf(Math.max(...owned.map((x) => x ?? 0)));
        const killed = c.procs[victim] as ServerProc;
        const survivor = c.procs.find((p) => p !== killed) as ServerProc;
        const before = await fleet.tally();
        const atNs = Number(process.hrtime.bigint());
        await fleet.mark(atNs);
        const killedAt = Date.now();
        c.kill(killed);
        await fleet.watch(ctx.quick ? 6 : 10, `${label}: after the kill of n${victim + 1}`);
        await fleet.rate(0);
        const tally = await fleet.drain(ctx.quick ? 3_000 : 5_000);
        const f = await fleet.failover();
        const recovered = f.recovery.filter((x) => x >= 0);
        const never = f.recovery.length - recovered.length;
        const closed = f.dropped[String(survivor.port)] ?? 0;
        const downAt = loggedAt(survivor, 'chat process down');
        const notes = [
          `${label}: killed n${victim + 1} (owned ${owned.map((x, i) => `n${i + 1}:${x}`).join(' ')} rooms); ` +
            `rooms delivering again: ${recovered.length} of ${f.recovery.length}` +
            (never > 0 ? ` (${never} never did)` : '') +
            `; max ${Math.max(...recovered).toFixed(0)} ms; sockets closed: ${JSON.stringify(f.dropped)} ` +
            `(port ${killed.port} was killed); sends answered unavailable: ${tally.unavailable - before.unavailable}; ` +
            // `internal`: a send whose owner went and that no owner could say was stored or not.
            `other errors since: ${tally.errors - before.errors}${tally.errorCodes === '' ? '' : ` (codes over the run: ${tally.errorCodes})`}; ` +
            `the survivor declared n${victim + 1} down ${downAt === undefined ? '(not logged)' : `${downAt - killedAt} ms`} after the kill`,
        ];
        return {
          figures: {
            'failover-p50-ms': quantile(recovered, 0.5),
            'failover-p99-ms': never > 0 ? Number.POSITIVE_INFINITY : quantile(recovered, 0.99),
            'failover-lost': f.ackedLost,
            'failover-closed': closed,
            'failover-unavailable': tally.unavailable,
          },
          // The killed process's sockets and what was in flight to them are gone by design: the
          // run's own figures say what was lost; the usual tally check does not apply.
          checks: [],
          notes,
        };
      }),
    );
  },
};

/** When (Date.now()) a process last logged a warning with this message, from its pino lines. */
function loggedAt(p: ServerProc, message: string): number | undefined {
  let at: number | undefined;
  for (const line of p.warnings()) {
    try {
      const v = JSON.parse(line) as { msg?: unknown; time?: unknown };
      if (v.msg === message && typeof v.time === 'number') at = v.time;
    } catch {
      // Clipped at 300 characters: not this one.
    }
  }
  return at;
}

// ---- connections ---------------------------------------------------------------------------------

/** Sockets per chat process: under the 20,000 open files, with room for NATS, logs and the page. */
const PER_PROCESS = 18_000;
/** The trickle: messages per connection per second (half room messages to 100, half DMs). */
const TRICKLE = 0.000_5;

export const connections: Scenario = {
  name: 'connections',
  about: `idle joined connections over N processes (${PER_PROCESS.toLocaleString('en-US')} each) under a trickle, up to 200,000 (quick: 20,000)`,
  competitors: ['troupe'],
  onDemand: true,
  figures: [
    {
      name: 'connections',
      unit: 'connections',
      better: 'higher',
      decimals: 0,
      target: { text: '>= 200,000', met: (v) => v >= 200_000 },
    },
    { name: 'connections-mb-per-10k', unit: 'MB', better: 'lower', decimals: 1 },
    { name: 'connections-mb-per-10k-marginal', unit: 'MB', better: 'lower', decimals: 1 },
    { name: 'connections-p99-ms', unit: 'ms', better: 'lower', decimals: 1, target: atMost(1_000, '< 1 s') },
    { name: 'connections-lost', unit: 'deliveries', better: 'lower', decimals: 0, target: atMost(0, '0') },
  ],
  run(_competitor, ctx) {
    const target = Number(process.env.BENCH_CONNECTIONS ?? (ctx.quick ? 20_000 : 200_000));
    const step = ctx.quick ? 10_000 : 25_000;
    const n = Math.ceil(target / PER_PROCESS);
    const label = 'connections';
    // A dozen server processes and dozens of load processes share two cores here: under a connect
    // storm a live process can go quiet for seconds. A longer down-after keeps them from being
    // declared dead (this scenario measures capacity, not failover).
    return withCluster(ctx, n, { args: ['--heartbeat-ms', '1000', '--down-after-ms', '10000'] }, async (c) => {
      await sleep(1_000);
      await c.gc();
      const rss0 = c.rss();
      const fleets: Fleet[] = [];
      let tally: Tally = emptyTally();
      const notes: string[] = [];
      let reached = 0;
      let p99 = 0;
      let mbPer10k = Number.NaN;
      let marginal = Number.NaN;
      let first: { n: number; rss: number } | undefined;
      let atReached = { mb: Number.NaN, marginal: Number.NaN };
      try {
        for (let have = 0; have < target; ) {
          const add = Math.min(step, target - have);
          // Rooms of 100 stay whole within a fleet; DMs go to any connection so far.
          const fleet = Fleet.start(ctx, {
            port: c.port,
            ports: c.ports,
            first: have,
            connections: add,
            total: have + add,
            label,
            // A dozen servers on one core answer a connect storm slowly: a SYN the backlog dropped
            // is sent again after 1, 3, 7 s.
            handshakeTimeoutMs: 30_000,
          });
          fleets.push(fleet);
          const t0 = performance.now();
          try {
            await fleet.connect(120_000);
          } catch (e) {
            notes.push(`${label}: stopped at ${have.toLocaleString('en-US')}: ${(e as Error).message}`);
            break;
          }
          have += add;
          ctx.progress.update(
            `${label}: ${have.toLocaleString('en-US')} joined (${((performance.now() - t0) / 1000).toFixed(0)} s for the step)`,
          );
          // Memory first (idle), then the trickle over everything connected so far.
          await sleep(1_500);
          await c.gc();
          const rss = c.rss();
          mbPer10k = ((rss - rss0) / MB / have) * 10_000;
          // Past the first step: what each further connection costs, without the processes' own growth.
          first ??= { n: have, rss };
          if (have > first.n) marginal = ((rss - first.rss) / MB / (have - first.n)) * 10_000;
          for (const f of fleets) await f.rate(TRICKLE);
          const marks = await Promise.all(fleets.map((f) => f.beginWindow(c)));
          await fleet.watch(ctx.quick ? 3 : 8, `${label}: trickle over ${have.toLocaleString('en-US')}`);
          const ws = await Promise.all(fleets.map((f, i) => f.endWindow(marks[i] as WindowMark)));
          for (const f of fleets) await f.rate(0);
          // The worst fleet's p99 (each holds its rooms' members, so each sees its own latencies).
          const l = { p99: Math.max(...ws.map((w) => latencies(w.hist).p99)) };
          // Together: DMs cross fleets (Fleet.drainAll).
          const t = await Fleet.drainAll(fleets, 5_000);
          tally = t;
          const bad = violations(t);
          notes.push(
            `${label}: ${have.toLocaleString('en-US')} over ${c.procs.length} processes: ${mbPer10k.toFixed(1)} MB per 10k, ` +
              `trickle p99 ${l.p99.toFixed(1)} ms, lost ${lostOf(t)}${bad.length > 0 ? `; ${bad.join('; ')}` : ''}`,
          );
          if (l.p99 > 1_000 || lostOf(t) > 0 || t.dropped > 0) {
            for (const [i, p] of c.procs.entries()) {
              const w = p.warnings();
              if (w.length > 0) notes.push(`${label}: n${i + 1} logged: ${w.slice(-5).join(' | ')}`);
            }
            // Where a loss may have happened on the bus: messages a process could not decode, or
            // that came for an actor it no longer (or never) had.
            const bus = await Promise.all(c.procs.map((p) => busTrouble(p.port)));
            const odd = bus.map((b, i) => (b === '' ? '' : `n${i + 1} ${b}`)).filter((b) => b !== '');
            notes.push(
              `${label}: bus counters: ${odd.length === 0 ? 'none undeliverable or malformed' : odd.join(', ')}`,
            );
            break;
          }
          reached = have;
          p99 = l.p99;
          atReached = { mb: mbPer10k, marginal };
        }
      } finally {
        for (const f of fleets) await f.close();
      }
      const out: Outcome = {
        figures: {
          connections: reached,
          'connections-mb-per-10k': atReached.mb,
          'connections-mb-per-10k-marginal': atReached.marginal,
          'connections-p99-ms': p99,
          'connections-lost': lostOf(tally),
        },
        checks: [{ scenario: 'connections', competitor: 'troupe', connections: reached, tally, loadgenCpuPct: 0 }],
        notes,
      };
      return out;
    });
  },
};
