// BatchNorm2d fused with the leaky ReLU after it (issue 15 item 4): a = leaky_relu(BN(x), slope). Every BN of the
// WRN (pre-activation) feeds exactly one leaky ReLU, so the BN output is never needed on its own:
//   forward:  the apply pass writes a directly (one elementwise pass fewer: no y written then read back);
//   backward: dy = da * (a > 0 ? 1 : slope) is computed on the fly in the BN backward's partial and apply passes
//             (never written), and the merge folds the per-channel factors into coef = (mean, k1, k2, k3) so the apply
//             pass binds 5 buffers (x, dx, coef, a, da) instead of 8 + a.
// a > 0 exactly when BN(x) > 0 because slope > 0 (checked below), so the mask from a is the one leaky_relu_backward
// takes from its input. Statistics passes are the same as batchnorm.ts's (plain / SUBGROUPS variants).
import { expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';
import {
  applyConsts, applyGrid, batchnormForwardMerge, batchnormForwardPartial, batchnormScratchShape, chooseSubgroups, dims, ep, expectChannels,
  numel, params, partialConsts, source, statsSource, statsVariant, type BatchNormOptions, type BatchNormParams,
} from './batchnorm.js';
import { expectNoAlias } from './elementwise.js';

export interface BnLreluParams extends BatchNormParams {
  slope: number;
}

const WG = 64;

export const batchnormLreluForwardApply: KernelDef<BnLreluParams> = {
  name: 'batchnorm_lrelu_forward_apply',
  source,
  bindings: ['x', 'a', 'mean', 'invstd', 'beta', 'gamma'],
  constants: (p) => ({ ...applyConsts(p), EVAL: 0, LEAKY: 1, SLOPE: p.slope }),
  entryPoint: (p) => ep(p, 'apply'),
  dispatch: applyGrid,
  flops: (p) => 4 * numel(p),
  bytes: (p) => 8 * numel(p),
};

export const batchnormLreluForwardEvalDef: KernelDef<BnLreluParams> = {
  ...batchnormLreluForwardApply,
  name: 'batchnorm_lrelu_forward_eval',
  bindings: ['x', 'a', 'running_mean', 'running_var', 'beta', 'gamma'],
  constants: (p) => ({ ...applyConsts(p), EVAL: 1, EPS: p.eps, LEAKY: 1, SLOPE: p.slope }),
};

export const batchnormLreluBackwardPartial: KernelDef<BnLreluParams> = {
  name: 'batchnorm_lrelu_backward_partial',
  source: statsSource,
  variant: statsVariant,
  bindings: ['x', 'partials', 'save_mean', 'save_invstd', 'da', 'a'],
  constants: (p) => ({ ...partialConsts(p), SLOPE: p.slope }),
  entryPoint: (p) => ep(p, 'bwd_partial_lrelu'),
  dispatch: (p) => grid1d(p.C * p.P),
  flops: (p) => 5 * numel(p),
  bytes: (p) => 12 * numel(p),
};

export const batchnormLreluBackwardMerge: KernelDef<BnLreluParams> = {
  name: 'batchnorm_lrelu_backward_merge',
  source: statsSource,
  variant: statsVariant,
  bindings: ['partials', 'dgamma', 'dbeta', 'save_invstd', 'coef', 'gamma', 'save_mean'],
  constants: (p) => ({ N: p.N, C: p.C, HW: p.HW, P: p.P, WG }),
  entryPoint: () => 'bwd_merge_coef',
  dispatch: (p) => grid1d(p.C),
  bytes: (p) => 4 * (3 * p.C * p.P + 9 * p.C),
};

export const batchnormLreluBackwardApply: KernelDef<BnLreluParams> = {
  name: 'batchnorm_lrelu_backward_apply',
  source,
  bindings: ['x', 'dx', 'coef', 'a', 'da'],
  constants: (p) => ({ ...applyConsts(p), SLOPE: p.slope }),
  entryPoint: (p) => ep(p, 'bwd_apply_lrelu'),
  dispatch: applyGrid,
  flops: (p) => 6 * numel(p),
  bytes: (p) => 16 * numel(p),
};

/** Per-channel (mean, k1, k2, k3) the fused backward's merge writes for its apply pass: [C, 4]. */
export function batchnormLreluCoefShape(C: number): number[] {
  return [C, 4];
}

function lreluParams(kernel: string, x: Tensor, slope: number, o: BatchNormOptions, subgroups: boolean): BnLreluParams {
  if (!(slope > 0) || !Number.isFinite(slope)) {
    throw new Error(`${kernel}: slope ${slope} is not > 0; the fused backward reads the sign of BN(x) from the activation, ` +
      'which holds only for a positive slope (use batchnorm + leaky_relu unfused)');
  }
  return { ...params(dims(kernel, x), o, subgroups), slope };
}

/** Training-mode forward of a = leaky_relu(BN(x), slope): BN's statistics passes (saveMean/saveInvStd, running
 * statistics, as batchnormForwardTrain), then one apply pass writing only a. Three dispatches. */
export function batchnormLreluForwardTrain(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
  a: Tensor, saveMean: Tensor, saveInvStd: Tensor, scratch: Tensor, slope: number, o: BatchNormOptions = {}): Dispatch[] {
  const k = 'batchnorm_lrelu_forward';
  const d = dims(k, x);
  expectChannels(k, d.C, { gamma, beta, runningMean, runningVar, saveMean, saveInvStd });
  expectShape(k, 'a', a, x.shape, 'f32');
  expectShape(k, 'scratch', scratch, batchnormScratchShape(x.shape), 'f32');
  expectNoAlias(k, 'a', a, 'x', x);
  expectNoAlias(k, 'runningVar', runningVar, 'runningMean', runningMean);
  expectNoAlias(k, 'saveInvStd', saveInvStd, 'saveMean', saveMean);
  const p = lreluParams(k, x, slope, o, chooseSubgroups(k, x, o.subgroups));
  const s = shapeStr(x.shape);
  return [
    makeDispatch(batchnormForwardPartial, p, { x, partials: scratch }, s),
    makeDispatch(batchnormForwardMerge, p, { partials: scratch, save_mean: saveMean, save_invstd: saveInvStd, running_mean: runningMean, running_var: runningVar }, s),
    makeDispatch(batchnormLreluForwardApply, p, { x, a, mean: saveMean, invstd: saveInvStd, beta, gamma }, s),
  ];
}

/** Eval-mode a = leaky_relu((x - running_mean) / sqrt(running_var + eps) * gamma + beta, slope). One dispatch. */
export function batchnormLreluForwardEval(x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, a: Tensor,
  slope: number, o: { eps?: number } = {}): Dispatch {
  const k = 'batchnorm_lrelu_forward_eval';
  const d = dims(k, x);
  expectChannels(k, d.C, { gamma, beta, runningMean, runningVar });
  expectShape(k, 'a', a, x.shape, 'f32');
  expectNoAlias(k, 'a', a, 'x', x);
  return makeDispatch(batchnormLreluForwardEvalDef, lreluParams(k, x, slope, o, false),
    { x, a, running_mean: runningMean, running_var: runningVar, beta, gamma }, shapeStr(x.shape));
}

/** Training-mode backward of a = leaky_relu(BN(x), slope) from x, the activation a, its gradient da and the forward's
 * saveMean/saveInvStd: dx, dgamma, dbeta overwritten. `coef` ([C, 4]) and `scratch` are temporaries. Three dispatches. */
export function batchnormLreluBackward(x: Tensor, a: Tensor, da: Tensor, gamma: Tensor, saveMean: Tensor, saveInvStd: Tensor,
  dx: Tensor, dgamma: Tensor, dbeta: Tensor, scratch: Tensor, coef: Tensor, slope: number, o: { subgroups?: boolean } = {}): Dispatch[] {
  const k = 'batchnorm_lrelu_backward';
  const d = dims(k, x);
  expectShape(k, 'a', a, x.shape, 'f32');
  expectShape(k, 'da', da, x.shape, 'f32');
  expectShape(k, 'dx', dx, x.shape, 'f32');
  expectChannels(k, d.C, { gamma, saveMean, saveInvStd, dgamma, dbeta });
  expectShape(k, 'scratch', scratch, batchnormScratchShape(x.shape), 'f32');
  expectShape(k, 'coef', coef, batchnormLreluCoefShape(d.C), 'f32');
  for (const [n, t] of Object.entries({ x, a, da })) expectNoAlias(k, 'dx', dx, n, t);
  expectNoAlias(k, 'dbeta', dbeta, 'dgamma', dgamma);
  const p = lreluParams(k, x, slope, {}, chooseSubgroups(k, x, o.subgroups));
  const s = shapeStr(x.shape);
  return [
    makeDispatch(batchnormLreluBackwardPartial, p, { x, partials: scratch, save_mean: saveMean, save_invstd: saveInvStd, da, a }, s),
    makeDispatch(batchnormLreluBackwardMerge, p, { partials: scratch, dgamma, dbeta, save_invstd: saveInvStd, coef, gamma, save_mean: saveMean }, s),
    makeDispatch(batchnormLreluBackwardApply, p, { x, dx, coef, a, da }, s),
  ];
}
