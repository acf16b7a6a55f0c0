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

/** Keys that reach Object.prototype when assigned (`out[k] = v`); a config never needs them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** A config value for an error message: never throws (JSON.stringify does on BigInt, cycles and deep nesting) and is
 * cut short. */
export function describeValue(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  if (s === undefined || (typeof v === 'number' && !Number.isFinite(v))) {
    s = typeof v === 'object' || typeof v === 'function' ? Object.prototype.toString.call(v) : typeof v === 'bigint' ? `${v}n` : String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** Merges `given` over `defaults`, refusing keys the defaults do not have and values of another type. The result is
 * a fresh object all the way down: editing it never edits `defaults`. */
export function mergeStrict<T>(defaults: T, given: unknown, path = ''): T {
  if (!isObj(defaults)) {
    if (given === undefined) return defaults;
    if (typeof given !== typeof defaults) {
      throw new Error(`config key '${path}': expected a ${typeof defaults}, got ${describeValue(given)}`);
    }
    return given as T;
  }
  if (given === undefined) given = {};
  if (!isObj(given)) throw new Error(`config key '${path || '(root)'}': expected an object, got ${describeValue(given)}`);
  const out: Obj = {};
  for (const [k, v] of Object.entries(defaults as Obj)) out[k] = mergeStrict(v, undefined, path ? `${path}.${k}` : k);
  for (const [k, v] of Object.entries(given)) {
    const p = path ? `${path}.${k}` : k;
    if (FORBIDDEN_KEYS.has(k)) throw new Error(`config key '${p}' is not allowed (it would reach Object.prototype); remove it`);
    // Own keys only: `k in defaults` would accept inherited names such as 'toString' and 'hasOwnProperty'.
    if (!Object.prototype.hasOwnProperty.call(defaults, k)) {
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
  if (!ALGORITHMS.includes(c.algorithm)) {
    throw new Error(`config key 'algorithm' = ${describeValue(c.algorithm)} is not one of ${ALGORITHMS.join(', ')}`);
  }
  // validateWrnConfig checks the model's ranges; integers past 2^53 (1e300 is an "integer") are refused here.
  for (const [k, v] of Object.entries(c.model)) safeInt(`model.${k}`, v);
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

/** An integer >= lo that a double holds exactly (counts, sizes, seeds). */
export function int(key: string, v: number, lo: number): void {
  if (!Number.isInteger(v) || v < lo) throw new Error(`config key '${key}' = ${v} must be an integer >= ${lo}`);
  safeInt(key, v);
}

function safeInt(key: string, v: number): void {
  if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
    throw new Error(`config key '${key}' = ${v} is too large: integers above 2^53 - 1 (${Number.MAX_SAFE_INTEGER}) are not exact`);
  }
}

/** DASO blending and L_align are on at step t from max(warmup, 1) on: the reference clears its warm-up flag at the
 * end of step t once t+1 >= warmup, so step 0 is always warm-up (spec §7). */
export function dasoActive(c: StepConfig, t: number): boolean {
  return c.algorithm === 'daso' && t >= Math.max(c.daso.warmup, 1);
}
