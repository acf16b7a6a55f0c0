// The cases of `daso bench-compare` at batch B: every distinct convolution of WRN-28-2 (the list the kernel bench
// uses) as forward, input gradient and weight gradient; the classifier matmul; batch norm (train) forward and
// forward+backward at stage-1 width; softmax cross-entropy forward+gradient over DASO's joint batch (5B rows); and
// whole WRN-28-2 training steps at each of the step batches.
import { WRN_CONVS } from '../cases/conv2d.js';
import { conv2dOutputSize } from '../../src/kernels/conv2d.js';
import type { CompareCase } from './types.js';

const K_CLASSES = 10;
const FEATURES = 128; // WRN-28-2's feature width (64 * 2)

export function compareCases(batch: number, stepBatches: number[]): CompareCase[] {
  const B = batch;
  const cases: CompareCase[] = [];
  const dirs = [['forward', 'conv2d_forward'], ['backward_input', 'conv2d_backward_input'], ['backward_weight', 'conv2d_backward_weight']] as const;
  for (const [dir, op] of dirs) {
    for (const c of WRN_CONVS) {
      const pad = c.R === 3 ? 1 : 0;
      const [OH] = conv2dOutputSize(c.H, c.H, c.R, { stride: c.stride, pad });
      cases.push({
        kind: 'conv', op, dir, N: B, C: c.C, K: c.K, H: c.H, R: c.R, stride: c.stride, pad,
        shape: `N=${B} ${c.C}->${c.K} ${c.H}x${c.H}->${OH}x${OH} k${c.R} s${c.stride} p${pad} (${c.what})`,
      });
    }
  }
  cases.push({ kind: 'matmul', op: 'matmul (classifier)', shape: `[${B},${FEATURES}] x W[${K_CLASSES},${FEATURES}]^T + bias`, M: B, D: FEATURES, K: K_CLASSES });
  const bn: [number, number, number, number] = [B, 32, 32, 32];
  cases.push({ kind: 'bn_forward', op: 'batchnorm_forward_train', shape: `N=${B} C=32 32x32`, dims: bn });
  cases.push({ kind: 'bn_forward_backward', op: 'batchnorm_forward+backward', shape: `N=${B} C=32 32x32`, dims: bn });
  cases.push({ kind: 'ce', op: 'softmax_ce_forward+grad', shape: `B=${5 * B} K=${K_CLASSES} (mean loss + dlogits)`, B: 5 * B, K: K_CLASSES });
  for (const sb of stepBatches) {
    cases.push({ kind: 'step', op: 'wrn28-2_train_step', shape: `B=${sb} 3x32x32 K=10 supervised (fwd+bwd+SGD nesterov)`, B: sb });
  }
  return cases;
}
