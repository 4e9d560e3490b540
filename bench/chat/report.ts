/**
 * `pnpm bench:chat --report DIR`: one self-contained HTML page (`DIR/report.html`, no script, no
 * external file) that shows the cost of the actor model at a glance: latency percentiles against
 * offered load for Troupe and raw uWS (the saturation ramp), memory per 10k idle connections, CPU per
 * delivery, the distribution of recovery times, and every figure of the run in a table, with the
 * machine and the commit named. The charts are inline SVG drawn here; a chart whose scenario did not
 * run says so instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One step of the saturation ramp. */
export interface RampStep {
  /** Deliveries per second the step's sends asked for. */
  readonly offered: number;
  readonly delivered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

/** A figure as the run's table has it. */
export interface ReportFigure {
  readonly name: string;
  readonly unit: string;
  readonly decimals: number;
  readonly value: number | undefined;
  readonly baseline: number | undefined;
  readonly ratio: number | undefined;
  readonly target: string;
  readonly met: string;
}

export interface ReportInput {
  /** The machine, as the run's header line says it. */
  readonly machine: string;
  readonly commit: string;
  readonly date: string;
  readonly figures: readonly ReportFigure[];
  readonly ramp: { readonly troupe?: readonly RampStep[]; readonly baseline?: readonly RampStep[] };
  /** Recovery samples, ms: inside the server, and end to end. */
  readonly recovery: { readonly inproc?: readonly number[]; readonly endToEnd?: readonly number[] };
}

const TROUPE = '#2563eb';
const BASELINE = '#9ca3af';
const W = 560;
const H = 300;
const M = { left: 64, right: 16, top: 16, bottom: 48 } as const;

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function num(x: number, decimals = 2): string {
  return x.toLocaleString('en-US', { maximumFractionDigits: decimals });
}

/** Round values for a log axis: 1, 2, 5 times powers of ten within [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  return out;
}

function linTicks(hi: number): number[] {
  const step = 10 ** Math.floor(Math.log10(hi / 4 || 1));
  const n = Math.ceil(hi / step);
  const k = n > 8 ? Math.ceil(n / 5) : 1;
  const out: number[] = [];
  for (let v = 0; v <= hi + 1e-9; v += step * k) out.push(v);
  return out;
}

interface Line {
  readonly label: string;
  readonly color: string;
  readonly dashed?: boolean;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** A chart of lines on log-log or log-x axes. */
function lineChart(
  id: string,
  title: string,
  given: readonly Line[],
  axes: { x: string; y: string; logY: boolean },
): string {
  // Only finite values are drawn: a window with nothing delivered has an infinite cost per delivery.
  const lines = given.map((l) => ({
    ...l,
    points: l.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const pts = lines.flatMap((l) => l.points).filter(([x, y]) => x > 0 && (!axes.logY || y > 0));
  if (pts.length === 0) return missing(id, title);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs) / 1.2, Math.max(...xs) * 1.2];
  const [y0, y1] = axes.logY ? [Math.min(...ys) / 1.5, Math.max(...ys) * 1.5] : [0, Math.max(...ys) * 1.1 || 1];
  const px = (x: number) =>
    M.left + ((Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))) * (W - M.left - M.right);
  const py = (y: number) =>
    H -
    M.bottom -
    (axes.logY ? (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (y - y0) / (y1 - y0)) *
      (H - M.top - M.bottom);
  const grid: string[] = [];
  for (const t of logTicks(x0, x1)) {
    grid.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${M.top}" y2="${H - M.bottom}" class="grid"/>`,
      `<text x="${px(t)}" y="${H - M.bottom + 16}" text-anchor="middle">${num(t, 3)}</text>`,
    );
  }
  for (const t of axes.logY ? logTicks(y0, y1) : linTicks(y1)) {
    grid.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" class="grid"/>`,
      `<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${num(t, 3)}</text>`,
    );
  }
  const series = lines
    .filter((l) => l.points.length > 0)
    .map((l) => {
      const d = l.points
        .filter(([x, y]) => x > 0 && (!axes.logY || y > 0))
        .map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`)
        .join(' ');
      const dots = l.points
        .filter(([x, y]) => x > 0 && (!axes.logY || y > 0))
        .map(([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2.5" fill="${l.color}"/>`)
        .join('');
      return `<g class="series" data-series="${esc(l.label)}"><path d="${d}" fill="none" stroke="${l.color}" stroke-width="2"${
        l.dashed ? ' stroke-dasharray="6 4"' : ''
      }/>${dots}</g>`;
    });
  return figure(
    id,
    title,
    `${grid.join('')}${axisLabels(axes.x, axes.y)}${series.join('')}`,
    lines.filter((l) => l.points.length > 0),
  );
}

