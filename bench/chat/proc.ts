/**
 * Processes: starting a child pinned to a CPU (`taskset -c N`) with its open-files soft limit raised
 * to the hard limit (`ulimit -n`), in a process group of its own so that it and anything it starts
 * die with one `kill(-pgid)`; reading a process's CPU time (user + system, every thread, from
 * /proc/PID/stat), its main thread's run-queue wait (/proc/PID/schedstat: time other processes held
 * its core) and its resident set (/proc/PID/status); and a registry of every child started, which
 * the runner kills on the way out, on error and on SIGINT/SIGTERM.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The workspace root: children run there. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

export function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

const live = new Set<ChildProcess>();

/** Kills a child's whole process group, at once. Safe to call twice or on an exited child. */
export function killGroup(child: ChildProcess): void {
  live.delete(child);
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Kills every child still registered. */
export function killAll(): void {
  for (const c of [...live]) killGroup(c);
}

export interface StartOptions {
  /** The CPU to pin to; undefined runs unpinned. */
  readonly cpu: number | undefined;
  /** Node flags before the script (the loader flags are added). */
  readonly nodeFlags?: readonly string[];
  readonly script: string;
  readonly args: readonly string[];
  /** Keep the last lines of stderr for error messages. */
  readonly what: string;
}

export interface Started {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the first stdout line that parses as JSON with a `listening` port. */
  readonly listening: Promise<number>;
  /** The child's last stderr lines. */
  stderrTail(): string;
  /** The child's last warnings and errors logged on stdout (pino JSON lines, level >= 40). */
  warnings(): string[];
}

/**
 * Starts `node <loader flags> <nodeFlags> <script> <args>` through `sh -c 'ulimit -n <hard>; exec
 * taskset -c CPU node ...'`: the same PID all the way down, so /proc/PID is the node process.
 */
export function startChild(o: StartOptions): Started {
  const loader = process.execArgv.filter((a) => a !== '--expose-gc' && !a.startsWith('--cpu-prof'));
  const node = [process.execPath, ...loader, ...(o.nodeFlags ?? []), o.script, ...o.args];
  const cmd = o.cpu === undefined ? node : ['taskset', '-c', String(o.cpu), ...node];
  const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', ...cmd], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  const tail: string[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    // Always drained: a server logging crash reports must never block on a full pipe.
    for (const line of s.split('\n')) if (line !== '') tail.push(line);
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  });
  const warned: string[] = [];
  const listening = new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => {
      out += s;
      let nl = out.indexOf('\n');
      while (nl !== -1) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        try {
          const v = JSON.parse(line) as { listening?: unknown; level?: unknown };
          if (typeof v.listening === 'number') resolve(v.listening);
          if (typeof v.level === 'number' && v.level >= 40) {
            warned.push(line.slice(0, 300));
            if (warned.length > 20) warned.shift();
          }
        } catch {
          // Not ours.
        }
        nl = out.indexOf('\n');
      }
      if (out.length > 65536) out = '';
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`${o.what} exited (${signal ?? code}) before listening:\n${tail.join('\n')}`)),
    );
    child.on('error', reject);
  });
  listening.catch(() => {});
  if (child.pid === undefined) throw new Error(`${o.what}: could not spawn`);
  return { child, pid: child.pid, listening, stderrTail: () => tail.join('\n'), warnings: () => [...warned] };
}

/** CPU time (user + system, all threads) of a process in µs; NaN once it is gone. */
export function cpuTimeUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are space separated.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/**
 * Time a process's main thread spent runnable but waiting for a CPU, in µs (/proc/PID/schedstat,
 * second field): on a pinned process, the share of its core that other processes took. NaN once gone.
 */
export function runQueueWaitUs(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1000;
  } catch {
    return Number.NaN;
  }
}

/** Jiffies a CPU spent per state since boot (/proc/stat), or undefined if unreadable. */
export interface CoreTimes {
  readonly user: number;
  readonly system: number;
  readonly idle: number;
  readonly irq: number;
  readonly softirq: number;
  readonly total: number;
}

export function coreTimes(cpu: number): CoreTimes | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${cpu} `));
    if (line === undefined) return undefined;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number) as number[];
    return {
      user: (user ?? 0) + (nice ?? 0),
      system: system ?? 0,
      idle: (idle ?? 0) + (iowait ?? 0),
      irq: irq ?? 0,
      softirq: softirq ?? 0,
      total: [user, nice, system, idle, iowait, irq, softirq, steal].reduce((a: number, b) => a + (b ?? 0), 0),
    };
  } catch {
    return undefined;
  }
}

/** How a core spent a window, in % of it: `user 40 sys 20 softirq 15 idle 25`. */
export function describeCore(a: CoreTimes | undefined, b: CoreTimes | undefined): string {
  if (a === undefined || b === undefined || b.total <= a.total) return '?';
  const pct = (k: keyof CoreTimes) => (((b[k] - a[k]) / (b.total - a.total)) * 100).toFixed(0);
  return `user ${pct('user')}% sys ${pct('system')}% irq+softirq ${(
    ((b.irq - a.irq + (b.softirq - a.softirq)) / (b.total - a.total)) * 100
  ).toFixed(0)}% idle ${pct('idle')}%`;
}

/** Resident set size of a process in bytes; NaN once it is gone. */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) * 1024;
  } catch {
    return Number.NaN;
  }
}

/** Kills every child on SIGINT/SIGTERM/exit of the runner. Call once. */
export function killChildrenOnExit(): void {
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
