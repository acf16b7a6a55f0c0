// Differentiable ops on the tape: each records its forward dispatches and a closure emitting its backward.
// Forward and backward kernels are named as pairs in src/kernels (conv2d_forward / conv2d_backward_input /
// conv2d_backward_weight, batchnorm_forward_train / batchnorm_backward, ...).
import { batchnormBackward, batchnormForwardEval, batchnormForwardTrain, batchnormScratchShape } from '../kernels/batchnorm.js';
import { batchnormLreluBackward, batchnormLreluCoefShape, batchnormLreluForwardEval, batchnormLreluForwardTrain } from '../kernels/batchnorm-lrelu.js';
import {
  conv2dBackwardInputPacked, conv2dBackwardWeight, conv2dBackwardWeightDyShape, conv2dBackwardWeightScratchShape, conv2dForwardPacked, conv2dOutputSize,
  conv2dPackedBackwardInputShape, conv2dPackedForwardShape,
} from '../kernels/conv2d.js';
import { cosineSimilarityBackward, cosineSimilarityForward } from '../kernels/cosine.js';
import { add, axpy, copy, fill, leakyReluBackward, leakyReluForward } from '../kernels/elementwise.js';
import { matmul } from '../kernels/matmul.js';
import { globalAvgPoolBackward, globalAvgPoolForward } from '../kernels/pool.js';
import type { Dispatch } from '../gpu/kernel.js';
import { ruleOpts } from '../tune/candidates.js';
import type { Tensor } from '../gpu/tensor.js';
import type { Tape, Var } from './tape.js';

export function conv2d(tape: Tape, x: Var, w: Var, stride: number, pad: number, label: string): Var {
  const [N, C, H, W] = x.shape;
  const [K, , R] = w.shape;
  const [OH, OW] = conv2dOutputSize(H, W, R, { stride, pad });
  const y = tape.output([N, K, OH, OW], label, [x, w]);
  // Each kernel's rung: the runtime's conv choices (the autotuner's, src/tune), the fixed rule on a miss.
  const choices = tape.rt.convChoices;
  const shape = { N, C, H, W, K, R, stride, pad };
  // The packed weight copies (vec4 loads in v2/v3) are step temporaries: packed right before their conv, so they
  // always see the weights of this step; released at once, the pool hands the memory to later allocations.
  const packed = tape.rt.tensor(conv2dPackedForwardShape(w.shape), 'f32', `${label}.wpack`);
  const forward = conv2dForwardPacked(x.t, w.t, packed, y.t, { ...choices.opts('forward', shape), stride, pad });
  choices.record(label, 'forward', shape, forward);
  packed.release();
  tape.record(forward, () => {
    const dy = tape.gradOf(y);
    if (!dy) return;
    tape.accumulate(w, (out, acc) => {
      const scratch = tape.rt.tensor(conv2dBackwardWeightScratchShape(x.shape, y.shape, R), 'f32', `${label}.wgrad.partials`);
      // The rung: the autotuner's choice, else the rule (src/tune/candidates.ts ruleOpts). The transposed dy only for v3
      // (v4 / v5 read dy as it is; a temporary the pool reuses at once).
      const opts = choices.opts('weight', shape) ?? ruleOpts('weight', shape);
      const dyT = (opts.version ?? 3) === 3 ? tape.rt.tensor(conv2dBackwardWeightDyShape(y.shape), 'f32', `${label}.wgrad.dyT`) : undefined;
      const ds = conv2dBackwardWeight(x.t, dy, out, scratch, { ...opts, stride, pad, beta: acc ? 1 : 0, dyT });
      choices.record(label, 'weight', shape, ds);
      scratch.release();
      dyT?.release();
      return ds;
    }, true);
    tape.accumulate(x, (out, acc) => {
      const pk = tape.rt.tensor(conv2dPackedBackwardInputShape(w.shape), 'f32', `${label}.wpack.dgrad`);
      const ds = conv2dBackwardInputPacked(dy, w.t, pk, out, { ...choices.opts('input', shape), stride, pad, beta: acc ? 1 : 0 });
      choices.record(label, 'input', shape, ds);
      pk.release();
      return ds;
    }, true);
    tape.releaseGrad(y);
  });
  return y;
}

export interface BatchNormState {
  gamma: Var;
  beta: Var;
  runningMean: Tensor;
  runningVar: Tensor;
}

/** The backward set-up both BN ops share: one kernel (`kernel`) produces dx, dgamma and dbeta together. WRN uses every
 * BN parameter once, so dgamma/dbeta are written directly; dx goes through the tape (which adds through a temporary
 * if x already holds a gradient). `y` is the op's output, whose gradient is the kernel's incoming one. */
