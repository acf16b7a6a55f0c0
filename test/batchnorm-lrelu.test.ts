// BatchNorm2d fused with the leaky ReLU after it (src/kernels/batchnorm-lrelu.ts): forward (train, eval) and backward
// against the TypeScript reference on ragged shapes, in both statistics variants (plain tree; subgroupAdd where the
// adapter has 'subgroups', else skipped with the reason printed), and against the unfused kernels it replaces.
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterReport } from '../src/gpu/device.js';
import { batchnormLreluBackward } from '../src/kernels/batchnorm-lrelu.js';
import { batchnormForwardEvalRef, batchnormForwardTrainRef, batchnormLreluBackwardRef, leakyReluRef } from '../src/kernels/batchnorm.ref.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, inPage, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const info = await inPage((daso) => daso.rt.info) as AdapterReport;
if (!info.subgroups) console.log("SKIP batchnorm_lrelu subgroups variant: the device lacks the 'subgroups' feature");

// N = 1, odd C, n = N*H*W of 1 / odd / past one 16384-value chunk; H*W = 1 / odd (scalar entry points) / a multiple
// of 4 (vec4 entry points); [N,C] inputs.
const SHAPES: number[][] = [[1, 1, 1, 1], [1, 3, 1, 1], [7, 5], [1, 5, 3, 11], [2, 3, 5, 7], [3, 7, 4, 4], [1, 3, 8, 12], [5, 2, 61, 67], [5, 2, 64, 52], [33000, 2]];
const dims = (s: number[]) => ({ N: s[0], C: s[1], HW: (s[2] ?? 1) * (s[3] ?? 1) });
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const f32 = (a: ArrayLike<number>) => Float32Array.from(a);
const SLOPE = 0.1;

function bnInputs(shape: number[], seed: number) {
  const { C } = dims(shape);
  return {
    x: randn(numel(shape), seed, 1.5).map((v) => v + 0.3),
    gamma: randn(C, seed + 1), beta: randn(C, seed + 2),
    runningMean: randn(C, seed + 3), runningVar: randn(C, seed + 4, 0.2).map((v) => 1 + v),
  };
}

/** Backward inputs: x, the activation a (f32 of the reference forward), its gradient da, the saved statistics. */
function bwdInputs(shape: number[], seed: number, slope: number) {
  const { N, C, HW } = dims(shape);
  const inp = bnInputs(shape, seed);
  const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
  // n = 1 gives invstd = 1/sqrt(eps): keep da small there so dx's scale stays comparable.
  const da = randn(numel(shape), seed + 7, N * HW === 1 ? 1e-2 : 1);
  return { x: inp.x, a: f32(leakyReluRef(ref.y, slope)), da, gamma: inp.gamma, mean: f32(ref.mean), invstd: f32(ref.invstd) };
}

const fdGrad = (f: (x: Float64Array) => number, x0: ArrayLike<number>, h = 1e-5) => {
  const x = Float64Array.from(x0);
  return Float64Array.from(x, (v, i) => {
    x[i] = v + h; const fp = f(x);
    x[i] = v - h; const fm = f(x);
    x[i] = v;
    return (fp - fm) / (2 * h);
  });
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

describe('batchnorm_lrelu reference', () => {
  it('backward equals finite differences of leaky_relu(BN(x)) (x, gamma, beta)', () => {
    for (const shape of [[3, 2, 2, 3], [5, 3]]) {
      const { N, C, HW } = dims(shape);
      const inp = bnInputs(shape, 31);
      const w = randn(numel(shape), 32); // L = sum(w * a)
      const fwd = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) =>
        dot(leakyReluRef(batchnormForwardTrainRef(x, g, b, inp.runningMean, inp.runningVar, N, C, HW).y, SLOPE), w);
      const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
      const r = batchnormLreluBackwardRef(inp.x, leakyReluRef(ref.y, SLOPE), w, inp.gamma, ref.mean, ref.invstd, N, C, HW, SLOPE);
      expectClose(r.dx, fdGrad((x) => fwd(x, inp.gamma, inp.beta), inp.x), `FD dx ${shape}`, 1e-6, 1e-5);
      expectClose(r.dgamma, fdGrad((g) => fwd(inp.x, g, inp.beta), inp.gamma), `FD dgamma ${shape}`, 1e-6, 1e-5);
      expectClose(r.dbeta, fdGrad((b) => fwd(inp.x, inp.gamma, b), inp.beta), `FD dbeta ${shape}`, 1e-6, 1e-5);
    }
  });
});

