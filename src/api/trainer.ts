// The high-level trainer: "train on my labeled + unlabeled images, then predict". It runs the engine's training loop
// (src/train/trainer.ts) on the data source's explicit split, keeps the latest checkpoint in memory (that is the
// model state between calls: run() resumes from it, predict() loads it), and predicts with an eval-mode forward of the
// EMA model. Calls on one trainer run one at a time; every misuse (a call during run(), after dispose(), on a
// destroyed device) is an Error naming the call and the fix.
import type { ImageDataset } from '../data/dataset.js';
import { PipelineCache } from '../gpu/kernel.js';
import { Runtime } from '../gpu/runtime.js';
import { classMetrics, type ClassMetrics } from '../train/evaluate.js';
import type { TrainConfig } from '../train/train-config.js';
import { train, type EvalRecord, type TrainEvent } from '../train/trainer.js';
import { parseTuneBudget, type TuneRequest } from '../tune/prepare.js';
import { pageTuneRequest, savePageTuneEntries } from '../tune/page-store.js';
import { METRICS_FORMAT, type LogRecord, type StartRecord } from '../train/metrics-record.js';
import { readTrainerCheckpoint, writeTrainerCheckpoint, type ModelMeta, type TrainingCheckpoint } from './checkpoint-file.js';
import { apiConfigOf, resolveTrainerConfig, type ResolvedTrainerConfig, type TrainerConfig } from './config.js';
import { isDataSource, type DataSource, type LabeledImages } from './data-source.js';
import { DeviceGuard } from './device-guard.js';
import type { ImageInput } from './images.js';
import { imagesFor, labeledFor } from './model-inputs.js';
import { Predictor, probabilities, type ModelChoice } from './predictor.js';

export interface CreateTrainerOptions {
  /** The app's device; default: one acquired with acquireGpu() (destroyed again by dispose()). */
  device?: GPUDevice;
  data: DataSource;
  /** Labeled images evaluated every config.evalEvery steps of run() (reported through onEval). */
  test?: LabeledImages;
  config?: TrainerConfig;
  /** Conv kernel rungs for this adapter (src/tune): 'cached' (default: what an earlier 'fresh' stored in this page's
   * localStorage, the fixed rule elsewhere), 'fresh' (time the step's convs at the first run(), within tuneBudgetS
   * seconds, default 60, and store the winners), 'off' (the fixed rule). */
  tune?: 'off' | 'cached' | 'fresh';
  tuneBudgetS?: number;
}

export interface Progress {
  /** Steps done. */
  step: number;
  totalSteps: number;
  /** Total loss and its parts (weighted): labeled cross-entropy, unlabeled (pseudo-label) loss, DASO's alignment. */
  loss: number;
  lossLabeled: number;
  lossUnlabeled: number;
  lossAlign: number;
  /** Share of unlabeled images whose pseudo-label passed the confidence threshold. */
  maskRatio: number;
  /** True once DASO's blending is on (after config.warmup steps). */
  dasoActive: boolean;
  stepsPerSecond: number;
  etaSeconds: number;
  /** The log record `daso train` writes to metrics.jsonl: with the pseudo-label statistics of the steps since the last
   * progress report (`pl`: confusion of every unlabeled image, m_hat, v) when the unlabeled labels are known. For
   * daso-webgpu/viz's LivePanel.log. */
  record: LogRecord;
}

export interface Evaluation {
  step: number;
  /** The EMA model on the test set given to createTrainer. */
  test: ClassMetrics;
  /** The pseudo-labels of the unlabeled batches read back since the last evaluation (every logEvery steps), scored
   * against the unlabeled images' true labels; null unless the data source was given them (UnlabeledImages.labels). */
  pseudoLabels: { accuracy: number; maskRatio: number; recall: number[] } | null;
  /** The eval record `daso train` writes (confusion matrix, logit-adjusted recall/precision, ...), for LivePanel. */
  record: EvalRecord;
  /** Penultimate features of the first 50 test images of each class (the same images at every evaluation), for a
   * 2-D embedding (LivePanel.evaluation); null when no onEval listener was given. */
  features: { features: Float32Array; n: number; d: number; labels: number[]; pred: number[] } | null;
}

