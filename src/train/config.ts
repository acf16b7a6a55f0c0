// Configs as JSON with documented keys (docs/CONFIG.md). Unknown keys and out-of-range values are errors that name
// the key and the fix, raised before any GPU work.
import { validateWrnConfig, type WrnConfig } from '../nn/wrn-spec.js';

export interface OptimConfig {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weight_decay: number;
}

export type Algorithm = 'supervised' | 'fixmatch' | 'daso';
export const ALGORITHMS: readonly Algorithm[] = ['supervised', 'fixmatch', 'daso'];

export interface SslConfig {
  /** Confidence threshold of the pseudo-label mask (on the blended p' for DASO). */
  tau: number;
  lambda_u: number;
}

export interface DasoConfig {
  t_proto: number;
  t_dist: number;
  lambda_align: number;
  queue_size: number;
  /** Steps of plain FixMatch before blending and L_align start (queues and histogram are maintained throughout). */
  warmup: number;
  pl_update_period: number;
  dist_aware: boolean;
  interp_alpha: number;
}

/** What one training step needs (the `daso step` config; `daso train` configs extend it). */
export interface StepConfig {
  algorithm: Algorithm;
  model: WrnConfig;
  optim: OptimConfig;
  ema_decay: number;
  /** Total steps of the run (the histogram is not refreshed on the last step, as in the reference). */
  max_iter: number;
  ssl: SslConfig;
  daso: DasoConfig;
}

export const DEFAULT_STEP_CONFIG: StepConfig = {
  algorithm: 'supervised',
  model: { depth: 28, width: 2, in_channels: 3, num_classes: 10, image_size: 32 },
  optim: { lr: 0.03, momentum: 0.9, nesterov: true, weight_decay: 5e-4 },
  ema_decay: 0.999,
  max_iter: 250000,
  ssl: { tau: 0.95, lambda_u: 1.0 },
  daso: {
    t_proto: 0.05, t_dist: 1.5, lambda_align: 1.0, queue_size: 256, warmup: 5000, pl_update_period: 100,
    dist_aware: true, interp_alpha: 0.5,
  },
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Merges `given` over `defaults`, refusing keys the defaults do not have and values of another type. */
export function mergeStrict<T>(defaults: T, given: unknown, path = ''): T {
  if (given === undefined) return defaults;
  if (!isObj(defaults)) {
    if (typeof given !== typeof defaults) {
      throw new Error(`config key '${path}': expected a ${typeof defaults}, got ${JSON.stringify(given)}`);
    }
    return given as T;
  }
  if (!isObj(given)) throw new Error(`config key '${path || '(root)'}': expected an object, got ${JSON.stringify(given)}`);
  const out: Obj = { ...(defaults as Obj) };
  for (const [k, v] of Object.entries(given)) {
    const p = path ? `${path}.${k}` : k;
    if (!(k in (defaults as Obj))) {
      throw new Error(`unknown config key '${p}' (known here: ${Object.keys(defaults as Obj).join(', ')}); see docs/CONFIG.md`);
    }
    out[k] = mergeStrict((defaults as Obj)[k], v, p);
  }
  return out as T;
}

export function range(key: string, v: number, lo: number, hi: number, loOpen = false, hiOpen = false): void {
  const ok = Number.isFinite(v) && (loOpen ? v > lo : v >= lo) && (hiOpen ? v < hi : v <= hi);
  if (!ok) throw new Error(`config key '${key}' = ${v} is out of range ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}`);
}

export function validateStepConfig(c: StepConfig): void {
  if (!ALGORITHMS.includes(c.algorithm)) throw new Error(`config key 'algorithm' = '${c.algorithm}' is not one of ${ALGORITHMS.join(', ')}`);
  validateWrnConfig(c.model);
  range('optim.lr', c.optim.lr, 0, 10, true);
  range('optim.momentum', c.optim.momentum, 0, 1, false, true);
  range('optim.weight_decay', c.optim.weight_decay, 0, 1);
  range('ema_decay', c.ema_decay, 0, 1);
  int('max_iter', c.max_iter, 1);
  range('ssl.tau', c.ssl.tau, 0, 1);
  range('ssl.lambda_u', c.ssl.lambda_u, 0, 1e3);
  range('daso.t_proto', c.daso.t_proto, 0, 1e3, true);
  range('daso.t_dist', c.daso.t_dist, 0, 1e3, true);
  range('daso.lambda_align', c.daso.lambda_align, 0, 1e3);
  int('daso.queue_size', c.daso.queue_size, 1);
  int('daso.warmup', c.daso.warmup, 0);
  int('daso.pl_update_period', c.daso.pl_update_period, 1);
  range('daso.interp_alpha', c.daso.interp_alpha, 0, 1);
}

export function parseStepConfig(json: unknown): StepConfig {
  const c = mergeStrict(DEFAULT_STEP_CONFIG, json);
  validateStepConfig(c);
  return c;
}

function int(key: string, v: number, lo: number): void {
  if (!Number.isInteger(v) || v < lo) throw new Error(`config key '${key}' = ${v} must be an integer >= ${lo}`);
}

/** DASO blending and L_align are on at step t from max(warmup, 1) on: the reference clears its warm-up flag at the
 * end of step t once t+1 >= warmup, so step 0 is always warm-up (spec §7). */
export function dasoActive(c: StepConfig, t: number): boolean {
  return c.algorithm === 'daso' && t >= Math.max(c.daso.warmup, 1);
}
