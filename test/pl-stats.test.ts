// Pseudo-label statistics (issue 13.1): the pl_confusion kernel against its reference on ragged shapes, the counts a
// recorded step accumulates against a TypeScript recount of the same pseudo-labels, the log windows of a training
// run, and the promise that the unlabeled images' true labels never reach the training math.
import { afterAll, describe, expect, it } from 'vitest';
import { closeHarness, runOp } from './helpers/harness.js';
import { plConfusionRef } from '../src/kernels/pl-stats.ref.js';
import { blendWeightsPerClass, confusionRows, windowRecord } from '../src/ssl/pl-stats.js';
import { dasoPseudoLabelRef } from '../src/kernels/daso.ref.js';
import { classMetrics, metricsFromConfusion, confusionMatrix } from '../src/train/evaluate.js';

afterAll(closeHarness);

function lcg(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

describe('pl_confusion kernel', () => {
  for (const [BU, K] of [[1, 1], [7, 3], [65, 10], [130, 17], [300, 100]]) {
    it(`counts (true, pseudo) pairs and the confident ones like the reference (Bu=${BU}, K=${K}), adding to prior counts`, async () => {
      const r = lcg(BU * 31 + K);
      const pl = Array.from({ length: BU }, () => Math.floor(r() * K));
      // Some labels out of range (unknown truth -1, K): not counted.
      const truth = Array.from({ length: BU }, (_, i) => (i % 11 === 5 ? -1 : i % 13 === 7 ? K : Math.floor(r() * K)));
      const mask = Array.from({ length: BU }, () => (r() < 0.4 ? 1 : 0));
      const prior = Array.from({ length: 2 * K * K }, () => Math.floor(r() * 5));
      const out = await runOp('pl_confusion', { BU, K }, { pseudoLabel: pl, mask, truth, counts: prior });
      const ref = plConfusionRef(pl, mask, truth, K, prior);
      expect(Array.from(out.counts)).toEqual(Array.from(ref));
      const counted = truth.filter((t) => t >= 0 && t < K).length;
      expect(Array.from(out.counts.slice(0, K * K)).reduce((a, b) => a + b, 0) - prior.slice(0, K * K).reduce((a, b) => a + b, 0)).toBe(counted);
    });
  }

  it('refuses mismatched shapes before any GPU work', async () => {
    await expect(runOp('pl_confusion', { BU: 4, K: 3 }, { pseudoLabel: [0, 1, 2, 0], mask: [1, 1, 1], truth: [0, 0, 0, 0] })).rejects.toThrow(/mask/);
  });
});

const tinyDaso = {
  name: 'pl-stats', algorithm: 'daso', max_iter: 6,
  model: { depth: 10, width: 1, in_channels: 1, num_classes: 3, image_size: 8 },
  data: { dataset: 'synthetic' },
  ssl: { tau: 0.4 },
  daso: { warmup: 2, pl_update_period: 2, queue_size: 4 },
  train: { batch_size: 4, unlabeled_ratio: 2, log_every: 2, eval_every: 100, checkpoint_every: 100, seed: 7 },
  eval: { batch_size: 8, per_class_limit: 2, median_of: 1 },
};

describe('pseudo-label statistics of a training run', () => {
  it('a recorded DASO step accumulates exactly the TypeScript recount of its pseudo-labels over each window', async () => {
    const r = await runOp('pl_stats_recount', { config: tinyDaso, windows: [3, 1, 2] });
    expect(Array.from(r.gpu)).toEqual(Array.from(r.ref));
    const K = 3, Bu = 8;
    // Each window counted every unlabeled image of its steps (the synthetic labels are all known).
    const all = (w: number) => Array.from(r.gpu.slice(w * 2 * K * K, w * 2 * K * K + K * K)).reduce((a, b) => a + b, 0);
    expect([all(0), all(1), all(2)]).toEqual([3 * Bu, Bu, 2 * Bu]);
  });

  it('the same with FixMatch', async () => {
    const r = await runOp('pl_stats_recount', { config: { ...tinyDaso, algorithm: 'fixmatch', daso: undefined }, windows: [2, 2] });
    expect(Array.from(r.gpu)).toEqual(Array.from(r.ref));
  });

  it('true labels of unlabeled images do not change training: other labels give a bit-identical checkpoint, other statistics', async () => {
    const r = await runOp('pl_stats_run', { config: tinyDaso, relabel: 1 });
    expect(r.tensors[0]).toBeGreaterThan(50);
    expect(r.maxDiff[0]).toBe(0);
    const K = 3, rec = 2 + 2 * K * K;
    const a = Array.from(r.logsA), b = Array.from(r.logsB);
    expect(r.windows[0]).toBe(3); // steps 2, 4, 6
    expect(a.length).toBe(3 * rec);
    for (let w = 0; w < 3; w++) {
      const wa = a.slice(w * rec, (w + 1) * rec), wb = b.slice(w * rec, (w + 1) * rec);
      expect(wa.slice(0, 2)).toEqual([2 * w + 2, 2 * w + 1]); // step, first_step: contiguous windows
      // Same pseudo-labels (training is identical), true classes shifted by one: column sums equal, rows rotated.
      const rows = (x: number[]) => confusionRows(x.slice(2), K, 0);
      const ra = rows(wa), rb = rows(wb);
      for (let t = 0; t < K; t++) expect(rb[(t + 1) % K]).toEqual(ra[t]);
      expect(wa.slice(2, 2 + K * K).reduce((s, v) => s + v, 0)).toBe(2 * 8);
    }
    expect(b).not.toEqual(a);
  });
});

describe('statistics helpers (plain TypeScript)', () => {
  it('metricsFromConfusion equals classMetrics of the predictions it counts', () => {
    const r = lcg(5), K = 6;
    const truth = Array.from({ length: 200 }, () => Math.floor(r() * (K - 1))); // class 5 absent: recall NaN
    const pred = truth.map((t) => (r() < 0.6 ? t : Math.floor(r() * K)));
    const a = metricsFromConfusion(confusionMatrix(pred, truth, K)), b = classMetrics(pred, truth, K);
    expect(a.top1).toBeCloseTo(b.top1, 12);
    expect(a.balanced).toBeCloseTo(b.balanced, 12);
    expect(a.recall).toEqual(b.recall);
    expect(a.precision).toEqual(b.precision);
    expect(a.n).toBe(200);
  });

  it("per-class blend weights are the ones DASO's pseudo-label reference applies to an image of that class", () => {
    const K = 5, hist = [40, 3, 0, 17, 9];
    for (const s of [{ active: true, distAware: true, tau: 0.95, tDist: 1.5, interpAlpha: 0.3 }, { active: true, distAware: false, tau: 0.95, tDist: 1, interpAlpha: 0.3 },
      { active: false, distAware: true, tau: 0.95, tDist: 1, interpAlpha: 0.3 }]) {
      const v = blendWeightsPerClass(hist, s);
      for (let k = 0; k < K; k++) {
        // An image whose linear prediction is class k (one-hot-ish logits) gets blend weight v_k.
        const logits = Array.from({ length: K }, (_, j) => (j === k ? 8 : 0));
        const ref = dasoPseudoLabelRef(logits, new Array(K).fill(0), hist, 1, K, s);
        expect(v[k]).toBeCloseTo(ref.blendWeight[0], 6);
      }
    }
  });

  it('a window record: per-class mask ratio, m_hat normalised, NaN for a class without images', () => {
    const K = 3;
    const c = plConfusionRef([0, 1, 1, 2, 0], [1, 0, 1, 1, 0], [0, 0, 1, 1, 0], K);
    const w = windowRecord(c, K, 5, { plHist: [2, 6, 0], switches: { active: true, distAware: true, tau: 0.9, tDist: 1, interpAlpha: 0 } });
    expect(w.images).toBe(5);
    expect(w.mask_ratio_per_class[0]).toBeCloseTo(1 / 3, 12);
    expect(w.mask_ratio_per_class[1]).toBe(1);
    expect(Number.isNaN(w.mask_ratio_per_class[2])).toBe(true);
    expect(w.m_hat).toEqual([0.25, 0.75, 0]);
    expect(w.v).toEqual([1 / 3, 1, 0]);
    expect(w.first_step).toBe(5);
  });
});
