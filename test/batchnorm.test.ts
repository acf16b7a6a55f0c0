import { afterAll, describe, expect, it } from 'vitest';
import { batchnormScratchShape } from '../src/kernels/batchnorm.js';
import { batchnormBackwardRef, batchnormForwardEvalRef, batchnormForwardTrainRef } from '../src/kernels/batchnorm.ref.js';
import { expectClose, randn, rng } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

// Ragged shapes: n = N*H*W of 1, primes, [N,C] inputs, H*W = 1 / odd (scalar path) / multiples of 4 (vec4 path),
// and n past the 16384-value chunk (several partials per channel: 3 in [33000, 2], 2 in [5, 2, 61, 67] (scalar) and
// [5, 2, 64, 52] (vec4)).
const SHAPES: number[][] = [[1, 1, 1, 1], [1, 3], [7, 5], [33000, 2], [2, 3, 5, 7], [3, 2, 4, 4], [1, 5, 1, 1], [5, 2, 61, 67], [5, 2, 64, 52]];
const dims = (s: number[]) => ({ N: s[0], C: s[1], HW: (s[2] ?? 1) * (s[3] ?? 1) });
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

function bnInputs(shape: number[], seed: number, offset = 0.3, scale = 1.5) {
  const { C } = dims(shape);
  return {
    x: randn(numel(shape), seed, scale).map((v) => v + offset),
    gamma: randn(C, seed + 1), beta: randn(C, seed + 2),
    runningMean: randn(C, seed + 3), runningVar: uniform(C, seed + 4, 0.5, 1.5),
  };
}

function checkTrain(out: Record<string, Float64Array>, ref: ReturnType<typeof batchnormForwardTrainRef>, what: string, yAtol = 2e-5): void {
  expectClose(out.mean, ref.mean, `${what} mean`, 1e-5, 1e-5);
  expectClose(out.invstd, ref.invstd, `${what} invstd`, 1e-5, 1e-4);
  expectClose(out.runningMean, ref.runningMean, `${what} runningMean`, 1e-5, 1e-5);
  expectClose(out.runningVar, ref.runningVar, `${what} runningVar`, 1e-5, 1e-4);
  expectClose(out.y, ref.y, `${what} y`, yAtol, 1e-4);
}

/** Central differences of a scalar function of x, in float64. */
function fdGrad(f: (x: Float64Array) => number, x0: ArrayLike<number>, h = 1e-5): Float64Array {
  const x = Float64Array.from(x0);
  return Float64Array.from(x, (v, i) => {
    x[i] = v + h; const fp = f(x);
    x[i] = v - h; const fm = f(x);
    x[i] = v;
    return (fp - fm) / (2 * h);
  });
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

describe('batchnorm_forward (training mode)', () => {
  it('matches PyTorch semantics on ragged shapes: y, batch stats, running-stat update', async () => {
    for (const shape of SHAPES) {
      const { N, C, HW } = dims(shape);
      const inp = bnInputs(shape, numel(shape));
      const out = await runOp('batchnorm_forward_train', { shape }, inp);
      checkTrain(out, batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW), `${shape}`);
    }
  });

  it('honours momentum, eps and updateRunning=false', async () => {
    const shape = [3, 4, 5, 4];
    const { N, C, HW } = dims(shape);
    const inp = bnInputs(shape, 77);
    const o = { momentum: 0.3, eps: 1e-3 };
    checkTrain(await runOp('batchnorm_forward_train', { shape, ...o }, inp),
      batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW, o), 'momentum 0.3 eps 1e-3');
    const frozen = await runOp('batchnorm_forward_train', { shape, updateRunning: false }, inp);
    expectClose(frozen.runningMean, inp.runningMean, 'running mean untouched', 0, 0);
    expectClose(frozen.runningVar, inp.runningVar, 'running var untouched', 0, 0);
  });

  it('is stable and deterministic with a large offset (1000 + N(0,1)), where E[x^2]-E[x]^2 fails', async () => {
    for (const shape of [[5, 2, 64, 52], [5, 2, 61, 67]]) {
      const { N, C, HW } = dims(shape);
      const inp = bnInputs(shape, 5, 1000, 1);
      const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
      // The naive single-pass formula in f32 is off by far more than the tolerance below (so this input discriminates).
      let s = Math.fround(0), ss = Math.fround(0);
      for (let i = 0; i < N * HW; i++) { const v = inp.x[Math.floor(i / HW) * C * HW + (i % HW)]; s = Math.fround(s + v); ss = Math.fround(ss + Math.fround(v * v)); }
      const naiveVar = Math.fround(ss / (N * HW)) - Math.fround(s / (N * HW)) ** 2;
      const trueVar = 1 / ref.invstd[0] ** 2 - 1e-5;
      expect(Math.abs(naiveVar - trueVar) / trueVar).toBeGreaterThan(1e-2);
      const out = await runOp('batchnorm_forward_train', { shape }, inp);
      // y's error is bounded by the f32 rounding of a mean near 1000 (ulp 6e-5) times invstd.
      checkTrain(out, ref, `offset 1000 ${shape}`, 3e-4);
      const again = await runOp('batchnorm_forward_train', { shape }, inp);
      expect(Array.from(again.mean)).toEqual(Array.from(out.mean));
      expect(Array.from(again.invstd)).toEqual(Array.from(out.invstd));
      expect(Array.from(again.y)).toEqual(Array.from(out.y));
    }
  });
});

