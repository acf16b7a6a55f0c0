// Chart 4: pseudo-label recall and precision per class, grouped bars (one bar per run in each class group), classes
// head to tail, one row per metric. This is the picture DASO's paper starts from: FixMatch's confident pseudo-labels
// keep a high precision on tail classes but a low recall (tail images are pseudo-labelled as head classes), while
// head classes get a high recall and a lower precision. DASO's blend should lift tail recall; putting the runs side by
// side in each class group makes that comparison one glance.
// Numbers: the last evaluation period (lastPeriodPseudoLabels: summed log-window confusion matrices in format 2, the
// last eval record's pseudo_label in format 1). An undefined value (a class never pseudo-labelled has no precision)
// draws no bar.
import * as Plot from '@observablehq/plot';
import { plot, runColor, type Chart } from './plot-common.js';
import { classLabels, lastPeriodPseudoLabels, type ChartOptions, type VizRun } from './records.js';

interface Row { run: string; metric: 'recall' | 'precision'; cls: string; value: number }

export function pseudoLabelRows(runs: readonly VizRun[]): Row[] {
  const rows: Row[] = [];
  for (const r of runs) {
    const pl = lastPeriodPseudoLabels(r.records);
    if (!pl) continue;
    const labels = classLabels(pl.recall.length);
    for (const metric of ['recall', 'precision'] as const) {
      pl[metric].forEach((v, k) => rows.push({ run: r.name, metric, cls: labels[k], value: typeof v === 'number' ? 100 * v : NaN }));
    }
  }
  return rows;
}

/** Grouped bars: x = class (head to tail) with one bar per run inside, rows = recall, precision. Null when no run
 * has pseudo-label statistics (supervised runs, or the unlabeled labels were unknown). */
export function pseudoLabelBars(runs: readonly VizRun[], o: ChartOptions = {}): Chart | null {
  const rows = pseudoLabelRows(runs);
  if (!rows.length) return null;
  const names = [...new Set(rows.map((d) => d.run))];
  const K = rows.filter((d) => d.run === names[0] && d.metric === 'recall').length;
  return plot(o, {
    height: 380,
    marginBottom: 40,
    x: { axis: null, domain: names, paddingInner: 0.05 },
    y: { label: 'pseudo-label %', domain: [0, 100], grid: true },
    fx: { label: 'class (head → tail)', domain: classLabels(K), padding: 0.15 },
    fy: { label: null, domain: ['recall', 'precision'] },
    color: runColor(runs.map((r) => r.name)),
    marks: [
      Plot.frame({ stroke: '#ddd' }),
      Plot.barY(rows.filter((d) => Number.isFinite(d.value)), {
        x: 'run', y: 'value', fill: 'run', fx: 'cls', fy: 'metric',
        className: 'daso-pl-bars', ariaDescription: 'pseudo-label recall and precision per class',
        ariaLabel: (d: Row) => `${d.run} ${d.metric} ${d.cls}`,
        title: (d: Row) => `${d.run}: ${d.cls} pseudo-label ${d.metric} ${d.value.toFixed(1)}%`,
      }),
    ],
  });
}
