/**
 * The chat benchmark runner (`pnpm bench:chat [--quick] [--json] [scenario or figure...]`). Each
 * scenario runs the baseline server (uWebSockets.js alone, baseline-server.ts) and then the Troupe
 * chat (troupe-server.ts) in the same invocation, each in a fresh process pinned to CPU 0, under the
 * same load generator processes pinned to CPU 1 (loadgen.ts). It prints a table of every figure with
 * Troupe's value, the baseline's, their ratio and the issue's target; a table of the load
 * generator's correctness checks per run; notes (bottlenecks, per-step detail); and one JSON line
 * per figure in the format bench/README.md describes. With `--json` the JSON lines alone go to stdout and the rest
 * to stderr. Progress goes to stderr while it runs. Every child is killed on the way out, whatever
 * happens (proc.ts).
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg, platform, totalmem } from 'node:os';
import { broadcast } from './broadcast.js';
import { capacity } from './capacity.js';
import { clusterFailover, clusterS2, connections } from './cluster.js';
import { fixedLoad } from './fixed-load.js';
import { idleMemory } from './idle-memory.js';
import { hasTaskset, killAll, killChildrenOnExit } from './proc.js';
import { recovery } from './recovery.js';
import { type RampStep, type ReportFigure, type ReportInput, writeReport } from './report.js';
import { type Competitor, Progress, type RunContext } from './runner.js';
import { saturation } from './saturation.js';
import { type Check, lostOf, type Outcome, type Scenario, violations } from './scenario.js';
import { soak } from './soak.js';

/** Every scenario, in the order they run and print. `onDemand` ones run only when named. */
const SCENARIOS: readonly Scenario[] = [
  idleMemory,
  fixedLoad,
  saturation,
  broadcast,
  capacity,
  recovery,
  soak,
  clusterS2,
  clusterFailover,
  connections,
];

interface Options {
  readonly quick: boolean;
  readonly json: boolean;
  readonly pin: boolean;
  readonly list: boolean;
  readonly msgpack: boolean;
  readonly soakMinutes: number;
  readonly cpuProf: string | undefined;
  readonly report: string | undefined;
  /** Node flags both servers run with (a production setting to measure), from --server-node-flags. */
  readonly serverNodeFlags: readonly string[];
  readonly names: readonly string[];
}

const USAGE = `usage: pnpm bench:chat [--quick] [--json] [--msgpack] [--no-pin] [--soak-minutes=N] [--cpu-prof=DIR] [--server-node-flags="..."] [--list] [name...]
  --quick           shorter windows, 4,000 idle connections (within 60 s)
  --json            JSON lines alone on stdout; tables, notes and progress on stderr
  --msgpack         the load speaks MessagePack (binary frames) instead of JSON
  --no-pin          do not pin (taskset -c 0 for servers, -c 1 for the load)
  --soak-minutes=N  length of the soak (default 10); the soak runs only when named
  --cpu-prof=DIR    servers and load generators run with --cpu-prof, profiles written to DIR
  --report=DIR      also write DIR/report.html: the run's charts and figures, one self-contained page
  --server-node-flags="F ..."  Node flags for both servers (the same for each: a production setting
                    to measure, e.g. "--max-semi-space-size=2"); the machine line names them
  --list            list the scenarios and their figures
  name              a scenario or figure name; default: every scenario but the soak`;

