// `daso report RUN_DIR... [--out FILE]`: one self-contained HTML file comparing runs (no scripts, no network: inline
// CSS and inline SVG charts drawn in Node by src/viz on linkedom's DOM, so no browser is started). What it shows and
// why: README, "daso report". Bad input never stops the report: a run folder that cannot be read is named on stderr
// with its problem and left out; the report is written when at least one run could be read.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseHTML } from 'linkedom';
import { readSafetensors } from '../nn/safetensors.js';
import {
  accuracyChart, blendWeightChart, classThirds, distributionChart, embed2d, embeddingChart, lossChart, meanDefined,
  parseMetrics, pseudoLabelBars, recallStrip, recordClasses, type Chart, type EmbeddedPoint, type FeatureSet, type RunRecords, type VizRun,
} from '../viz/index.js';
import { writeAtomic } from './files.js';

/** The final numbers of a run: final.json's test metrics, else the last eval record's. */
interface FinalNumbers { step: number; top1: number; balanced: number; top1_la: number; recall: number[]; source: 'final.json' | 'last eval' }

export interface LoadedRun {
  dir: string;
  /** Display name: the folder's name (made unique within the report). */
  name: string;
  config: Record<string, unknown> | null;
  algorithm: string;
  seed: number | null;
  records: RunRecords;
  final: FinalNumbers | null;
  K: number;
  features: FeatureSet | null;
  /** Problems that did not stop the run from being reported (also printed). */
  warnings: string[];
}

const num = (x: unknown): number => (typeof x === 'number' ? x : NaN);
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'), function (this: unknown, _k, v: unknown) { return v === null && Array.isArray(this) ? NaN : v; });
}

/** Reads one run folder; throws an Error saying what is wrong when it cannot be reported at all. */
export function loadRun(dir: string): LoadedRun {
  const warnings: string[] = [];
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error('not a folder');
  const metricsPath = join(dir, 'metrics.jsonl');
  if (!existsSync(metricsPath)) throw new Error('no metrics.jsonl (not a run folder, or the run never evaluated)');
  const { records, problems } = parseMetrics(readFileSync(metricsPath, 'utf8'));
  for (const p of problems) warnings.push(`metrics.jsonl ${p}`);
  if (!records.evals.length && !records.logs.length) throw new Error('metrics.jsonl holds no readable record');
  let config: Record<string, unknown> | null = null;
  try {
    const c = readJson(join(dir, 'config.json'));
    if (!isObj(c)) throw new Error('not a JSON object');
    config = c;
  } catch (e) {
    warnings.push(existsSync(join(dir, 'config.json')) ? `config.json is unreadable (${(e as Error).message}); algorithm and seed unknown` : 'no config.json; algorithm and seed unknown');
  }
  const model = isObj(config?.model) ? config.model : {};
  const train = isObj(config?.train) ? config.train : {};
  const K = recordClasses(records) ?? (typeof model.num_classes === 'number' ? model.num_classes : 0);
  if (!K) throw new Error('no eval record and no class count: nothing to report');
  if (typeof model.num_classes === 'number' && model.num_classes !== K) warnings.push(`config.json says ${model.num_classes} classes, the records ${K}`);
  const algorithm = typeof config?.algorithm === 'string' ? config.algorithm : records.start?.algorithm ?? 'unknown';
  let final: FinalNumbers | null = null;
  if (existsSync(join(dir, 'final.json'))) {
    try {
      const f = readJson(join(dir, 'final.json')) as { final?: { step?: unknown; test?: Record<string, unknown> } };
      const t = f.final?.test;
      if (!isObj(t) || !Array.isArray(t.recall)) throw new Error('no final.test.recall');
      final = { step: num(f.final!.step), top1: num(t.top1), balanced: num(t.balanced), top1_la: num(t.top1_la), recall: t.recall as number[], source: 'final.json' };
    } catch (e) {
      warnings.push(`final.json is unreadable (${(e as Error).message}); using the last eval record`);
    }
  }
  const last = records.evals.at(-1);
  if (!final && last) final = { step: last.step, top1: num(last.test.top1), balanced: num(last.test.balanced), top1_la: num(last.test.top1_la), recall: last.test.recall, source: 'last eval' };
  return {
    dir, name: basename(resolve(dir)), config, algorithm, seed: typeof train.seed === 'number' ? train.seed : null,
    records, final, K, features: loadFeatures(dir, records, warnings), warnings,
  };
}

