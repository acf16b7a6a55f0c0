// `daso bench-compare`: our kernels against @tensorflow/tfjs-backend-webgpu, side by side in one page of one headless
// Chromium (bench/compare/compare.html, dist/compare.js). Cases run one at a time; after each the JSON (and a .md
// with the table) is rewritten atomically, so a long run that is stopped keeps what it finished (a tfjs WRN-28-2
// step at batch 64 takes minutes on SwiftShader).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { launchChromium } from './browser.js';
import { writeAtomic } from './files.js';
import { matchesFilter } from '../harness/bench-table.js';
import { startServer } from './server.js';
import { COMPARE_NOTE, compareTable, completionSummary } from '../../bench/compare/table.js';
import type { CompareApi, CompareCase, CompareInfo, CompareRow } from '../../bench/compare/types.js';

export interface CompareOptions {
  filter?: string;
  reps: number;
  batch: number;
  /** Batches of the whole-step cases (empty: none). */
  stepBatches: number[];
  out: string;
  verbose: boolean;
}

/** '16,64' -> [16, 64]; 'none' or '' -> []. */
export function parseStepBatches(s: string): number[] {
  const t = s.trim();
  if (t === '' || t === 'none') return [];
  return t.split(',').map((x) => {
    const n = Number(x.trim());
    if (!Number.isInteger(n) || n < 1) throw new Error(`bench-compare: --step-batches wants integers >= 1 separated by commas, or 'none'; got '${s}'`);
    return n;
  });
}

/** The .md next to the JSON: same name with .md instead of .json. */
export function markdownPath(out: string): string {
  return out.endsWith('.json') ? `${out.slice(0, -5)}.md` : `${out}.md`;
}

function packageVersion(root: string, name: string): string | null {
  try {
    return (JSON.parse(readFileSync(resolve(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

async function openComparePage(page: Page, url: string): Promise<CompareInfo> {
  await page.goto(`${url}/bench/compare/compare.html`, { waitUntil: 'load' });
  const status = await page.evaluate(async () => {
    const w = window as unknown as { dasoCompareReady?: Promise<unknown> };
    if (!w.dasoCompareReady) return { ok: false, error: 'dist/compare.js did not load (run `npm run build`)' };
    try {
      return { ok: true, info: await w.dasoCompareReady };
    } catch (e) {
      return { ok: false, error: String((e as Error).message ?? e) };
    }
  });
  if (!status.ok) throw new Error(`compare page: ${status.error}`);
  return status.info as CompareInfo;
}

const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(2));

export async function runCompare(root: string, o: CompareOptions): Promise<CompareRow[]> {
  for (const [k, v] of [['reps', o.reps], ['batch', o.batch]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`bench-compare: --${k} must be an integer >= 1, got ${v}`);
  }
  const server = await startServer(root);
  const chromium = await launchChromium();
  const rows: CompareRow[] = [];
  try {
    const page = await chromium.browser.newPage();
    page.setDefaultTimeout(0);
    page.on('console', (m) => {
      const t = m.text();
      if (t.startsWith('bench-compare:') || o.verbose) process.stdout.write(`[page] ${t}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`[page error] ${String(e)}\n`));
    const info = await openComparePage(page, server.url);
    const versions = {
      '@tensorflow/tfjs-core': packageVersion(root, '@tensorflow/tfjs-core'),
      '@tensorflow/tfjs-backend-webgpu': packageVersion(root, '@tensorflow/tfjs-backend-webgpu'),
    };
    process.stdout.write(`ours: ${JSON.stringify(info.ours)}\ntfjs ${info.tfjsVersion} (${JSON.stringify(versions)}): backend ${info.tfjsBackend}, ` +
      `adapter ${JSON.stringify(info.tfjsAdapter)}, timestamp-query ${info.tfjsTimestampQuery}\n`);
    const all = (await page.evaluate(
      (batch, stepBatches) => (window as unknown as { dasoCompare: CompareApi }).dasoCompare.cases({ batch, stepBatches }),
      o.batch, o.stepBatches,
    )) as CompareCase[];
    const cases = all.filter((c) => matchesFilter(o.filter, `${c.op} ${c.shape}`));
    if (!cases.length) throw new Error(`bench-compare: no case matches --filter '${o.filter}' (cases: ${all.map((c) => `'${c.op} ${c.shape}'`).join(', ')})`);
    const save = () => {
      const meta = {
        date: new Date().toISOString(), adapter: info.ours, tfjs: { ...info, ours: undefined, versions },
        reps: o.reps, batch: o.batch, stepBatches: o.stepBatches, filter: o.filter ?? null, note: COMPARE_NOTE,
      };
      writeAtomic(o.out, JSON.stringify({ ...meta, rows }, null, 2));
      writeAtomic(markdownPath(o.out), `# bench-compare ${meta.date}\n\nours: ${JSON.stringify(info.ours)}\n\n` +
        `tfjs: ${JSON.stringify({ version: info.tfjsVersion, versions, backend: info.tfjsBackend, adapter: info.tfjsAdapter, timestampQuery: info.tfjsTimestampQuery })}\n\n` +
        `reps ${o.reps}, batch ${o.batch}, step batches ${o.stepBatches.join(',') || 'none'}${o.filter ? `, filter '${o.filter}'` : ''}\n\n${compareTable(rows)}\n\n${COMPARE_NOTE}\n\n${completionSummary(rows)}\n`);
    };
    for (const [i, c] of cases.entries()) {
      process.stdout.write(`[${i + 1}/${cases.length}] ${c.op} ${c.shape} (reps ${o.reps})...\n`);
      const row = (await page.evaluate(
        (cs, reps, verbose) => (window as unknown as { dasoCompare: CompareApi }).dasoCompare.run(cs, { reps, verbose }),
        c as never, o.reps, o.verbose,
      )) as CompareRow;
      rows.push(row);
      process.stdout.write(`  ours wall ${fmt(row.ours.wallMsMedian)} ms (GPU ${fmt(row.ours.gpuMsMedian)}), tfjs wall ${fmt(row.tfjs.wallMsMedian)} ms ` +
        `(GPU ${fmt(row.tfjs.gpuMsMedian)}), tfjs/ours ${fmt(row.ratio)}, max abs err ${row.maxAbsErr ?? '-'}: ${row.status}` +
        `${row.ours.error ? ` — ours: ${row.ours.error}` : ''}${row.tfjs.error ? ` — tfjs: ${row.tfjs.error}` : ''}\n`);
      if (row.status === 'mismatch') {
        process.stdout.write(`  WARNING: outputs differ beyond tolerance: ${row.checks.filter((k) => !k.ok).map((k) => `${k.name} err ${k.maxAbsErr} > ${k.tol}`).join('; ') || 'nothing was compared'}\n`);
      }
      save();
    }
    process.stdout.write(`\n${compareTable(rows)}\n\n${COMPARE_NOTE}\n${completionSummary(rows)}\nwrote ${o.out} and ${markdownPath(o.out)}\n`);
    const bad = rows.filter((r) => r.status === 'mismatch' || r.status === 'ours error');
    const tfjsErr = rows.filter((r) => r.status === 'tfjs error');
    if (tfjsErr.length) process.stdout.write(`${tfjsErr.length} case(s) failed in tfjs (see the table; not a failure of this command)\n`);
    if (bad.length) throw new Error(`bench-compare: ${bad.length} case(s) ${bad.map((r) => `'${r.op} ${r.shape}': ${r.status}`).join(', ')} (results written)`);
    return rows;
  } finally {
    await chromium.close();
    await server.close();
  }
}
