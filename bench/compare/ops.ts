// One operation of the comparison, built twice from the same random inputs: ours (our public launchers, NCHW,
// weights [K,C,R,R]) and tfjs-backend-webgpu's (tfjs-core ops, NHWC, filters [R,R,C,K]). Each side lists its outputs
// in the same order; tfjs outputs carry a converter to our layout for the check.
import * as tf from '@tensorflow/tfjs-core';
import type { CommandList } from '../../src/gpu/commands.js';
import type { Dispatch } from '../../src/gpu/kernel.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import type { Tensor } from '../../src/gpu/tensor.js';
import { batchnormBackward, batchnormForwardTrain, batchnormScratchShape } from '../../src/kernels/batchnorm.js';
import {
  conv2dBackwardInputPacked, conv2dBackwardWeight, conv2dBackwardWeightDyShape, conv2dBackwardWeightScratchShape, conv2dForwardPacked, conv2dOutputSize,
  conv2dPackedBackwardInputShape, conv2dPackedForwardShape,
} from '../../src/kernels/conv2d.js';
import { softmaxCrossEntropyHard } from '../../src/kernels/loss.js';
import { matmul } from '../../src/kernels/matmul.js';
import { sumReduce } from '../../src/kernels/reduce.js';
import type { CompareCase } from './types.js';
import { kcrsToRsck, nchwToNhwc, nhwcToNchw, randomInts, rsckToKcrs, uniform } from './util.js';

export type OpCase = Exclude<CompareCase, { kind: 'step' }>;

export interface OursOp {
  list: CommandList;
  flops: number;
  outputs: { name: string; t: Tensor }[];
  /** Releases the tensors and disposes the command list. */
  release(): void;
}

export interface TfjsOp {
  /** Runs the op; returns the outputs (same order as ours). The caller wraps it in tf.tidy and disposes them. */
  run(): tf.Tensor[];
  /** Per output: tfjs layout -> our layout. */
  toOurs: ((a: Float32Array) => Float32Array)[];
  dispose(): void;
}

const same = (a: Float32Array) => a;

/** Inputs in our layout (seeded: both sides see the same numbers). */
type Inputs = Record<string, Float32Array | Int32Array>;

function convDims(c: Extract<OpCase, { kind: 'conv' }>) {
  const [OH, OW] = conv2dOutputSize(c.H, c.H, c.R, { stride: c.stride, pad: c.pad });
  return { N: c.N, C: c.C, K: c.K, H: c.H, W: c.H, R: c.R, OH, OW };
}

export function opInputs(c: OpCase): Inputs {
  switch (c.kind) {
    case 'conv': {
      const d = convDims(c);
      return {
        x: uniform(d.N * d.C * d.H * d.W, 1),
        w: uniform(d.K * d.C * d.R * d.R, 2),
        dy: uniform(d.N * d.K * d.OH * d.OW, 3),
      };
    }
    case 'matmul':
      return { a: uniform(c.M * c.D, 1), w: uniform(c.K * c.D, 2), bias: uniform(c.K, 3) };
    case 'bn_forward':
    case 'bn_forward_backward': {
      const [N, C, H, W] = c.dims;
      return { x: uniform(N * C * H * W, 1), dy: uniform(N * C * H * W, 2), gamma: uniform(C, 3, 0.5, 1.5), beta: uniform(C, 4) };
    }
    case 'ce':
      return { logits: uniform(c.B * c.K, 1, -3, 3), labels: randomInts(c.B, 2, c.K) };
  }
}