/** The features file of the last evaluation that saved one, or null (with a warning when it is unreadable). */
function loadFeatures(dir: string, records: RunRecords, warnings: string[]): FeatureSet | null {
  const e = [...records.evals].reverse().find((x) => typeof x.features === 'string');
  if (!e) return null;
  const path = join(dir, e.features!);
  try {
    const { tensors: t } = readSafetensors(new Uint8Array(readFileSync(path)), e.features!);
    const f = t.features, labels = t.labels;
    if (!f || f.dtype !== 'F32' || f.shape.length !== 2) throw new Error("no F32 [n, D] tensor 'features'");
    if (!labels || labels.shape[0] !== f.shape[0]) throw new Error("no 'labels' tensor of n entries");
    const pred = t.pred?.shape[0] === f.shape[0] ? t.pred.data : undefined;
    const ints = (d: ArrayLike<number | bigint>) => Array.from(d as ArrayLike<number>, Number);
    return { features: f.data as Float32Array, n: f.shape[0], d: f.shape[1], labels: ints(labels.data), pred: pred && ints(pred) };
  } catch (e2) {
    warnings.push(`features file ${e.features} is unreadable (${(e2 as Error).message}); no embedding`);
    return null;
  }
}

// ---- the table ----------------------------------------------------------------------------------------------------

interface TableRow { label: string; algorithm: string; values: number[][]; mean: boolean }

const TABLE_COLUMNS = ['test top-1', 'balanced', 'top-1 (test-time LA)', 'head recall', 'medium recall', 'tail recall'];

function finalValues(r: LoadedRun): number[] {
  const f = r.final!;
  const th = classThirds(f.recall.length);
  const part = (ks: number[]) => meanDefined(ks.map((k) => f.recall[k]));
  return [f.top1, f.balanced, f.top1_la, part(th.head), part(th.medium), part(th.tail)].map((x) => 100 * x);
}

/** The config without name and seed, keys sorted: runs with the same key are seeds of one configuration. */
function groupKey(r: LoadedRun): string {
  if (!r.config) return `run:${r.dir}`;
  const c = structuredClone(r.config);
  delete c.name;
  if (isObj(c.train)) delete c.train.seed;
  const sorted = (x: unknown): unknown => (isObj(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sorted(x[k])])) : x);
  return JSON.stringify(sorted(c));
}

function tableRows(runs: LoadedRun[]): TableRow[] {
  const rows: TableRow[] = [];
  const groups = new Map<string, LoadedRun[]>();
  for (const r of runs.filter((x) => x.final)) groups.set(groupKey(r), [...(groups.get(groupKey(r)) ?? []), r]);
  for (const g of groups.values()) {
    for (const r of g) rows.push({ label: r.name, algorithm: r.algorithm, values: finalValues(r).map((v) => [v]), mean: false });
    if (g.length > 1) {
      const vs = g.map(finalValues);
      rows.push({ label: `mean ± std (${g.length} seeds)`, algorithm: g[0].algorithm, values: vs[0].map((_, j) => vs.map((v) => v[j])), mean: true });
    }
  }
  return rows;
}

function cell(xs: number[]): string {
  const ok = xs.filter(Number.isFinite);
  if (!ok.length) return 'n/a';
  const m = ok.reduce((a, b) => a + b, 0) / ok.length;
  if (xs.length === 1) return m.toFixed(1);
  const sd = Math.sqrt(ok.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, ok.length - 1));
  return `${m.toFixed(1)} ± ${sd.toFixed(1)}`;
}