interface BarGroup {
  readonly label: string;
  readonly troupe: number | undefined;
  readonly baseline: number | undefined;
  readonly unit: string;
}

/** Pairs of bars (Troupe, baseline) per group, each group labelled with the ratio. */
function barChart(id: string, title: string, groups: readonly BarGroup[], yLabel: string): string {
  const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : undefined);
  const present = groups
    .map((g) => ({ ...g, troupe: finite(g.troupe), baseline: finite(g.baseline) }))
    .filter((g) => g.troupe !== undefined || g.baseline !== undefined);
  if (present.length === 0) return missing(id, title);
  const hi = Math.max(...present.flatMap((g) => [g.troupe ?? 0, g.baseline ?? 0])) * 1.15 || 1;
  const plotW = W - M.left - M.right;
  const slot = plotW / present.length;
  const bw = Math.min(48, slot / 3);
  const py = (y: number) => H - M.bottom - (y / hi) * (H - M.top - M.bottom);
  const parts: string[] = [];
  for (const t of linTicks(hi)) {
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" class="grid"/>`,
      `<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${num(t, 2)}</text>`,
    );
  }
  const bars: string[] = [];
  present.forEach((g, i) => {
    const cx = M.left + slot * (i + 0.5);
    const bar = (v: number | undefined, x: number, color: string, who: string) =>
      v === undefined
        ? ''
        : `<rect class="bar" data-series="${who}" x="${x.toFixed(1)}" y="${py(v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(
            H - M.bottom - py(v)
          ).toFixed(1)}" fill="${color}"><title>${esc(`${g.label}, ${who}: ${num(v)} ${g.unit}`)}</title></rect>` +
          `<text x="${(x + bw / 2).toFixed(1)}" y="${(py(v) - 4).toFixed(1)}" text-anchor="middle">${num(v, 1)}</text>`;
    bars.push(bar(g.troupe, cx - bw - 2, TROUPE, 'troupe'), bar(g.baseline, cx + 2, BASELINE, 'raw uWS'));
    const ratio = g.troupe !== undefined && g.baseline ? ` (${(g.troupe / g.baseline).toFixed(2)}x)` : '';
    parts.push(
      `<text x="${cx.toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(g.label)}${ratio}</text>`,
    );
  });
  return figure(id, title, `${parts.join('')}${axisLabels('', yLabel)}${bars.join('')}`, [
    { label: 'troupe', color: TROUPE },
    { label: 'raw uWS', color: BASELINE },
  ]);
}

function axisLabels(x: string, y: string): string {
  return (
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle" class="axis">${esc(x)}</text>` +
    `<text transform="translate(14 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle" class="axis">${esc(y)}</text>`
  );
}

function figure(
  id: string,
  title: string,
  body: string,
  legend: readonly Pick<Line, 'label' | 'color' | 'dashed'>[],
): string {
  const keys = legend
    .map(
      (l) =>
        `<span class="key"><svg width="22" height="10" aria-hidden="true"><line x1="0" y1="5" x2="22" y2="5" stroke="${l.color}" stroke-width="${
          l.dashed ? 2 : 6
        }"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/></svg>${esc(l.label)}</span>`,
    )
    .join('');
  return `<figure id="${id}"><figcaption>${esc(title)}</figcaption><svg class="chart" data-chart="${id}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img"><title>${esc(title)}</title>${body}</svg><div class="legend">${keys}</div></figure>`;
}

function missing(id: string, title: string): string {
  return `<figure id="${id}"><figcaption>${esc(title)}</figcaption><p class="missing">not measured in this run</p></figure>`;
}

/** Points of the empirical distribution: [value, share of samples at or below it]. */
function cdf(samples: readonly number[]): Array<[number, number]> {
  const s = [...samples].filter((x) => x > 0).sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(s.length / 200));
  const out: Array<[number, number]> = [];
  for (let i = 0; i < s.length; i += step) out.push([s[i] as number, ((i + 1) / s.length) * 100]);
  if (s.length > 0) out.push([s[s.length - 1] as number, 100]);
  return out;
}

function quantile(samples: readonly number[], q: number): number | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