export interface RunOptions {
  /** Aborting stops the run between two steps; run() then resolves with stopped: true and the state of the steps done. */
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  onEval?: (e: Evaluation) => void;
  /** Once a run() starts: the class counts of the labeled and (when known) unlabeled images (LivePanel.start). */
  onStart?: (r: StartRecord) => void;
  /** Train at most this many steps now (default: to config.steps); a later run() continues. */
  steps?: number;
}

export interface RunResult {
  /** Steps done in all. */
  step: number;
  totalSteps: number;
  /** Stopped early: by the signal, by options.steps, or by dispose(). */
  stopped: boolean;
}

export interface PredictOptions {
  /** 'ema' (default): the exponential moving average of the weights, as evaluations use; 'online': the raw weights. */
  model?: ModelChoice;
  /** Test-time logit adjustment: probabilities of logits - tau * log(labeled class frequency), which favours the rare
   * classes of a long-tailed training set; true = tau 1. Default off. */
  logitAdjust?: boolean | number;
}

/** Compiled pipelines per device, shared by its trainers: a second trainer (new settings, new data of the same shape)
 * starts without recompiling. */
const PIPELINES = new WeakMap<GPUDevice, PipelineCache>();

export class Trainer {
  private readonly rt: Runtime;
  private engine: TrainConfig;
  private apiConfig: ResolvedTrainerConfig;
  private meta: ModelMeta;
  private latest: TrainingCheckpoint | null = null;
  private predictor: Predictor | null = null;
  private busy: string | null = null;
  private disposed = false;
  private readonly stopAll = new AbortController();

  /** Use createTrainer(). */
  constructor(private readonly guard: DeviceGuard, readonly data: DataSource, private readonly testSet: ImageDataset | null,
    resolved: { api: ResolvedTrainerConfig; engine: TrainConfig }, private readonly tune: TuneRequest = { mode: 'off' }) {
    let cache = PIPELINES.get(guard.device);
    if (!cache) PIPELINES.set(guard.device, (cache = new PipelineCache(guard.device)));
    this.rt = new Runtime(guard.device, guard.info, cache);
    this.engine = resolved.engine;
    this.apiConfig = resolved.api;
    this.meta = { normalisation: data.normalisation, classCounts: [...data.classCounts], classNames: [...data.classNames] };
  }

  get device(): GPUDevice {
    return this.guard.device;
  }

  /** The settings in force (after load(): the checkpoint's). */
  get config(): Readonly<ResolvedTrainerConfig> {
    return this.apiConfig;
  }

  get numClasses(): number {
    return this.data.numClasses;
  }

  get classNames(): readonly string[] {
    return this.meta.classNames;
  }

  /** Steps trained so far (0: predict() answers with the untrained, randomly initialised model). */
  get step(): number {
    return this.latest ? Number(this.latest.tensors.step.data[0]) : 0;
  }

  /** Fails for a call that cannot run now; names the call, the reason and the fix. */
  private enter(call: string): void {
    if (this.disposed) throw new Error(`${call}: this trainer was disposed; create a new one with createTrainer()`);
    this.guard.check(call);
    if (this.busy) {
      throw new Error(`${call}: ${this.busy} is still in progress; await it first` +
        (this.busy === 'run()' ? ' (or stop it through its signal)' : '') + ' — calls on one trainer run one at a time');
    }
    this.busy = `${call.replace(/\(.*$/, '')}()`;
  }

  private leave(): void {
    this.busy = null;
    if (this.disposed) this.free();
  }

  private dropPredictor(): void {
    this.predictor?.dispose();
    this.predictor = null;
  }