// ---- the page -----------------------------------------------------------------------------------------------------

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#111;background:#fff}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .7em;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}tr.mean td{font-weight:600;background:#f6f6f6}
.caption{color:#333;max-width:60em}.note{color:#8a4b00;background:#fff6e5;padding:.3em .6em;border-radius:4px}
figure{margin:0}.chart{margin:.5em 0}`;

interface Section { id: string; title: string; caption: string; chart: Chart | null; missing: string }

/** The report HTML for loaded runs (the first run's class count decides which runs the shared charts draw). */
export function renderReport(runs: LoadedRun[], notes: string[], o: { width?: number } = {}): string {
  const { document } = parseHTML('<!doctype html><html><head></head><body></body></html>');
  const K = runs[0].K;
  const shared = runs.filter((r) => r.K === K);
  for (const r of runs) if (r.K !== K) notes.push(`${r.name} has ${r.K} classes, the first run ${K}: it is in the table but left out of the charts`);
  const viz: VizRun[] = shared.map((r) => ({ name: r.name, algorithm: r.algorithm, records: r.records }));
  const opts = { document: document as unknown as Document, width: o.width ?? 1000 };
  const v1 = shared.filter((r) => r.records.format === 1).map((r) => r.name);
  const v1Note = v1.length ? ` Format-1 runs (metrics before 2026-12-02: eval records only) have no log records: ${v1.join(', ')}.` : '';
  const sections: Section[] = [
    { id: 'loss', title: 'Loss parts and mask ratio', chart: lossChart(viz, opts),
      caption: 'Read loss_u together with the mask ratio (dashed): the unlabeled loss only counts confident images; loss_align appears when DASO’s warm-up ends.',
      missing: 'No run has log records.' + v1Note },
    { id: 'accuracy', title: 'Test accuracy over steps', chart: accuracyChart(viz, opts),
      caption: 'The gap between top-1 and top-1 with test-time logit adjustment is the bias towards head classes the model still has.',
      missing: 'No run has eval records.' },
    { id: 'recall', title: 'Per-class test recall over steps', chart: recallStrip(viz, opts),
      caption: 'Look at the bottom rows (tail classes): when, and whether, they light up is what a long-tail method is for.',
      missing: 'No run has eval records.' },
    { id: 'pseudo-labels', title: 'Pseudo-label recall and precision per class (last evaluation period)', chart: pseudoLabelBars(viz, opts),
      caption: 'FixMatch’s pseudo-labels keep high precision but low recall on tail classes (tail images get head labels); DASO should raise the tail recall. A missing bar: a class never pseudo-labelled (precision undefined).',
      missing: 'No run has pseudo-label statistics (supervised runs, or unlabeled labels unknown).' },
    { id: 'distribution', title: 'Pseudo-label class distribution vs the true unlabeled distribution', chart: distributionChart(viz, opts),
      caption: 'Curves above the black truth on head classes and below it on the tail are the pseudo-label bias; DASO blends by m_hat to counter it. Both over the last evaluation period: DASO\u2019s m_hat averaged over its log windows, FixMatch\u2019s pseudo-label histogram.',
      missing: 'No run has log windows with pseudo-label counts.' + v1Note },
    { id: 'blend', title: 'DASO blend weight v per class', chart: blendWeightChart(viz, opts),
      caption: 'v is 0 until the warm-up ends; then head classes the pseudo-labels over-count stay near 1 (linear pseudo-label) and tail classes lean on the semantic one.',
      missing: 'No DASO run with log records (v is logged by format-2 DASO runs only).' + v1Note },
  ];
  const embeddings: string[] = [];
  for (const r of shared) {
    if (!r.features) continue;
    const pts: EmbeddedPoint[] | null = embed2d(r.features, 0);
    if (pts) embeddings.push(`<div class="chart" data-run="${esc(r.name)}">${embeddingChart(pts, K, { ...opts, width: Math.min(opts.width, 640), title: `${r.name}: ${r.features.n} test images` }).outerHTML}</div>`);
  }
  const noFeatures = shared.filter((r) => !r.features).map((r) => r.name);
  const table = tableRows(runs);
  const parts: string[] = [];
  parts.push(`<h1>daso report: ${runs.length} run${runs.length > 1 ? 's' : ''}</h1>`);
  for (const n of notes) parts.push(`<p class="note">${esc(n)}</p>`);
  parts.push('<h2 id="runs">Runs</h2><table class="runs"><thead><tr><th>run</th><th>config name</th><th>algorithm</th><th>seed</th><th>steps</th><th>dataset</th><th>classes</th><th>metrics</th><th>folder</th></tr></thead><tbody>');
  for (const r of runs) {
    const data = isObj(r.config?.data) ? r.config.data : {};
    const steps = r.final?.step ?? r.records.evals.at(-1)?.step ?? r.records.logs.at(-1)?.step;
    parts.push(`<tr><td>${esc(r.name)}</td><td class="l">${esc(String(r.config?.name ?? '?'))}</td><td class="l">${esc(r.algorithm)}</td><td>${r.seed ?? '?'}</td>` +
      `<td>${steps ?? '?'}${typeof r.config?.max_iter === 'number' ? ` / ${r.config.max_iter}` : ''}</td><td class="l">${esc(String(data.dataset ?? '?'))}</td>` +
      `<td>${r.K}</td><td>format ${r.records.format}</td><td class="l">${esc(r.dir)}</td></tr>`);
  }
  parts.push('</tbody></table>');
  parts.push('<h2 id="final">Final test metrics (%)</h2><p class="caption">From final.json (full test set) when present, else the last evaluation. ' +
    'Head / medium / tail: mean recall of the first, middle and last third of the classes by index (the presets’ long-tail order). ' +
    'Mean ± std (sample) over runs whose configs differ only in name and seed.</p>');
  parts.push(`<table class="final"><thead><tr><th>run</th><th>algorithm</th>${TABLE_COLUMNS.map((c) => `<th>${c}</th>`).join('')}<th>source</th></tr></thead><tbody>`);
  for (const row of table) {
    const src = row.mean ? '' : runs.find((r) => r.name === row.label)!.final!.source;
    parts.push(`<tr class="${row.mean ? 'mean' : 'run'}"><td>${esc(row.label)}</td><td class="l">${esc(row.algorithm)}</td>${row.values.map((v) => `<td>${cell(v)}</td>`).join('')}<td class="l">${src}</td></tr>`);
  }
  parts.push('</tbody></table>');
  for (const s of sections) {
    parts.push(`<h2 id="${s.id}">${esc(s.title)}</h2><p class="caption">${esc(s.caption)}</p>`);
    parts.push(s.chart ? `<div class="chart" id="chart-${s.id}">${s.chart.outerHTML}</div>` : `<p class="note" id="missing-${s.id}">Not available: ${esc(s.missing)}</p>`);
    if (s.chart && v1.length && ['loss', 'distribution', 'blend'].includes(s.id)) parts.push(`<p class="note">${esc(v1Note.trim())}</p>`);
  }
  parts.push('<h2 id="embedding">UMAP of the penultimate features (last evaluation)</h2><p class="caption">Colour: true class; nearly hollow dots: misclassified. ' +
    'Tail classes that form their own cluster are what DASO’s semantic (prototype) pseudo-labels can recover; a tail class smeared into a head cluster is not.</p>');
  parts.push(embeddings.length ? embeddings.join('\n') : '<p class="note" id="missing-embedding">Not available: no run saved penultimate features.</p>');
  if (embeddings.length && noFeatures.length) parts.push(`<p class="note">No saved features: ${esc(noFeatures.join(', '))}.</p>`);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>daso report</title>\n` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">\n<style>${CSS}</style></head>\n<body>\n${parts.join('\n')}\n</body></html>\n`;
}

