// `daso report`: the HTML of the committed format-1 experiment runs and of synthetic format-2 runs (FixMatch and DASO,
// two seeds each; test/helpers/fake-run.ts) opened in headless Chromium from a file:// URL, with no console error and
// no request besides the file itself, and every chart's marks counted against the data they must be bound to; then
// bad input (no metrics.jsonl, a truncated last line, another class count, a missing folder): each named on stderr,
// the report still written for the rest, exit 1 when nothing could be read.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daso, tempDir } from './helpers/cli.js';
import { connectTestBrowser } from './helpers/harness.js';
import { writeFakeRun, type FakeRun } from './helpers/fake-run.js';
import { parseMetrics } from '../src/viz/index.js';

const V1 = ['daso-seed0', 'daso-seed1', 'daso-seed2', 'fixmatch-seed0', 'fixmatch-seed1', 'fixmatch-seed2']
  .map((s) => resolve(`bench/results/experiment-fashion-mnist-lt-runs/exp-${s}`));
const work = tempDir('daso-report-');
const fake: Record<string, FakeRun> = {};
let browser: Browser;

beforeAll(async () => {
  for (const algorithm of ['fixmatch', 'daso'] as const) {
    for (const seed of [0, 1]) fake[`${algorithm}-s${seed}`] = writeFakeRun(join(work, `${algorithm}-s${seed}`), { algorithm, seed });
  }
  browser = await connectTestBrowser();
});

afterAll(async () => {
  await browser?.disconnect();
  rmSync(work, { recursive: true, force: true });
});

/** Opens the report from its file:// URL; collects console errors, page errors and every request but the file's. */
async function openReport(file: string): Promise<{ page: Page; errors: string[]; requests: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [], requests: string[] = [];
  const url = pathToFileURL(file).href;
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}

const count = (page: Page, selector: string) => page.$$eval(selector, (els) => els.length);

function report(dirs: string[], out: string) {
  const r = daso(['report', ...dirs, '--out', out]);
  return { ...r, html: existsSync(out) ? readFileSync(out, 'utf8') : null };
}