describe('batchnorm_forward_eval', () => {
  it('normalises with the running statistics on ragged shapes', async () => {
    for (const shape of [[1, 1, 1, 1], [7, 5], [2, 3, 5, 7], [3, 2, 4, 4]]) {
      const { N, C, HW } = dims(shape);
      const inp = bnInputs(shape, numel(shape) + 9);
      const { y } = await runOp('batchnorm_forward_eval', { shape }, inp);
      expectClose(y, batchnormForwardEvalRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW), `eval ${shape}`, 2e-5, 1e-4);
    }
  });
});

describe('batchnorm_backward', () => {
  it('reference backward equals finite differences of the reference forward (x, gamma, beta)', () => {
    for (const shape of [[3, 2, 2, 3], [5, 3], [2, 2, 1, 1]]) {
      const { N, C, HW } = dims(shape);
      const inp = bnInputs(shape, 21);
      const w = randn(numel(shape), 22); // L = sum(w * y), so dL/dy = w
      const fwd = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
        dot(batchnormForwardTrainRef(x, g, b, inp.runningMean, inp.runningVar, N, C, HW).y, w);
      const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
      const bwd = batchnormBackwardRef(inp.x, w, inp.gamma, ref.mean, ref.invstd, N, C, HW);
      expectClose(bwd.dx, fdGrad((x) => fwd(x, inp.gamma, inp.beta), inp.x), `FD dx ${shape}`, 1e-6, 1e-5);
      expectClose(bwd.dgamma, fdGrad((g) => fwd(inp.x, g, inp.beta), inp.gamma), `FD dgamma ${shape}`, 1e-6, 1e-5);
      expectClose(bwd.dbeta, fdGrad((b) => fwd(inp.x, inp.gamma, b), inp.beta), `FD dbeta ${shape}`, 1e-6, 1e-5);
    }
  });

  it('GPU backward matches the reference on ragged shapes (dgamma/dbeta overwritten)', async () => {
    for (const shape of SHAPES) {
      const { N, C, HW } = dims(shape);
      const inp = bnInputs(shape, numel(shape) + 3);
      const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
      const mean = f32(ref.mean), invstd = f32(ref.invstd);
      // n = 1 gives invstd = 1/sqrt(eps): keep dy small there so dx's scale stays comparable.
      const dy = randn(numel(shape), numel(shape) + 4, N * HW === 1 ? 1e-2 : 1);
      const out = await runOp('batchnorm_backward', { shape }, { x: inp.x, dy, gamma: inp.gamma, mean, invstd });
      const r = batchnormBackwardRef(inp.x, dy, inp.gamma, mean, invstd, N, C, HW);
      expectClose(out.dbeta, r.dbeta, `${shape} dbeta`, 2e-4, 1e-4);
      expectClose(out.dgamma, r.dgamma, `${shape} dgamma`, 2e-4, 1e-4);
      expectClose(out.dx, r.dx, `${shape} dx`, 1e-4, 1e-3);
    }
  });
});

describe('batchnorm shape checks', () => {
  it('rejects bad shapes, naming the kernel, the argument and expected vs given', async () => {
    const inp = bnInputs([2, 3, 2, 2], 1);
    await expect(runOp('batchnorm_forward_train', { shape: [2, 3, 2, 2], gammaShape: [4] }, { ...inp, gamma: new Float32Array(4) }))
      .rejects.toThrow("batchnorm_forward: argument 'gamma' has shape [4], expected [3]");
    await expect(runOp('batchnorm_forward_train', { shape: [2, 3, 2, 2], scratchShape: [3, 2, 3] }, inp))
      .rejects.toThrow("batchnorm_forward: argument 'scratch' has shape [3, 2, 3], expected [3, 1, 3]");
    await expect(runOp('batchnorm_forward_train', { shape: [2, 3, 4] }, { ...inp, x: new Float32Array(24) }))
      .rejects.toThrow("batchnorm_forward: argument 'x' has shape [2, 3, 4]:f32, expected [N, C, H, W] or [N, C] of f32");
    expect(batchnormScratchShape([320, 32, 32, 32])).toEqual([32, 20, 3]);
  });
});
