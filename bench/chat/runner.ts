/**
 * The pieces every chat scenario is built from: a server process (Troupe's chat or the baseline)
 * pinned to the server CPU, a fleet of load generator processes pinned to the other, a measured
 * window (server CPU from /proc, the load's latency histogram and deliveries, the load's own CPU),
 * a drain that waits until every expected delivery has arrived or stopped arriving, and progress on
 * stderr. Everything started here is registered in proc.ts and killed by `close`/`stop`, or by the
 * runner's exit handlers if a scenario throws.
 */
import { fileURLToPath } from 'node:url';
import { Histogram } from './histogram.js';
import { type MemReport, Rpc } from './ipc.js';
import { addTally, type ConnectResult, emptyTally, type LoadPlan, type Tally, type WindowStats } from './load.js';
import {
  type CoreTimes,
  coreTimes,
  cpuTimeUs,
  describeCore,
  killGroup,
  rssBytes,
  runQueueWaitUs,
  type Started,
  sleep,
  startChild,
} from './proc.js';
import type { Encoding } from './wire.js';

export type Competitor = 'baseline' | 'troupe';

/** CPU 0 runs the server, CPU 1 the load, as bench/README.md's Workloads say. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;
/** Room size and content size of the chat workload. */
export const ROOM_SIZE = 100;
export const PAYLOAD_BYTES = 1024;
/** Connections per load process: well under the 20,000 open files a process may have. */
export const MAX_CONNS_PER_LOADGEN = 5_000;

/** What every scenario gets. */
export interface RunContext {
  readonly quick: boolean;
  readonly pin: boolean;
  readonly encoding: Encoding;
  readonly progress: Progress;
  /** Minutes of soak (on demand). */
  readonly soakMinutes: number;
  /** Extra node flags for server and load processes (--cpu-prof for profiling). */
  readonly serverFlags: readonly string[];
  readonly loadFlags: readonly string[];
}

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

// ---- progress ------------------------------------------------------------------------------------

/** One status line on stderr: rewritten in place on a terminal, a line every 5 s otherwise. */
export class Progress {
  readonly #tty = process.stderr.isTTY === true;
  #last = 0;
  #shown = false;

