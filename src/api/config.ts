// The library's training config: a small subset of the engine's keys (docs/CONFIG.md), camelCase, with defaults
// sized for small custom datasets and short runs. It is mapped onto a full TrainConfig and checked by the engine's
// own validator (parseTrainConfig), so there is one set of rules for configs from files, the CLI and this API; its
// messages are rewritten to name this API's keys.
import { parseTrainConfig, type TrainConfig } from '../train/train-config.js';

export interface TrainerConfig {
  /** 'daso' (FixMatch + DASO, default), 'fixmatch', or 'supervised' (labeled images only). */
  algorithm?: 'daso' | 'fixmatch' | 'supervised';
  /** Training steps of the whole run (default 500). */
  steps?: number;
  /** Labeled images per step (default 16). */
  batchSize?: number;
  /** Unlabeled images per step = unlabeledRatio * batchSize, each seen weakly and strongly augmented (default 2). */
  unlabeledRatio?: number;
  /** Wide ResNet depth, 6n + 4: 10 (default), 16, 28 (the paper's). */
  depth?: number;
  /** Wide ResNet widening factor (default 1; the paper's CIFAR model is depth 28, width 2). */
  width?: number;
  /** SGD learning rate (default 0.03, Nesterov momentum 0.9). */
  lr?: number;
  weightDecay?: number;
  /** EMA decay of the model predictions use; default min(0.999, 1 - 10 / steps), at least 0.5: an average over about
   * the last tenth of a short run rather than the paper's 1000 steps. */
  emaDecay?: number;
  /** Confidence threshold of pseudo-labels (default 0.95). */
  tau?: number;
  /** Steps of plain FixMatch before DASO's blending starts; default steps / 3 (at least histogramWindow). */
  warmup?: number;
  /** Steps of DASO's pseudo-label histogram window; default steps / 30, between 1 and 100 (and at most warmup). */
  histogramWindow?: number;
  /** DASO's T_dist (default 1.5; the paper uses 0.3 when the unlabeled class distribution differs from the labeled). */
  tDist?: number;
  /** Features kept per class for DASO's prototypes (default 64: short runs push few tail-class features, and a long
   * queue would keep the early, untrained ones). */
  queueSize?: number;
  /** Seeds sampling, augmentation and initialisation (default 0). */
  seed?: number;
  /** Steps between progress reports (each is a GPU readback; default 10). */
  logEvery?: number;
  /** Steps between evaluations of the test set given to createTrainer (default steps / 5). */
  evalEvery?: number;
  /** Images per forward pass in predict() and evaluations (default 64). */
  evalBatchSize?: number;
}

export type ResolvedTrainerConfig = Required<TrainerConfig>;

/** API key -> engine key (for the mapping and for rewriting the validator's messages). */
const ENGINE_KEY: Record<keyof TrainerConfig, string> = {
  algorithm: 'algorithm', steps: 'max_iter', batchSize: 'train.batch_size', unlabeledRatio: 'train.unlabeled_ratio',
  depth: 'model.depth', width: 'model.width', lr: 'optim.lr', weightDecay: 'optim.weight_decay', emaDecay: 'ema_decay',
  tau: 'ssl.tau', warmup: 'daso.warmup', histogramWindow: 'daso.pl_update_period', tDist: 'daso.t_dist',
  queueSize: 'daso.queue_size', seed: 'train.seed', logEvery: 'train.log_every', evalEvery: 'train.eval_every',
  evalBatchSize: 'eval.batch_size',
};
export const TRAINER_CONFIG_KEYS = Object.keys(ENGINE_KEY) as (keyof TrainerConfig)[];