function bnBackward(tape: Tape, x: Var, y: Var, bn: BatchNormState, label: string,
  kernel: (dy: Tensor, dx: Tensor, dgamma: Tensor, dbeta: Tensor) => Dispatch[]): void {
  const dy = tape.gradOf(y);
  if (!dy) return;
  if (bn.gamma.gradWritten || bn.beta.gradWritten) throw new Error(`${label}: a BatchNorm used twice in one tape is not supported`);
  const C = x.shape[1];
  const dg = bn.gamma.grad ?? tape.rt.tensor([C], 'f32', `${label}.unused dgamma`);
  const db = bn.beta.grad ?? tape.rt.tensor([C], 'f32', `${label}.unused dbeta`);
  if (x.requiresGrad) tape.accumulate(x, (out) => kernel(dy, out, dg, db));
  else {
    const dx = tape.rt.tensor(x.shape, 'f32', `${label}.unused dx`);
    tape.emit(...kernel(dy, dx, dg, db));
    dx.release();
  }
  bn.gamma.gradWritten = bn.beta.gradWritten = true;
  tape.releaseGrad(y);
}

/** BatchNorm2d. Train mode normalises with batch statistics and updates the running statistics (momentum 0.1). */
export function batchnorm(tape: Tape, x: Var, bn: BatchNormState, train: boolean, label: string, momentum = 0.1, eps = 1e-5): Var {
  const C = x.shape[1];
  const y = tape.output(x.shape, label, [x, bn.gamma, bn.beta]);
  if (!train) {
    tape.record([batchnormForwardEval(x.t, bn.gamma.t, bn.beta.t, bn.runningMean, bn.runningVar, y.t, { eps })]);
    return y;
  }
  const saveMean = tape.alloc([C], `${label}.mean`);
  const saveInvStd = tape.alloc([C], `${label}.invstd`);
  const scratch = tape.alloc(batchnormScratchShape(x.shape), `${label}.partials`);
  tape.record(
    batchnormForwardTrain(x.t, bn.gamma.t, bn.beta.t, bn.runningMean, bn.runningVar, y.t, saveMean, saveInvStd, scratch, { momentum, eps }),
    () => bnBackward(tape, x, y, bn, label, (dy, dx, dg, db) => {
      const scratch = tape.rt.tensor(batchnormScratchShape(x.shape), 'f32', `${label}.bwd.partials`);
      const ds = batchnormBackward(x.t, dy, bn.gamma.t, saveMean, saveInvStd, dx, dg, db, scratch);
      scratch.release();
      return ds;
    }),
  );
  return y;
}

/** leaky_relu(BatchNorm2d(x), slope) as one op (src/kernels/batchnorm-lrelu.ts): the BN output is never stored, the
 * backward masks the incoming gradient on the fly. Same semantics as `leakyRelu(batchnorm(...))`. */
export function batchnormLeakyRelu(tape: Tape, x: Var, bn: BatchNormState, train: boolean, slope: number, label: string, momentum = 0.1, eps = 1e-5): Var {
  const C = x.shape[1];
  const a = tape.output(x.shape, label, [x, bn.gamma, bn.beta]);
  if (!train) {
    tape.record([batchnormLreluForwardEval(x.t, bn.gamma.t, bn.beta.t, bn.runningMean, bn.runningVar, a.t, slope, { eps })]);
    return a;
  }
  const saveMean = tape.alloc([C], `${label}.mean`);
  const saveInvStd = tape.alloc([C], `${label}.invstd`);
  const scratch = tape.alloc(batchnormScratchShape(x.shape), `${label}.partials`);
  tape.record(
    batchnormLreluForwardTrain(x.t, bn.gamma.t, bn.beta.t, bn.runningMean, bn.runningVar, a.t, saveMean, saveInvStd, scratch, slope, { momentum, eps }),
    () => bnBackward(tape, x, a, bn, label, (da, dx, dg, db) => {
      const scratch = tape.rt.tensor(batchnormScratchShape(x.shape), 'f32', `${label}.bwd.partials`);
      const coef = tape.rt.tensor(batchnormLreluCoefShape(C), 'f32', `${label}.bwd.coef`);
      const ds = batchnormLreluBackward(x.t, a.t, da, bn.gamma.t, saveMean, saveInvStd, dx, dg, db, scratch, coef, slope);
      scratch.release();
      coef.release();
      return ds;
    }),
  );
  return a;
}

