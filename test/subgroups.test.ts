// Feature variants of the kernels (issue 15 item 3): every variant this adapter can run is checked against the
// TypeScript reference on ragged shapes; a variant whose device feature is missing is skipped with the reason,
// printed. Variants: batch-norm statistics with the workgroup-memory tree (plain) and with subgroupAdd (SUBGROUPS).
// (The fused BN + leaky ReLU kernels' numerics in both variants: test/batchnorm-lrelu.test.ts.)
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterReport } from '../src/gpu/device.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { makeDispatch, preprocessWgsl } from '../src/gpu/kernel.js';
import {
  batchnormBackwardMerge, batchnormBackwardPartial, batchnormForwardApply, batchnormForwardMerge, batchnormForwardPartial,
  batchnormForwardTrain, batchnormScratchShape, type BatchNormParams,
} from '../src/kernels/batchnorm.js';
import { batchnormLreluBackwardMerge, batchnormLreluBackwardPartial } from '../src/kernels/batchnorm-lrelu.js';
import { batchnormBackwardRef, batchnormForwardTrainRef } from '../src/kernels/batchnorm.ref.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, inPage, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const info = await inPage((daso) => daso.rt.info) as AdapterReport;
const noSubgroups = !info.subgroups;
if (noSubgroups) {
  console.log("SKIP batchnorm subgroups variant: the device lacks the 'subgroups' feature (adapter does not offer it)");
} else {
  console.log(`batchnorm subgroups variant: tested (subgroup size ${info.subgroupMinSize}-${info.subgroupMaxSize})`);
}
if (!info.f16) {
  console.log("SKIP f16 variants: not built and not tested, the adapter lacks 'shader-f16'");
} else {
  console.log("f16 variants: none exist yet (the device has 'shader-f16')");
}

// n = N*H*W of 1, 7, 33, 1000 and past one 16384-value chunk (2-3 partials per channel); channel counts 1-37;
// H*W = 1 / odd (scalar entry points) / a multiple of 4 (vec4 entry points). None a multiple of 32 or of 4 in n.
const SHAPES: number[][] = [[1, 3, 1, 1], [7, 5], [33, 37], [1, 1, 3, 11], [10, 3, 10, 10], [1000, 33], [5, 2, 61, 67], [5, 2, 64, 52], [33000, 2]];
const dims = (s: number[]) => ({ N: s[0], C: s[1], HW: (s[2] ?? 1) * (s[3] ?? 1) });
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

function bnInputs(shape: number[], seed: number, offset = 0.3, scale = 1.5) {
  const { C } = dims(shape);
  return {
    x: randn(numel(shape), seed, scale).map((v) => v + offset),
    gamma: randn(C, seed + 1), beta: randn(C, seed + 2),
    runningMean: randn(C, seed + 3), runningVar: randn(C, seed + 4, 0.2).map((v) => 1 + v),
  };
}

const VARIANTS = [
  { name: 'plain', subgroups: false, skip: false, why: '' },
  { name: 'subgroups', subgroups: true, skip: noSubgroups, why: " (skipped: the device lacks 'subgroups')" },
];

