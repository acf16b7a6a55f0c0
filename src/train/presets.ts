// Presets: the paper's CIFAR settings (spec §2.1-2.2, Table 1-2) and a Fashion-MNIST-LT setting sized for a 2-core
// machine without a GPU (SwiftShader): a small WRN, small batches, warm-up and histogram window scaled down.
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './train-config.js';

type Partial2<T> = { [K in keyof T]?: T[K] extends object ? Partial<T[K]> : T[K] };

function preset(name: string, p: Partial2<TrainConfig>): TrainConfig {
  const d = DEFAULT_TRAIN_CONFIG;
  return {
    ...d, ...p, name,
    model: { ...d.model, ...p.model }, optim: { ...d.optim, ...p.optim }, ssl: { ...d.ssl, ...p.ssl },
    daso: { ...d.daso, ...p.daso }, data: { ...d.data, ...p.data }, train: { ...d.train, ...p.train }, eval: { ...d.eval, ...p.eval },
  } as TrainConfig;
}

export const PRESETS: Record<string, TrainConfig> = {
  // CIFAR-10-LT, gamma 100, N1=500 / M1=4000 (Table 1), gamma_l = gamma_u: T_dist 1.5.
  'cifar10-lt-n500': preset('cifar10-lt-n500', { algorithm: 'daso', data: { dataset: 'cifar10', n1: 500, m1: 4000, gamma_l: 100, gamma_u: 100 }, daso: { t_dist: 1.5 } }),
  'cifar10-lt-n1500': preset('cifar10-lt-n1500', { algorithm: 'daso', data: { dataset: 'cifar10', n1: 1500, m1: 3000, gamma_l: 100, gamma_u: 100 }, daso: { t_dist: 1.5 } }),
  // Table 2: gamma_u = 1 (uniform unlabeled) and gamma_u = 1/100 (reversed), T_dist 0.3 when gamma_l != gamma_u.
  'cifar10-lt-n500-uniform-u': preset('cifar10-lt-n500-uniform-u', { algorithm: 'daso', data: { dataset: 'cifar10', n1: 500, m1: 4000, gamma_l: 100, gamma_u: 1 }, daso: { t_dist: 0.3 } }),
  'cifar10-lt-n500-reversed-u': preset('cifar10-lt-n500-reversed-u', { algorithm: 'daso', data: { dataset: 'cifar10', n1: 500, m1: 4000, gamma_l: 100, gamma_u: 100, reverse_unlabeled: true }, daso: { t_dist: 0.3 } }),
  // CIFAR-100-LT, gamma 10, N1=150 / M1=300: 50 validation images per class, T_dist 0.3.
  'cifar100-lt-n150': preset('cifar100-lt-n150', { algorithm: 'daso', model: { num_classes: 100 }, data: { dataset: 'cifar100', n1: 150, m1: 300, gamma_l: 10, gamma_u: 10, num_valid_per_class: 50 }, daso: { t_dist: 0.3 } }),
  // Fashion-MNIST-LT, gamma 100 (N1=1000 / M1=4000 of 5500 per class after 500 validation images), WRN-10-1 on 1x28x28.
  // Sized for about 30 minutes on 2 cores with SwiftShader: the step (B=16 + 2x32 unlabeled + the EMA forward) takes
  // 5.1 s there (npm run bench:step, fmnist-daso), so 300 steps; warm-up 100 and a histogram window of 10 steps
  // keep the paper's proportions roughly (5000 / 100 of 250k would leave no DASO phase at all).
  'fashion-mnist-lt': preset('fashion-mnist-lt', {
    algorithm: 'daso',
    model: { depth: 10, width: 1, in_channels: 1, num_classes: 10, image_size: 28 },
    max_iter: 300,
    data: { dataset: 'fashion_mnist', n1: 1000, m1: 4000, gamma_l: 100, gamma_u: 100, num_valid_per_class: 500 },
    daso: { warmup: 100, pl_update_period: 10, t_dist: 1.5 },
    train: { batch_size: 16, unlabeled_ratio: 2, log_every: 10, eval_every: 50, checkpoint_every: 50 },
    eval: { batch_size: 250, per_class_limit: 50, median_of: 3 },
  }),
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}
