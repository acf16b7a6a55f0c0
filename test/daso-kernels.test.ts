import { afterAll, describe, expect, it } from 'vitest';
import { dasoPseudoLabelRef } from '../src/kernels/daso.ref.js';
import { expectClose, randint, randn } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const base = { active: true, distAware: true, tau: 0.6, tDist: 1.5, interpAlpha: 0.5 };

describe('daso_pseudo_label', () => {
  const cases: [string, number, number, typeof base, number[] | null][] = [
    ['warm-up (linear pseudo-label only)', 13, 10, { ...base, active: false }, null],
    ['distribution-aware blend, T_dist 1.5', 37, 10, base, null],
    ['distribution-aware blend, T_dist 0.3, some classes never predicted', 29, 7, { ...base, tDist: 0.3 }, [50, 0, 3, 0, 9, 1, 17]],
    ['constant v (interp_alpha 0.5)', 11, 10, { ...base, distAware: false }, null],
    ['one row, K=3', 1, 3, base, [2, 5, 1]],
  ];
  for (const [what, BU, K, sw, hist] of cases) {
    it(what, async () => {
      // Logits scaled so that confidences spread across tau; similarities like cos/0.05 (range +-20).
      const logitsW = randn(BU * K, BU + K, 3), simW = randn(BU * K, BU * K, 8);
      const plHist = hist ? Int32Array.from(hist) : randint(K, 100, BU);
      const got = await runOp('daso_pseudo_label', { BU, K, switches: sw }, { logitsW, simW, plHist });
      const want = dasoPseudoLabelRef(logitsW, simW, plHist, BU, K, sw);
      expectClose(got.qHat, want.qHat, 'q_hat', 1e-6, 1e-5);
      expectClose(got.blendWeight, want.blendWeight, 'blend weight v', 1e-6, 1e-5);
      expectClose(got.confidence, want.confidence, 'confidence', 1e-6, 1e-5);
      expect(Array.from(got.pseudoLabel)).toEqual(Array.from(want.pseudoLabel));
      for (let i = 0; i < BU; i++) {
        if (Math.abs(want.confidence[i] - sw.tau) > 1e-5) expect(got.mask[i], `mask row ${i}`).toBe(want.mask[i]);
      }
      if (!sw.active) expect(Array.from(got.blendWeight).every((v) => v === 0)).toBe(true);
    });
  }

  it('rejects a histogram of the wrong dtype, naming the kernel and argument', async () => {
    await expect(runOp('daso_pseudo_label', { BU: 2, K: 3, switches: base }, { logitsW: new Float32Array(6), simW: new Float32Array(6), plHist: [1, 2] })).rejects.toThrow(
      /plHist/,
    );
  });
});
