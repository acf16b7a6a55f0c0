// Chart 5: the class distribution the pseudo-labels follow against the true unlabeled class distribution.
// DASO's blend weight comes from m_hat, the pseudo-label class distribution of the last pl_update_period window: if
// m_hat is flatter than the truth on the tail (tail images pseudo-labelled as head), DASO leans on the semantic
// (prototype) pseudo-label for the classes m_hat over-counts. For FixMatch the curve is the window's pseudo-label
// histogram (column sums of the log window's confusion matrix), the bias DASO is meant to correct.
// Source: the log records of each run's last evaluation period; the truth: the start record's unlabeled split.
import * as Plot from '@observablehq/plot';
import { plot, type Chart } from './plot-common.js';
import { classLabels, shares, type ChartOptions, type VizRun } from './records.js';

interface Row { series: string; cls: string; share: number }

export const TRUE_SERIES = 'true unlabeled';

/** The curve of one run over the last evaluation period (the log windows after the previous evaluation up to the last
 * one; the last window when no evaluation ran): DASO's m_hat averaged over the windows (one window's m_hat is the
 * histogram of a single pl_update_period and swings from window to window), else the period's pseudo-label histogram
 * (column sums of the windows' confusion matrices). Null without pseudo-label statistics. */
export function pseudoLabelDistribution(r: VizRun): { kind: 'm_hat' | 'PL histogram'; shares: number[]; step: number; from: number } | null {
  const withPl = r.records.logs.filter((x) => x.pl && Array.isArray(x.pl.confusion));
  if (!withPl.length) return null;
  const lastEval = r.records.evals.at(-1)?.step ?? Infinity;
  const prevEval = r.records.evals.filter((e) => e.step < lastEval).at(-1)?.step ?? 0;
  let win = withPl.filter((l) => l.step > prevEval && l.step <= lastEval);
  if (!win.length) win = withPl.slice(-1);
  const K = win[0].pl!.confusion.length, step = win.at(-1)!.step, from = win[0].pl!.first_step;
  const hats = win.map((l) => l.pl!.m_hat).filter((m): m is number[] => Array.isArray(m) && m.some((x) => x > 0));
  if (win.at(-1)!.pl!.m_hat) {
    const mean = Array.from({ length: K }, (_, k) => hats.reduce((a, m) => a + m[k], 0) / Math.max(1, hats.length));
    return { kind: 'm_hat', shares: shares(mean), step, from };
  }
  const cols = Array.from({ length: K }, (_, j) => win.reduce((a, l) => a + l.pl!.confusion.reduce((s, row) => s + row[j], 0), 0));
  return { kind: 'PL histogram', shares: shares(cols), step, from };
}

export function distributionRows(runs: readonly VizRun[]): Row[] {
  const rows: Row[] = [];
  const truth = runs.map((r) => r.records.start?.split.unlabeled).find((u) => u && u.length);
  if (truth) shares(truth).forEach((s, k) => rows.push({ series: TRUE_SERIES, cls: `c${k}`, share: s }));
  for (const r of runs) {
    const d = pseudoLabelDistribution(r);
    if (d) d.shares.forEach((s, k) => rows.push({ series: `${r.name} ${d.kind}`, cls: `c${k}`, share: s }));
  }
  return rows;
}

/** Share of each class, one line per series (the truth thick and black); null when no run has pseudo-label counts. */
export function distributionChart(runs: readonly VizRun[], o: ChartOptions = {}): Chart | null {
  const rows = distributionRows(runs);
  const curves = rows.filter((d) => d.series !== TRUE_SERIES);
  if (!curves.length) return null;
  const truth = rows.filter((d) => d.series === TRUE_SERIES);
  const K = new Set(rows.map((d) => d.cls)).size;
  const series = [...new Set(curves.map((d) => d.series))];
  return plot(o, {
    height: 320,
    x: { label: 'class (head → tail)', domain: classLabels(K), padding: 0.5 },
    y: { label: 'share of the unlabeled images', grid: true },
    color: { domain: series, scheme: 'tableau10', legend: true },
    marks: [
      Plot.ruleY([0]),
      Plot.lineY(truth, { x: 'cls', y: 'share', stroke: 'black', strokeWidth: 3, className: 'daso-dist-true', ariaDescription: TRUE_SERIES }),
      Plot.lineY(curves, { x: 'cls', y: 'share', stroke: 'series', className: 'daso-dist-lines', ariaDescription: 'pseudo-label class distributions' }),
      Plot.dot(curves, { x: 'cls', y: 'share', fill: 'series', r: 2.5, className: 'daso-dist-dots', ariaLabel: (d: Row) => `${d.series} ${d.cls}` }),
      Plot.text(truth.slice(-1), { x: 'cls', y: 'share', text: () => TRUE_SERIES, dx: 6, dy: -8, textAnchor: 'start' }),
    ],
  });
}