  /** Trains (resuming from the latest state) until config.steps, options.steps more steps, or the signal. */
  async run(o: RunOptions = {}): Promise<RunResult> {
    this.enter('run()');
    try {
      if (o.steps !== undefined && !(Number.isInteger(o.steps) && o.steps >= 1)) {
        throw new Error(`run(): options.steps is ${String(o.steps)}; it must be an integer >= 1 (or left out: train to config.steps)`);
      }
      const total = this.engine.max_iter, start = this.step;
      if (start >= total) {
        throw new Error(`run(): training is complete (${start} of ${total} steps, config.steps); predict(), evaluate() and save() ` +
          `still work. To train longer, create a trainer with a larger config.steps`);
      }
      // One signal for train(): the caller's, or dispose() (which stops a run at the next step boundary).
      const ac = new AbortController();
      const abort = () => ac.abort();
      o.signal?.addEventListener('abort', abort);
      this.stopAll.signal.addEventListener('abort', abort);
      if (o.signal?.aborted || this.stopAll.signal.aborted) ac.abort();
      this.dropPredictor();
      let stopped = false;
      let features: Evaluation['features'] = null;
      const emit = (e: TrainEvent) => {
        if (e.type === 'start') {
          if (e.tune.mode === 'fresh') savePageTuneEntries(e.tune);
          o.onStart?.({ kind: 'start', format: METRICS_FORMAT, step: e.startStep, algorithm: this.engine.algorithm, split: e.split });
        } else if (e.type === 'progress') {
          o.onProgress?.({
            step: e.step, totalSteps: total, loss: e.loss, lossLabeled: e.loss_cls, lossUnlabeled: e.loss_u, lossAlign: e.loss_align,
            maskRatio: e.mask_ratio, dasoActive: e.daso_active, stepsPerSecond: e.steps_per_s, etaSeconds: e.eta_s,
            record: { kind: 'log', step: e.step, loss: e.loss, loss_cls: e.loss_cls, loss_u: e.loss_u, loss_align: e.loss_align, mask_ratio: e.mask_ratio, daso_active: e.daso_active, pl: e.pl },
          });
        } else if (e.type === 'eval') {
          const pl = e.record.pseudo_label;
          o.onEval?.({
            step: e.record.step, test: e.record.test, pseudoLabels: pl ? { accuracy: pl.top1, maskRatio: pl.mask_ratio, recall: pl.recall } : null,
            record: e.record, features,
          });
          features = null;
        } else if (e.type === 'stopped') stopped = true;
      };
      const ds = this.data;
      try {
        await this.guard.race(train(this.rt, this.engine, {
          train: ds.dataset, test: this.testSet, norm: this.meta.normalisation,
          split: { labeled: ds.labeled, unlabeled: ds.unlabeled, unlabeledLabelsKnown: ds.unlabeledLabelsKnown },
        }, {
          emit,
          saveCheckpoint: async (tensors, metadata) => { this.latest = { tensors, metadata }; },
          // Kept for the evaluation's event, which follows (only asked for when someone listens).
          saveFeatures: o.onEval ? async (t) => {
            const [n, d] = t.features.shape;
            features = { features: t.features.data as Float32Array, n, d, labels: Array.from(t.labels.data as BigInt64Array, Number), pred: Array.from(t.pred.data as BigInt64Array, Number) };
          } : undefined,
          signal: ac.signal,
          tune: this.tune,
          stopAfter: o.steps !== undefined ? start + o.steps : undefined,
        }, this.latest?.tensors ?? null, this.latest?.metadata ?? null), 'run()');
      } catch (e) {
        const m = (e as Error).message;
        if (/^EpochSampler: state is for a pool/.test(m)) {
          throw new Error(`run(): the loaded checkpoint was trained on other images than this trainer's data source (${m}); ` +
            `predict() and evaluate() work, but training can only continue on the same data`);
        }
        throw e;
      } finally {
        o.signal?.removeEventListener('abort', abort);
        this.stopAll.signal.removeEventListener('abort', abort);
      }
      return { step: this.step, totalSteps: total, stopped };
    } finally {
      this.leave();
    }
  }

  private getPredictor(): Predictor {
    this.predictor ??= new Predictor(this.rt, this.engine, this.meta.normalisation, this.latest?.tensors ?? null);
    return this.predictor;
  }

  /** Class probabilities [N * numClasses] (row i: image i) of the trained model. Before any training this is the
   * randomly initialised model's answer (legitimate, and useless: check trainer.step). */
  async predict(images: ImageInput, o: PredictOptions = {}): Promise<Float32Array> {
    this.enter('predict()');
    try {
      const model = o.model ?? 'ema';
      if (model !== 'ema' && model !== 'online') throw new Error(`predict(): options.model is ${JSON.stringify(model)}; use 'ema' or 'online'`);
      const tau = o.logitAdjust === true ? 1 : o.logitAdjust === false || o.logitAdjust === undefined ? 0 : o.logitAdjust;
      if (!(Number.isFinite(tau) && tau >= 0)) throw new Error(`predict(): options.logitAdjust is ${String(o.logitAdjust)}; use true, false or a tau >= 0`);
      const ds = imagesFor(this.data, images, 'predict() images');
      const logits = await this.guard.race(this.getPredictor().logits(ds, model), 'predict()');
      return probabilities(logits, this.numClasses, tau ? this.logPrior().map((l) => tau * l) : undefined);
    } finally {
      this.leave();
    }
  }

