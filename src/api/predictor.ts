// Inference for the library API: a model state on the GPU loaded from the trainer's latest checkpoint (or freshly
// initialised when nothing was trained yet) and eval-mode forwards (BN running statistics) of the EMA or the online
// model, recorded once and kept until the state changes (a run, a load, dispose).
import type { ImageDataset } from '../data/dataset.js';
import type { Runtime } from '../gpu/runtime.js';
import type { Normalisation } from '../kernels/augment.js';
import type { StTensor } from '../nn/safetensors.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { Evaluator } from '../train/evaluate.js';
import { TrainState } from '../train/model-state.js';
import type { TrainConfig } from '../train/train-config.js';

export type ModelChoice = 'ema' | 'online';

export class Predictor {
  private readonly st: TrainState;
  private readonly evaluators = new Map<string, Evaluator>();

  constructor(readonly rt: Runtime, readonly config: TrainConfig, readonly norm: Normalisation, tensors: Record<string, StTensor> | null) {
    this.st = new TrainState(rt, config.model);
    try {
      if (tensors) loadCheckpoint(this.st, tensors, 'checkpoint', config.algorithm === 'daso' ? ['daso.'] : []);
      else this.st.initialise(config.train.seed);
    } catch (e) {
      this.st.dispose();
      throw e;
    }
  }

  /** Steps the loaded weights were trained for. */
  get step(): number {
    return this.st.step;
  }

  /** The forward for this model, compiled on first use. Always eval.batch_size images a pass (the last one padded):
   * the training loop compiled that forward already, so the first prediction after run() compiles nothing. */
  private async evaluator(model: ModelChoice): Promise<Evaluator> {
    let e = this.evaluators.get(model);
    if (!e) {
      e = await Evaluator.create(this.rt, this.st, this.config.eval.batch_size, this.norm, model === 'ema' ? 'ema' : 'model');
      this.evaluators.set(model, e);
    }
    return e;
  }

  /** Logits [n * K] of every image of `data`. */
  async logits(data: ImageDataset, model: ModelChoice): Promise<Float32Array> {
    const e = await this.evaluator(model);
    return e.logitsFor(data, Int32Array.from({ length: data.n }, (_, i) => i));
  }

  /** Predicted classes (plain and with test-time logit adjustment by `logPrior`), as the trainer's evaluations. */
  async classes(data: ImageDataset, indices: Int32Array, logPrior: number[]): Promise<{ pred: Int32Array; predLa: Int32Array }> {
    const e = await this.evaluator('ema');
    return e.predict(data, indices, logPrior);
  }

  dispose(): void {
    for (const e of this.evaluators.values()) e.dispose();
    this.evaluators.clear();
    this.st.dispose();
  }
}

/** Row-wise softmax of `logits` [n * K] after subtracting `shift` [K] (test-time logit adjustment: tau * log prior). */
export function probabilities(logits: Float32Array, K: number, shift?: readonly number[]): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / K; r++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[r * K + k] - (shift ? shift[k] : 0));
    let sum = 0;
    for (let k = 0; k < K; k++) {
      const e = Math.exp(logits[r * K + k] - (shift ? shift[k] : 0) - max);
      out[r * K + k] = e;
      sum += e;
    }
    for (let k = 0; k < K; k++) out[r * K + k] /= sum;
  }
  return out;
}
