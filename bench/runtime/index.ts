/**
 * The runtime benchmark runner (`pnpm bench:runtime [--quick] [--json] [name...]`). It measures
 * every workload in `WORKLOADS` for Troupe and for the hand-written loop of `baseline.ts` in the
 * same invocation, each competitor in a child process of its own (`process.execPath` with
 * `--expose-gc`, pinned to CPU 0 with `taskset` when it exists), and reports the best of the
 * measured runs (`best` in harness.ts says why). It prints a table (figure, Troupe, baseline,
 * ratio, the target) and, with `--json`, one JSON object per figure per line on stdout in
 * the format bench/README.md describes, the table then going to stderr. A workload is one entry in `WORKLOADS`;
 * names on the command line select workloads by their name or by a figure's name. The same file is
 * the child: `--child NAME COMPETITOR` runs the warm-ups and measured runs of one competitor and
 * prints their samples as one JSON line.
 */
import { spawn, spawnSync } from 'node:child_process';
import { arch, cpus, platform, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { call } from './call.js';
import { events } from './events.js';
import { fanIn, fanOut } from './fan.js';
import { type AnyWorkload, best, type Competitor, nextTurn, type Sample } from './harness.js';
import { idleMemory, idleStateMemory } from './idle-memory.js';
import { pingPong } from './ping-pong.js';
import { registry } from './registry.js';
import { restart, restartBare } from './restart.js';
import { skynet } from './skynet.js';

/** Every runtime workload, in the order they run and print. Add a new one here. */
const WORKLOADS: readonly AnyWorkload[] = [
  skynet,
  pingPong,
  fanIn,
  fanOut,
  idleMemory,
  idleStateMemory,
  call,
  restart,
  restartBare,
  registry,
  events,
];

interface Options {
  readonly quick: boolean;
  readonly json: boolean;
  readonly pin: boolean;
  readonly warmup: number;
  readonly runs: number;
  readonly names: readonly string[];
}

const USAGE = `usage: pnpm bench:runtime [--quick] [--json] [--runs=N] [--warmup=N] [--no-pin] [--list] [name...]
  --quick     smaller sizes, fewer runs (within 60 s)
  --json      one JSON object per figure per line on stdout; the table goes to stderr
  --runs=N    measured runs per competitor (default 5; quick 3); the best is reported
  --warmup=N  unmeasured runs first, in the same process (default 2; quick 1)
  --no-pin    do not pin the child processes to CPU 0 with taskset
  --list      list the workloads and their figures
  name        a workload or figure name; default: all`;

function parseOptions(argv: readonly string[]): Options & { list: boolean } {
  let quick = false;
  let json = false;
  let pin = true;
  let list = false;
  let warmup: number | undefined;
  let runs: number | undefined;
  const names: string[] = [];
  for (const a of argv) {
    const eq = a.indexOf('=');
    const key = eq === -1 ? a : a.slice(0, eq);
    const value = eq === -1 ? undefined : Number(a.slice(eq + 1));
    if (key === '--quick') quick = true;
    else if (key === '--json') json = true;
    else if (key === '--no-pin') pin = false;
    else if (key === '--list') list = true;
    else if ((key === '--runs' || key === '--warmup') && value !== undefined && Number.isInteger(value)) {
      if (key === '--runs' && value >= 1) runs = value;
      else if (key === '--warmup' && value >= 0) warmup = value;
      else fail(`${a}: expected --runs=N with N >= 1 or --warmup=N with N >= 0`);
    } else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else names.push(a);
  }
  return { quick, json, pin, list, warmup: warmup ?? (quick ? 1 : 2), runs: runs ?? (quick ? 3 : 5), names };
}

function fail(message: string): never {
  console.error(`bench:runtime: ${message}\n${USAGE}`);
  process.exit(2);
}

function select(names: readonly string[]): AnyWorkload[] {
  if (names.length === 0) return [...WORKLOADS];
  for (const n of names) {
    if (!WORKLOADS.some((w) => w.name === n || w.figures.some((f) => f.name === n))) {
      const known = WORKLOADS.map((w) => `${w.name} (${w.figures.map((f) => f.name).join(', ')})`).join('; ');
      fail(`no workload or figure named ${JSON.stringify(n)}; known: ${known}`);
    }
  }
  return WORKLOADS.filter((w) => names.includes(w.name) || w.figures.some((f) => names.includes(f.name)));
}

// ---- child ---------------------------------------------------------------------------------------

async function child(name: string, competitor: Competitor, quick: boolean, warmup: number, runs: number) {
  const w = WORKLOADS.find((x) => x.name === name);
  const run = competitor === 'troupe' ? w?.troupe : w?.baseline;
  if (w === undefined || run === undefined) throw new Error(`child: no ${competitor} run for ${name}`);
  const params = quick ? w.params.quick : w.params.full;
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < warmup; i++) {
    await run(params);
    await nextTurn();
  }
  const samples: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    // Start each run on a clean heap, so the previous run's garbage is not collected on its time.
    gc?.();
    await nextTurn();
    samples.push(await run(params));
  }
  process.stdout.write(`${JSON.stringify({ samples })}\n`);
}

// ---- parent --------------------------------------------------------------------------------------