describe('daso report', () => {
  it('format 2: FixMatch and DASO, two seeds each: every chart bound to its data, mean ± std rows', async () => {
    const names = Object.keys(fake);
    const out = join(work, 'v2.html');
    const r = report(names.map((n) => fake[n].dir), out);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('4 runs');
    // Self-contained: no script, no external reference.
    expect(r.html).not.toMatch(/<script|src="http|href="http|@import/);
    const { page, errors, requests } = await openReport(out);
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      const { K, n, evals, logs } = fake[names[0]];
      expect(await count(page, 'table.final tr.run')).toBe(4);
      expect(await count(page, 'table.final tr.mean')).toBe(2);
      expect(await page.$$eval('table.final tr.mean td', (tds) => tds.map((t) => t.textContent))).toContainEqual(expect.stringMatching(/^\d+\.\d ± \d+\.\d$/));
      expect(await count(page, 'table.runs tbody tr')).toBe(4);
      for (const name of names) {
        // Chart 4: K recall bars and K precision bars per run.
        expect(await count(page, `#chart-pseudo-labels g.daso-pl-bars [aria-label^="${name} recall c"]`)).toBe(K);
        expect(await count(page, `#chart-pseudo-labels g.daso-pl-bars [aria-label^="${name} precision c"]`)).toBe(K);
        // Chart 2: one dot per eval record and metric.
        expect(await count(page, `#chart-accuracy g.daso-accuracy-dots [aria-label^="${name} "]`)).toBe(3 * evals);
        // Chart 7: one dot per saved feature row.
        expect(await count(page, `.chart[data-run="${name}"] g.daso-embedding-dots circle`)).toBe(n);
      }
      // Chart 3: K cells per eval record per run; chart 6: K cells per log record of each DASO run only.
      expect(await count(page, '#chart-recall g.daso-recall-strip rect')).toBe(4 * evals * K);
      expect(await count(page, '#chart-blend g.daso-v-strip rect')).toBe(2 * logs * K);
      // Chart 1: one loss-parts line per part and run (4 x 4), one mask line per run.
      expect(await count(page, '#chart-loss g.daso-loss-lines path')).toBe(16);
      expect(await count(page, '#chart-loss g.daso-mask-line path')).toBe(4);
      // Chart 5: the truth, and one curve per run (m_hat for DASO, the PL histogram for FixMatch) with K dots each.
      expect(await count(page, '#chart-distribution g.daso-dist-true path')).toBe(1);
      expect(await count(page, '#chart-distribution g.daso-dist-lines path')).toBe(4);
      expect(await count(page, '#chart-distribution g.daso-dist-dots [aria-label^="daso-s0 m_hat"]')).toBe(K);
      expect(await count(page, '#chart-distribution g.daso-dist-dots [aria-label^="fixmatch-s0 PL histogram"]')).toBe(K);
      expect(await count(page, '[id^="missing-"]')).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('format 1: the six committed experiment runs give the charts they can and a note for the others', async () => {
    const out = join(work, 'v1.html');
    const r = report(V1, out);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const { page, errors, requests } = await openReport(out);
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      expect(await count(page, 'table.final tr.run')).toBe(6);
      expect(await count(page, 'table.final tr.mean')).toBe(2);
      const rows = await page.$$eval('table.final tr.run td', (tds) => tds.map((t) => t.textContent));
      // exp-daso-seed0's final.json: top-1 0.4058 on the full test set.
      expect(rows.slice(0, 3)).toEqual(['exp-daso-seed0', 'daso', '40.6']);
      for (const dir of V1) {
        const name = dir.split('/').at(-1)!;
        const { records } = parseMetrics(readFileSync(join(dir, 'metrics.jsonl'), 'utf8'));
        const pl = records.evals.at(-1)!.pseudo_label!;
        expect(await count(page, `#chart-pseudo-labels g.daso-pl-bars [aria-label^="${name} recall c"]`)).toBe(pl.recall.filter(Number.isFinite).length);
        expect(await count(page, `#chart-accuracy g.daso-accuracy-dots [aria-label^="${name} "]`)).toBe(3 * records.evals.length);
      }
      expect(await count(page, '#chart-recall g.daso-recall-strip rect')).toBe(6 * 6 * 10);
      for (const missing of ['loss', 'distribution', 'blend', 'embedding']) expect(await count(page, `#missing-${missing}`)).toBe(1);
      expect(await page.$eval('#missing-loss', (e) => e.textContent)).toMatch(/Format-1 runs .*exp-daso-seed0/);
    } finally {
      await page.close();
    }
  });

  it('bad input: each folder named with its problem, the report written for the rest; mixed formats', async () => {
    const noMetrics = join(work, 'no-metrics');
    mkdirSync(noMetrics);
    const truncated = writeFakeRun(join(work, 'truncated'), { algorithm: 'daso', seed: 5 }).dir;
    appendFileSync(join(truncated, 'metrics.jsonl'), '{"kind":"log","step":220,"loss":0.5,"loss_c');
    const k6 = writeFakeRun(join(work, 'k6'), { algorithm: 'fixmatch', seed: 0, K: 6 }).dir;
    const noConfig = writeFakeRun(join(work, 'no-config'), { algorithm: 'daso', seed: 6 }).dir;
    unlinkSync(join(noConfig, 'config.json'));
    const gone = join(work, 'does-not-exist');
    const out = join(work, 'bad.html');
    const r = report([fake['fixmatch-s0'].dir, noMetrics, truncated, k6, noConfig, gone, V1[0]], out);
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`${noMetrics}: no metrics.jsonl`);
    expect(r.stderr).toMatch(new RegExp(`${truncated}: metrics.jsonl line \\d+ is not JSON \\(a truncated last write\\?\\)`));
    expect(r.stderr).toContain(`${k6}: 6 classes, the first run has 10`);
    expect(r.stderr).toContain(`${gone}: not a folder`);
    expect(r.stderr).toContain(`${noConfig}: no config.json; algorithm and seed unknown`);
    const { page, errors, requests } = await openReport(out);
    try {
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
      // fixmatch-s0, truncated, k6, no-config and the format-1 run are reported; k6 only in the tables.
      expect(await count(page, 'table.final tr.run')).toBe(5);
      // Without config.json the algorithm comes from the start record, and the run still draws its charts.
      expect(await page.$$eval('table.runs tbody tr', (trs) => trs.map((t) => t.textContent))).toContainEqual(expect.stringMatching(/^no-config\?daso\?/));
      // The blend weights of the two DASO runs (truncated, no-config): K cells per log record each.
      expect(await count(page, '#chart-blend g.daso-v-strip rect')).toBe(2 * fake['daso-s0'].logs * 10);
      expect(await page.$$eval('p.note', (ps) => ps.map((p) => p.textContent).join('\n'))).toMatch(/k6 has 6 classes, the first run 10: it is in the table but left out of the charts/);
      expect(await count(page, '#chart-pseudo-labels g.daso-pl-bars [aria-label^="k6 "]')).toBe(0);
      expect(await count(page, '#chart-pseudo-labels g.daso-pl-bars [aria-label^="truncated recall c"]')).toBe(10);
      // The format-1 run draws what it has beside the format-2 runs, and is named under the charts it cannot join.
      expect(await count(page, '#chart-accuracy g.daso-accuracy-dots [aria-label^="exp-daso-seed0 "]')).toBe(18);
      expect(await count(page, '#chart-loss g.daso-loss-lines path')).toBe(12);
      expect(await page.$eval('#chart-loss + p.note', (e) => e.textContent)).toMatch(/Format-1 runs .*: exp-daso-seed0\./);
    } finally {
      await page.close();
    }
  });

  it('no readable run: exit 1, nothing written; no RUN_DIR or an unknown flag: exit 1 with the usage (as every command)', () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const out = join(work, 'none.html');
    const r = report([empty], out);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${empty}: no metrics.jsonl`);
    expect(r.stderr).toContain('no run could be read');
    expect(r.html).toBeNull();
    const u = daso(['report']);
    expect(u.status).toBe(1);
    expect(u.stderr).toContain('usage: daso report RUN_DIR');
    const f = daso(['report', empty, '--bogus']);
    expect(f.status).toBe(1);
    expect(f.stderr).toContain("unknown flag '--bogus'");
    expect(daso(['report', '--help']).stdout).toContain('usage: daso report RUN_DIR');
  });
});
