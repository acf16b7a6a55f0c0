import { afterAll, describe, expect, it } from 'vitest';
import { crossEntropyHardLossRef, crossEntropyHardRef, crossEntropySoftLossRef, crossEntropySoftRef } from '../src/kernels/loss.ref.js';
import { expectClose, randint, randn, rng } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

// Ragged rows: 1, primes, K = 1 (loss 0, gradient 0), DASO's K = 10 at B = 64, and K = 100 (CIFAR-100).
const SHAPES: [number, number][] = [[1, 1], [1, 10], [7, 1], [13, 10], [67, 10], [5, 100], [64, 10]];

/** Row weights with about a third of the rows masked to exactly 0 and the rest in (0, 2). */
function weights(B: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: B }, () => (r() < 0.33 ? 0 : 2 * r()));
}

/** Soft targets: non-negative, rows summing to anything in (0, 2) (not normalised on purpose). */
function targets(B: number, K: number, seed: number): Float32Array {
  const r = rng(seed);
  const t = Float32Array.from({ length: B * K }, () => r());
  for (let i = 0; i < B; i++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += t[i * K + k];
    const want = 2 * r();
    for (let k = 0; k < K; k++) t[i * K + k] *= want / s;
  }
  return t;
}

/** Central differences of gradScale * sum_i loss_i(x) w.r.t. every logit, in float64. */
function fdGrad(loss: (x: Float64Array) => Float64Array, x: Float64Array, gradScale: number, h = 1e-5): Float64Array {
  const g = new Float64Array(x.length);
  const total = (v: Float64Array) => loss(v).reduce((s, a) => s + a, 0);
  for (let j = 0; j < x.length; j++) {
    const xp = Float64Array.from(x), xm = Float64Array.from(x);
    xp[j] += h;
    xm[j] -= h;
    g[j] = (gradScale * (total(xp) - total(xm))) / (2 * h);
  }
  return g;
}

describe('cross-entropy references', () => {
  const [B, K, gs] = [4, 6, 0.7];
  const x = Float64Array.from(randn(B * K, 11, 3));
  const w = Float64Array.from([1, 0.5, 0, 2]);

  it('hard: analytic gradient matches finite differences of the loss', () => {
    const labels = [2, 0, 5, 3];
    const ref = crossEntropyHardRef(x, labels, w, B, K, gs);
    const fd = fdGrad((v) => crossEntropyHardLossRef(v, labels, w, B, K), x, gs);
    expectClose(ref.dlogits, fd, 'hard FD', 1e-7, 1e-6);
    expect(ref.dlogits.some((v) => Math.abs(v) > 0.05)).toBe(true);
  });

  it('soft: analytic gradient matches finite differences (targets not summing to 1)', () => {
    const t = Float64Array.from(targets(B, K, 12));
    const ref = crossEntropySoftRef(x, t, w, B, K, gs);
    const fd = fdGrad((v) => crossEntropySoftLossRef(v, t, w, B, K), x, gs);
    expectClose(ref.dlogits, fd, 'soft FD', 1e-7, 1e-6);
    expect(ref.dlogits.some((v) => Math.abs(v) > 0.05)).toBe(true);
  });
});

