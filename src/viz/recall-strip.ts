// Chart 3: per-class test recall over steps as a heat strip per run: class on y (head at the top, tail at the
// bottom), step on x, one cell per class and evaluation spanning the steps since the previous evaluation.
// Why: a long-tail method earns its keep on the bottom rows; a strip shows when (and whether) tail classes start to
// be recognised, which a single balanced-accuracy number cannot.
import { heatStrip, type Chart } from './plot-common.js';
import { classLabels, type ChartOptions, type VizRun } from './records.js';

interface Row { run: string; cls: string; from: number; step: number; recall: number }

export function recallRows(runs: readonly VizRun[]): Row[] {
  const rows: Row[] = [];
  for (const r of runs) {
    let from = 0;
    for (const e of r.records.evals) {
      const labels = classLabels(e.test.recall.length);
      e.test.recall.forEach((v, k) => rows.push({ run: r.name, cls: labels[k], from, step: e.step, recall: v }));
      from = e.step;
    }
  }
  return rows;
}

/** Recall heat strips, one panel per run; K is the first run's class count. Null without eval records. */
export function recallStrip(runs: readonly VizRun[], o: ChartOptions = {}): Chart | null {
  const rows = recallRows(runs);
  if (!rows.length) return null;
  const K = runs.find((r) => r.records.evals.length)!.records.evals[0].test.recall.length;
  return heatStrip(o, rows, {
    K, legend: 'test recall', fill: 'recall', className: 'daso-recall-strip', ariaDescription: 'per-class test recall over steps',
    title: (d: Row) => `${d.run} ${d.cls} @${d.step}: recall ${Number.isFinite(d.recall) ? (100 * d.recall).toFixed(1) + '%' : 'n/a'}`,
  });
}