const ENTRY = fileURLToPath(import.meta.url);
const CHILD_TIMEOUT_MS = 300_000;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs one child process and returns its samples. */
function runChild(w: AnyWorkload, competitor: Competitor, o: Options, warmup: number, runs: number, pin: boolean) {
  const nodeArgs = [
    ...process.execArgv.filter((a) => a !== '--expose-gc'),
    '--expose-gc',
    ENTRY,
    '--child',
    w.name,
    competitor,
    `--warmup=${warmup}`,
    `--runs=${runs}`,
    ...(o.quick ? ['--quick'] : []),
  ];
  const [cmd, args] = pin ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  return new Promise<Sample[]>((resolve, reject) => {
    const p = spawn(cmd as string, args as string[], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      out += d;
    });
    // A child that hangs (a lost message never completes a workload) must not hang the suite.
    const guard = setTimeout(() => p.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(guard);
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"samples"'));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${w.name} (${competitor}) child exited with ${signal ?? code}:\n${out}`));
        return;
      }
      resolve((JSON.parse(line) as { samples: Sample[] }).samples);
    });
  });
}

async function measure(w: AnyWorkload, competitor: Competitor, o: Options, pin: boolean): Promise<Sample[]> {
  if (w.freshProcessPer !== 'run') return runChild(w, competitor, o, o.warmup, o.runs, pin);
  const samples: Sample[] = [];
  for (let i = 0; i < o.runs; i++) samples.push(...(await runChild(w, competitor, o, 0, 1, pin)));
  return samples;
}

interface Row {
  readonly name: string;
  readonly unit: string;
  readonly decimals: number;
  readonly value: number;
  readonly baseline: number | undefined;
  readonly ratio: number | undefined;
  readonly spread: number;
  readonly target: string;
  readonly met: boolean | undefined;
}

function round(x: number, decimals: number): number {
  const k = 10 ** decimals;
  return Math.round(x * k) / k;
}

function fmt(x: number | undefined, decimals: number): string {
  if (x === undefined) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function table(rows: readonly Row[]): string {
  const head = ['figure', 'unit', 'troupe', 'baseline', 'ratio', 'spread', 'target', ''];
  const body = rows.map((r) => [
    r.name,
    r.unit,
    fmt(r.value, r.decimals),
    fmt(r.baseline, r.decimals),
    r.ratio === undefined ? '-' : r.ratio.toFixed(2),
    `${(r.spread * 100).toFixed(1)}%`,
    r.target,
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((cells) => (cells[i] as string).length)));
  const right = new Set([2, 3, 4, 5]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

async function parent(o: Options): Promise<void> {
  const workloads = select(o.names);
  const pin = o.pin && hasTaskset();
  const out = o.json ? process.stderr : process.stdout;
  const started = performance.now();
  out.write(
    `troupe runtime benchmarks: node ${process.version}, ${platform()} ${arch()}, ${cpus().length} cores (${
      cpus()[0]?.model ?? '?'
    }), ${Math.round(totalmem() / 2 ** 30)} GiB; ${pin ? 'children pinned to CPU 0 (taskset -c 0)' : 'not pinned'}; ${
      o.quick ? 'quick sizes' : 'full sizes'
    }; best of ${o.runs} run(s) after ${o.warmup} warm-up(s) per process\n`,
  );
  const rows: Row[] = [];
  for (const w of workloads) {
    const t0 = performance.now();
    let base: Sample[] | undefined;
    let mine: Sample[];
    try {
      // The baseline first, then Troupe: the same order for every workload.
      base = w.baseline === undefined ? undefined : await measure(w, 'baseline', o, pin);
      mine = await measure(w, 'troupe', o, pin);
    } catch (e) {
      // One broken workload (say, a runtime mid-edit) costs its own figures, not the whole run.
      process.stderr.write(`  ${w.name}: FAILED, no figures: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
      continue;
    }
    out.write(`  ${w.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    for (const f of w.figures) {
      const pick = (samples: readonly Sample[]) =>
        best(
          samples.map((s) => s[f.name] as number),
          f.better,
        );
      const { best: value, spread } = pick(mine);
      const b = base === undefined ? undefined : pick(base).best;
      const ratio = b === undefined ? undefined : value / b;
      rows.push({
        name: f.name,
        unit: f.unit,
        decimals: f.decimals,
        value,
        baseline: b,
        ratio,
        spread,
        target: f.target?.text ?? '',
        met: f.target?.met(value, ratio),
      });
    }
  }
  out.write(`\n${table(rows)}\n\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  if (o.json) {
    for (const r of rows) {
      const line = {
        suite: 'runtime',
        name: r.name,
        value: round(r.value, r.decimals),
        unit: r.unit,
        baseline: r.baseline === undefined ? null : round(r.baseline, r.decimals),
        ratio: r.ratio === undefined ? null : round(r.ratio, 2),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
}

const argv = process.argv.slice(2);
const childAt = argv.indexOf('--child');
if (childAt !== -1) {
  const [name, competitor] = [argv[childAt + 1], argv[childAt + 2]];
  const o = parseOptions(argv.filter((_, i) => i < childAt || i > childAt + 2));
  if (name === undefined || (competitor !== 'troupe' && competitor !== 'baseline')) fail('--child NAME COMPETITOR');
  await child(name, competitor, o.quick, o.warmup, o.runs);
} else {
  const o = parseOptions(argv);
  if (o.list) {
    for (const w of WORKLOADS)
      console.log(`${w.name.padEnd(12)} ${w.about} [${w.figures.map((f) => f.name).join(', ')}]`);
  } else {
    await parent(o);
  }
}