describe('softmax_cross_entropy_hard', () => {
  it('matches the reference on ragged shapes with masked rows and ignored labels', async () => {
    for (const [B, K] of SHAPES) {
      const logits = randn(B * K, B * 31 + K, 4);
      const labels = randint(B, K, B + 7 * K);
      if (B > 5) labels[3] = -100; // ignore_index
      const rowWeight = weights(B, B * 3 + K);
      const gradScale = 1 / B;
      const got = await runOp('cross_entropy', { B, K, gradScale }, { logits, labels, rowWeight });
      const ref = crossEntropyHardRef(logits, labels, rowWeight, B, K, gradScale);
      expectClose(got.lossRows, ref.loss, `loss B=${B} K=${K}`, 1e-5, 1e-5);
      expectClose(got.dlogits, ref.dlogits, `dlogits B=${B} K=${K}`, 1e-6, 1e-5);
    }
  });

  it('is stable for logits of +-80 and masked rows give exactly 0 even with huge logits', async () => {
    const [B, K] = [6, 10];
    const logits = randn(B * K, 5, 1);
    for (let k = 0; k < K; k++) {
      logits[0 * K + k] = k % 2 ? 80 : -80; // exp(80) overflows f32 when not max-subtracted
      logits[1 * K + k] = 80 + k * 1e-3;
      logits[2 * K + k] = k === 4 ? 1e30 : -1e30; // masked row below
      logits[3 * K + k] = -80;
    }
    const labels = Int32Array.from([1, 9, 4, 0, 2, 3]);
    const rowWeight = Float32Array.from([1, 1, 0, 1, 0, 1]);
    const got = await runOp('cross_entropy', { B, K, gradScale: 1 }, { logits, labels, rowWeight });
    const ref = crossEntropyHardRef(logits, labels, rowWeight, B, K, 1);
    expect([...got.lossRows, ...got.dlogits].every(Number.isFinite)).toBe(true);
    expectClose(got.lossRows, ref.loss, 'loss', 1e-4, 1e-5);
    expectClose(got.dlogits, ref.dlogits, 'dlogits', 1e-6, 1e-5);
    for (const i of [2, 4]) {
      expect(got.lossRows[i]).toBe(0);
      expect(got.dlogits.slice(i * K, (i + 1) * K).every((v) => v === 0)).toBe(true);
    }
  });

  it('takes gradScale from a uniform that changes between replays of one compiled list', async () => {
    const [B, K] = [9, 10];
    const logits = randn(B * K, 21, 2), labels = randint(B, K, 22), rowWeight = weights(B, 23);
    const scales = [1, 0.25, -3];
    const got = await runOp('cross_entropy', { B, K, gradScale: 99, gradScales: scales }, { logits, labels, rowWeight });
    scales.forEach((g, r) => {
      const ref = crossEntropyHardRef(logits, labels, rowWeight, B, K, g);
      expectClose(got.lossRows.slice(r * B, (r + 1) * B), ref.loss, `loss replay ${r}`, 1e-5, 1e-5);
      expectClose(got.dlogits.slice(r * B * K, (r + 1) * B * K), ref.dlogits, `dlogits replay ${r}`, 1e-6, 1e-5);
    });
  });

  it('rejects bad inputs naming the kernel, the argument and the shapes', async () => {
    const [B, K] = [4, 10];
    const logits = randn(B * K, 1), rowWeight = new Float32Array(B).fill(1);
    await expect(runOp('cross_entropy', { B, K, gradScale: 1, labelDtype: 'f32' }, { logits, labels: [0, 1, 2, 3], rowWeight }))
      .rejects.toThrow("softmax_cross_entropy_hard: argument 'labels' has dtype f32, expected i32");
    await expect(runOp('cross_entropy', { B, K, gradScale: 1, labelShape: [B + 1] }, { logits, labels: [0, 1, 2, 3, 4], rowWeight }))
      .rejects.toThrow("softmax_cross_entropy_hard: argument 'labels' has shape [5], expected [4]");
  });
});

describe('softmax_cross_entropy_soft', () => {
  it('matches the reference on ragged shapes with masks and targets not summing to 1', async () => {
    for (const [B, K] of SHAPES) {
      const logits = randn(B * K, B * 17 + K, 4);
      const t = targets(B, K, B + 5 * K);
      const rowWeight = weights(B, B * 7 + K);
      const gradScale = 1 / B;
      const got = await runOp('cross_entropy', { B, K, gradScale, soft: true }, { logits, targets: t, rowWeight });
      const ref = crossEntropySoftRef(logits, t, rowWeight, B, K, gradScale);
      expectClose(got.lossRows, ref.loss, `loss B=${B} K=${K}`, 1e-5, 1e-5);
      expectClose(got.dlogits, ref.dlogits, `dlogits B=${B} K=${K}`, 1e-6, 1e-5);
    }
  });

  it('is stable for logits of +-80 (prototype similarities / 0.05 reach 20 and beyond)', async () => {
    const [B, K] = [3, 10];
    const logits = Float32Array.from({ length: B * K }, (_, j) => (j % 3 === 0 ? 80 : -80 + j));
    const t = targets(B, K, 3);
    const rowWeight = Float32Array.from([1, 0, 0.5]);
    const got = await runOp('cross_entropy', { B, K, gradScale: 0.5, soft: true }, { logits, targets: t, rowWeight });
    const ref = crossEntropySoftRef(logits, t, rowWeight, B, K, 0.5);
    expectClose(got.lossRows, ref.loss, 'loss', 1e-4, 1e-5);
    expectClose(got.dlogits, ref.dlogits, 'dlogits', 1e-6, 1e-5);
    expect(got.lossRows[1]).toBe(0);
  });

  it('rejects targets whose class count differs from the logits', async () => {
    const [B, K] = [2, 10];
    await expect(runOp('cross_entropy', { B, K, gradScale: 1, soft: true, targetShape: [B, K + 1] }, {
      logits: randn(B * K, 1), targets: new Float32Array(B * (K + 1)), rowWeight: [1, 1],
    })).rejects.toThrow("softmax_cross_entropy_soft: argument 'targets' has shape [2, 11], expected [2, 10]");
  });
});
