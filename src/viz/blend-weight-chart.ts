// Chart 6: DASO's per-class blend weight v over steps, a heat strip per DASO run (class on y, head to tail).
// v_k = (m_k / max_j m_j)^(1/T_dist) weights the linear pseudo-label against the semantic one: head classes the
// pseudo-labels over-count keep v near 1 (linear), tail classes get a small v (mostly semantic). The strip shows the
// blend switching on after the warm-up (v = 0 before) and how it settles. Format-1 and FixMatch runs have no v.
import { heatStrip, type Chart } from './plot-common.js';
import type { ChartOptions, VizRun } from './records.js';

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
  return heatStrip(o, rows, {
    K, legend: 'blend weight v', fill: 'v', className: 'daso-v-strip', ariaDescription: 'DASO blend weight v per class over steps',
    title: (d: Row) => `${d.run} ${d.cls} @${d.step}: v ${d.v.toFixed(3)}`,
  });
}
