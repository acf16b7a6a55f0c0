// Configs as JSON with documented keys (docs/CONFIG.md). Unknown keys and out-of-range values are errors that name
// the key and the fix, raised before any GPU work.
import { validateWrnConfig, type WrnConfig } from '../nn/wrn-spec.js';

export interface OptimConfig {
  lr: number;
  momentum: number;
  nesterov: boolean;
  weight_decay: number;
}

export interface StepConfig {
  algorithm: 'supervised';
  model: WrnConfig;
  optim: OptimConfig;
  ema_decay: number;
}

export const DEFAULT_STEP_CONFIG: StepConfig = {
  algorithm: 'supervised',
  model: { depth: 28, width: 2, in_channels: 3, num_classes: 10, image_size: 32 },
  optim: { lr: 0.03, momentum: 0.9, nesterov: true, weight_decay: 5e-4 },
  ema_decay: 0.999,
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

export function parseStepConfig(json: unknown): StepConfig {
  const c = mergeStrict(DEFAULT_STEP_CONFIG, json);
  if (c.algorithm !== 'supervised') throw new Error(`config key 'algorithm' = '${c.algorithm}' is not supported by this command (supported: supervised)`);
  validateWrnConfig(c.model);
  range('optim.lr', c.optim.lr, 0, 10, true);
  range('optim.momentum', c.optim.momentum, 0, 1, false, true);
  range('optim.weight_decay', c.optim.weight_decay, 0, 1);
  range('ema_decay', c.ema_decay, 0, 1);
  return c;
}
