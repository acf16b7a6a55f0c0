// Chart 7: a 2-D UMAP embedding of the penultimate features the last evaluation saved (a fixed class-balanced test
// subset), coloured by true class. Why: tail classes that the classifier misses often still form their own clusters in
// feature space, which is what DASO's semantic (prototype) pseudo-labels exploit; a tail class smeared into a head
// cluster is the case neither classifier can fix. UMAP is seeded (its random() is ours) so the same features give the
// same picture in every report.
import * as Plot from '@observablehq/plot';
import { UMAP } from 'umap-js';
import { plot, type Chart } from './plot-common.js';
import type { ChartOptions } from './records.js';

/** Penultimate features of n images: row-major [n, d], true labels, predictions (optional). */
export interface FeatureSet {
  features: Float32Array;
  n: number;
  d: number;
  labels: ArrayLike<number>;
  pred?: ArrayLike<number>;
}

export interface EmbeddedPoint { x: number; y: number; label: number; pred: number | null; correct: boolean | null }

/** mulberry32: a small seeded generator in [0, 1), enough for UMAP's initialisation and sampling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** UMAP of the features to 2-D (deterministic for a seed). Fewer than 4 points: null (UMAP needs neighbours). */
export function embed2d(f: FeatureSet, seed = 0): EmbeddedPoint[] | null {
  if (f.n < 4 || f.features.length !== f.n * f.d) return null;
  const rows = Array.from({ length: f.n }, (_, i) => Array.from(f.features.subarray(i * f.d, (i + 1) * f.d)));
  // nEpochs: 200 is UMAP's own choice for large sets; a few hundred test images converge well within it.
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, f.n - 1), minDist: 0.1, nEpochs: 200, random: seededRandom(seed) });
  const xy = umap.fit(rows);
  return xy.map(([x, y], i) => {
    const pred = f.pred ? Number(f.pred[i]) : null;
    return { x, y, label: Number(f.labels[i]), pred, correct: pred === null ? null : pred === Number(f.labels[i]) };
  });
}

/** Dots coloured by true class (misclassified images nearly hollow when predictions are known). `title`: a heading. */
export function embeddingChart(points: readonly EmbeddedPoint[], K: number, o: ChartOptions & { title?: string } = {}): Chart {
  const classes = Array.from({ length: K }, (_, k) => k);
  return plot(o, {
    ...(o.title ? { title: o.title } : {}),
    height: Math.round((o.width ?? 720) * 0.6),
    inset: 12,
    x: { axis: null },
    y: { axis: null },
    color: { type: 'ordinal', domain: classes, scheme: K <= 10 ? 'tableau10' : 'turbo', legend: K <= 20, tickFormat: (k: number) => `c${k}` },
    marks: [
      Plot.frame({ stroke: '#ddd' }),
      Plot.dot(points, {
        x: 'x', y: 'y', r: 3,
        stroke: 'label', fill: 'label',
        // Hollow-looking (nearly transparent fill) where the model's prediction is wrong.
        fillOpacity: (d: EmbeddedPoint) => (d.correct === false ? 0.1 : 0.85),
        className: 'daso-embedding-dots', ariaDescription: 'UMAP of penultimate features by class',
        title: (d: EmbeddedPoint) => `class c${d.label}${d.pred === null ? '' : `, predicted c${d.pred}`}`,
      }),
    ],
  });
}
