import { afterAll, describe, expect, it } from 'vitest';
import { cosineBackwardRef, cosineForwardRef } from '../src/kernels/cosine.ref.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const INV_TEMP = 20; // DASO: T_proto = 0.05
// [B, K, D]: 1, primes, K = 1, D not a multiple of the 64-lane workgroup, DASO's D = 128 with K = 10.
const SHAPES: [number, number, number][] = [[1, 1, 1], [1, 10, 128], [7, 3, 5], [13, 10, 67], [5, 1, 130], [17, 10, 128]];

/** Features with the given rows set to exactly zero (all-dead ReLUs), prototypes likewise. */
function data(B: number, K: number, D: number, seed: number, zeroRows: number[] = [], zeroProtos: number[] = []) {
  const z = randn(B * D, seed), protos = randn(K * D, seed + 1, 0.3);
  for (const i of zeroRows) if (i < B) z.fill(0, i * D, (i + 1) * D);
  for (const k of zeroProtos) if (k < K) protos.fill(0, k * D, (k + 1) * D);
  return { z, protos, dsim: randn(B * K, seed + 2) };
}

describe('cosine similarity reference', () => {
  it('backward matches central finite differences of the forward (w.r.t. z, float64)', () => {
    const [B, K, D, h] = [3, 4, 5, 1e-6];
    const { z, protos, dsim } = data(B, K, D, 5, [], [2]); // a zero prototype contributes nothing
    const z64 = Float64Array.from(z);
    const f = (v: Float64Array) => cosineForwardRef(v, protos, B, K, D, INV_TEMP).reduce((s, x, j) => s + x * dsim[j], 0);
    const fd = new Float64Array(B * D);
    for (let j = 0; j < B * D; j++) {
      const p = Float64Array.from(z64), m = Float64Array.from(z64);
      p[j] += h;
      m[j] -= h;
      fd[j] = (f(p) - f(m)) / (2 * h);
    }
    const an = cosineBackwardRef(z64, protos, dsim, B, K, D, INV_TEMP);
    expectClose(an, fd, 'dz vs FD', 1e-6, 1e-6);
    expect(an.some((v) => Math.abs(v) > 0.1)).toBe(true);
  });

  it('zero vectors give 0 similarity and 0 gradient, never NaN', () => {
    const { z, protos, dsim } = data(2, 3, 4, 7, [1], [0]);
    const sim = cosineForwardRef(z, protos, 2, 3, 4, INV_TEMP);
    const dz = cosineBackwardRef(z, protos, dsim, 2, 3, 4, INV_TEMP);
    expect(Array.from(sim.slice(3))).toEqual([0, 0, 0]);
    expect(sim[0]).toBe(0);
    expect(Array.from(dz.slice(4))).toEqual([0, 0, 0, 0]);
    expect([...sim, ...dz].every(Number.isFinite)).toBe(true);
  });
});

describe('cosine_similarity_forward / cosine_similarity_backward', () => {
  it('match the reference on ragged shapes, with zero feature rows and zero prototypes', async () => {
    for (const [B, K, D] of SHAPES) {
      const { z, protos, dsim } = data(B, K, D, B * 100 + K * 10 + D, [3, 11], [1]);
      const got = await runOp('cosine', { B, K, D, invTemp: INV_TEMP }, { z, protos, dsim });
      const tag = `B=${B} K=${K} D=${D}`;
      expectClose(got.sim, cosineForwardRef(z, protos, B, K, D, INV_TEMP), `sim ${tag}`, 2e-5, 2e-5);
      expectClose(got.dz, cosineBackwardRef(z, protos, dsim, B, K, D, INV_TEMP), `dz ${tag}`, 1e-5, 1e-4);
      if (B > 3) {
        expect(Array.from(got.sim.slice(3 * K, 4 * K)).every((v) => v === 0), `zero row sim ${tag}`).toBe(true);
        expect(Array.from(got.dz.slice(3 * D, 4 * D)).every((v) => v === 0), `zero row dz ${tag}`).toBe(true);
      }
    }
  });

  it('accumulates into dz when asked (z also feeds the classifier)', async () => {
    const [B, K, D] = [6, 10, 33];
    const { z, protos, dsim } = data(B, K, D, 77, [2]);
    const dz0 = randn(B * D, 78);
    const got = await runOp('cosine', { B, K, D, invTemp: INV_TEMP, accumulate: true }, { z, protos, dsim, dz0 });
    const ref = cosineBackwardRef(z, protos, dsim, B, K, D, INV_TEMP).map((v, j) => v + dz0[j]);
    expectClose(got.dz, ref, 'dz += grad', 1e-5, 1e-4);
  });

  it('rejects prototypes of another feature size, naming the kernel, the argument and the shapes', async () => {
    const [B, K, D] = [2, 3, 4];
    await expect(runOp('cosine', { B, K, D, invTemp: 1, protoShape: [K, D + 1] }, { z: randn(B * D, 1), protos: randn(K * (D + 1), 2) }))
      .rejects.toThrow("cosine_similarity_forward: argument 'protos' has shape [3, 5], expected [3, 4] (feature size of z [2, 4])");
  });
});
