// Evaluation of the EMA model (eval-mode BN, running statistics) with the linear classifier, as the reference does:
// top-1, balanced accuracy (mean per-class recall), per-class recall and precision, and test-time logit adjustment
// (logits - log pi, pi = labeled class frequencies: the reference's top1_la). One recorded forward list per batch
// size, replayed over the set; the last batch is padded and its padding ignored.
import type { CommandList } from '../gpu/commands.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { Tape } from '../graph/tape.js';
import type { ImageDataset } from '../data/dataset.js';
import type { Normalisation } from '../kernels/augment.js';
import { classifierForward, encoderForward, ParamVars } from '../nn/wrn.js';
import type { TestMetrics } from './metrics-record.js';
import type { TrainState } from './model-state.js';

export interface ClassMetrics {
  top1: number;
  balanced: number;
  top1_la: number;
  recall: number[];
  precision: number[];
  n: number;
}

/** Metrics from predictions (pure; also used for pseudo-label precision/recall). */
export function classMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>, K: number, predLa?: ArrayLike<number>): ClassMetrics {
  const tp = new Array(K).fill(0), support = new Array(K).fill(0), predicted = new Array(K).fill(0);
  let correct = 0, correctLa = 0;
  for (let i = 0; i < truth.length; i++) {
    const y = truth[i], p = pred[i];
    support[y]++;
    predicted[p]++;
    if (p === y) { tp[y]++; correct++; }
    if (predLa && predLa[i] === y) correctLa++;
  }
  const recall = tp.map((x, k) => (support[k] ? x / support[k] : NaN));
  const precision = tp.map((x, k) => (predicted[k] ? x / predicted[k] : NaN));
  const present = recall.filter((r) => !Number.isNaN(r));
  return {
    top1: truth.length ? correct / truth.length : NaN,
    balanced: present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN,
    top1_la: predLa && truth.length ? correctLa / truth.length : NaN,
    recall, precision, n: truth.length,
  };
}

/** Metrics from a K x K confusion matrix [true][predicted] (the pseudo-label statistics counted on the GPU):
 * the same numbers classMetrics gives for the predictions the matrix counts (top1_la NaN: no second prediction). */
export function metricsFromConfusion(rows: number[][]): ClassMetrics {
  const K = rows.length;
  const support = rows.map((r) => r.reduce((a, b) => a + b, 0));
  const predicted = Array.from({ length: K }, (_, p) => rows.reduce((a, r) => a + r[p], 0));
  const n = support.reduce((a, b) => a + b, 0);
  const correct = rows.reduce((a, r, k) => a + r[k], 0);
  const recall = rows.map((r, k) => (support[k] ? r[k] / support[k] : NaN));
  const precision = rows.map((r, k) => (predicted[k] ? r[k] / predicted[k] : NaN));
  const present = recall.filter((r) => !Number.isNaN(r));
  return {
    top1: n ? correct / n : NaN, balanced: present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN,
    top1_la: NaN, recall, precision, n,
  };
}

/** K x K counts [true][predicted]. */
export function confusionMatrix(pred: ArrayLike<number>, truth: ArrayLike<number>, K: number): number[][] {
  const m = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < truth.length; i++) m[truth[i]][pred[i]]++;
  return m;
}

/** Test metrics with the evaluation extras: the confusion matrix and per-class recall / precision of the test-time
 * logit-adjusted prediction. */
export function testMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>, K: number, predLa: ArrayLike<number>): TestMetrics {
  const la = classMetrics(predLa, truth, K);
  return { ...classMetrics(pred, truth, K, predLa), confusion: confusionMatrix(pred, truth, K), recall_la: la.recall, precision_la: la.precision };
}

/** Indices of at most `perClass` images of each class (all when 0), in dataset order. */
export function balancedSubset(labels: ArrayLike<number>, K: number, perClass: number, pool?: ArrayLike<number>): Int32Array {
  const idx = pool ? Array.from(pool) : Array.from({ length: labels.length }, (_, i) => i);
  if (!perClass) return Int32Array.from(idx);
  const taken = new Array(K).fill(0);
  return Int32Array.from(idx.filter((i) => taken[labels[i]]++ < perClass));
}

