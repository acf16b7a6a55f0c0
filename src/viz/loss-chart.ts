// Chart 1: the loss parts (loss = loss_cls + loss_u + loss_align) and the mask ratio over steps, one panel per run.
// Why: the unlabeled loss only counts confident images, so loss_u and the mask ratio must be read together (a falling
// loss_u with a falling mask ratio means fewer pseudo-labels, not better ones), and loss_align shows when DASO's
// semantic alignment switches on after its warm-up. Read from log records; format-1 runs have none (null).
import * as Plot from '@observablehq/plot';
import { plot, type Chart } from './plot-common.js';
import type { ChartOptions, VizRun } from './records.js';

const PARTS = ['loss', 'loss_cls', 'loss_u', 'loss_align'] as const;

interface Row { run: string; step: number; part: string; value: number }

/** One row per run, step and series (the four loss parts, then the mask ratio). */
export function lossRows(runs: readonly VizRun[]): Row[] {
  const rows: Row[] = [];
  for (const r of runs) {
    for (const l of r.records.logs) {
      for (const p of PARTS) rows.push({ run: r.name, step: l.step, part: p, value: l[p] });
      rows.push({ run: r.name, step: l.step, part: 'mask_ratio', value: l.mask_ratio });
    }
  }
  return rows;
}

/** Loss parts (solid) and mask ratio (dashed) against the step, one panel per run; null when no run has log records. */
export function lossChart(runs: readonly VizRun[], o: ChartOptions = {}): Chart | null {
  const rows = lossRows(runs);
  if (!rows.length) return null;
  const losses = rows.filter((d) => d.part !== 'mask_ratio');
  const mask = rows.filter((d) => d.part === 'mask_ratio');
  const panels = new Set(rows.map((d) => d.run)).size;
  return plot(o, {
    height: 60 + 160 * panels,
    marginRight: 100,
    x: { label: 'step' },
    y: { label: 'loss / mask ratio', grid: true },
    fy: { label: null },
    color: { domain: [...PARTS, 'mask_ratio'], scheme: 'tableau10', legend: true },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(losses, { x: 'step', y: 'value', stroke: 'part', fy: 'run', className: 'daso-loss-lines', ariaDescription: 'loss parts over steps' }),
      Plot.lineY(mask, { x: 'step', y: 'value', stroke: 'part', fy: 'run', strokeDasharray: '4,3', className: 'daso-mask-line', ariaDescription: 'mask ratio over steps' }),
    ],
  });
}