/** The checkout's commit, with `+changes` when the tree differs from it. */
function commitOf(): string {
  const git = (...args: string[]) => spawnSync('git', args, { encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no').stdout.trim() !== '';
  return `${head.stdout.trim()}${dirty ? '+changes' : ''}`;
}

function fail(message: string): never {
  console.error(`bench:chat: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(argv: readonly string[]): Options {
  let quick = false;
  let json = false;
  let pin = true;
  let list = false;
  let msgpack = false;
  let soakMinutes = 10;
  let cpuProf: string | undefined;
  let report: string | undefined;
  let serverNodeFlags: string[] = [];
  const names: string[] = [];
  for (const a of argv) {
    const eq = a.indexOf('=');
    const key = eq === -1 ? a : a.slice(0, eq);
    const value = eq === -1 ? undefined : a.slice(eq + 1);
    if (key === '--quick') quick = true;
    else if (key === '--json') json = true;
    else if (key === '--no-pin') pin = false;
    else if (key === '--list') list = true;
    else if (key === '--msgpack') msgpack = true;
    else if (key === '--soak-minutes' && value !== undefined && Number(value) > 0) soakMinutes = Number(value);
    else if (key === '--cpu-prof' && value !== undefined && value !== '') cpuProf = value;
    else if (key === '--report' && value !== undefined && value !== '') report = value;
    else if (key === '--server-node-flags' && value !== undefined) {
      serverNodeFlags = value.split(/\s+/).filter((f) => f !== '');
      if (serverNodeFlags.some((f) => !f.startsWith('--')))
        fail('--server-node-flags: Node flags, each starting with --');
    } else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else names.push(a);
  }
  return { quick, json, pin, list, msgpack, soakMinutes, cpuProf, report, serverNodeFlags, names };
}

function select(names: readonly string[]): Scenario[] {
  if (names.length === 0) return SCENARIOS.filter((s) => !s.onDemand);
  for (const n of names) {
    if (!SCENARIOS.some((s) => s.name === n || s.figures.some((f) => f.name === n))) {
      fail(`no scenario or figure named ${JSON.stringify(n)}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    }
  }
  return SCENARIOS.filter((s) => names.includes(s.name) || s.figures.some((f) => names.includes(f.name)));
}

// ---- output --------------------------------------------------------------------------------------

/** A row of the figures table: the report draws from the same rows. */
type Row = ReportFigure;

function fmt(x: number | undefined, decimals: number): string {
  if (x === undefined || Number.isNaN(x)) return '-';
  return x.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

function round(x: number, decimals: number): number {
  const k = 10 ** decimals;
  return Math.round(x * k) / k;
}

function grid(head: readonly string[], body: readonly string[][], right: ReadonlySet<number>): string {
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n');
}

function figureTable(rows: readonly Row[]): string {
  return grid(
    ['figure', 'unit', 'troupe', 'baseline', 'ratio', 'target', ''],
    rows.map((r) => [
      r.name,
      r.unit,
      fmt(r.value, r.decimals),
      fmt(r.baseline, r.decimals),
      r.ratio === undefined || !Number.isFinite(r.ratio) ? '-' : r.ratio.toFixed(2),
      r.target,
      r.met,
    ]),
    new Set([2, 3, 4]),
  );
}

function checkTable(checks: readonly Check[]): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return grid(
    [
      'run',
      'server',
      'conns',
      'expected',
      'delivered',
      'lost',
      'announced',
      'shed',
      'skipped',
      'dup',
      'reorder',
      'corrupt',
      'errors',
      'load CPU',
      'checks',
    ],
    checks.map((c) => {
      const t = c.tally;
      const bad = violations(t);
      return [
        c.scenario,
        c.competitor,
        n(c.connections),
        n(t.expected),
        n(t.deliveredRoom + t.deliveredDm),
        n(lostOf(t)),
        n(t.announcedLost),
        n(t.shed),
        n(t.skipped),
        n(t.duplicates),
        n(t.reordered),
        n(t.corrupt),
        n(t.errors),
        Number.isNaN(c.loadgenCpuPct) ? '-' : `${c.loadgenCpuPct.toFixed(0)}%`,
        bad.length === 0 ? 'ok' : 'FAILED',
      ];
    }),
    new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
  );
}

// ---- run -----------------------------------------------------------------------------------------

async function main(o: Options): Promise<void> {
  const scenarios = select(o.names);
  const pin = o.pin && hasTaskset() && cpus().length >= 2;
  const out = o.json ? process.stderr : process.stdout;
  const progress = new Progress();
  const ctx: RunContext = {
    quick: o.quick,
    pin,
    encoding: o.msgpack ? 'msgpack' : 'json',
    progress,
    soakMinutes: o.soakMinutes,
    serverFlags: [
      ...o.serverNodeFlags,
      ...(o.cpuProf === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`]),
    ],
    loadFlags: o.cpuProf === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`],
  };
  const started = performance.now();
  const machine = `node ${process.version}, ${platform()}, ${cpus().length} cores (${
    cpus()[0]?.model ?? '?'
  }), ${Math.round(totalmem() / 2 ** 30)} GiB, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}; ${pin ? 'servers pinned to CPU 0, load to CPU 1 (taskset)' : 'NOT pinned'}; ${
    o.quick ? 'quick' : 'full'
  } windows; load speaks ${ctx.encoding}${
    o.serverNodeFlags.length === 0 ? '' : `; both servers run with ${o.serverNodeFlags.join(' ')}`
  }`;
  out.write(`troupe chat benchmarks: ${machine}\n`);
  const series: {
    ramp: { troupe?: readonly RampStep[]; baseline?: readonly RampStep[] };
    recovery: ReportInput['recovery'];
  } = {
    ramp: {},
    recovery: {},
  };
  const rows: Row[] = [];
  const checks: Check[] = [];
  const notes: string[] = [];
  for (const s of scenarios) {
    const t0 = performance.now();
    const results = new Map<Competitor, Outcome>();
    try {
      // The baseline first, then Troupe: the same order in every scenario.
      for (const c of s.competitors) results.set(c, await s.run(c, ctx));
    } catch (e) {
      killAll();
      progress.line(`${s.name}: FAILED, no figures: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
      continue;
    }
    progress.line(`${s.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const mine = results.get('troupe');
    const base = results.get('baseline');
    for (const [c, r] of results) {
      checks.push(...r.checks);
      notes.push(...r.notes);
      if (r.series?.ramp !== undefined) series.ramp = { ...series.ramp, [c]: r.series.ramp };
      if (r.series?.recoveryInproc !== undefined) {
        series.recovery = { inproc: r.series.recoveryInproc, endToEnd: r.series.recoveryEndToEnd ?? [] };
      }
    }
    for (const f of s.figures) {
      const value = mine?.figures[f.name];
      const b = base?.figures[f.name];
      if (value === undefined && b === undefined) continue;
      const ratio = value !== undefined && b !== undefined && b !== 0 ? value / b : undefined;
      let met = '';
      if (f.target !== undefined && value !== undefined) met = f.target.met(value, ratio) ? 'met' : 'MISSED';
      if (f.name === 'saturation' && met === 'MISSED' && base?.loadgenBound === true && mine?.loadgenBound !== true) {
        // The baseline's figure is a lower bound, so the ratio is an underestimate of the shortfall.
        met = 'MISSED (baseline load-bound)';
      } else if (f.name === 'saturation' && base?.loadgenBound === true && mine?.loadgenBound === true) {
        met = `${met} (both load-bound)`;
      }
      rows.push({
        name: f.name,
        unit: f.unit,
        decimals: f.decimals,
        value,
        baseline: b,
        ratio,
        target: f.target?.text ?? '',
        met,
      });
    }
    if (s.name === 'saturation') {
      rows.push({
        name: 'saturation-loadgen-bound',
        unit: '0/1',
        decimals: 0,
        value: mine === undefined ? undefined : mine.loadgenBound ? 1 : 0,
        baseline: base === undefined ? undefined : base.loadgenBound ? 1 : 0,
        ratio: undefined,
        target: '',
        met: '',
      });
    }
  }
  progress.line(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
  out.write(`\n${figureTable(rows)}\n\nload generator checks (whole run, after drain):\n${checkTable(checks)}\n`);
  if (notes.length > 0) out.write(`\nnotes:\n${notes.map((n) => `  ${n}`).join('\n')}\n`);
  out.write('\n');
  if (o.report !== undefined) {
    const path = writeReport(o.report, {
      machine,
      commit: commitOf(),
      date: new Date().toISOString().slice(0, 16).replace('T', ' '),
      figures: rows,
      ...series,
    });
    out.write(`report: ${path}\n\n`);
  }
  for (const r of rows) {
    if (r.value === undefined || Number.isNaN(r.value)) continue;
    const line = {
      suite: 'chat',
      name: r.name,
      value: round(r.value, r.decimals),
      unit: r.unit,
      baseline: r.baseline === undefined || Number.isNaN(r.baseline) ? null : round(r.baseline, r.decimals),
      ratio: r.ratio === undefined || !Number.isFinite(r.ratio) ? null : round(r.ratio, 2),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
}

const o = parseOptions(process.argv.slice(2));
if (o.list) {
  for (const s of SCENARIOS) {
    console.log(
      `${s.name.padEnd(12)} ${s.about}${s.onDemand ? ' [on demand]' : ''} [${s.figures.map((f) => f.name).join(', ')}]`,
    );
  }
} else {
  killChildrenOnExit();
  try {
    await main(o);
  } finally {
    killAll();
  }
  // Children are gone; do not wait for stray handles.
  process.exit(process.exitCode ?? 0);
}
