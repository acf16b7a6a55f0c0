// `daso train` configs: the step config (algorithm, model, optimiser, SSL and DASO hyper-parameters) plus data,
// batch, schedule and evaluation keys. Documented in docs/CONFIG.md; unknown keys and out-of-range values are errors.
import { DEFAULT_STEP_CONFIG, describeValue, int, mergeStrict, range, validateStepConfig, type StepConfig } from './config.js';

export type DatasetName = 'fashion_mnist' | 'cifar10' | 'cifar100' | 'synthetic';

export interface DataConfig {
  dataset: DatasetName;
  /** Folder with the dataset files ('' = the default: Debian's /usr/share/datasets/fashion-mnist for Fashion-MNIST). */
  dir: string;
  num_valid_per_class: number;
  n1: number;
  m1: number;
  gamma_l: number;
  gamma_u: number;
  reverse_unlabeled: boolean;
}

export interface TrainSection {
  batch_size: number;
  unlabeled_ratio: number;
  seed: number;
  log_every: number;
  eval_every: number;
  checkpoint_every: number;
  /** Train-time logit adjustment of the labeled CE: logits += tau * log(pi) (off in the paper's main rows). */
  logit_adjust: boolean;
  logit_adjust_tau: number;
}

export interface EvalSection {
  batch_size: number;
  /** Periodic evaluations use at most this many images per class of the test and validation sets (0 = all);
   * the final evaluation always uses the whole test set. */
  per_class_limit: number;
  /** Median of the last N evaluations is reported (the paper: 20). */
  median_of: number;
  /** Each evaluation saves the penultimate features of this many test images per class (the first ones of each
   * class, the same images every time) for the 2-D embeddings of the page and `daso report`; 0 = none. Capped by
   * per_class_limit (the periodic evaluations read no other images; the final one keeps the same ones). */
  features_per_class: number;
}

export interface TrainConfig extends StepConfig {
  name: string;
  data: DataConfig;
  train: TrainSection;
  eval: EvalSection;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  ...DEFAULT_STEP_CONFIG,
  name: 'run',
  data: { dataset: 'cifar10', dir: '', num_valid_per_class: 500, n1: 500, m1: 4000, gamma_l: 100, gamma_u: 100, reverse_unlabeled: false },
  train: { batch_size: 64, unlabeled_ratio: 2, seed: 0, log_every: 50, eval_every: 500, checkpoint_every: 500, logit_adjust: false, logit_adjust_tau: 1 },
  eval: { batch_size: 500, per_class_limit: 0, median_of: 20, features_per_class: 50 },
};

export function validateTrainConfig(c: TrainConfig): void {
  validateStepConfig(c);
  // The name becomes a folder (runs/<name>-<algorithm>-seed<seed>) and a download file name: one plain path segment,
  // so '../x', 'a/b' or '' cannot write outside runs/.
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(c.name)) {
    throw new Error(`config key 'name' = ${describeValue(c.name)} must be 1-100 letters, digits, '.', '_' or '-', not starting with '.' ` +
      `(it names the run folder runs/<name>-<algorithm>-seed<seed>)`);
  }
  const d = c.data;
  if (!['fashion_mnist', 'cifar10', 'cifar100', 'synthetic'].includes(d.dataset)) {
    throw new Error(`config key 'data.dataset' = ${describeValue(d.dataset)} is not one of fashion_mnist, cifar10, cifar100, synthetic`);
  }
  for (const [k, v, lo] of [['data.num_valid_per_class', d.num_valid_per_class, 0], ['data.n1', d.n1, 1], ['data.m1', d.m1, 0],
    ['train.batch_size', c.train.batch_size, 1], ['train.unlabeled_ratio', c.train.unlabeled_ratio, 0], ['train.log_every', c.train.log_every, 1],
    ['train.eval_every', c.train.eval_every, 1], ['train.checkpoint_every', c.train.checkpoint_every, 1], ['eval.batch_size', c.eval.batch_size, 1],
    ['eval.per_class_limit', c.eval.per_class_limit, 0], ['eval.median_of', c.eval.median_of, 1], ['train.seed', c.train.seed, 0],
    ['eval.features_per_class', c.eval.features_per_class, 0]] as const) {
    int(k, v, lo);
  }
  range('data.gamma_l', d.gamma_l, 1, 1e6);
  range('data.gamma_u', d.gamma_u, 1, 1e6);
  range('train.logit_adjust_tau', c.train.logit_adjust_tau, 0, 10);
  if (c.algorithm !== 'supervised' && c.train.unlabeled_ratio < 1) {
    throw new Error(`config key 'train.unlabeled_ratio' = ${c.train.unlabeled_ratio}: ${c.algorithm} needs unlabeled data (>= 1)`);
  }
  if (c.algorithm !== 'supervised' && d.m1 < 1) throw new Error(`config key 'data.m1' = 0: ${c.algorithm} needs unlabeled data`);
  if (c.algorithm === 'daso' && Math.max(c.daso.warmup, 1) < c.daso.pl_update_period && c.daso.warmup < c.max_iter) {
    throw new Error(`config: daso.warmup (${c.daso.warmup}) is shorter than daso.pl_update_period (${c.daso.pl_update_period}): DASO would ` +
      `start before the first pseudo-label histogram exists (the reference divides 0 by 0 there). Make warmup >= pl_update_period.`);
  }
}

export function parseTrainConfig(json: unknown): TrainConfig {
  const c = mergeStrict(DEFAULT_TRAIN_CONFIG, json);
  validateTrainConfig(c);
  return c;
}
