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

  private constructor(readonly rt: Runtime, readonly st: TrainState, readonly batch: number, readonly norm: Normalisation, model: 'ema' | 'model') {
    const c = st.spec.config;
    this.x = rt.tensor([batch, c.in_channels, c.image_size, c.image_size], 'f32', 'eval x');
    this.tape = new Tape(rt, 'eval');
    const P = new ParamVars(this.tape, model === 'ema' ? st.ema : st.model, null);
    const ones = this.tape.alloc([1, batch], 'eval ones');
    const z = encoderForward(this.tape, P, this.tape.constant(this.x), { train: false, grads: null, label: 'eval' });
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
    const K = this.st.spec.config.num_classes;
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
    }
    return out;
  }

  /** Predictions (argmax of logits and of logits - log pi) of the model over `indices` of `data`. */
  async predict(data: ImageDataset, indices: Int32Array, logPrior: number[]): Promise<{ pred: Int32Array; predLa: Int32Array }> {
    const K = logPrior.length;
    const logits = await this.logitsFor(data, indices);
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
    return { pred, predLa };
  }

  dispose(): void {
    this.list.dispose();
    this.tape.dispose();
    this.x.release();
  }
}