/** What the config depends on in the data. */
export interface DataShape {
  numClasses: number;
  channels: number;
  imageSize: number;
  labeledCount: number;
  unlabeledCount: number;
  /** Labeled images of the largest class. */
  headCount: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Defaults that depend on the run length, for the keys the caller left out. */
function withDefaults(g: TrainerConfig): ResolvedTrainerConfig {
  const steps = typeof g.steps === 'number' && g.steps >= 1 ? Math.floor(g.steps) : 500;
  const autoWindow = clamp(Math.round(steps / 30), 1, 100);
  const win = g.histogramWindow ?? (typeof g.warmup === 'number' ? clamp(autoWindow, 1, Math.max(1, g.warmup)) : autoWindow);
  return {
    algorithm: 'daso', steps: 500, batchSize: 16, unlabeledRatio: 2, depth: 10, width: 1, lr: 0.03, weightDecay: 5e-4,
    emaDecay: clamp(1 - 10 / steps, 0.5, 0.999), tau: 0.95,
    warmup: Math.max(typeof win === 'number' ? win : 1, Math.round(steps / 3)), histogramWindow: win,
    tDist: 1.5, queueSize: 64, seed: 0, logEvery: Math.min(10, steps), evalEvery: Math.max(1, Math.round(steps / 5)), evalBatchSize: 64,
    ...g,
  };
}

/** Rewrites the engine validator's key names into this API's ('train.batch_size' -> 'batchSize'). */
export function apiMessage(msg: string): string {
  let out = msg;
  const pairs: [string, string][] = [...Object.entries(ENGINE_KEY).map(([api, engine]) => [engine, api] as [string, string]), ['pl_update_period', 'histogramWindow']];
  for (const [engine, api] of pairs) out = out.replace(new RegExp(`\\b${engine.replace('.', '\\.')}\\b`, 'g'), api);
  return out.replace(/; see docs\/CONFIG\.md/, '');
}

/** The engine config for this API config and data (not validated). */
function toEngine(c: ResolvedTrainerConfig, d: DataShape): unknown {
  return {
    name: 'api',
    algorithm: c.algorithm,
    max_iter: c.steps,
    model: { depth: c.depth, width: c.width, in_channels: d.channels, num_classes: d.numClasses, image_size: d.imageSize },
    optim: { lr: c.lr, weight_decay: c.weightDecay },
    ema_decay: c.emaDecay,
    ssl: { tau: c.tau },
    daso: { warmup: c.warmup, pl_update_period: c.histogramWindow, t_dist: c.tDist, queue_size: c.queueSize },
    // The explicit split replaces the long-tailed split: n1/m1 only have to pass the validator (m1 >= 1 for SSL is
    // checked on the data before this), and 'synthetic' only picks the CLI's loader and a default normalisation,
    // both of which the API replaces.
    data: { dataset: 'synthetic', num_valid_per_class: 0, n1: Math.max(1, d.headCount), m1: d.unlabeledCount, gamma_l: 1, gamma_u: 1 },
    train: {
      batch_size: c.batchSize, unlabeled_ratio: c.unlabeledRatio, seed: c.seed, log_every: c.logEvery, eval_every: c.evalEvery,
      // Checkpoints stay in memory: one at the end of a run (or where it stops) is all save() needs.
      checkpoint_every: typeof c.steps === 'number' && c.steps >= 1 ? c.steps : 1,
    },
    eval: { batch_size: c.evalBatchSize, per_class_limit: 0, median_of: 1 },
  };
}

/** Checks and completes an API config for this data; throws naming the API key and the fix. */
export function resolveTrainerConfig(given: TrainerConfig | undefined, d: DataShape): { api: ResolvedTrainerConfig; engine: TrainConfig } {
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new Error(`createTrainer: config must be an object of settings, got ${JSON.stringify(given)}`);
  }
  const g: TrainerConfig = {};
  for (const [k, v] of Object.entries(given ?? {})) {
    if (!Object.prototype.hasOwnProperty.call(ENGINE_KEY, k)) {
      throw new Error(`createTrainer: unknown config key '${k}' (known: ${TRAINER_CONFIG_KEYS.join(', ')})`);
    }
    if (v !== undefined) (g as Record<string, unknown>)[k] = v;
  }
  const api = withDefaults(g);
  if ((api.algorithm === 'daso' || api.algorithm === 'fixmatch') && d.unlabeledCount === 0) {
    throw new Error(`createTrainer: algorithm '${api.algorithm}' also learns from unlabeled images and the data source has none: ` +
      `pass unlabeled images to createDataSource, or set config.algorithm to 'supervised'`);
  }
  let engine: TrainConfig;
  try {
    engine = parseTrainConfig(toEngine(api, d));
  } catch (e) {
    throw new Error(`createTrainer: ${apiMessage((e as Error).message)}`);
  }
  return { api, engine };
}

/** The API view of an engine config (a loaded checkpoint's, which may come from `daso train`). */
export function apiConfigOf(c: TrainConfig): ResolvedTrainerConfig {
  return {
    algorithm: c.algorithm, steps: c.max_iter, batchSize: c.train.batch_size, unlabeledRatio: c.train.unlabeled_ratio,
    depth: c.model.depth, width: c.model.width, lr: c.optim.lr, weightDecay: c.optim.weight_decay, emaDecay: c.ema_decay,
    tau: c.ssl.tau, warmup: c.daso.warmup, histogramWindow: c.daso.pl_update_period, tDist: c.daso.t_dist,
    queueSize: c.daso.queue_size, seed: c.train.seed, logEvery: c.train.log_every, evalEvery: c.train.eval_every,
    evalBatchSize: c.eval.batch_size,
  };
}