export class Evaluator {
  private list: CommandList;
  private tape: Tape;
  private x: Tensor;
  private logits: Tensor;
  private z: Tensor;

  private constructor(readonly rt: Runtime, readonly st: TrainState, readonly batch: number, readonly norm: Normalisation, model: 'ema' | 'model') {
    const c = st.spec.config;
    this.x = rt.tensor([batch, c.in_channels, c.image_size, c.image_size], 'f32', 'eval x');
    this.tape = new Tape(rt, 'eval');
    const P = new ParamVars(this.tape, model === 'ema' ? st.ema : st.model, null);
    const ones = this.tape.alloc([1, batch], 'eval ones');
    const z = encoderForward(this.tape, P, this.tape.constant(this.x), { train: false, grads: null, label: 'eval' });
    this.z = z.t;
    this.logits = classifierForward(this.tape, P, z, ones, 'eval').t;
    this.list = rt.commands('eval').add(...this.tape.forward);
  }

  /** `model`: which weights the forward reads, the EMA model (the default, what evaluations report) or the online
   * model (library predictions can ask for it). */
  static async create(rt: Runtime, st: TrainState, batch: number, norm: Normalisation, model: 'ema' | 'model' = 'ema'): Promise<Evaluator> {
    const e = new Evaluator(rt, st, batch, norm, model);
    await e.list.compile();
    return e;
  }

  /** Logits [indices.length * K] (row-major) of the model over `indices` of `data`, in batches of `batch`. */
  async logitsFor(data: ImageDataset, indices: ArrayLike<number>): Promise<Float32Array> {
    return (await this.forward(data, indices, false)).logits;
  }

  /** Penultimate features [n * D] (the encoder's pooled output, what the classifier reads) and logits [n * K]. */
  async featuresFor(data: ImageDataset, indices: ArrayLike<number>): Promise<{ features: Float32Array; logits: Float32Array; D: number }> {
    const r = await this.forward(data, indices, true);
    return { features: r.features!, logits: r.logits, D: this.z.shape[1] };
  }

  private async forward(data: ImageDataset, indices: ArrayLike<number>, withFeatures: boolean): Promise<{ logits: Float32Array; features: Float32Array | null }> {
    const K = this.st.spec.config.num_classes;
    const D = this.z.shape[1];
    const feats = withFeatures ? new Float32Array(indices.length * D) : null;
    const per = data.channels * data.height * data.width;
    const { mean, std } = this.norm;
    const out = new Float32Array(indices.length * K);
    const buf = new Float32Array(this.batch * per);
    for (let s = 0; s < indices.length; s += this.batch) {
      const n = Math.min(this.batch, indices.length - s);
      buf.fill(0);
      for (let b = 0; b < n; b++) {
        const off = indices[s + b] * per;
        for (let j = 0; j < per; j++) {
          const ch = Math.floor(j / (data.height * data.width));
          buf[b * per + j] = (data.images[off + j] / 255 - mean[ch]) / std[ch];
        }
      }
      this.rt.pool.write(this.x, buf);
      this.list.submit();
      const logits = await this.rt.read(this.logits);
      out.set(logits.subarray(0, n * K), s * K);
      if (feats) feats.set((await this.rt.read(this.z)).subarray(0, n * D), s * D);
    }
    return { logits: out, features: feats };
  }

  /** Predictions (argmax of logits and of logits - log pi) of the model over `indices` of `data`. */
  async predict(data: ImageDataset, indices: Int32Array, logPrior: number[], withFeatures = false): Promise<{ pred: Int32Array; predLa: Int32Array; features: Float32Array | null; D: number }> {
    const K = logPrior.length;
    const { logits, features } = await this.forward(data, indices, withFeatures);
    const pred = new Int32Array(indices.length), predLa = new Int32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      let best = 0, bestLa = 0;
      for (let k = 1; k < K; k++) {
        if (logits[i * K + k] > logits[i * K + best]) best = k;
        if (logits[i * K + k] - logPrior[k] > logits[i * K + bestLa] - logPrior[bestLa]) bestLa = k;
      }
      pred[i] = best;
      predLa[i] = bestLa;
    }
    return { pred, predLa, features, D: this.z.shape[1] };
  }

  dispose(): void {
    this.list.dispose();
    this.tape.dispose();
    this.x.release();
  }
}