  update(text: string): void {
    if (this.#tty) {
      process.stderr.write(`\r\x1b[K  ${text}`);
      this.#shown = true;
      return;
    }
    const now = performance.now();
    if (now - this.#last < 5_000) return;
    this.#last = now;
    process.stderr.write(`  ${text}\n`);
  }

  /** A permanent line (ends an in-place status line first). */
  line(text: string): void {
    if (this.#shown) process.stderr.write('\r\x1b[K');
    this.#shown = false;
    process.stderr.write(`  ${text}\n`);
  }
}

// ---- servers -------------------------------------------------------------------------------------

/**
 * The chat's own recovery timing in the Troupe server (examples/chat/src/faults.ts): [crash thrown,
 * first delivery through that actor written, actor], monotonic ns.
 */
export interface CrashEvents {
  readonly recoveries: Array<[number, number, 'room' | 'socket']>;
}

/** One of V8's heap spaces, from `heap-spaces`. */
export interface HeapSpace {
  readonly space: string;
  readonly size: number;
  readonly used: number;
}

export interface ServerOptions {
  readonly testFaults?: boolean;
  /** More troupe-chat options (after the runner's own, so they win: `--port`, `--cluster` ...). */
  readonly args?: readonly string[];
}

/** What a measured window reads at both ends: one server process, or a cluster's processes. */
export interface Measured {
  /** CPU time so far, µs. */
  cpuUs(): number;
  /** Time runnable but not running so far, µs. */
  waitUs(): number;
}

/** A server process pinned to the server CPU. */
export class ServerProc implements Measured {
  readonly kind: Competitor;
  readonly port: number;
  readonly #started: Started;
  readonly #rpc: Rpc;

  private constructor(kind: Competitor, started: Started, port: number) {
    this.kind = kind;
    this.#started = started;
    this.port = port;
    this.#rpc = new Rpc(started.child, `${kind} server`);
  }

  static async start(kind: Competitor, ctx: RunContext, o: ServerOptions = {}): Promise<ServerProc> {
    // Both servers get the same node flags (--expose-gc for the memory readings, and the loader).
    // The load's connections come from 127.0.0.1 (5,000 to each further address of 127.0.0.0/8 past
    // the first 5,000: load.ts, sourceAddress): the per-address cap (1,000 by default) would refuse
    // the load, so the bench lifts it.
    const args =
      kind === 'troupe'
        ? [
            '--port',
            '0',
            '--host',
            '127.0.0.1',
            '--max-connections-per-ip',
            '1000000',
            ...(o.testFaults ? ['--test-faults'] : []),
            ...(o.args ?? []),
          ]
        : ['--port=0'];
    // BENCH_CHAT_TROUPE_SERVER points at another wrapper (a patched copy of the chat, to try a fix).
    const troupe = process.env.BENCH_CHAT_TROUPE_SERVER ?? here('./troupe-server.ts');
    const started = startChild({
      cpu: ctx.pin ? SERVER_CPU : undefined,
      nodeFlags: ['--expose-gc', ...ctx.serverFlags],
      script: kind === 'troupe' ? troupe : here('./baseline-server.ts'),
      args,
      what: `${kind} server`,
    });
    try {
      const port = await Promise.race([
        started.listening,
        sleep(20_000).then(() => {
          throw new Error(`${kind} server did not listen within 20 s:\n${started.stderrTail()}`);
        }),
      ]);
      return new ServerProc(kind, started, port);
    } catch (e) {
      killGroup(started.child);
      throw e;
    }
  }

  get pid(): number {
    return this.#started.pid;
  }

  cpuUs(): number {
    return cpuTimeUs(this.pid);
  }

  waitUs(): number {
    return runQueueWaitUs(this.pid);
  }

  /** SIGKILL, now (a failover). */
  kill(): void {
    killGroup(this.#started.child);
  }

  rss(): number {
    return rssBytes(this.pid);
  }

  mem(): Promise<MemReport> {
    return this.#rpc.call<MemReport>({ cmd: 'mem' }, 10_000);
  }

  /** V8's heap spaces: their size (reserved) and what is used in them. */
  heapSpaces(): Promise<HeapSpace[]> {
    return this.#rpc.call<HeapSpace[]>({ cmd: 'heap-spaces' }, 10_000);
  }

  /** A full GC in the server, then a moment for the allocator to give pages back. */
  async gc(): Promise<void> {
    await this.#rpc.call({ cmd: 'gc' }, 30_000);
    await sleep(300);
  }

  /** The Troupe server's timed recoveries since the last call (with --test-faults only). */
  crashEvents(): Promise<CrashEvents> {
    return this.#rpc.call<CrashEvents>({ cmd: 'crash-events' }, 10_000);
  }

  stderrTail(): string {
    return this.#started.stderrTail();
  }

  /** Its last logged warnings and errors. */
  warnings(): string[] {
    return this.#started.warnings();
  }

  /**
   * Stops the server: SIGTERM and a moment to exit cleanly (so --cpu-prof can write its profile),
   * then SIGKILL to the whole group.
   */
  async stop(graceMs = 0): Promise<void> {
    const child = this.#started.child;
    if (graceMs > 0 && child.exitCode === null) {
      child.kill('SIGINT');
      await Promise.race([new Promise((r) => child.once('exit', r)), sleep(graceMs)]);
    }
    killGroup(child);
  }
}

// ---- the load fleet ------------------------------------------------------------------------------

/** Merged over every load process. */
export interface WindowSummary {
  readonly seconds: number;
  readonly delivered: number;
  readonly expected: number;
  readonly deliveredPerS: number;
  readonly hist: Histogram;
  /** Server CPU over the window, µs, and as a percentage of one core. */
  readonly serverCpuUs: number;
  readonly serverCpuPct: number;
  /** The load processes' CPU over the window as a percentage of one core (they share one). */
  readonly loadgenCpuPct: number;
  readonly loopP99Ms: number;
  readonly sendLagMs: number;
  /**
   * Of the server's and the load's main threads: time runnable but not running (another process, or
   * the kernel's interrupt work, had the core), % of the window.
   */
  readonly serverWaitPct: number;
  readonly loadgenWaitPct: number;
  /** How each core spent the window (/proc/stat), as text: the kernel's share shows here. */
  readonly cores: string;
  readonly crashLog: Array<[number, number]>;
  readonly crashes: number;
  readonly probesPending: number;
}

export interface FleetOptions {
  readonly port: number;
  /** A cluster's processes, one port each: connection g goes to `ports[g % ports.length]`. */
  readonly ports?: readonly number[];
  /** Handshakes each load process keeps in flight. Default 250. */
  readonly connectConcurrency?: number;
  /** How long a handshake may take. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Global index of the first connection; lets a second fleet add connections to a server. */
  readonly first?: number;
  readonly connections: number;
  /** Connections over every fleet on this server (DM targets). Default first + connections. */
  readonly total?: number;
  /** Members per room (connections are a multiple of it). Default ROOM_SIZE. */
  readonly roomSize?: number;
  /** False: room messages only. Default: room messages and DMs alternate. */
  readonly dms?: boolean;
  readonly label: string;
}

/** Where a window started. */
export interface WindowMark {
  readonly server: Measured;
  readonly cpu0: number;
  readonly lg0: number;
  readonly wait0: number;
  readonly lgWait0: number;
  readonly cores0: readonly [CoreTimes | undefined, CoreTimes | undefined];
  readonly t0: number;
}

interface Worker {
  readonly started: Started;
  readonly rpc: Rpc;
  delivered: number;
}

/** Load processes pinned to the load CPU, each holding whole rooms. */
export class Fleet {
  readonly #workers: Worker[];
  readonly #ctx: RunContext;
  readonly label: string;
  readonly connections: number;

  private constructor(workers: Worker[], ctx: RunContext, label: string, connections: number) {
    this.#workers = workers;
    this.#ctx = ctx;
    this.label = label;
    this.connections = connections;
  }

  static start(ctx: RunContext, o: FleetOptions): Fleet {
    const first = o.first ?? 0;
    const roomSize = o.roomSize ?? ROOM_SIZE;
    const rooms = Math.ceil(o.connections / roomSize);
    const procs = Math.ceil(o.connections / MAX_CONNS_PER_LOADGEN);
    const workers: Worker[] = [];
    let room = 0;
    try {
      for (let p = 0; p < procs; p++) {
        // Whole rooms per process, spread evenly.
        const myRooms = Math.floor(rooms / procs) + (p < rooms % procs ? 1 : 0);
        const plan: LoadPlan = {
          port: o.port,
          ...(o.ports === undefined ? {} : { ports: o.ports }),
          ...(o.connectConcurrency === undefined ? {} : { connectConcurrency: o.connectConcurrency }),
          ...(o.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: o.handshakeTimeoutMs }),
          encoding: ctx.encoding,
          first: first + room * roomSize,
          count: myRooms * roomSize,
          roomSize,
          ...(o.dms === false ? { dms: false } : {}),
          total: o.total ?? first + rooms * roomSize,
          payloadBytes: PAYLOAD_BYTES,
        };
        room += myRooms;
        const started = startChild({
          cpu: ctx.pin ? LOAD_CPU : undefined,
          nodeFlags: ctx.loadFlags,
          script: here('./loadgen.ts'),
          args: [`--plan=${JSON.stringify(plan)}`],
          what: `load generator ${p}`,
        });
        const w: Worker = { started, rpc: undefined as unknown as Rpc, delivered: 0 };
        (w as { rpc: Rpc }).rpc = new Rpc(started.child, `load generator ${p}`, (ev) => {
          if (ev.ev === 'progress') w.delivered = ev.delivered as number;
        });
        workers.push(w);
      }
    } catch (e) {
      for (const w of workers) killGroup(w.started.child);
      throw e;
    }
    return new Fleet(workers, ctx, o.label, rooms * roomSize);
  }

  #all<T>(request: { cmd: string } & Record<string, unknown>, timeoutMs: number): Promise<T[]> {
    return Promise.all(this.#workers.map((w) => w.rpc.call<T>(request, timeoutMs)));
  }

  /** Connects and joins every connection; throws if any failed (a run with connect failures is void). */
  async connect(timeoutMs = 60_000): Promise<{ ms: number }> {
    const t0 = performance.now();
    const tick = setInterval(() => this.#ctx.progress.update(`${this.label}: connecting ${this.connections}`), 1000);
    let results: ConnectResult[];
    try {
      results = await this.#all<ConnectResult>({ cmd: 'connect', timeoutMs }, timeoutMs + 10_000);
    } finally {
      clearInterval(tick);
    }
    const failed = results.reduce((n, r) => n + r.failed, 0);
    if (failed > 0) {
      const why = results.find((r) => r.firstError !== undefined)?.firstError;
      throw new Error(`${this.label}: ${failed} of ${this.connections} connections failed (first: ${why})`);
    }
    return { ms: performance.now() - t0 };
  }

  async rate(perConn: number): Promise<void> {
    await this.#all({ cmd: 'rate', perConn }, 10_000);
  }

  async faults(perSecond: number): Promise<void> {
    await this.#all({ cmd: 'faults', perSecond }, 10_000);
  }

  /** Every load process times the rooms' first deliveries sent after `atNs` (a kill). */
  async mark(atNs: number): Promise<void> {
    await this.#all({ cmd: 'mark', atNs }, 10_000);
  }

  /** After a failover: per-room recovery times (ms), acked messages lost, drops by port. */
  async failover(): Promise<{ recovery: number[]; ackedLost: number; dropped: Record<string, number> }> {
    const parts = await this.#all<{ recovery: number[]; ackedLost: number; dropped: Record<string, number> }>(
      { cmd: 'failover' },
      30_000,
    );
    const dropped: Record<string, number> = {};
    for (const p of parts) for (const [k, v] of Object.entries(p.dropped)) dropped[k] = (dropped[k] ?? 0) + v;
    return {
      recovery: parts.flatMap((p) => p.recovery),
      ackedLost: parts.reduce((n, p) => n + p.ackedLost, 0),
      dropped,
    };
  }

  async tally(): Promise<Tally> {
    const all = await this.#all<Tally>({ cmd: 'tally' }, 30_000);
    return all.reduce(addTally, emptyTally());
  }

  /** Deliveries so far, from the progress events (at most a second old). */
  get delivered(): number {
    return this.#workers.reduce((n, w) => n + w.delivered, 0);
  }

  cpuUs(): number {
    return this.#workers.reduce((n, w) => n + cpuTimeUs(w.started.pid), 0);
  }

  waitUs(): number {
    return this.#workers.reduce((n, w) => n + runQueueWaitUs(w.started.pid), 0);
  }

  /** Starts a measured window: server CPU and the load's own CPU are read from /proc at both ends. */
  async beginWindow(server: Measured): Promise<WindowMark> {
    const mark = {
      server,
      cpu0: server.cpuUs(),
      lg0: this.cpuUs(),
      wait0: server.waitUs(),
      lgWait0: this.waitUs(),
      cores0: [coreTimes(SERVER_CPU), coreTimes(LOAD_CPU)] as const,
      t0: performance.now(),
    };
    await this.#all({ cmd: 'window-start' }, 10_000);
    return mark;
  }

  async endWindow(mark: WindowMark): Promise<WindowSummary> {
    const parts = await this.#all<WindowStats>({ cmd: 'window-end' }, 30_000);
    const wall = (performance.now() - mark.t0) / 1000;
    const cpu1 = mark.server.cpuUs();
    const lg1 = this.cpuUs();
    const wait1 = mark.server.waitUs();
    const lgWait1 = this.waitUs();
    const cores = `CPU ${SERVER_CPU} (server) ${describeCore(mark.cores0[0], coreTimes(SERVER_CPU))}; CPU ${LOAD_CPU} (load) ${describeCore(mark.cores0[1], coreTimes(LOAD_CPU))}`;
    const hist = new Histogram();
    for (const p of parts) hist.addSparse(p.hist, p.histMax);
    const ms = Math.max(...parts.map((p) => p.ms));
    const delivered = parts.reduce((n, p) => n + p.delivered, 0);
    const serverCpuUs = cpu1 - mark.cpu0;
    return {
      seconds: ms / 1000,
      delivered,
      expected: parts.reduce((n, p) => n + p.expected, 0),
      deliveredPerS: delivered / (ms / 1000),
      hist,
      serverCpuUs,
      serverCpuPct: (serverCpuUs / (wall * 1e6)) * 100,
      loadgenCpuPct: ((lg1 - mark.lg0) / (wall * 1e6)) * 100,
      loopP99Ms: Math.max(...parts.map((p) => p.loopP99Ms)),
      sendLagMs: Math.max(...parts.map((p) => p.sendLagMs)),
      serverWaitPct: ((wait1 - mark.wait0) / (wall * 1e6)) * 100,
      loadgenWaitPct: ((lgWait1 - mark.lgWait0) / (wall * 1e6)) * 100,
      cores,
      crashLog: parts.flatMap((p) => p.crashLog),
      crashes: parts.reduce((n, p) => n + p.crashes, 0),
      probesPending: parts.reduce((n, p) => n + p.probesPending, 0),
    };
  }

  /** One measured window of `seconds`, with live progress. */
  async window(server: Measured, seconds: number, label: string): Promise<WindowSummary> {
    const mark = await this.beginWindow(server);
    await this.watch(seconds, label);
    return this.endWindow(mark);
  }

  /** Waits `seconds`, showing elapsed time and live deliveries per second. */
  async watch(seconds: number, label: string): Promise<void> {
    const t0 = performance.now();
    let prev = this.delivered;
    let prevAt = t0;
    let rate = 0;
    while (performance.now() - t0 < seconds * 1000) {
      await sleep(Math.min(1000, seconds * 1000 - (performance.now() - t0)));
      const now = performance.now();
      const d = this.delivered;
      if (d !== prev) {
        rate = ((d - prev) / (now - prevAt)) * 1000;
        prev = d;
        prevAt = now;
      }
      this.#ctx.progress.update(
        `${label}: ${((now - t0) / 1000).toFixed(0)}/${seconds} s, ${Math.round(rate).toLocaleString('en-US')} delivered/s`,
      );
    }
  }

  /**
   * After the load stopped: waits until every expected delivery arrived and every send was
   * answered, or nothing arrived for `quietMs`, or `maxMs` passed. Returns the tally.
   */
  async drain(maxMs: number, quietMs = 2_000): Promise<Tally> {
    return Fleet.drainAll([this], maxMs, quietMs);
  }

  /**
   * `drain` over several fleets of one server (or cluster) at once, and their tallies added up:
   * until every expected delivery arrived and every send was answered, nothing more came for
   * `quietMs`, or `maxMs` passed.
   * Fleets must be drained together when DMs cross them: a DM is expected by its sender's fleet
   * and delivered to the recipient's, so one fleet alone can look settled (DMs from the others
   * made up for what it still waits for) while a room message to it is still on its way; a tally
   * taken then would count that delivery as lost.
   */
  static async drainAll(fleets: readonly Fleet[], maxMs: number, quietMs = 2_000): Promise<Tally> {
    const t0 = performance.now();
    let last = -1;
    let lastChange = t0;
    for (;;) {
      let t = emptyTally();
      for (const f of fleets) t = addTally(t, await f.tally());
      const got = t.deliveredRoom + t.deliveredDm + t.shedDeliveries;
      // And every send answered: the last member can have a message before its sender has the ack.
      const answered = t.acks + t.shed + t.unavailable;
      const now = performance.now();
      if ((got >= t.expected && answered >= t.sentRoom + t.sentDm) || now - t0 > maxMs) return t;
      if (got + answered !== last) {
        last = got + answered;
        lastChange = now;
      } else if (now - lastChange > quietMs) return t;
      const first = fleets[0];
      if (first !== undefined) {
        first.#ctx.progress.update(`${first.label}: draining, ${(t.expected - got).toLocaleString('en-US')} in flight`);
      }
      await sleep(200);
    }
  }

  /** Closes every connection and stops every load process. */
  async close(): Promise<void> {
    await Promise.allSettled(this.#workers.map((w) => w.rpc.call({ cmd: 'close' }, 2_000)));
    // They exit by themselves once their close frames are out (and a --cpu-prof profile written).
    await Promise.race([
      Promise.all(
        this.#workers.map((w) =>
          w.started.child.exitCode !== null ? undefined : new Promise((r) => w.started.child.once('exit', r)),
        ),
      ),
      sleep(2_000),
    ]);
    for (const w of this.#workers) killGroup(w.started.child);
  }

  /** Kills the load processes at once (error paths). */
  kill(): void {
    for (const w of this.#workers) killGroup(w.started.child);
  }
}

/** Runs `body` with a server, and stops the server whatever happens. */
export async function withServer<T>(
  kind: Competitor,
  ctx: RunContext,
  o: ServerOptions,
  body: (s: ServerProc) => Promise<T>,
): Promise<T> {
  const server = await ServerProc.start(kind, ctx, o);
  try {
    return await body(server);
  } catch (e) {
    const tail = server.stderrTail();
    if (tail !== '' && e instanceof Error) e.message += `\n${kind} server stderr (last lines):\n${tail}`;
    throw e;
  } finally {
    // A profile or a snapshot is written as the process exits: give it time.
    const writesOnExit = ctx.serverFlags.some((f) => f.startsWith('--cpu-prof') || f.startsWith('--heapsnapshot'));
    await server.stop(writesOnExit ? 5_000 : 0);
  }
}

/** Runs `body` with a fleet, and stops the fleet whatever happens. */
export async function withFleet<T>(ctx: RunContext, o: FleetOptions, body: (f: Fleet) => Promise<T>): Promise<T> {
  const fleet = Fleet.start(ctx, o);
  try {
    return await body(fleet);
  } finally {
    await fleet.close();
  }
}

/** Latency figures from a window's histogram, in ms. */
export function latencies(h: Histogram): { p50: number; p99: number; p999: number } {
  return { p50: h.quantile(0.5) / 1000, p99: h.quantile(0.99) / 1000, p999: h.quantile(0.999) / 1000 };
}
