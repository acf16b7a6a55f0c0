// softmax / log_softmax and the row reductions (row_max, sum_reduce, histogram).
import { afterAll, describe, expect, it } from 'vitest';
import { histogramRef, rowMaxRef, sumRef } from '../src/kernels/reduce.ref.js';
import { logSoftmaxRef, softmaxRef } from '../src/kernels/softmax.ref.js';
import { expectClose, randint, randn, rng } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

// 1, primes, K = 1, DASO's K = 10 at B = 64 and 320 (not a multiple of the 64-row workgroup: 320 = 5*64, 67 is not).
const SHAPES: [number, number][] = [[1, 1], [1, 10], [7, 1], [13, 10], [67, 10], [5, 100], [320, 10]];

describe('softmax_forward / log_softmax_forward', () => {
  for (const log of [false, true]) {
    const ref = log ? logSoftmaxRef : softmaxRef;
    it(`${log ? 'log_softmax' : 'softmax'} matches the reference on ragged shapes`, async () => {
      for (const [B, K] of SHAPES) {
        const x = randn(B * K, B * 13 + K, 3);
        const { y } = await runOp('softmax', { B, K, log }, { x });
        expectClose(y, ref(x, B, K), `B=${B} K=${K}`, 1e-6, 1e-5);
      }
    });

    it(`${log ? 'log_softmax' : 'softmax'} is max-subtracted: logits of +-80 stay finite and exact`, async () => {
      const [B, K] = [4, 10];
      // exp(80) = 5.5e34 and a sum of ten of them overflow f32 (max 3.4e38 only barely survives one; 88.7 does not).
      const x = Float32Array.from({ length: B * K }, (_, j) => [80, -80, 95 - (j % 7), (j % 3) * 40 - 40][Math.floor(j / K)]);
      const { y } = await runOp('softmax', { B, K, log }, { x });
      expect(y.every(Number.isFinite)).toBe(true);
      expectClose(y, ref(x, B, K), 'large logits', 1e-6, 1e-5);
      if (!log) {
        for (let i = 0; i < B; i++) expect(Math.abs(y.slice(i * K, (i + 1) * K).reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-6);
      }
    });
  }

  it('rejects an output of another shape', async () => {
    await expect(runOp('softmax', { B: 3, K: 10, yShape: [3, 9] }, { x: randn(30, 1) }))
      .rejects.toThrow("softmax_forward: argument 'y' has shape [3, 9], expected [3, 10]");
  });
});

describe('row_max', () => {
  it('matches the reference on ragged shapes, first index on ties', async () => {
    for (const [B, K] of SHAPES) {
      // Small integers make ties common (several columns share the row maximum).
      const x = Float32Array.from(randn(B * K, B + K * 3, 1.5), (v) => Math.round(v));
      const got = await runOp('row_max', { B, K }, { x });
      const ref = rowMaxRef(x, B, K);
      expectClose(got.max, ref.max, `max B=${B} K=${K}`, 0, 0);
      expect(Array.from(got.argmax), `argmax B=${B} K=${K}`).toEqual(Array.from(ref.argmax));
    }
  });

  it('returns the first of equal maxima (all-equal rows, a tie at the end and at the start)', async () => {
    const K = 5;
    const x = [2, 2, 2, 2, 2, 0, 1, 3, 1, 3, 7, 7, -1, 7, 0, -3, -2, -2, -9, -2];
    const got = await runOp('row_max', { B: 4, K }, { x });
    expect(Array.from(got.argmax)).toEqual([0, 2, 0, 1]);
    expect(Array.from(got.max)).toEqual([2, 3, 7, -2]);
  });
});

describe('sum_reduce', () => {
  for (const twoStage of [false, true]) {
    it(`${twoStage ? 'two stages' : 'one stage'}: scale * sum over 1 .. 100003 elements, deterministic`, async () => {
      for (const n of [1, 7, 255, 257, 4097, 100003]) {
        const x = randn(n, n, 1);
        for (let i = 0; i < n; i += 97) x[i] += 3; // a non-zero mean, so the sum grows like n
        const scale = 0.5;
        const a = await runOp('sum_reduce', { n, scale, twoStage }, { x });
        expect(a.dispatches[0], `dispatches n=${n}`).toBe(twoStage && n > 4096 ? 2 : 1);
        // f32 accumulation of ~400 terms per lane, then a tree: relative error far below 1e-5 of sum |x|.
        const absSum = sumRef(Float64Array.from(x, Math.abs), scale);
        expectClose(a.out, [sumRef(x, scale)], `n=${n}`, 1e-6 * absSum + 1e-6, 0);
        if (n === 100003) {
          const b = await runOp('sum_reduce', { n, scale, twoStage }, { x });
          expect(b.out[0], 'bitwise repeatable').toBe(a.out[0]);
        }
      }
    });
  }
});

describe('histogram', () => {
  it('counts labels per class (12,800 labels as in a DASO refresh; ragged K; out-of-range labels ignored)', async () => {
    for (const [B, K] of [[1, 1], [7, 3], [5, 100], [12800, 10], [1001, 100]]) { // [5, 100]: empty classes must read 0
      const labels = randint(B, K, B + K);
      if (B > 10) { labels[0] = -1; labels[5] = K; labels[9] = -100; }
      const { hist } = await runOp('histogram', { B, K, accumulate: false }, { labels, hist: randint(K, 50, 3).map((v) => v + 1) });
      expect(Array.from(hist), `B=${B} K=${K}`).toEqual(Array.from(histogramRef(labels, K)));
    }
  });

  it('accumulates into the existing counts', async () => {
    const [B, K] = [333, 10];
    const labels = randint(B, K, 9), prior = randint(K, 1000, 10);
    const { hist } = await runOp('histogram', { B, K, accumulate: true }, { labels, hist: prior });
    expect(Array.from(hist)).toEqual(Array.from(histogramRef(labels, K, prior)));
  });

  it('rejects f32 labels', async () => {
    const r = rng(1);
    await expect(runOp('histogram', { B: 4, K: 10, accumulate: false, labelDtype: 'f32' }, { labels: [1, 2, 3, Math.floor(r() * 10)] }))
      .rejects.toThrow("histogram: argument 'labels' has dtype f32, expected i32");
  });
});