export async function buildOurs(rt: Runtime, c: OpCase, inp: Inputs): Promise<OursOp> {
  const owned: Tensor[] = [];
  const up = (name: string, shape: number[], dtype: 'f32' | 'i32' = 'f32') => {
    const t = rt.upload(inp[name], shape, dtype, name);
    owned.push(t);
    return t;
  };
  const T = (shape: number[], label: string) => {
    const t = rt.tensor(shape, 'f32', label);
    owned.push(t);
    return t;
  };
  let ds: Dispatch[];
  let outputs: { name: string; t: Tensor }[];
  let flops: number | null = null;
  try {
    switch (c.kind) {
      case 'conv': {
        const d = convDims(c);
        const o = { stride: c.stride, pad: c.pad };
        const xs = [d.N, d.C, d.H, d.W], ws = [d.K, d.C, d.R, d.R], ys = [d.N, d.K, d.OH, d.OW];
        flops = 2 * d.N * d.OH * d.OW * d.K * d.C * d.R * d.R;
        if (c.dir === 'forward') {
          const y = T(ys, 'y');
          // What the training step runs (src/graph/ops.ts): the weight pack + the v3 forward, both timed.
          ds = conv2dForwardPacked(up('x', xs), up('w', ws), T(conv2dPackedForwardShape(ws), 'wpack'), y, o);
          outputs = [{ name: 'y', t: y }];
        } else if (c.dir === 'backward_input') {
          const dx = T(xs, 'dx');
          ds = conv2dBackwardInputPacked(up('dy', ys), up('w', ws), T(conv2dPackedBackwardInputShape(ws), 'wpack'), dx, o);
          outputs = [{ name: 'dx', t: dx }];
        } else {
          const dw = T(ws, 'dw');
          ds = conv2dBackwardWeight(up('x', xs), up('dy', ys), dw, T(conv2dBackwardWeightScratchShape(xs, ys, d.R), 'scratch'),
            { ...o, dyT: T(conv2dBackwardWeightDyShape(ys), 'dyT') });
          outputs = [{ name: 'dw', t: dw }];
        }
        break;
      }
      case 'matmul': {
        const y = T([c.M, c.K], 'logits');
        ds = [matmul(up('a', [c.M, c.D]), up('w', [c.K, c.D]), y, { transB: true, bias: up('bias', [c.K]) })];
        outputs = [{ name: 'logits', t: y }];
        break;
      }
      case 'bn_forward':
      case 'bn_forward_backward': {
        const shape = [...c.dims];
        const C = shape[1];
        const x = up('x', shape), gamma = up('gamma', [C]), beta = up('beta', [C]);
        const rm = rt.upload(new Float32Array(C), [C], 'f32', 'running_mean');
        const rv = rt.upload(new Float32Array(C).fill(1), [C], 'f32', 'running_var');
        owned.push(rm, rv);
        const y = T(shape, 'y'), mean = T([C], 'save_mean'), invstd = T([C], 'save_invstd');
        ds = batchnormForwardTrain(x, gamma, beta, rm, rv, y, mean, invstd, T(batchnormScratchShape(shape), 'scratch'));
        outputs = [{ name: 'y', t: y }];
        if (c.kind === 'bn_forward_backward') {
          const dx = T(shape, 'dx'), dgamma = T([C], 'dgamma'), dbeta = T([C], 'dbeta');
          ds.push(...batchnormBackward(x, up('dy', shape), gamma, mean, invstd, dx, dgamma, dbeta, T(batchnormScratchShape(shape), 'scratch_bwd')));
          outputs = [{ name: 'dx', t: dx }, { name: 'dgamma', t: dgamma }, { name: 'dbeta', t: dbeta }];
        }
        break;
      }
      case 'ce': {
        const w = rt.upload(new Float32Array(c.B).fill(1), [c.B], 'f32', 'row_weight');
        owned.push(w);
        const rows = T([c.B], 'loss_rows'), dl = T([c.B, c.K], 'dlogits'), loss = T([1], 'loss');
        ds = [
          softmaxCrossEntropyHard(up('logits', [c.B, c.K]), up('labels', [c.B], 'i32'), w, rows, dl, 1 / c.B),
          ...sumReduce(rows, loss, 1 / c.B),
        ];
        outputs = [{ name: 'loss', t: loss }, { name: 'dlogits', t: dl }];
        break;
      }
    }
    const list = rt.commands(`${c.op} ${c.shape}`);
    list.add(...ds);
    await list.compile();
    return {
      list, outputs,
      flops: flops ?? ds.reduce((s, d) => s + d.flops, 0),
      release() {
        list.dispose();
        for (const t of owned) t.release();
      },
    };
  } catch (e) {
    for (const t of owned) t.release();
    throw e;
  }
}

