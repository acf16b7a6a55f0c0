// BatchNorm2d launchers (PyTorch training/eval semantics): shape checks, then Dispatches of shaders/batchnorm.wgsl.
// Training forward and backward are two-stage reductions (per-chunk partials, then a fixed-order per-channel merge)
// followed by an elementwise pass; see the shader's header for the stages and their bindings.
import text from '../../shaders/batchnorm.wgsl';
import { ceilDiv, deviceFeatures, expectShape, grid1d, makeDispatch, preprocessWgsl, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';
import { expectNoAlias } from './elementwise.js';

export interface BatchNormOptions {
  /** Running-statistics momentum (PyTorch default 0.1). */
  momentum?: number;
  /** Added to the variance (PyTorch default 1e-5). */
  eps?: number;
  /** Update running_mean/running_var (default true). */
  updateRunning?: boolean;
  /** Force the reduction variant of the statistics passes: true = subgroupAdd (needs the device feature
   * 'subgroups'), false = the workgroup-memory tree. Default: `batchnormPrefersSubgroups(device)`. */
  subgroups?: boolean;
}

export interface BatchNormParams {
  N: number;
  C: number;
  HW: number;
  /** Chunks per channel in the partial reductions. */
  P: number;
  vec4: boolean;
  eps: number;
  momentum: number;
  updateRunning: boolean;
  /** The statistics passes (partial, merge) use the SUBGROUPS variant of the shader. */
  subgroups: boolean;
}

const WG = 64;
/** Values of one channel one workgroup reduces in stage 1 (a multiple of 4*WG: the vec4 loop has no remainder):
 * [320,32,32,32] gives 20 chunks x 32 channels = 640 workgroups, [64,32,32,32] 4 x 32, [64,128,8,8] 1 x 128.
 * On SwiftShader each workgroup costs ~70 us of fixed overhead (its 6-barrier merge tree), so short chunks lose:
 * stage 1 over [64,32,32,32] took 156-181 ms with 1024, 34-67 ms with 4096 and 31-32 ms with 16384 (2 shared cores,
 * noisy). A flatter 2-barrier merge helped only at 1024 (110-119 ms), so the tree stays. */
const CHUNK = 16384;
/** Values (vec4s) per thread in the elementwise passes (shaders/elementwise.wgsl has the measurements). */
const ITEMS = 16;

// (The exported helpers below are shared with the fused BN + leaky ReLU launchers, src/kernels/batchnorm-lrelu.ts.)
// One .wgsl file, two texts: the plain one and the SUBGROUPS one (`enable subgroups;` + subgroupAdd reductions).
const SOURCES = { plain: preprocessWgsl(text, { SUBGROUPS: false }), subgroups: preprocessWgsl(text, { SUBGROUPS: true }) };
/** The statistics kernels' text and variant name (the variant is part of the pipeline cache key). */
export const statsSource = (p: BatchNormParams) => (p.subgroups ? SOURCES.subgroups : SOURCES.plain);
export const statsVariant = (p: BatchNormParams) => (p.subgroups ? 'subgroups' : '');
/** The elementwise passes do not reduce: always the plain text. */
export const source = SOURCES.plain;

/** The subgroup variant as the default on a software fallback adapter (see below: off). */
const SUBGROUPS_ON_FALLBACK = false;

/** Whether the subgroup reductions are the default on a device: where it has 'subgroups', except on a software
 * fallback adapter (SwiftShader: subgroup size 4). There, `daso bench --filter 'batchnorm_forward N=|batchnorm_backward'`
 * over the 8 WRN-28-2 forward/backward cases (bench/results/kernels-bn-subgroups-swiftshader-2026-12-02.md; 2 cores
 * shared with a training run, load average ~9) gave subgroups / plain = 0.88 by sums of medians and 1.03 by sums of
 * minima (two runs of a first version: 0.93 / 1.02, 0.89 / 0.86), single cases swinging 0.6x-1.9x: no gain above the
 * noise, so the fallback keeps the plain variant (the same summation tree on every device, the one earlier
 * SwiftShader runs and fixtures were made with). Real GPUs: subgroupAdd runs in registers and replaces the tree's
 * log2(WG) + 1 barriers with 2, so it is their default (`subgroups: false` forces the tree); not yet measured on one. */
export function batchnormPrefersSubgroups(device: GPUDevice): boolean {
  const f = deviceFeatures(device);
  return f.subgroups && (!f.fallback || SUBGROUPS_ON_FALLBACK);
}

export function chooseSubgroups(kernel: string, x: Tensor, force: boolean | undefined): boolean {
  const device = (x.pool as { device?: GPUDevice } | undefined)?.device;
  if (force === undefined) return device ? batchnormPrefersSubgroups(device) : false;
  if (force && !(device && deviceFeatures(device).subgroups)) {
    throw new Error(`${kernel}: the subgroups variant needs the device feature 'subgroups', which this device lacks`);
  }
  return force;
}

export const numel = (p: BatchNormParams) => p.N * p.C * p.HW;
export const ep = (p: BatchNormParams, name: string) => (p.vec4 ? `${name}_v4` : name);
export const shapeConsts = (p: BatchNormParams) => ({ N: p.N, C: p.C, HW: p.HW, WG });
export const partialConsts = (p: BatchNormParams) => ({ ...shapeConsts(p), P: p.P, CHUNK });
export const applyConsts = (p: BatchNormParams) => ({ ...shapeConsts(p), ITEMS });
export const applyGrid = (p: BatchNormParams) => grid1d(ceilDiv(p.vec4 ? numel(p) / 4 : numel(p), WG * ITEMS));

export const batchnormForwardPartial: KernelDef<BatchNormParams> = {
  name: 'batchnorm_forward_partial',
  source: statsSource,
  variant: statsVariant,
  bindings: ['x', 'partials'],
  constants: partialConsts,
  entryPoint: (p) => ep(p, 'fwd_partial'),
  dispatch: (p) => grid1d(p.C * p.P),
  flops: (p) => 6 * numel(p),
  bytes: (p) => 4 * numel(p),
};

export const batchnormForwardMerge: KernelDef<BatchNormParams> = {
  name: 'batchnorm_forward_merge',
  source: statsSource,
  variant: statsVariant,
  bindings: ['partials', 'save_mean', 'save_invstd', 'running_mean', 'running_var'],
  constants: (p) => ({ C: p.C, P: p.P, WG, EPS: p.eps, MOMENTUM: p.momentum, UPDATE_RUNNING: +p.updateRunning }),
  entryPoint: () => 'fwd_merge',
  dispatch: (p) => grid1d(p.C),
  bytes: (p) => 4 * (3 * p.C * p.P + 6 * p.C),
};

export const batchnormForwardApply: KernelDef<BatchNormParams> = {
  name: 'batchnorm_forward_apply',
  source,
  bindings: ['x', 'y', 'mean', 'invstd', 'beta', 'gamma'],
  constants: (p) => ({ ...applyConsts(p), EVAL: 0 }),
  entryPoint: (p) => ep(p, 'apply'),
  dispatch: applyGrid,
  flops: (p) => 3 * numel(p),
  bytes: (p) => 8 * numel(p),
};

/** Eval mode: the apply pass with the running statistics in the mean/invstd slots. */
export const batchnormForwardEvalDef: KernelDef<BatchNormParams> = {
  ...batchnormForwardApply,
  name: 'batchnorm_forward_eval',
  bindings: ['x', 'y', 'running_mean', 'running_var', 'beta', 'gamma'],
  constants: (p) => ({ ...applyConsts(p), EVAL: 1, EPS: p.eps }),
};

export const batchnormBackwardPartial: KernelDef<BatchNormParams> = {
  name: 'batchnorm_backward_partial',
  source: statsSource,
  variant: statsVariant,
  bindings: ['x', 'partials', 'save_mean', 'save_invstd', 'dy'],
  constants: partialConsts,
  entryPoint: (p) => ep(p, 'bwd_partial'),
  dispatch: (p) => grid1d(p.C * p.P),
  flops: (p) => 4 * numel(p),
  bytes: (p) => 8 * numel(p),
};

export const batchnormBackwardMerge: KernelDef<BatchNormParams> = {
  name: 'batchnorm_backward_merge',
  source: statsSource,
  variant: statsVariant,
  bindings: ['partials', 'dgamma', 'dbeta'],
  constants: (p) => ({ C: p.C, P: p.P, WG }),
  entryPoint: () => 'bwd_merge',
  dispatch: (p) => grid1d(p.C),
  bytes: (p) => 4 * (3 * p.C * p.P + 2 * p.C),
};

export const batchnormBackwardApply: KernelDef<BatchNormParams> = {
  name: 'batchnorm_backward_apply',
  source,
  bindings: ['x', 'dx', 'save_mean', 'save_invstd', 'dy', 'gamma', 'dgamma', 'dbeta'],
  constants: applyConsts,
  entryPoint: (p) => ep(p, 'bwd_apply'),
  dispatch: applyGrid,
  flops: (p) => 7 * numel(p),
  bytes: (p) => 12 * numel(p),
};

/** [N,C,H,W] -> {N, C, HW}; [N,C] is H = W = 1. */
export function dims(kernel: string, x: Tensor): { N: number; C: number; HW: number } {
  if ((x.shape.length !== 2 && x.shape.length !== 4) || x.dtype !== 'f32') {
    throw new Error(`${kernel}: argument 'x' has shape ${shapeStr(x.shape)}:${x.dtype}, expected [N, C, H, W] or [N, C] of f32`);
  }
  const [N, C, H = 1, W = 1] = x.shape;
  return { N, C, HW: H * W };
}

export function params(d: { N: number; C: number; HW: number }, o: BatchNormOptions = {}, subgroups = false): BatchNormParams {
  return {
    ...d,
    P: ceilDiv(d.N * d.HW, CHUNK),
    vec4: d.HW % 4 === 0,
    eps: o.eps ?? 1e-5,
    momentum: o.momentum ?? 0.1,
    updateRunning: o.updateRunning ?? true,
    subgroups,
  };
}

export function expectChannels(kernel: string, C: number, ts: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(ts)) expectShape(kernel, name, t, [C], 'f32');
}

