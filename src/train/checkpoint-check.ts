// One validator for everything a checkpoint holds, pure (no GPU, runs in Node before a browser starts and in the page
// before any upload): used by `daso step`, `daso train --resume`, the page's resume and the library API.
// It checks every tensor by name, dtype, shape and range (finite values, running variances >= 0, counts >= 0, queue
// lengths within daso.queue_size, step within max_iter), refuses unknown tensors by name, and checks the training
// metadata (config, sampler and generator states, evaluation history, pending pseudo-label statistics) by structure.
// Problems are collected and reported together, each naming the tensor or key.
import { validateTensors, type StTensor, type TensorSpec } from '../nn/safetensors.js';
import { wrnSpec, type WrnSpec } from '../nn/wrn-spec.js';
import type { StepConfig } from './config.js';

const NBT = 'num_batches_tracked';
/** Metadata key a converted official checkpoint carries ("absent"): see scripts/convert_official.py. */
export const DASO_STATE_KEY = 'daso_state';

/** The model / EMA / momentum / step tensors of a checkpoint for this WRN (PyTorch state_dict names). */
export function modelCheckpointSpec(spec: WrnSpec): Record<string, TensorSpec> {
  const out: Record<string, TensorSpec> = { step: { dtype: 'I64', shape: [] } };
  for (const prefix of ['model', 'ema']) {
    for (const p of spec.params) out[`${prefix}.${p.name}`] = { dtype: 'F32', shape: p.shape };
    for (const b of spec.buffers) out[`${prefix}.${b.name}`] = { dtype: 'F32', shape: b.shape };
    for (const bn of spec.bnNames) out[`${prefix}.${bn}.${NBT}`] = { dtype: ['I64', 'F32'], shape: [] };
  }
  for (const p of spec.params) out[`optim.momentum.${p.name}`] = { dtype: 'F32', shape: p.shape };
  return out;
}

/** DASO's tensors: K queues of L features of dimension D (oldest first), their lengths, prototypes, histograms. */
export function dasoCheckpointSpec(K: number, L: number, D: number): Record<string, TensorSpec> {
  return {
    'daso.queue': { dtype: 'F32', shape: [K, L, D] },
    'daso.queue_len': { dtype: ['I64', 'I32'], shape: [K] },
    'daso.prototypes': { dtype: 'F32', shape: [K, D] },
    'daso.pl_hist': { dtype: ['I64', 'I32'], shape: [K] },
    'daso.pl_window': { dtype: ['I64', 'I32'], shape: [K] },
  };
}

/** Every tensor a checkpoint of this config must hold, and nothing else. */
export function checkpointSpecFor(c: StepConfig): Record<string, TensorSpec> {
  const spec = wrnSpec(c.model);
  return { ...modelCheckpointSpec(spec), ...(c.algorithm === 'daso' ? dasoCheckpointSpec(c.model.num_classes, c.daso.queue_size, spec.featureDim) : {}) };
}

function firstBad(data: ArrayLike<number | bigint>, bad: (v: number) => boolean): number {
  for (let i = 0; i < data.length; i++) if (bad(Number(data[i]))) return i;
  return -1;
}

export interface CheckpointCheckOptions {
  /** A training checkpoint: step must be <= max_iter and the metadata must carry the run's state. */
  training?: boolean;
}

/** Throws one Error listing every problem (prefixed with `what`, e.g. the file name). */
export function validateCheckpoint(tensors: Record<string, StTensor>, metadata: Record<string, string> | null, c: StepConfig & { max_iter: number },
  what: string, opts: CheckpointCheckOptions = {}): void {
  // A checkpoint converted from an official DASO checkpoint (scripts/convert_official.py) has no DASO state: the
  // official code does not save its queues or histograms. Said before the generic "tensor 'daso.queue' is missing".
  if (c.algorithm === 'daso' && metadata?.[DASO_STATE_KEY] === 'absent') {
    throw new Error(`${what}: its DASO state (queues, prototypes, pseudo-label histograms) is absent (metadata ${DASO_STATE_KEY} = "absent": ` +
      `converted from an official DASO checkpoint, which does not save it), so it cannot continue a 'daso' run as it was. ` +
      `Use it with algorithm 'fixmatch' or 'supervised', or convert the official file again with ` +
      `\`daso convert to-project ... --daso-from IMAGES.safetensors\` to rebuild the state from images`);
  }
  validateTensors(tensors, checkpointSpecFor(c), what);
  const problems: string[] = [];
  for (const [name, t] of Object.entries(tensors)) {
    const d = t.data as ArrayLike<number | bigint>;
    if (t.dtype === 'F32' || t.dtype === 'F64') {
      const i = firstBad(d, (v) => !Number.isFinite(v));
      if (i >= 0) problems.push(`tensor '${name}' has a non-finite value (${Number(d[i])} at index ${i})`);
      else if (name.endsWith('.running_var')) {
        const j = firstBad(d, (v) => v < 0);
        if (j >= 0) problems.push(`tensor '${name}' has a negative variance (${Number(d[j])} at index ${j})`);
      }
    }
    if (name.endsWith(`.${NBT}`) || name === 'daso.pl_hist' || name === 'daso.pl_window') {
      const i = firstBad(d, (v) => !(v >= 0) || !Number.isFinite(v));
      if (i >= 0) problems.push(`tensor '${name}' has a negative or non-finite count (${Number(d[i])} at index ${i})`);
    }
  }
  const step = Number(tensors.step.data[0]);
  if (!Number.isSafeInteger(step) || step < 0) problems.push(`tensor 'step' = ${step} is not a step index (an integer >= 0)`);
  else if (opts.training && step > c.max_iter) problems.push(`tensor 'step' = ${step} is past max_iter ${c.max_iter}`);
  if (c.algorithm === 'daso') {
    const len = tensors['daso.queue_len'].data as ArrayLike<number | bigint>;
    const i = firstBad(len, (v) => !Number.isInteger(v) || v < 0 || v > c.daso.queue_size);
    if (i >= 0) problems.push(`daso.queue_len[${i}] = ${Number(len[i])} is outside 0..${c.daso.queue_size} (daso.queue_size)`);
  }
  if (opts.training) problems.push(...checkTrainingMetadata(metadata));
  if (problems.length) {
    throw new Error(`${what}: ${problems.length === 1 ? problems[0] : `${problems.length} problems:\n  ${problems.slice(0, 20).join('\n  ')}`}`);
  }
}

