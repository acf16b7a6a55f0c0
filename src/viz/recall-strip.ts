// Chart 3: per-class test recall over steps as a heat strip per run: class on y (head at the top, tail at the
// bottom), step on x, one cell per class and evaluation spanning the steps since the previous evaluation.
// Why: a long-tail method earns its keep on the bottom rows; a strip shows when (and whether) tail classes start to
// be recognised, which a single balanced-accuracy number cannot.
import * as Plot from '@observablehq/plot';
import { plot, unitHeat, type Chart } from './plot-common.js';
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
  const panels = new Set(rows.map((d) => d.run)).size;
  return plot(o, {
    height: 50 + panels * (Math.min(K, 40) * 9 + 30),
    marginLeft: 50,
    marginRight: 110,
    x: { label: 'step' },
    y: { label: 'class (head → tail)', domain: classLabels(K), tickSize: 0, ...(K > 20 ? { ticks: [] } : {}) },
    fy: { label: null },
    color: unitHeat('test recall'),
    marks: [
      Plot.barX(rows, {
        x1: 'from', x2: 'step', y: 'cls', fy: 'run', fill: 'recall', inset: 0,
        className: 'daso-recall-strip', ariaDescription: 'per-class test recall over steps',
        title: (d: Row) => `${d.run} ${d.cls} @${d.step}: recall ${Number.isFinite(d.recall) ? (100 * d.recall).toFixed(1) + '%' : 'n/a'}`,
      }),
    ],
  });
}