export function buildTfjs(c: OpCase, inp: Inputs): TfjsOp {
  const held: tf.Tensor[] = [];
  const hold = <T extends tf.Tensor>(t: T): T => {
    held.push(t);
    return t;
  };
  const f32 = (name: string) => inp[name] as Float32Array;
  try {
    let run: () => tf.Tensor[];
    let toOurs: ((a: Float32Array) => Float32Array)[];
    switch (c.kind) {
      case 'conv': {
        const d = convDims(c);
        const strides: [number, number] = [c.stride, c.stride];
        if (c.dir === 'forward') {
          const x = hold(tf.tensor4d(nchwToNhwc(f32('x'), d.N, d.C, d.H, d.W), [d.N, d.H, d.W, d.C]));
          const f = hold(tf.tensor4d(kcrsToRsck(f32('w'), d.K, d.C, d.R), [d.R, d.R, d.C, d.K]));
          run = () => [tf.conv2d(x, f, strides, c.pad, 'NHWC')];
          toOurs = [(a) => nhwcToNchw(a, d.N, d.K, d.OH, d.OW)];
        } else if (c.dir === 'backward_input') {
          const dy = hold(tf.tensor4d(nchwToNhwc(f32('dy'), d.N, d.K, d.OH, d.OW), [d.N, d.OH, d.OW, d.K]));
          const f = hold(tf.tensor4d(kcrsToRsck(f32('w'), d.K, d.C, d.R), [d.R, d.R, d.C, d.K]));
          const attrs = { strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [d.N, d.H, d.W, d.C] };
          run = () => [tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor];
          toOurs = [(a) => nhwcToNchw(a, d.N, d.C, d.H, d.W)];
        } else {
          const x = hold(tf.tensor4d(nchwToNhwc(f32('x'), d.N, d.C, d.H, d.W), [d.N, d.H, d.W, d.C]));
          const dy = hold(tf.tensor4d(nchwToNhwc(f32('dy'), d.N, d.K, d.OH, d.OW), [d.N, d.OH, d.OW, d.K]));
          const attrs = { strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [d.R, d.R, d.C, d.K] };
          run = () => [tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor];
          toOurs = [(a) => rsckToKcrs(a, d.K, d.C, d.R)];
        }
        break;
      }
      case 'matmul': {
        const a = hold(tf.tensor2d(f32('a'), [c.M, c.D]));
        const w = hold(tf.tensor2d(f32('w'), [c.K, c.D]));
        const bias = hold(tf.tensor1d(f32('bias')));
        run = () => [tf.fused.matMul({ a, b: w, transposeB: true, bias })];
        toOurs = [same];
        break;
      }
      case 'bn_forward':
      case 'bn_forward_backward': {
        const [N, C, H, W] = c.dims;
        const x = hold(tf.tensor4d(nchwToNhwc(f32('x'), N, C, H, W), [N, H, W, C]));
        const gamma = hold(tf.tensor1d(f32('gamma')));
        const beta = hold(tf.tensor1d(f32('beta')));
        const bn = (xx: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => {
          const { mean, variance } = tf.moments(xx, [0, 1, 2]);
          return tf.batchNorm(xx, mean, variance, b, g, 1e-5);
        };
        if (c.kind === 'bn_forward') {
          run = () => [bn(x, gamma, beta)];
          toOurs = [(a) => nhwcToNchw(a, N, C, H, W)];
        } else {
          const dy = hold(tf.tensor4d(nchwToNhwc(f32('dy'), N, C, H, W), [N, H, W, C]));
          // d/d(x, gamma, beta) of sum(BN(x) * dy) is BN's backward at upstream gradient dy.
          const grads = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(bn(xx as tf.Tensor4D, g as tf.Tensor1D, b as tf.Tensor1D), dy)));
          run = () => grads([x, gamma, beta]);
          toOurs = [(a) => nhwcToNchw(a, N, C, H, W), same, same];
        }
        break;
      }
      case 'ce': {
        const logits = hold(tf.tensor2d(f32('logits'), [c.B, c.K]));
        const onehot = hold(tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(inp.labels as Int32Array, 'int32'), c.K), 'float32')));
        const vg = tf.valueAndGrads((l: tf.Tensor) => tf.losses.softmaxCrossEntropy(onehot, l) as tf.Scalar);
        run = () => {
          const { value, grads } = vg([logits]);
          return [value, grads[0]];
        };
        toOurs = [same, same];
        break;
      }
    }
    return { run, toOurs, dispose: () => tf.dispose(held) };
  } catch (e) {
    tf.dispose(held);
    throw e;
  }
}

/** A note on what exactly each side computes, for the row. */
export function opNote(c: OpCase): string {
  switch (c.kind) {
    case 'conv':
      return c.dir === 'forward' ? 'tfjs: tf.conv2d NHWC' : c.dir === 'backward_input'
        ? "tfjs: runKernel('Conv2DBackpropInput') NHWC" : "tfjs: runKernel('Conv2DBackpropFilter') NHWC";
    case 'matmul':
      return 'ours: matmul transB + bias; tfjs: tf.fused.matMul transposeB + bias';
    case 'bn_forward':
      return 'ours: partial+merge+apply (also updates running stats); tfjs: tf.moments + tf.batchNorm';
    case 'bn_forward_backward':
      return 'forward (batch stats) + backward: ours 6 dispatches; tfjs: tf.grads of sum(batchNorm(x)*dy) w.r.t. x, gamma, beta';
    case 'ce':
      return 'ours: fused CE (loss rows + dlogits, scale 1/B) + sumReduce; tfjs: tf.valueAndGrads(tf.losses.softmaxCrossEntropy)';
  }
}