function fmt(x: number | undefined, decimals: number): string {
  return x === undefined || Number.isNaN(x)
    ? '-'
    : x.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function renderReport(r: ReportInput): string {
  const fig = (name: string) => r.figures.find((f) => f.name === name);
  const pair = (name: string, label: string): BarGroup => {
    const f = fig(name);
    return { label, troupe: f?.value, baseline: f?.baseline, unit: f?.unit ?? '' };
  };
  const ramp = (steps: readonly RampStep[] | undefined, k: 'p50Ms' | 'p99Ms'): Array<[number, number]> =>
    (steps ?? []).map((s) => [s.offered, s[k]]);
  const charts = [
    lineChart(
      'ramp',
      'Latency against offered load (the saturation ramp): each step 2,000 connections at a higher rate',
      [
        { label: 'troupe p99', color: TROUPE, points: ramp(r.ramp.troupe, 'p99Ms') },
        { label: 'raw uWS p99', color: BASELINE, points: ramp(r.ramp.baseline, 'p99Ms') },
        { label: 'troupe p50', color: TROUPE, dashed: true, points: ramp(r.ramp.troupe, 'p50Ms') },
        { label: 'raw uWS p50', color: BASELINE, dashed: true, points: ramp(r.ramp.baseline, 'p50Ms') },
      ],
      { x: 'offered deliveries per second', y: 'one-way latency, ms', logY: true },
    ),
    barChart(
      'memory',
      'Memory per 10,000 idle joined connections',
      [
        pair('mb-per-10k', 'RSS at 10k'),
        pair('mb-per-10k-at-19k', 'RSS at 19k'),
        pair('heap-mb-per-10k', 'JS heap at 10k'),
      ],
      'MB per 10k connections',
    ),
    barChart(
      'cpu',
      'Server CPU per delivery',
      [
        pair('cpu-us-per-delivery', 'fixed load (rooms of 100 + DMs)'),
        pair('s4-cpu-us-per-delivery', 'rooms of 1,000'),
      ],
      'us per delivery',
    ),
    lineChart(
      'recovery',
      'Recovery: a crash to the next delivery through the crashed actor (Troupe; share of crashes at or under)',
      [
        { label: 'inside the server', color: TROUPE, points: cdf(r.recovery.inproc ?? []) },
        { label: 'end to end, at the client', color: TROUPE, dashed: true, points: cdf(r.recovery.endToEnd ?? []) },
      ],
      { x: 'ms', y: '% of crashes', logY: false },
    ),
  ];
  const inproc = r.recovery.inproc ?? [];
  const rows = r.figures
    .map(
      (f) =>
        `<tr><td>${esc(f.name)}</td><td>${esc(f.unit)}</td><td class="n">${fmt(f.value, f.decimals)}</td><td class="n">${fmt(
          f.baseline,
          f.decimals,
        )}</td><td class="n">${f.ratio === undefined || !Number.isFinite(f.ratio) ? '-' : f.ratio.toFixed(2)}</td><td>${esc(
          f.target,
        )}</td><td class="${f.met.startsWith('MISSED') ? 'missed' : 'met'}">${esc(f.met)}</td></tr>`,
    )
    .join('');
  const p99 = quantile(inproc, 0.99);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Troupe chat benchmark, ${esc(r.commit)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#111;padding:0 16px}
h1{font-size:20px;margin:0 0 4px}.meta{color:#555;margin:0 0 16px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(${W}px,1fr));gap:16px}
figure{margin:0;border:1px solid #e5e7eb;border-radius:6px;padding:8px}figcaption{font-weight:600;margin-bottom:4px}
svg.chart text{font-size:11px;fill:#374151}svg.chart .axis{font-size:12px;fill:#111}.grid{stroke:#eef0f3}
.legend{display:flex;gap:14px;flex-wrap:wrap;color:#374151;font-size:12px}.key svg{vertical-align:middle;margin-right:4px}
.missing{color:#888;font-style:italic}table{border-collapse:collapse;margin-top:20px;font-size:13px}
td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.missed{color:#b91c1c;font-weight:600}.met{color:#15803d}
</style></head><body>
<h1>Troupe chat benchmark: the actor model's cost against raw uWebSockets.js</h1>
<p class="meta">commit <code>${esc(r.commit)}</code>, ${esc(r.date)}; ${esc(r.machine)}. Troupe in blue, raw uWS (the same protocol on uWebSockets.js alone) in grey; both measured in this run on this machine.${
    p99 === undefined ? '' : ` Recovery inside the server: p99 ${num(p99)} ms over ${inproc.length} crashes.`
  }</p>
<div class="charts">${charts.join('\n')}</div>
<table><thead><tr><th>figure</th><th>unit</th><th>troupe</th><th>raw uWS</th><th>ratio</th><th>target</th><th></th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}

/** Writes `DIR/report.html`; returns its path. */
export function writeReport(dir: string, input: ReportInput): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'report.html');
  writeFileSync(path, renderReport(input));
  return path;
}
