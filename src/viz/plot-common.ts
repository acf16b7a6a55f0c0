// What every chart shares: the Plot options that make a chart render on any DOM (the `document` option, so Node can
// draw on linkedom), one colour per run kept the same across charts, and the colour scale of the heat strips.
import * as Plot from '@observablehq/plot';
import { classLabels, type ChartOptions } from './records.js';

/** The chart element Plot returns: an <svg>, or a <figure> when a legend or title comes with it. */
export type Chart = SVGSVGElement | HTMLElement;

/** Plot options from the chart options: the DOM to build on and the width (Plot's default 640 otherwise). */
export function baseOptions(o: ChartOptions): { document?: Document; width: number; style: Record<string, string> } {
  return {
    ...(o.document ? { document: o.document } : {}),
    width: o.width ?? 720,
    // A white background keeps the charts readable when the report is printed or viewed in a dark theme.
    style: { background: 'white', color: 'black', overflow: 'visible' },
  };
}

/** A run colour scale: the same run gets the same colour in every chart of one report. */
export function runColor(runs: readonly string[]): Plot.ScaleOptions {
  return { type: 'ordinal', domain: [...runs], scheme: 'tableau10', legend: true };
}

/**
 * The colour scale of a heat strip over [0, 1]. Quantized (ten bins), not continuous: a continuous legend is drawn
 * through a <canvas>, which a Node DOM (linkedom) does not have, and ten bins read as well on a recall strip.
 */
export function unitHeat(label: string): Plot.ScaleOptions {
  return { type: 'quantize', n: 10, domain: [0, 1], scheme: 'viridis', legend: true, label };
}

/** A heat strip: one facet row per run, class (head to tail) on y, steps on x, each cell spanning from the previous
 * record's step (`from`) to its own (`step`), coloured over [0, 1] by `fill`. The recall strip and the v strip. */
export function heatStrip<T extends { run: string; cls: string }>(o: ChartOptions, rows: T[], s: {
  K: number; legend: string; fill: keyof T & string; className: string; ariaDescription: string; title: (d: T) => string;
}): Chart {
  const panels = new Set(rows.map((d) => d.run)).size;
  return plot(o, {
    height: 50 + panels * (Math.min(s.K, 40) * 9 + 30),
    marginLeft: 50,
    marginRight: 110,
    x: { label: 'step' },
    y: { label: 'class (head → tail)', domain: classLabels(s.K), tickSize: 0, ...(s.K > 20 ? { ticks: [] } : {}) },
    fy: { label: null },
    color: unitHeat(s.legend),
    marks: [
      Plot.barX(rows, {
        x1: 'from', x2: 'step', y: 'cls', fy: 'run', fill: s.fill, inset: 0,
        className: s.className, ariaDescription: s.ariaDescription, title: s.title,
      }),
    ],
  });
}

/** Plot.plot with the shared options. */
export function plot(o: ChartOptions, spec: Plot.PlotOptions): Chart {
  return Plot.plot({ ...baseOptions(o), ...spec }) as Chart;
}
