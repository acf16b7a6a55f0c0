// The `daso step` config: the step keys of config.ts plus `logit_adjust`, the train-time logit adjustment that
// `daso train` derives from its labeled split (train.logit_adjust, train.logit_adjust_tau). A step has no split, so
// the labeled class counts are given here. Kept out of StepConfig itself: `daso train` configs extend StepConfig,
// and a second, ignored logit-adjustment key there would be a trap. Documented in docs/CONFIG.md.
import { DEFAULT_STEP_CONFIG, describeValue, mergeStrict, range, validateStepConfig, type StepConfig } from './config.js';

export interface LogitAdjustConfig {
  /** Add tau * log(prior) to the labeled logits in the labeled CE (the unlabeled logits are not adjusted). */
  enabled: boolean;
  tau: number;
  /** Labeled images per class (K positive integers): prior = class_counts / sum. Required when enabled. */
  class_counts: number[];
}

export interface StepFileConfig extends StepConfig {
  logit_adjust: LogitAdjustConfig;
}

export const DEFAULT_STEP_FILE_CONFIG: StepFileConfig = {
  ...DEFAULT_STEP_CONFIG,
  logit_adjust: { enabled: false, tau: 1, class_counts: [] },
};

export function validateLogitAdjust(la: LogitAdjustConfig, K: number): void {
  // The same range as train.logit_adjust_tau (train-config.ts).
  range('logit_adjust.tau', la.tau, 0, 10);
  const cc: unknown = la.class_counts;
  // mergeStrict only checks typeof: null and {} are 'object' like [].
  if (!Array.isArray(cc)) {
    throw new Error(`config key 'logit_adjust.class_counts' = ${describeValue(cc)} is not a list: give the labeled image count of each of the ${K} classes`);
  }
  if (la.enabled && cc.length === 0) {
    throw new Error(`config key 'logit_adjust.class_counts' is missing: logit_adjust.enabled needs the labeled image count of each class ` +
      `(${K} positive integers, model.num_classes); the prior is class_counts / sum. Add the list or set logit_adjust.enabled to false`);
  }
  // Checked even when disabled: a wrong list is a mistake either way.
  if (cc.length && cc.length !== K) {
    throw new Error(`config key 'logit_adjust.class_counts' has ${cc.length} entries; model.num_classes is ${K}: give one count per class`);
  }
  cc.forEach((n: unknown, i) => {
    if (!(typeof n === 'number' && Number.isSafeInteger(n) && n >= 1)) {
      throw new Error(`config key 'logit_adjust.class_counts[${i}]' = ${describeValue(n)} must be a positive integer ` +
        `(a class without labeled images has prior 0, and log 0 is -infinity)`);
    }
  });
}

export function parseStepFileConfig(json: unknown): StepFileConfig {
  const c = mergeStrict(DEFAULT_STEP_FILE_CONFIG, json);
  validateStepConfig(c);
  validateLogitAdjust(c.logit_adjust, c.model.num_classes);
  return c;
}

/** tau * log(prior) per class, or undefined when off. The same doubles as trainer.ts computes from its labeled split
 * (prior = n / total, log of max(prior, 1e-12)), rounded to float32 once; scripts/torch_reference.py does the same. */
export function logitAdjustVector(c: StepFileConfig): Float32Array | undefined {
  const la = c.logit_adjust;
  if (!la.enabled) return undefined;
  const total = la.class_counts.reduce((a, b) => a + b, 0);
  return Float32Array.from(la.class_counts, (n) => la.tau * Math.log(Math.max(n / total, 1e-12)));
}