const META_KEYS = ['config', 'feed', 'history', 'format', 'pl_pending', 'conv_choices'];

function parseJson(meta: Record<string, string>, key: string, problems: string[]): unknown {
  try {
    return JSON.parse(meta[key]);
  } catch (e) {
    problems.push(`metadata '${key}' is not JSON (${(e as Error).message})`);
    return undefined;
  }
}

const isU32 = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;
const isCount = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;

function samplerProblems(s: unknown, key: string): string[] {
  if (typeof s !== 'object' || s === null) return [`metadata 'feed' ${key}: expected a sampler state object`];
  const o = s as Record<string, unknown>;
  const out: string[] = [];
  for (const k of ['poolSize', 'batchSize', 'poolHash', 'epoch', 'pos']) if (!isCount(o[k])) out.push(`metadata 'feed' ${key}.${k} = ${JSON.stringify(o[k])} is not a count`);
  const r = (o.rngAtEpochStart as { s?: unknown } | undefined)?.s;
  if (!Array.isArray(r) || r.length !== 4 || !r.every(isU32)) out.push(`metadata 'feed' ${key}.rngAtEpochStart is not {s: [four u32]}`);
  if (isCount(o.pos) && isCount(o.poolSize) && (o.pos as number) > (o.poolSize as number)) out.push(`metadata 'feed' ${key}.pos is past poolSize`);
  return out;
}

/** Pending pseudo-label statistics: {eval, log, log_first_step} counts of [2, K, K] (metrics format 2), or the
 * older {pred, true, mask} lists of read-back pseudo-labels (still resumable: the trainer counts them). */
function plPendingProblems(p: unknown, meta: Record<string, string>): string[] {
  if (typeof p !== 'object' || p === null) return [`metadata 'pl_pending' is not an object`];
  const o = p as Record<string, unknown>;
  if ('pred' in o) {
    const lists = [o.pred, o.true, o.mask];
    return lists.every((l) => Array.isArray(l) && l.length === (lists[0] as unknown[]).length && l.every((x) => Number.isFinite(x))) ? []
      : [`metadata 'pl_pending' is not {pred, true, mask} lists of one length`];
  }
  let K = NaN;
  try {
    K = (JSON.parse(meta.config) as { model?: { num_classes?: number } }).model?.num_classes ?? NaN;
  } catch { /* reported for 'config' */ }
  const out: string[] = [];
  for (const k of Object.keys(o)) if (!['eval', 'log', 'log_first_step'].includes(k)) out.push(`metadata 'pl_pending' has an unknown key '${k}'`);
  for (const k of ['eval', 'log']) {
    const l = o[k];
    if (!Array.isArray(l) || !l.every(isCount) || (Number.isInteger(K) && l.length !== 2 * K * K)) {
      out.push(`metadata 'pl_pending' ${k} is not ${Number.isInteger(K) ? `2 x ${K} x ${K} = ${2 * K * K}` : '2 x K x K'} counts`);
    }
  }
  if (!(Number.isSafeInteger(o.log_first_step) && (o.log_first_step as number) >= 1)) out.push(`metadata 'pl_pending' log_first_step is not a step number (>= 1)`);
  return out;
}

