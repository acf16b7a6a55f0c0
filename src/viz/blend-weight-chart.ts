// Chart 6: DASO's per-class blend weight v over steps, a heat strip per DASO run (class on y, head to tail).
// v_k = (m_k / max_j m_j)^(1/T_dist) weights the linear pseudo-label against the semantic one: head classes the
// pseudo-labels over-count keep v near 1 (linear), tail classes get a small v (mostly semantic). The strip shows the
// blend switching on after the warm-up (v = 0 before) and how it settles. Format-1 and FixMatch runs have no v.
import * as Plot from '@observablehq/plot';
import { plot, unitHeat, type Chart } from './plot-common.js';
import { classLabels, type ChartOptions, type VizRun } from './records.js';

interface Row { run: string; cls: string; from: number; step: number; v: number }

export function blendWeightRows(runs: readonly VizRun[]): Row[] {
  const rows: Row[] = [];
  for (const r of runs) {
    let from = 0;
    for (const l of r.records.logs) {
      const v = l.pl?.v;
      if (v) v.forEach((x, k) => rows.push({ run: r.name, cls: `c${k}`, from, step: l.step, v: x }));
      from = l.step;
    }
  }
  return rows;
}

/** v heat strips, one panel per run with v; null when no run has one. */
export function blendWeightChart(runs: readonly VizRun[], o: ChartOptions = {}): Chart | null {
  const rows = blendWeightRows(runs);
  if (!rows.length) return null;
  const K = new Set(rows.map((d) => d.cls)).size;
  const panels = new Set(rows.map((d) => d.run)).size;
  return plot(o, {
    height: 50 + panels * (Math.min(K, 40) * 9 + 30),
    marginLeft: 50,
    marginRight: 110,
    x: { label: 'step' },
    y: { label: 'class (head → tail)', domain: classLabels(K), tickSize: 0, ...(K > 20 ? { ticks: [] } : {}) },
    fy: { label: null },
    color: unitHeat('blend weight v'),
    marks: [
      Plot.barX(rows, {
        x1: 'from', x2: 'step', y: 'cls', fy: 'run', fill: 'v', inset: 0,
        className: 'daso-v-strip', ariaDescription: 'DASO blend weight v per class over steps',
        title: (d: Row) => `${d.run} ${d.cls} @${d.step}: v ${d.v.toFixed(3)}`,
      }),
    ],
  });
}
