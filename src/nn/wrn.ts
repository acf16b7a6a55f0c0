// A WRN's GPU state (flat parameters and flat BN running statistics) and its forward pass on the autograd tape.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { addOp, batchnorm, batchnormLeakyRelu, conv2d, globalAvgPool, leakyRelu, linear, type BatchNormState } from '../graph/ops.js';
import type { Tape, Var } from '../graph/tape.js';
import { FlatLayout } from './flat.js';
import { blockLayerNames, type WrnSpec } from './wrn-spec.js';

export const LEAKY_SLOPE = 0.1;
export const BN_MOMENTUM = 0.1;
export const BN_EPS = 1e-5;
/** Record BN + leaky ReLU as the fused op (default) or as the two unfused ops (for A/B measurements and tests). */
export const FUSE_BN_LRELU = { on: true };

/** One WRN's tensors on the GPU. The online model and its EMA copy are two of these with the same layouts. */
export class WrnState {
  readonly params: Tensor;
  readonly buffers: Tensor;
  /** PyTorch's num_batches_tracked (identical for every BN of the model: one per train-mode forward). Kept on the
   * CPU as a number because the GPU never needs it; the EMA copy's value is fractional (see checkpoint.ts). */
  numBatchesTracked = 0;

  constructor(rt: Runtime, readonly spec: WrnSpec, readonly paramLayout: FlatLayout, readonly bufferLayout: FlatLayout, label: string) {
    this.params = rt.tensor([paramLayout.total], 'f32', `${label}.params`);
    this.buffers = rt.tensor([bufferLayout.total], 'f32', `${label}.buffers`);
  }

  static layouts(spec: WrnSpec): { params: FlatLayout; buffers: FlatLayout } {
    return { params: new FlatLayout(spec.params), buffers: new FlatLayout(spec.buffers) };
  }

  param(name: string): Tensor {
    return this.paramLayout.view(this.params, name);
  }

  buffer(name: string): Tensor {
    return this.bufferLayout.view(this.buffers, name);
  }

  dispose(): void {
    this.params.release();
    this.buffers.release();
  }
}

export interface ForwardOptions {
  /** Train-mode BN (batch statistics, running-stat update) or eval-mode BN (running statistics). */
  train: boolean;
  /** Flat gradient buffer (same layout as params) when parameters need gradients; null for no-grad forwards. */
  grads: Tensor | null;
  label: string;
}

/** Parameters of `m` as tape leaves (with gradient views into `grads`) or constants. */
export class ParamVars {
  private cache = new Map<string, Var>();
  constructor(readonly tape: Tape, readonly m: WrnState, readonly grads: Tensor | null) {}
  get(name: string): Var {
    let v = this.cache.get(name);
    if (!v) {
      const t = this.m.param(name);
      v = this.grads ? this.tape.leaf(t, this.m.paramLayout.view(this.grads, name), name) : this.tape.constant(t, name);
      this.cache.set(name, v);
    }
    return v;
  }
  all(): Var[] {
    return this.m.spec.params.map((p) => this.get(p.name));
  }
  bn(name: string): BatchNormState {
    return { gamma: this.get(`${name}.weight`), beta: this.get(`${name}.bias`), runningMean: this.m.buffer(`${name}.running_mean`), runningVar: this.m.buffer(`${name}.running_var`) };
  }
}

/** The encoder: x [N,C,H,W] -> z [N, 64*width]. */
export function encoderForward(tape: Tape, P: ParamVars, x: Var, o: ForwardOptions): Var {
  const spec = P.m.spec;
  const L = o.label;
  // Every BN here feeds one leaky ReLU (pre-activation WRN): one fused op by default (src/kernels/batchnorm-lrelu.ts;
  // bench/README.md has its measured gain); FUSE_BN_LRELU.on = false records the unfused pair (the A/B baseline).
  const bnAct = (h: Var, name: string) => FUSE_BN_LRELU.on
    ? batchnormLeakyRelu(tape, h, P.bn(name), o.train, LEAKY_SLOPE, `${L}:${name}.act`, BN_MOMENTUM, BN_EPS)
    : leakyRelu(tape, batchnorm(tape, h, P.bn(name), o.train, `${L}:${name}`, BN_MOMENTUM, BN_EPS), LEAKY_SLOPE, `${L}:${name}.act`);
  let h = conv2d(tape, x, P.get('encoder.init_conv.weight'), 1, 1, `${L}:init_conv`);
  for (const b of spec.blocks) {
    const n = blockLayerNames(b);
    let branchIn: Var;
    let shortIn: Var;
    if (b.activateBeforeResidual) {
      // x = LReLU(BN(x)) feeds both branches.
      const a = bnAct(h, n.preBn);
      branchIn = a;
      shortIn = a;
    } else {
      branchIn = bnAct(h, n.preBn);
      shortIn = h; // the shortcut sees the raw x
    }
    let t = conv2d(tape, branchIn, P.get(`${n.conv1}.weight`), b.stride, 1, `${L}:${n.conv1}`);
    t = bnAct(t, n.bn2);
    t = conv2d(tape, t, P.get(`${n.conv2}.weight`), 1, 1, `${L}:${n.conv2}`);
    const s = b.hasShortcutConv ? conv2d(tape, shortIn, P.get(`${n.shortcut}.weight`), b.stride, 0, `${L}:${n.shortcut}`) : shortIn;
    h = addOp(tape, s, t, `${L}:${b.prefix}.out`);
  }
  h = bnAct(h, 'encoder.unit4.0');
  return globalAvgPool(tape, h, `${L}:pool`);
}

/** The linear classifier: z [N,D] -> logits [N,K]. `ones` is a [1,N] tensor of ones (bias gradient). */
export function classifierForward(tape: Tape, P: ParamVars, z: Var, ones: Tensor, label: string, forwardBias?: Tensor): Var {
  return linear(tape, z, P.get('classifier.classifier.weight'), P.get('classifier.classifier.bias'), ones, `${label}:classifier`, forwardBias);
}
