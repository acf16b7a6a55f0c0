// Plain TypeScript references for the fused softmax cross-entropy kernels (see shaders/loss.wgsl), in float64.
// The forward (loss per row) and the analytic gradient are separate functions so the tests can check the gradient
// against finite differences of the loss.
import { logSoftmaxRef } from './softmax.ref.js';

export interface CrossEntropyRef {
  loss: Float64Array;    // [B]
  dlogits: Float64Array; // [B,K]
}

/** loss_i = w_i * -log softmax(x_i)[y_i]; rows with w_i = 0 or a label outside [0, K) give 0. */
export function crossEntropyHardLossRef(logits: ArrayLike<number>, labels: ArrayLike<number>, w: ArrayLike<number>, B: number, K: number): Float64Array {
  const lsm = logSoftmaxRef(logits, B, K);
  const loss = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const y = labels[i];
    if (w[i] === 0 || y < 0 || y >= K) continue;
    loss[i] = -w[i] * lsm[i * K + y];
  }
  return loss;
}

/** loss_i = w_i * -sum_k t_ik log softmax(x_i)_k (targets need not sum to 1); rows with w_i = 0 give 0. */
export function crossEntropySoftLossRef(logits: ArrayLike<number>, targets: ArrayLike<number>, w: ArrayLike<number>, B: number, K: number): Float64Array {
  const lsm = logSoftmaxRef(logits, B, K);
  const loss = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    if (w[i] === 0) continue;
    let acc = 0;
    for (let k = 0; k < K; k++) acc -= targets[i * K + k] * lsm[i * K + k];
    loss[i] = w[i] * acc;
  }
  return loss;
}

/** Loss rows and gradScale * d(sum_i loss_i)/dlogits = gradScale * w_i * (softmax(x_i) - onehot(y_i)). */
export function crossEntropyHardRef(logits: ArrayLike<number>, labels: ArrayLike<number>, w: ArrayLike<number>, B: number, K: number, gradScale: number): CrossEntropyRef {
  const lsm = logSoftmaxRef(logits, B, K);
  const dlogits = new Float64Array(B * K);
  for (let i = 0; i < B; i++) {
    const y = labels[i];
    if (w[i] === 0 || y < 0 || y >= K) continue;
    for (let k = 0; k < K; k++) dlogits[i * K + k] = gradScale * w[i] * (Math.exp(lsm[i * K + k]) - (k === y ? 1 : 0));
  }
  return { loss: crossEntropyHardLossRef(logits, labels, w, B, K), dlogits };
}

/** Loss rows and gradScale * w_i * (softmax(x_i) * sum_k t_ik - t_i). */
export function crossEntropySoftRef(logits: ArrayLike<number>, targets: ArrayLike<number>, w: ArrayLike<number>, B: number, K: number, gradScale: number): CrossEntropyRef {
  const lsm = logSoftmaxRef(logits, B, K);
  const dlogits = new Float64Array(B * K);
  for (let i = 0; i < B; i++) {
    if (w[i] === 0) continue;
    let T = 0;
    for (let k = 0; k < K; k++) T += targets[i * K + k];
    for (let k = 0; k < K; k++) dlogits[i * K + k] = gradScale * w[i] * (Math.exp(lsm[i * K + k]) * T - targets[i * K + k]);
  }
  return { loss: crossEntropySoftLossRef(logits, targets, w, B, K), dlogits };
}
