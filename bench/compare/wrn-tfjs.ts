// WRN (the same architecture as src/nn/wrn.ts, from the same WrnSpec) written with tfjs-core ops in NHWC, and its
// supervised training step: tf.variableGrads of softmax CE + weight decay, tf.train.momentum (Nesterov), and the BN
// running-statistics update (PyTorch's: momentum 0.1, unbiased variance), as our step does.
import * as tf from '@tensorflow/tfjs-core';
import { BN_EPS, BN_MOMENTUM, LEAKY_SLOPE } from '../../src/nn/wrn.js';
import { blockLayerNames, type WrnSpec } from '../../src/nn/wrn-spec.js';
import { kcrsToRsck } from './util.js';

interface BnStat {
  name: string;
  mean: tf.Tensor;
  variance: tf.Tensor;
  count: number;
}

let instances = 0;

/** tf.addN over many tensors in groups: tfjs-backend-webgpu's AddN binds every input as a storage buffer, and the
 * device allows only maxStorageBuffersPerShaderStage (8 on SwiftShader) per pipeline. */
function sumScalars(xs: tf.Tensor[]): tf.Tensor {
  const GROUP = 6;
  while (xs.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < xs.length; i += GROUP) {
      const g = xs.slice(i, i + GROUP);
      next.push(g.length === 1 ? g[0] : tf.addN(g));
    }
    xs = next;
  }
  return xs[0];
}

export class TfWrn {
  /** Trainable variables by parameter name (conv filters [R,R,C,K]; the classifier weight stays [K,D]). */
  readonly vars = new Map<string, tf.Variable>();
  readonly running = new Map<string, { mean: tf.Variable; variance: tf.Variable }>();
  private readonly prefix = `wrn${instances++}/`;

  /** `values(name)` gives a parameter in our layout (PyTorch's: conv [K,C,R,R]). */
  constructor(readonly spec: WrnSpec, values: (name: string) => Float32Array) {
    try {
      for (const p of spec.params) {
        const v = values(p.name);
        let t: tf.Tensor;
        if (p.kind === 'conv') {
          const [K, C, R] = p.shape;
          t = tf.tensor4d(kcrsToRsck(v, K, C, R), [R, R, C, K]);
        } else t = tf.tensor(v, p.shape);
        this.vars.set(p.name, tf.variable(t, true, this.prefix + p.name));
        t.dispose();
      }
      for (const n of spec.bnNames) {
        const C = this.vars.get(`${n}.weight`)!.shape[0];
        this.running.set(n, {
          mean: tf.variable(tf.zeros([C]), false, `${this.prefix}${n}.running_mean`),
          variance: tf.variable(tf.ones([C]), false, `${this.prefix}${n}.running_var`),
        });
      }
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  private v(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`tfjs WRN: no parameter '${name}'`);
    return v;
  }

  /** Train-mode forward: x [N,H,W,C] -> logits [N,K]. Batch statistics are pushed to `stats` (kept). */
  forward(x: tf.Tensor4D, stats: BnStat[]): tf.Tensor2D {
    const conv = (h: tf.Tensor4D, name: string, stride: number, pad: number) =>
      tf.conv2d(h, this.v(`${name}.weight`) as tf.Tensor4D, stride, pad, 'NHWC');
    const bnAct = (h: tf.Tensor4D, name: string) => {
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      stats.push({ name, mean: tf.keep(mean), variance: tf.keep(variance), count: h.shape[0] * h.shape[1] * h.shape[2] });
      const y = tf.batchNorm(h, mean, variance, this.v(`${name}.bias`) as tf.Tensor1D, this.v(`${name}.weight`) as tf.Tensor1D, BN_EPS);
      return tf.leakyRelu(y, LEAKY_SLOPE) as tf.Tensor4D;
    };
    let h = conv(x, 'encoder.init_conv', 1, 1);
    for (const b of this.spec.blocks) {
      const n = blockLayerNames(b);
      let branchIn: tf.Tensor4D, shortIn: tf.Tensor4D;
      if (b.activateBeforeResidual) {
        branchIn = shortIn = bnAct(h, n.preBn);
      } else {
        branchIn = bnAct(h, n.preBn);
        shortIn = h;
      }
      let t = conv(branchIn, n.conv1, b.stride, 1);
      t = bnAct(t, n.bn2);
      t = conv(t, n.conv2, 1, 1);
      const s = b.hasShortcutConv ? conv(shortIn, n.shortcut, b.stride, 0) : shortIn;
      h = tf.add(s, t) as tf.Tensor4D;
    }
    h = bnAct(h, 'encoder.unit4.0');
    const z = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(z, this.v('classifier.classifier.weight') as tf.Tensor2D, false, true), this.v('classifier.classifier.bias')) as tf.Tensor2D;
  }

  /** One training step; returns the cross-entropy (without the weight-decay term) of the pre-update weights, which
   * the caller disposes. Weight decay is added to the loss as wd/2 * sum of squares of every parameter, which gives
   * PyTorch's SGD weight_decay gradient (g + wd * w) on every parameter, as our fused SGD applies it. */
  trainStep(x: tf.Tensor4D, onehot: tf.Tensor2D, opt: tf.Optimizer, weightDecay: number): tf.Scalar {
    const stats: BnStat[] = [];
    let ce: tf.Scalar | null = null;
    const params = [...this.vars.values()];
    try {
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.forward(x, stats);
        const l = tf.losses.softmaxCrossEntropy(onehot, logits) as tf.Scalar;
        ce = tf.keep(l);
        if (!weightDecay) return l;
        const l2 = sumScalars(params.map((p) => tf.sum(tf.square(p))));
        return tf.add(l, tf.mul(l2, weightDecay / 2)) as tf.Scalar;
      }, params);
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => {
        for (const s of stats) {
          const r = this.running.get(s.name)!;
          const unbiased = s.count > 1 ? s.count / (s.count - 1) : 1;
          r.mean.assign(tf.add(tf.mul(r.mean, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
          r.variance.assign(tf.add(tf.mul(r.variance, 1 - BN_MOMENTUM), tf.mul(s.variance, BN_MOMENTUM * unbiased)));
        }
      });
      return ce!;
    } catch (e) {
      if (ce) (ce as tf.Scalar).dispose();
      throw e;
    } finally {
      for (const s of stats) tf.dispose([s.mean, s.variance]);
    }
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    for (const r of this.running.values()) tf.dispose([r.mean, r.variance]);
    this.vars.clear();
    this.running.clear();
  }
}
