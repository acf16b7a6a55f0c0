// Fused softmax cross-entropy launchers (loss per row and gradient w.r.t. the logits in one pass): shape checks,
// then a Dispatch of shaders/loss.wgsl. The batch loss is a sumReduce of lossRows (scale 1/B or lambda/B).
import source from '../../shaders/loss.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';

export interface CrossEntropyParams {
  B: number;
  K: number;
  gradScale: number;
}

const WG = 64;

/** The uniform block of both cross-entropy kernels; pass it to CommandList.setUniforms to change gradScale. */
export function crossEntropyUniforms(gradScale: number): ArrayBuffer {
  return new Float32Array([gradScale, 0, 0, 0]).buffer;
}

function ceKernel(name: string, entryPoint: 'hard' | 'soft', second: string): KernelDef<CrossEntropyParams> {
  return {
    name,
    source,
    bindings: ['logits', second, 'rowWeight', 'lossRows', 'dlogits', 'uniforms'],
    constants: (p) => ({ B: p.B, K: p.K, WG }),
    entryPoint: () => entryPoint,
    dispatch: (p) => grid1d(ceilDiv(p.B, WG)),
    uniforms: (p) => crossEntropyUniforms(p.gradScale),
    // Per element: max, subtract, exp (twice), add, scale, target terms.
    flops: (p) => (entryPoint === 'hard' ? 7 : 11) * p.B * p.K,
    // logits read twice (stats, gradient), dlogits written; targets read twice when soft.
    bytes: (p) => (entryPoint === 'hard' ? 12 : 20) * p.B * p.K + 12 * p.B,
  };
}

export const softmaxCrossEntropyHardDef = ceKernel('softmax_cross_entropy_hard', 'hard', 'labels');
export const softmaxCrossEntropySoftDef = ceKernel('softmax_cross_entropy_soft', 'soft', 'targets');

function checkCommon(k: string, logits: Tensor, rowWeight: Tensor, lossRows: Tensor, dlogits: Tensor, gradScale: number): { B: number; K: number } {
  expectRank(k, 'logits', logits, 2, 'f32');
  const [B, K] = logits.shape;
  expectShape(k, 'rowWeight', rowWeight, [B], 'f32');
  expectShape(k, 'lossRows', lossRows, [B], 'f32');
  expectShape(k, 'dlogits', dlogits, [B, K], 'f32');
  if (!Number.isFinite(gradScale)) throw new Error(`${k}: gradScale must be finite, given ${gradScale}`);
  if (dlogits.buffer === logits.buffer) throw new Error(`${k}: arguments 'logits' and 'dlogits' share a buffer (in place is not supported)`);
  return { B, K };
}

/**
 * Hard-label cross-entropy. logits [B,K] f32, labels [B] i32, rowWeight [B] f32 (0 masks a row exactly),
 * lossRows [B] f32 out: w_i * -log softmax(x_i)[y_i]; dlogits [B,K] f32 out: gradScale * w_i * (softmax(x_i) - onehot(y_i)).
 * Labels outside [0, K) (e.g. -100) give 0 loss and 0 gradient. gradScale is a uniform.
 */
export function softmaxCrossEntropyHard(logits: Tensor, labels: Tensor, rowWeight: Tensor, lossRows: Tensor, dlogits: Tensor, gradScale: number): Dispatch {
  const k = 'softmax_cross_entropy_hard';
  const { B, K } = checkCommon(k, logits, rowWeight, lossRows, dlogits, gradScale);
  expectShape(k, 'labels', labels, [B], 'i32');
  return makeDispatch(softmaxCrossEntropyHardDef, { B, K, gradScale }, { logits, labels, rowWeight, lossRows, dlogits }, `B=${B} K=${K}`);
}

/**
 * Soft-target cross-entropy. targets [B,K] f32 (need not sum to 1), other arguments as in softmaxCrossEntropyHard:
 * lossRows = w_i * -sum_k t_ik log softmax(x_i)_k; dlogits = gradScale * w_i * (softmax(x_i) * sum_k t_ik - t_i).
 */
export function softmaxCrossEntropySoft(logits: Tensor, targets: Tensor, rowWeight: Tensor, lossRows: Tensor, dlogits: Tensor, gradScale: number): Dispatch {
  const k = 'softmax_cross_entropy_soft';
  const { B, K } = checkCommon(k, logits, rowWeight, lossRows, dlogits, gradScale);
  expectShape(k, 'targets', targets, [B, K], 'f32');
  return makeDispatch(softmaxCrossEntropySoftDef, { B, K, gradScale }, { logits, targets, rowWeight, lossRows, dlogits }, `B=${B} K=${K}`);
}