  private logPrior(): number[] {
    const total = this.meta.classCounts.reduce((a, b) => a + b, 0);
    return this.meta.classCounts.map((n) => Math.log(Math.max(n / total, 1e-12)));
  }

  /** Top-1, balanced accuracy, per-class recall and precision (and top-1 with test-time logit adjustment) of the EMA
   * model on labeled images. */
  async evaluate(test: LabeledImages): Promise<ClassMetrics> {
    this.enter('evaluate()');
    try {
      const ds = labeledFor(this.data, test, 'evaluate() images');
      const idx = Int32Array.from({ length: ds.n }, (_, i) => i);
      const p = await this.guard.race(this.getPredictor().classes(ds, idx, this.logPrior()), 'evaluate()');
      return classMetrics(p.pred, ds.labels, this.numClasses, p.predLa);
    } finally {
      this.leave();
    }
  }

  /** The latest state as safetensors bytes (model and EMA weights with PyTorch names, optimiser, DASO state, the run's
   * config and sampler states, normalisation and class counts). */
  save(): Uint8Array<ArrayBuffer> {
    this.enter('save()');
    try {
      if (!this.latest) throw new Error('save(): nothing trained yet: call run() (or load()) first');
      return writeTrainerCheckpoint(this.latest, this.meta);
    } finally {
      this.leave();
    }
  }

  /** Takes the state of save() bytes (or of a `daso train` checkpoint of the same shape): weights, the run's config
   * and progress, normalisation and class prior. Everything is checked before anything changes. */
  load(bytes: Uint8Array, name = 'checkpoint'): void {
    this.enter('load()');
    try {
      const ck = readTrainerCheckpoint(bytes, name, this.data);
      this.dropPredictor();
      this.latest = { tensors: ck.tensors, metadata: ck.metadata };
      this.engine = ck.config;
      this.apiConfig = apiConfigOf(ck.config);
      this.meta = ck.meta;
    } finally {
      this.leave();
    }
  }

  /** Frees the GPU memory (and destroys the device if the library acquired it). A run in progress stops at its next
   * step boundary first. Every later call throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopAll.abort();
    if (!this.busy) this.free();
  }

  private free(): void {
    this.dropPredictor();
    this.rt.dispose();
    this.guard.release();
  }
}

/** A trainer for the data source's images; everything about the data and config is checked before the GPU is touched. */
export async function createTrainer(o: CreateTrainerOptions): Promise<Trainer> {
  if (typeof o !== 'object' || o === null) throw new Error('createTrainer: expected { data, config?, device?, test? }');
  if (!isDataSource(o.data)) throw new Error('createTrainer: options.data must be a data source from createDataSource({ labeled, unlabeled })');
  const d = o.data;
  const resolved = resolveTrainerConfig(o.config, {
    numClasses: d.numClasses, channels: d.channels, imageSize: d.imageSize, labeledCount: d.labeled.length,
    unlabeledCount: d.unlabeledCount, headCount: Math.max(...d.classCounts),
  });
  const test = o.test === undefined ? null : labeledFor(d, o.test, 'test images');
  const tune = pageTuneRequest(o.tune ?? 'cached', o.tuneBudgetS === undefined ? undefined : parseTuneBudget(o.tuneBudgetS, 'createTrainer: options.tuneBudgetS'),
    'createTrainer: options.tune');
  const guard = await DeviceGuard.create(o.device);
  const bytes = d.dataset.images.length;
  if (bytes > guard.device.limits.maxStorageBufferBindingSize) {
    guard.release();
    throw new Error(`createTrainer: the images take ${(bytes / 2 ** 20).toFixed(1)} MiB on the GPU, more than this device's ` +
      `maxStorageBufferBindingSize (${(guard.device.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB): request the device ` +
      `with requiredLimits { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize }, or use fewer or smaller images`);
  }
  return new Trainer(guard, d, test, resolved, tune);
}
