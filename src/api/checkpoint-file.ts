// A trainer's save() / load() bytes: the engine's training checkpoint (safetensors with PyTorch state_dict names, the
// run's config, sampler and generator states) plus one metadata entry, 'api', with what predictions need that the
// engine's checkpoint does not hold: the normalisation the model was trained with, the labeled class counts (the
// prior of test-time logit adjustment) and the class names. Loading checks everything with the engine's validator
// (validateCheckpoint) before anything reaches the GPU. A `daso train` checkpoint (no 'api' entry) loads too: its
// normalisation and class counts follow from its config.
import { longTailCounts } from '../data/split.js';
import type { Normalisation } from '../kernels/augment.js';
import { readSafetensors, writeSafetensors, type StTensor } from '../nn/safetensors.js';
import { validateCheckpoint } from '../train/checkpoint-check.js';
import { parseTrainConfig, type TrainConfig } from '../train/train-config.js';
import { normalisationFor } from '../train/trainer.js';

export const API_META_KEY = 'api';
const FORMAT = 'daso-webgpu-api/1';

/** What predictions need besides the weights. */
export interface ModelMeta {
  normalisation: Normalisation;
  /** Labeled images per class the model was trained on. */
  classCounts: number[];
  classNames: string[];
}

export interface TrainingCheckpoint {
  tensors: Record<string, StTensor>;
  /** The engine's training metadata (config, feed, history, format, pl_pending), without the 'api' entry. */
  metadata: Record<string, string>;
}

export function writeTrainerCheckpoint(ck: TrainingCheckpoint, meta: ModelMeta): Uint8Array<ArrayBuffer> {
  return writeSafetensors(ck.tensors, { ...ck.metadata, [API_META_KEY]: JSON.stringify({ format: FORMAT, ...meta }) });
}

function parseApiMeta(text: string, K: number, C: number, what: string): ModelMeta {
  const bad = (why: string): never => {
    throw new Error(`${what}: metadata '${API_META_KEY}' ${why}`);
  };
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return bad(`is not JSON (${(e as Error).message})`);
  }
  if (typeof m !== 'object' || m === null) return bad('is not an object');
  if (m.format !== FORMAT) bad(`has format ${JSON.stringify(m.format)}, expected '${FORMAT}'`);
  const n = m.normalisation as { mean?: unknown; std?: unknown } | undefined;
  const nums = (a: unknown, pos: boolean) => Array.isArray(a) && a.length === C && a.every((x) => Number.isFinite(x) && (!pos || x > 0));
  if (!n || !nums(n.mean, false) || !nums(n.std, true)) bad(`normalisation is not { mean: [${C} numbers], std: [${C} numbers > 0] }`);
  const counts = m.classCounts;
  if (!Array.isArray(counts) || counts.length !== K || !counts.every((x) => Number.isSafeInteger(x) && x >= 0) || !counts.some((x) => x > 0)) {
    bad(`classCounts is not ${K} counts (integers >= 0, not all 0)`);
  }
  const names = m.classNames;
  if (!Array.isArray(names) || names.length !== K || !names.every((x) => typeof x === 'string')) bad(`classNames is not ${K} strings`);
  return { normalisation: { mean: [...(n!.mean as number[])], std: [...(n!.std as number[])] }, classCounts: [...(counts as number[])], classNames: [...(names as string[])] };
}

/** The model a trainer's data fits: a checkpoint for another shape is refused with both shapes named. */
export interface ModelShape {
  numClasses: number;
  channels: number;
  imageSize: number;
}

/** Parses and checks checkpoint bytes; nothing touches the GPU. */
export function readTrainerCheckpoint(bytes: Uint8Array, what: string, shape: ModelShape): TrainingCheckpoint & { config: TrainConfig; meta: ModelMeta } {
  if (!(bytes instanceof Uint8Array)) {
    throw new Error(`${what}: expected the bytes of a checkpoint (a Uint8Array, e.g. new Uint8Array(await file.arrayBuffer())), got ` +
      Object.prototype.toString.call(bytes));
  }
  const { tensors, metadata } = readSafetensors(bytes, what);
  if (typeof metadata.config !== 'string') {
    throw new Error(`${what}: no config in its metadata: not a daso-webgpu training checkpoint (trainer.save() or daso train write them)`);
  }
  let config: TrainConfig;
  try {
    config = parseTrainConfig(JSON.parse(metadata.config));
  } catch (e) {
    throw new Error(`${what}: the config in its metadata: ${(e as Error).message}`);
  }
  const m = config.model;
  if (m.num_classes !== shape.numClasses || m.in_channels !== shape.channels || m.image_size !== shape.imageSize) {
    throw new Error(`${what} holds a model of ${m.num_classes} classes on ${m.in_channels}x${m.image_size}x${m.image_size} images, but this ` +
      `trainer's data has ${shape.numClasses} classes of ${shape.channels}x${shape.imageSize}x${shape.imageSize} images: create the trainer ` +
      `with data of the checkpoint's shape`);
  }
  const { [API_META_KEY]: apiText, ...engineMeta } = metadata;
  let meta: ModelMeta;
  if (apiText !== undefined) meta = parseApiMeta(apiText, m.num_classes, m.in_channels, what);
  else {
    // A `daso train` checkpoint: its normalisation is its dataset's and its labeled counts are the long-tailed
    // split's N_r (what longTailSplit keeps per class).
    meta = {
      normalisation: normalisationFor(config),
      classCounts: longTailCounts(config.data.n1, config.data.gamma_l, m.num_classes),
      classNames: Array.from({ length: m.num_classes }, (_, k) => `class${k}`),
    };
  }
  validateCheckpoint(tensors, engineMeta, config, what, { training: true });
  return { tensors, metadata: engineMeta, config, meta };
}