export function leakyRelu(tape: Tape, x: Var, slope: number, label: string): Var {
  const y = tape.output(x.shape, label, [x]);
  tape.record([leakyReluForward(x.t, y.t, slope)], () => {
    const dy = tape.gradOf(y);
    if (!dy) return;
    tape.accumulate(x, (out) => [leakyReluBackward(x.t, dy, out, slope)]);
    tape.releaseGrad(y);
  });
  return y;
}

export function addOp(tape: Tape, a: Var, b: Var, label: string): Var {
  const y = tape.output(a.shape, label, [a, b]);
  tape.record([add(a.t, b.t, y.t)], () => {
    const dy = tape.gradOf(y);
    if (!dy) return;
    // d(a+b)/da = d(a+b)/db = dy: both receive a copy (the tape adds where a value already has a gradient).
    for (const v of [a, b]) tape.accumulate(v, (out, acc) => [acc ? axpy(dy, out, 1) : copy(dy, out)], true);
    tape.releaseGrad(y);
  });
  return y;
}

export function globalAvgPool(tape: Tape, x: Var, label: string): Var {
  const [N, C] = x.shape;
  const y = tape.output([N, C], label, [x]);
  tape.record([globalAvgPoolForward(x.t, y.t)], () => {
    const dy = tape.gradOf(y);
    if (!dy) return;
    tape.accumulate(x, (out) => [globalAvgPoolBackward(dy, out)]);
    tape.releaseGrad(y);
  });
  return y;
}

/** y = x W^T + b with PyTorch's Linear layout: x [B,D], W [K,D], b [K]. `ones` is a [1,B] tensor of ones (bias grad).
 * `forwardBias` replaces b in the forward only (train-time logit adjustment adds tau*log(pi) there; d/db is unchanged). */
export function linear(tape: Tape, x: Var, w: Var, b: Var, ones: Tensor, label: string, forwardBias?: Tensor): Var {
  const [B] = x.shape;
  const [K] = w.shape;
  const y = tape.output([B, K], label, [x, w, b]);
  tape.record([matmul(x.t, w.t, y.t, { transB: true, bias: forwardBias ?? b.t })], () => {
    const dy = tape.gradOf(y);
    if (!dy) return;
    // dW [K,D] = dy^T x ; db [K] = 1^T dy ; dx [B,D] = dy W
    tape.accumulate(w, (out, acc) => [matmul(dy, x.t, out, { transA: true, beta: acc ? 1 : 0 })], true);
    tape.accumulate(b, (out, acc) => [matmul(ones, dy, out.reshape([1, K]), { beta: acc ? 1 : 0 })], true);
    tape.accumulate(x, (out, acc) => [matmul(dy, w.t, out, { beta: acc ? 1 : 0 })], true);
    tape.releaseGrad(y);
  });
  return y;
}

/** Rows [start, start+count) of x as a view (no copy). The view's gradient is the matching region of x's gradient;
 * a region nothing writes (the weak view: used under no-grad) is zero-filled, so x's gradient is complete — that is
 * what PyTorch's BN backward over the joint batch sees (zero upstream gradient for weak rows).
 * The row offset must land on a 256-byte boundary (a feature row of WRN is 64*width floats, so it always does). */
export function sliceRows(tape: Tape, x: Var, start: number, count: number, label: string): Var {
  const row = x.t.size / x.shape[0];
  const shape = [count, ...x.shape.slice(1)];
  const y = tape.leafView(x.t.view(start * row, shape, label), x.requiresGrad, label);
  if (x.requiresGrad) {
    x.grad ??= tape.rt.tensor(x.shape, 'f32', `d(${x.name})`);
    y.grad = x.grad.view(start * row, shape, `d(${label})`);
  }
  tape.record([], () => {
    if (!x.requiresGrad) return;
    if (!y.gradWritten) tape.emit(fill(y.grad!, 0));
    x.gradWritten = true;
  });
  return y;
}

/** sim = cos(z, protos) * invTemp (prototypes carry no gradient, as in DASO). */
export function cosineSim(tape: Tape, z: Var, protos: Tensor, invTemp: number, label: string): Var {
  const sim = tape.output([z.shape[0], protos.shape[0]], label, [z]);
  tape.record([cosineSimilarityForward(z.t, protos, sim.t, invTemp)], () => {
    const ds = tape.gradOf(sim);
    if (!ds) return;
    tape.accumulate(z, (out, acc) => [cosineSimilarityBackward(z.t, protos, ds, out, invTemp, acc)], true);
    tape.releaseGrad(sim);
  });
  return sim;
}
