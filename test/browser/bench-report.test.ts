/**
 * `pnpm bench:chat --report DIR` (bench/chat/report.ts) in headless Chromium: the page written for a
 * run's figures and series opens from the file alone (no other request), and draws its charts:
 * the saturation ramp's four lines through every step, the memory and CPU bars with heights in
 * proportion to the figures, the recovery distributions; a chart whose scenario did not run says
 * so. The figures here are made up for the test; a real run's come from the benchmark.
 *
 * Needs Debian's Chromium at /usr/bin/chromium (skips itself without it, fails under CI=true).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type ReportFigure, type ReportInput, writeReport } from '../../bench/chat/report.js';
import { haveChromium, launch } from './chromium.js';

const figure = (name: string, unit: string, value: number, baseline?: number): ReportFigure => ({
  name,
  unit,
  decimals: 2,
  value,
  baseline,
  ratio: baseline === undefined ? undefined : value / baseline,
  target: name === 'mb-per-10k' ? '<= 1.25x baseline' : '',
  met: name === 'mb-per-10k' ? 'MISSED' : '',
});

const ramp = (scale: number) =>
  [50_000, 100_000, 200_000, 400_000, 800_000].map((offered, i) => ({
    offered,
    delivered: Math.min(offered, 450_000),
    p50Ms: scale * 1.2 * 2 ** i,
    p99Ms: scale * 4 * 3 ** i,
    p999Ms: scale * 8 * 3 ** i,
  }));

const INPUT: ReportInput = {
  machine: 'node v20, linux, 2 cores (test)',
  commit: 'abc1234',
  date: '2026-12-01 12:00',
  figures: [
    figure('mb-per-10k', 'MB', 40, 20),
    figure('mb-per-10k-at-19k', 'MB', 25, 15),
    figure('heap-mb-per-10k', 'MB', 15, 5),
    figure('cpu-us-per-delivery', 'us', 15, 13),
    figure('s4-cpu-us-per-delivery', 'us', 11, 11),
    figure('recovery-inproc-p99-ms', 'ms', 2.5),
  ],
  ramp: { troupe: ramp(1), baseline: ramp(0.8) },
  recovery: {
    inproc: Array.from({ length: 100 }, (_, i) => 0.2 + i * 0.02),
    endToEnd: Array.from({ length: 100 }, (_, i) => 1 + i * 0.05),
  },
};

describe('the benchmark report', () => {
  it('draws its charts from the run in one self-contained page', async (t) => {
    if (!haveChromium(t)) return;
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    const full = writeReport(join(dir, 'full'), INPUT);
    // A run of the saturation scenario alone: the other charts say they were not measured.
    const partial = writeReport(join(dir, 'partial'), { ...INPUT, figures: [], recovery: {} });
    t.diagnostic(`report: ${full}`);

    const browser = await launch(t);
    const page = await browser.newPage({ viewport: { width: 1240, height: 1000 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(pathToFileURL(full).href);
    assert.deepEqual(requests, [pathToFileURL(full).href], 'nothing but the file itself');
    assert.match(await page.title(), /abc1234/, 'the commit is named');
    assert.match(
      String(await page.locator('.meta').textContent()),
      /node v20, linux, 2 cores \(test\)/,
      'and the machine',
    );

    const charts = await page.locator('svg.chart').evaluateAll((svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        const series = [...svg.querySelectorAll('g.series')].map((g) => ({
          name: g.getAttribute('data-series'),
          length: (g.querySelector('path') as unknown as { getTotalLength(): number }).getTotalLength(),
          points: g.querySelectorAll('circle').length,
        }));
        const bars = [...svg.querySelectorAll('rect.bar')].map((r) => ({
          who: r.getAttribute('data-series'),
          height: (r as unknown as { getBBox(): { height: number } }).getBBox().height,
        }));
        return { id: svg.getAttribute('data-chart'), width: box.width, height: box.height, series, bars };
      }),
    );
    assert.deepEqual(
      charts.map((c) => c.id),
      ['ramp', 'memory', 'cpu', 'recovery'],
    );
    for (const c of charts) assert.ok(c.width > 300 && c.height > 200, `${c.id} is drawn (${c.width}x${c.height})`);

    const ramp = charts[0] as (typeof charts)[number];
    assert.deepEqual(
      ramp.series.map((s) => [s.name, s.points]),
      [
        ['troupe p99', 5],
        ['raw uWS p99', 5],
        ['troupe p50', 5],
        ['raw uWS p50', 5],
      ],
      'a line per competitor and percentile, through every step',
    );
    for (const s of ramp.series) assert.ok(s.length > 100, `${s.name} is a line across the chart (${s.length})`);

    const memory = (charts[1] as (typeof charts)[number]).bars;
    assert.equal(memory.length, 6, 'three figures, two bars each');
    const [rssTroupe, rssBase] = memory as unknown as [{ height: number }, { height: number }];
    assert.ok(Math.abs(rssTroupe.height / rssBase.height - 2) < 0.02, 'bar heights in proportion (40 MB vs 20)');
    assert.equal((charts[2] as (typeof charts)[number]).bars.length, 4);
    const recovery = (charts[3] as (typeof charts)[number]).series;
    assert.deepEqual(
      recovery.map((s) => s.name),
      ['inside the server', 'end to end, at the client'],
    );
    for (const s of recovery) assert.ok(s.length > 100 && s.points > 50, `${s.name}: a distribution`);
    assert.deepEqual(
      (await page.locator('tr').filter({ hasText: 'mb-per-10k' }).first().locator('td').allTextContents()).slice(0, 5),
      ['mb-per-10k', 'MB', '40.00', '20.00', '2.00'],
      'the table of figures',
    );
    assert.equal(await page.locator('td.missed').count(), 1);

    await page.goto(pathToFileURL(partial).href);
    assert.equal(await page.locator('svg.chart').count(), 1, 'only the ramp was measured');
    assert.equal(await page.locator('.missing').count(), 3);
    await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });
});