describe('variant sources (one .wgsl, wgsl-preprocessor #if)', () => {
  const p: BatchNormParams & { slope: number } = { N: 2, C: 3, HW: 5, P: 1, vec4: false, eps: 1e-5, momentum: 0.1, updateRunning: true, subgroups: false, slope: 0.1 };
  const fake = { shape: [1], dtype: 'f32' } as unknown as Tensor;
  const ts = { x: fake, partials: fake, save_mean: fake, save_invstd: fake, running_mean: fake, running_var: fake, dy: fake, dgamma: fake, dbeta: fake,
    da: fake, a: fake, coef: fake, gamma: fake };

  it('differ by the enable directive and the reduction body, and the variant is in the cache key', () => {
    const fused = [batchnormLreluBackwardPartial, batchnormLreluBackwardMerge] as unknown as (typeof batchnormForwardPartial)[];
    for (const def of [batchnormForwardPartial, batchnormForwardMerge, batchnormBackwardPartial, batchnormBackwardMerge, ...fused]) {
      const plain = makeDispatch(def, p, ts);
      const sg = makeDispatch(def, { ...p, subgroups: true }, ts);
      expect(plain.source).not.toContain('enable subgroups;');
      expect(plain.source).not.toMatch(/subgroupAdd\(/);
      expect(plain.source).not.toMatch(/^#/m);
      expect(sg.source).toMatch(/^enable subgroups;$/m);
      expect(sg.source).toMatch(/subgroupAdd\(/);
      expect(sg.source).not.toMatch(/^#/m);
      expect(sg.key).toContain('[subgroups]');
      expect(plain.key).not.toContain('[subgroups]');
      expect(sg.key.replace('[subgroups]', '')).toBe(plain.key);
    }
    // The elementwise pass does not reduce: one text, one pipeline for both.
    expect(makeDispatch(batchnormForwardApply, p, { ...ts, y: fake, mean: fake, invstd: fake, beta: fake, gamma: fake }).source).not.toContain('subgroups');
  });

  it('preprocessWgsl: nested flags, #elif, #else; unknown flags throw', () => {
    const t = 'a\n#if A\nb\n#if B\nc\n#endif\n#elif C\nd\n#else\ne\n#endif\nf';
    const lines = (s: string) => s.split('\n').map((x) => x.trim()).filter(Boolean).join('');
    expect(lines(preprocessWgsl(t, { A: true, B: true, C: false }))).toBe('abcf');
    expect(lines(preprocessWgsl(t, { A: true, B: false, C: false }))).toBe('abf');
    expect(lines(preprocessWgsl(t, { A: false, B: true, C: true }))).toBe('adf');
    expect(lines(preprocessWgsl(t, { A: false, B: true, C: false }))).toBe('aef');
    expect(() => preprocessWgsl(t, { A: true })).toThrow("preprocessWgsl: unknown flag 'B'");
  });

  it('forcing the subgroups variant on a device without the feature throws a clear error', () => {
    const device = { features: new Set<string>(), adapterInfo: {} } as unknown as GPUDevice;
    const t = (shape: number[], buffer = {}) => ({ shape, dtype: 'f32', pool: { device }, buffer, offset: 0, byteLength: 4 * numel(shape) }) as unknown as Tensor;
    expect(() => batchnormForwardTrain(t([2, 3]), t([3]), t([3]), t([3]), t([3]), t([2, 3]), t([3]), t([3]), t(batchnormScratchShape([2, 3])), { subgroups: true }))
      .toThrow("batchnorm_forward: the subgroups variant needs the device feature 'subgroups', which this device lacks");
    // Default on such a device: the plain variant.
    const ds = batchnormForwardTrain(t([2, 3]), t([3]), t([3]), t([3]), t([3]), t([2, 3]), t([3]), t([3]), t(batchnormScratchShape([2, 3])));
    expect(ds.every((d) => !d.key.includes('[subgroups]') && !d.source.includes('enable subgroups;'))).toBe(true);
  });
});

for (const v of VARIANTS) {
  describe(`batchnorm statistics, ${v.name} variant`, () => {
    it.skipIf(v.skip)(`forward matches the reference on ragged shapes (${v.name})${v.skip ? v.why : ''}`, async () => {
      for (const shape of SHAPES) {
        const { N, C, HW } = dims(shape);
        const inp = bnInputs(shape, numel(shape) + 11);
        const out = await runOp('batchnorm_forward_train', { shape, subgroups: v.subgroups }, inp);
        const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
        const what = `${v.name} ${shape}`;
        expectClose(out.mean, ref.mean, `${what} mean`, 1e-5, 1e-5);
        expectClose(out.invstd, ref.invstd, `${what} invstd`, 1e-5, 1e-4);
        expectClose(out.runningMean, ref.runningMean, `${what} runningMean`, 1e-5, 1e-5);
        expectClose(out.runningVar, ref.runningVar, `${what} runningVar`, 1e-5, 1e-4);
        expectClose(out.y, ref.y, `${what} y`, 2e-5, 1e-4);
      }
    });

    it.skipIf(v.skip)(`backward matches the reference on ragged shapes (${v.name})${v.skip ? v.why : ''}`, async () => {
      for (const shape of SHAPES) {
        const { N, C, HW } = dims(shape);
        const inp = bnInputs(shape, numel(shape) + 5);
        const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
        const mean = Float32Array.from(ref.mean), invstd = Float32Array.from(ref.invstd);
        const dy = randn(numel(shape), numel(shape) + 6, N * HW === 1 ? 1e-2 : 1);
        const out = await runOp('batchnorm_backward', { shape, subgroups: v.subgroups }, { x: inp.x, dy, gamma: inp.gamma, mean, invstd });
        const r = batchnormBackwardRef(inp.x, dy, inp.gamma, mean, invstd, N, C, HW);
        expectClose(out.dbeta, r.dbeta, `${v.name} ${shape} dbeta`, 2e-4, 1e-4);
        expectClose(out.dgamma, r.dgamma, `${v.name} ${shape} dgamma`, 2e-4, 1e-4);
        expectClose(out.dx, r.dx, `${v.name} ${shape} dx`, 1e-4, 1e-3);
      }
    });

    it.skipIf(v.skip)(`is stable (1000 + N(0,1)) and bit-for-bit deterministic (${v.name})${v.skip ? v.why : ''}`, async () => {
      for (const shape of [[5, 2, 64, 52], [5, 2, 61, 67]]) {
        const { N, C, HW } = dims(shape);
        const inp = bnInputs(shape, 5, 1000, 1);
        const ref = batchnormForwardTrainRef(inp.x, inp.gamma, inp.beta, inp.runningMean, inp.runningVar, N, C, HW);
        const out = await runOp('batchnorm_forward_train', { shape, subgroups: v.subgroups }, inp);
        expectClose(out.mean, ref.mean, `${v.name} offset mean`, 1e-5, 1e-5);
        expectClose(out.invstd, ref.invstd, `${v.name} offset invstd`, 1e-5, 1e-4);
        expectClose(out.y, ref.y, `${v.name} offset y`, 3e-4, 1e-4);
        const again = await runOp('batchnorm_forward_train', { shape, subgroups: v.subgroups }, inp);
        expect(Array.from(again.mean)).toEqual(Array.from(out.mean));
        expect(Array.from(again.invstd)).toEqual(Array.from(out.invstd));
      }
    });
  });
}