for (const v of [{ name: 'plain', subgroups: false, skip: false }, { name: 'subgroups', subgroups: true, skip: !info.subgroups }]) {
  describe(`batchnorm_lrelu, ${v.name} statistics variant`, () => {
    it.skipIf(v.skip)(`forward (train) matches leaky_relu(BN(x)) of the reference on ragged shapes (${v.name})`, async () => {
      for (const [i, shape] of SHAPES.entries()) {
        const { N, C, HW } = dims(shape);
        const slope = i === 3 ? 0.25 : SLOPE; // one shape with another slope: SLOPE reaches the shader
        const inp = bnInputs(shape, numel(shape) + 13);
        const out = await runOp('batchnorm_lrelu_forward_train', { shape, slope, subgroups: v.subgroups }, inp);
        const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
        const what = `${v.name} ${shape}`;
        expectClose(out.mean, ref.mean, `${what} mean`, 1e-5, 1e-5);
        expectClose(out.invstd, ref.invstd, `${what} invstd`, 1e-5, 1e-4);
        expectClose(out.runningMean, ref.runningMean, `${what} runningMean`, 1e-5, 1e-5);
        expectClose(out.runningVar, ref.runningVar, `${what} runningVar`, 1e-5, 1e-4);
        expectClose(out.a, leakyReluRef(ref.y, slope), `${what} a`, 2e-5, 1e-4);
      }
    });

    it.skipIf(v.skip)(`backward matches the reference on ragged shapes, dgamma/dbeta overwritten (${v.name})`, async () => {
      for (const [i, shape] of SHAPES.entries()) {
        const { N, C, HW } = dims(shape);
        const slope = i === 4 ? 0.25 : SLOPE;
        const inp = bwdInputs(shape, numel(shape) + 17, slope);
        const out = await runOp('batchnorm_lrelu_backward', { shape, slope, subgroups: v.subgroups }, inp);
        const r = batchnormLreluBackwardRef(inp.x, inp.a, inp.da, inp.gamma, inp.mean, inp.invstd, N, C, HW, slope);
        expectClose(out.dbeta, r.dbeta, `${v.name} ${shape} dbeta`, 2e-4, 1e-4);
        expectClose(out.dgamma, r.dgamma, `${v.name} ${shape} dgamma`, 2e-4, 1e-4);
        expectClose(out.dx, r.dx, `${v.name} ${shape} dx`, 1e-4, 1e-3);
      }
    });
  });
}

describe('batchnorm_lrelu against the unfused kernels', () => {
  it('eval forward matches the reference on ragged shapes', async () => {
    for (const shape of [[1, 1, 1, 1], [7, 5], [2, 3, 5, 7], [3, 7, 4, 4]]) {
      const { N, C, HW } = dims(shape);
      const inp = bnInputs(shape, numel(shape) + 19);
      const { a } = await runOp('batchnorm_lrelu_forward_eval', { shape, slope: SLOPE }, inp);
      const ref = leakyReluRef(batchnormForwardEvalRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW), SLOPE);
      expectClose(a, ref, `eval ${shape}`, 2e-5, 1e-4);
    }
  });

  it('fused forward a = leaky_relu of the unfused BN output; fused backward = BN backward of the masked gradient', async () => {
    for (const shape of [[2, 3, 5, 7], [3, 7, 4, 4]]) {
      const inp = bnInputs(shape, 41);
      const fused = await runOp('batchnorm_lrelu_forward_train', { shape, slope: SLOPE }, inp);
      const { y } = await runOp('batchnorm_forward_train', { shape }, inp);
      expectClose(fused.a, leakyReluRef(y, Math.fround(SLOPE)).map(Math.fround), `fused vs unfused a ${shape}`, 1e-6, 1e-6);
      const b = bwdInputs(shape, 43, SLOPE);
      const out = await runOp('batchnorm_lrelu_backward', { shape, slope: SLOPE }, b);
      const dy = f32(Array.from(b.da, (g, i) => (b.a[i] > 0 ? g : Math.fround(Math.fround(SLOPE) * g))));
      const un = await runOp('batchnorm_backward', { shape }, { x: b.x, dy, gamma: b.gamma, mean: b.mean, invstd: b.invstd });
      expectClose(out.dgamma, un.dgamma, `fused vs unfused dgamma ${shape}`, 1e-5, 1e-5);
      expectClose(out.dbeta, un.dbeta, `fused vs unfused dbeta ${shape}`, 1e-5, 1e-5);
      expectClose(out.dx, un.dx, `fused vs unfused dx ${shape}`, 1e-5, 1e-4);
    }
  });

  it('rejects a slope <= 0 and a wrong coef shape, naming the problem', () => {
    const device = { features: new Set<string>(), adapterInfo: {} } as unknown as GPUDevice;
    const t = (shape: number[]) => ({ shape, dtype: 'f32', pool: { device }, buffer: {}, offset: 0, byteLength: 4 * numel(shape) }) as unknown as Tensor;
    const s = [2, 3, 2, 2];
    const call = (slope: number, coef: number[]) => batchnormLreluBackward(t(s), t(s), t(s), t([3]), t([3]), t([3]), t(s), t([3]), t([3]), t([3, 1, 3]), t(coef), slope);
    expect(() => call(0, [3, 4])).toThrow('batchnorm_lrelu_backward: slope 0 is not > 0');
    expect(() => call(-0.1, [3, 4])).toThrow('slope -0.1 is not > 0');
    expect(() => call(0.1, [3, 3])).toThrow("batchnorm_lrelu_backward: argument 'coef' has shape [3, 3], expected [3, 4]");
    expect(call(0.1, [3, 4]).map((d) => d.name)).toEqual(['batchnorm_lrelu_backward_partial', 'batchnorm_lrelu_backward_merge', 'batchnorm_lrelu_backward_apply']);
  });
});
