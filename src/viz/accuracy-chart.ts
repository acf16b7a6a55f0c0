// Chart 2: test top-1, balanced accuracy and top-1 with test-time logit adjustment over steps, one line per run.
// Why: on a long-tailed test set top-1 hides the tail; balanced accuracy (mean per-class recall) does not, and the
// gap between top-1 and its logit-adjusted variant is the model's remaining bias towards the head classes. Format-1
// eval records carry all three, so every run gives this chart.
import * as Plot from '@observablehq/plot';
import { plot, runColor, type Chart } from './plot-common.js';
import type { ChartOptions, VizRun } from './records.js';

export const ACCURACY_METRICS = [['top1', 'top-1'], ['balanced', 'balanced'], ['top1_la', 'top-1 (test-time LA)']] as const;

interface Row { run: string; step: number; metric: string; value: number }

export function accuracyRows(runs: readonly VizRun[]): Row[] {
  const rows: Row[] = [];
  for (const r of runs) {
    for (const e of r.records.evals) {
      for (const [key, label] of ACCURACY_METRICS) {
        const v = e.test[key];
        rows.push({ run: r.name, step: e.step, metric: label, value: typeof v === 'number' ? 100 * v : NaN });
      }
    }
  }
  return rows;
}

/** Three panels (top-1, balanced, top-1 LA) side by side, one line (with dots) per run; null without eval records. */
export function accuracyChart(runs: readonly VizRun[], o: ChartOptions = {}): Chart | null {
  const rows = accuracyRows(runs);
  if (!rows.length) return null;
  return plot(o, {
    height: 280,
    x: { label: 'step', ticks: 4 },
    y: { label: 'test accuracy (%)', grid: true },
    fx: { label: null, domain: ACCURACY_METRICS.map((m) => m[1]) },
    color: runColor(runs.map((r) => r.name)),
    marks: [
      Plot.frame({ stroke: '#ddd' }),
      Plot.lineY(rows, { x: 'step', y: 'value', stroke: 'run', fx: 'metric', className: 'daso-accuracy-lines', ariaDescription: 'test accuracy over steps' }),
      Plot.dot(rows, { x: 'step', y: 'value', fill: 'run', fx: 'metric', r: 2, className: 'daso-accuracy-dots', ariaLabel: (d: Row) => `${d.run} ${d.metric} step ${d.step}` }),
    ],
  });
}