/** Partial statistics of the two-stage reductions: [C, chunks, 3] (forward and backward use the same shape). */
export function batchnormScratchShape(xShape: readonly number[]): number[] {
  const [N, C, H = 1, W = 1] = xShape;
  return [C, ceilDiv(N * H * W, CHUNK), 3];
}

/** Training-mode forward: batch statistics (biased variance) normalise x; saveMean/saveInvStd ([C]) are kept for
 * the backward; running statistics get the momentum update with the unbiased variance. Three dispatches. */
export function batchnormForwardTrain(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  y: Tensor, saveMean: Tensor, saveInvStd: Tensor, scratch: Tensor, o: BatchNormOptions = {}): Dispatch[] {
  const k = 'batchnorm_forward';
  const d = dims(k, x);
  expectChannels(k, d.C, { gamma, beta, runningMean, runningVar, saveMean, saveInvStd });
  expectShape(k, 'y', y, x.shape, 'f32');
  expectShape(k, 'scratch', scratch, batchnormScratchShape(x.shape), 'f32');
  expectNoAlias(k, 'y', y, 'x', x);
  expectNoAlias(k, 'runningVar', runningVar, 'runningMean', runningMean);
  expectNoAlias(k, 'saveInvStd', saveInvStd, 'saveMean', saveMean);
  const p = params(d, o, chooseSubgroups(k, x, o.subgroups));
  const s = shapeStr(x.shape);
  return [
    makeDispatch(batchnormForwardPartial, p, { x, partials: scratch }, s),
    makeDispatch(batchnormForwardMerge, p, { partials: scratch, save_mean: saveMean, save_invstd: saveInvStd, running_mean: runningMean, running_var: runningVar }, s),
    makeDispatch(batchnormForwardApply, p, { x, y, mean: saveMean, invstd: saveInvStd, beta, gamma }, s),
  ];
}