/** Loads each folder (problems to `err`), writes the report; returns the number of runs reported (0: nothing written). */
export function runReport(o: { dirs: string[]; out: string; err?: (line: string) => void }): { reported: number; out: string | null } {
  const err = o.err ?? ((l: string) => process.stderr.write(`${l}\n`));
  const runs: LoadedRun[] = [];
  const notes: string[] = [];
  for (const dir of o.dirs) {
    try {
      const r = loadRun(dir);
      for (const w of r.warnings) {
        err(`daso report: ${dir}: ${w}`);
        notes.push(`${dir}: ${w}`);
      }
      runs.push(r);
    } catch (e) {
      err(`daso report: ${dir}: ${(e as Error).message}; left out`);
      notes.push(`${dir}: ${(e as Error).message}; left out`);
    }
  }
  if (!runs.length) return { reported: 0, out: null };
  // Names must be unique: they key the colours and facets of every chart.
  const seen = new Map<string, number>();
  for (const r of runs) {
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    if (n > 1) r.name = `${r.name} (${n})`;
  }
  const K = runs[0].K;
  for (const r of runs) if (r.K !== K) err(`daso report: ${r.dir}: ${r.K} classes, the first run has ${K}; left out of the charts`);
  writeAtomic(o.out, renderReport(runs, notes));
  return { reported: runs.length, out: o.out };
}