/** The metadata a training checkpoint carries besides its tensors (see trainer.ts). */
export function checkTrainingMetadata(meta: Record<string, string> | null): string[] {
  if (!meta) return ['no metadata (not a daso-webgpu training checkpoint)'];
  const problems: string[] = [];
  for (const k of Object.keys(meta)) if (!META_KEYS.includes(k)) problems.push(`unknown metadata key '${k}' (known: ${META_KEYS.join(', ')})`);
  for (const k of ['config', 'feed', 'format']) if (typeof meta[k] !== 'string') problems.push(`metadata has no '${k}'`);
  if (problems.length) return problems;
  if (meta.format !== 'daso-webgpu/1') problems.push(`metadata 'format' = '${meta.format}' is not daso-webgpu/1`);
  const feed = parseJson(meta, 'feed', problems) as Record<string, unknown> | undefined;
  if (feed !== undefined) {
    if (typeof feed !== 'object' || feed === null) problems.push(`metadata 'feed' is not an object`);
    else {
      problems.push(...samplerProblems(feed.labeled, 'labeled'));
      if (feed.unlabeled !== null) problems.push(...samplerProblems(feed.unlabeled, 'unlabeled'));
      const s = (feed.augment as { s?: unknown } | undefined)?.s;
      if (!Array.isArray(s) || s.length !== 4 || !s.every(isU32)) problems.push(`metadata 'feed' augment is not {s: [four u32]}`);
    }
  }
  if (meta.history !== undefined) {
    const h = parseJson(meta, 'history', problems);
    if (h !== undefined && (!Array.isArray(h) || !h.every((r) => typeof r === 'object' && r !== null && isCount((r as { step?: unknown }).step)))) {
      problems.push(`metadata 'history' is not a list of evaluation records`);
    }
  }
  if (meta.pl_pending !== undefined) {
    const p = parseJson(meta, 'pl_pending', problems) as Record<string, unknown> | undefined;
    if (p !== undefined) problems.push(...plPendingProblems(p, meta));
  }
  if (meta.conv_choices !== undefined) {
    // The conv rungs the run used (src/tune/choices.ts usedTable): a resume reuses them. Names are not checked
    // against the ladder here: one it no longer offers falls back to the rule when the step is built.
    const c = parseJson(meta, 'conv_choices', problems);
    if (c !== undefined && (typeof c !== 'object' || c === null || Array.isArray(c) ||
      !Object.entries(c).every(([k, v]) => /^(forward|input|weight):\d+(,\d+){7}$/.test(k) && typeof v === 'string'))) {
      problems.push(`metadata 'conv_choices' is not an object of conv key (direction:N,C,H,W,K,R,stride,pad) -> rung name`);
    }
  }
  return problems;
}

/** A `daso step` batch: names, dtypes and shapes, finite images, labels in 0..K-1. Returns the batch sizes. */
export function validateStepBatch(tensors: Record<string, StTensor>, c: StepConfig, what: string): { B: number; Bu: number } {
  const m = c.model, K = m.num_classes;
  const ssl = c.algorithm !== 'supervised';
  const img = [m.in_channels, m.image_size, m.image_size];
  const has = (k: string) => Object.prototype.hasOwnProperty.call(tensors, k);
  if (!has('x_lb')) throw new Error(`${what}: tensor 'x_lb' is missing`);
  if (ssl && !has('x_ulb_w')) throw new Error(`${what}: tensor 'x_ulb_w' is missing (algorithm ${c.algorithm} needs x_ulb_w and x_ulb_s)`);
  const B = tensors.x_lb.shape[0], Bu = ssl ? tensors.x_ulb_w.shape[0] : 0;
  const spec: Record<string, TensorSpec> = { x_lb: { dtype: 'F32', shape: [B, ...img] }, y_lb: { dtype: ['I64', 'I32'], shape: [B] } };
  if (ssl) {
    spec.x_ulb_w = { dtype: 'F32', shape: [Bu, ...img] };
    spec.x_ulb_s = { dtype: 'F32', shape: [Bu, ...img] };
  }
  validateTensors(tensors, spec, what);
  if (!(B >= 1) || (ssl && !(Bu >= 1))) throw new Error(`${what}: empty batch (x_lb has ${B} images, x_ulb_w ${Bu})`);
  for (const k of ['x_lb', 'x_ulb_w', 'x_ulb_s']) {
    if (!has(k)) continue;
    const i = firstBad(tensors[k].data as Float32Array, (v) => !Number.isFinite(v));
    if (i >= 0) throw new Error(`${what}: tensor '${k}' has a non-finite value (${(tensors[k].data as Float32Array)[i]} at index ${i}); the step would write NaN weights`);
  }
  const y = tensors.y_lb.data as ArrayLike<number | bigint>;
  const i = firstBad(y, (v) => !(Number.isInteger(v) && v >= 0 && v < K));
  if (i >= 0) throw new Error(`${what}: y_lb[${i}] = ${Number(y[i])} is outside 0..${K - 1} (model.num_classes ${K})`);
  return { B, Bu };
}