/** Eval-mode forward: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta. */
export function batchnormForwardEval(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, y: Tensor,
  o: { eps?: number } = {}): Dispatch {
  const k = 'batchnorm_forward_eval';
  const d = dims(k, x);
  expectChannels(k, d.C, { gamma, beta, runningMean, runningVar });
  expectShape(k, 'y', y, x.shape, 'f32');
  expectNoAlias(k, 'y', y, 'x', x);
  return makeDispatch(batchnormForwardEvalDef, params(d, o), { x, y, running_mean: runningMean, running_var: runningVar, beta, gamma }, shapeStr(x.shape));
}

/** Training-mode backward from the forward's saveMean/saveInvStd: dx, dgamma and dbeta are overwritten (not
 * accumulated). Three dispatches. `o.subgroups` as in the forward. */
export function batchnormBackward(x: Tensor, dy: Tensor, gamma: Tensor, saveMean: Tensor, saveInvStd: Tensor,
  dx: Tensor, dgamma: Tensor, dbeta: Tensor, scratch: Tensor, o: { subgroups?: boolean } = {}): Dispatch[] {
  const k = 'batchnorm_backward';
  const d = dims(k, x);
  expectShape(k, 'dy', dy, x.shape, 'f32');
  expectShape(k, 'dx', dx, x.shape, 'f32');
  expectChannels(k, d.C, { gamma, saveMean, saveInvStd, dgamma, dbeta });
  expectShape(k, 'scratch', scratch, batchnormScratchShape(x.shape), 'f32');
  expectNoAlias(k, 'dx', dx, 'x', x);
  expectNoAlias(k, 'dx', dx, 'dy', dy);
  expectNoAlias(k, 'dbeta', dbeta, 'dgamma', dgamma);
  const p = params(d, {}, chooseSubgroups(k, x, o.subgroups));
  const s = shapeStr(x.shape);
  return [
    makeDispatch(batchnormBackwardPartial, p, { x, partials: scratch, save_mean: saveMean, save_invstd: saveInvStd, dy }, s),
    makeDispatch(batchnormBackwardMerge, p, { partials: scratch, dgamma, dbeta }, s),
    makeDispatch(batchnormBackwardApply, p, { x, dx, save_mean: saveMean, save_invstd: saveInvStd, dy, gamma, dgamma, dbeta }, s),
  ];
}
