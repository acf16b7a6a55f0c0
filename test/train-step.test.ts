import { afterAll, describe, expect, it } from 'vitest';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const tiny = {
  algorithm: 'supervised',
  model: { depth: 10, width: 1, in_channels: 1, num_classes: 3, image_size: 8 },
  optim: { lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 5e-4 },
  ema_decay: 0.999,
};

describe('supervised training step (WRN-10-1, 1x8x8, K=3)', () => {
  it('learns a fixed batch over 50 replays of one recorded step, with flat GPU memory', async () => {
    const r = await runOp('train_overfit', { config: tiny, batch: 6, steps: 50, seed: 3 });
    const losses = Array.from(r.losses);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Initial loss is about ln(3) = 1.1 for a fresh classifier; 50 steps on 6 images must drive it well down.
    expect(losses[0]).toBeGreaterThan(0.5);
    expect(losses[49]).toBeLessThan(losses[0] * 0.5);
    // Everything was allocated while the step was built: from step 2 on nothing is allocated and no pipeline compiled.
    for (let t = 1; t < 50; t++) {
      expect(r.allocated[t]).toBe(r.allocated[1]);
      expect(r.inUse[t]).toBe(r.inUse[1]);
      expect(r.pipelines[t]).toBe(r.pipelines[1]);
    }
  });

  it('rejects an unknown config key and an out-of-range value before any GPU work', async () => {
    await expect(runOp('train_overfit', { config: { ...tiny, lr: 0.1 }, batch: 2, steps: 1, seed: 1 })).rejects.toThrow(/unknown config key 'lr'/);
    await expect(runOp('train_overfit', { config: { ...tiny, model: { ...tiny.model, depth: 12 } }, batch: 2, steps: 1, seed: 1 })).rejects.toThrow(/model.depth 12/);
    await expect(runOp('train_overfit', { config: { ...tiny, optim: { ...tiny.optim, momentum: 1.5 } }, batch: 2, steps: 1, seed: 1 })).rejects.toThrow(/optim.momentum/);
  });
});

describe('training run checkpoints (synthetic data, DASO, WRN-10-1 on 1x8x8)', () => {
  it('a run stopped at a checkpoint and resumed ends bit-identical to one run straight through', async () => {
    const config = {
      name: 'resume-check', algorithm: 'daso', max_iter: 6,
      model: { depth: 10, width: 1, in_channels: 1, num_classes: 3, image_size: 8 },
      data: { dataset: 'synthetic', num_valid_per_class: 2, n1: 12, m1: 20, gamma_l: 4, gamma_u: 4 },
      ssl: { tau: 0.5 },
      daso: { warmup: 2, pl_update_period: 2, queue_size: 4 },
      train: { batch_size: 4, unlabeled_ratio: 1, log_every: 1, eval_every: 100, checkpoint_every: 1, seed: 5 },
      eval: { batch_size: 8, per_class_limit: 2, median_of: 1 },
    };
    const r = await runOp('train_resume_check', { config, stopAt: 3 });
    expect(Array.from(r.steps)).toEqual([6, 6]);
    expect(r.tensors[0]).toBeGreaterThan(50); // model, ema, momentum and DASO state all compared
    expect(r.maxDiff[0]).toBe(0);
    expect(Array.from(r.checksumB)).toEqual(Array.from(r.checksumA));
  });
});

describe('train-time logit adjustment', () => {
  it('adds tau*log(pi) to the labeled logits before the CE, and the loss is the CE of the adjusted logits', async () => {
    const adjust = [Math.log(0.7), Math.log(0.2), Math.log(0.1)];
    const r = await runOp('logit_adjust_check', { config: tiny, batch: 6, adjust });
    const K = 3;
    let ce = 0;
    for (let i = 0; i < 6; i++) {
      for (let k = 0; k < K; k++) expect(r.logitsLa[i * K + k] - r.logits[i * K + k]).toBeCloseTo(adjust[k], 5);
      const row = Array.from({ length: K }, (_, k) => r.logitsLa[i * K + k]);
      const m = Math.max(...row);
      ce += Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0)) + m - row[i % K];
    }
    expect(r.lossLa[0]).toBeCloseTo(ce / 6, 5);
    expect(Math.abs(r.lossLa[0] - r.loss[0])).toBeGreaterThan(1e-3);
  });
});
