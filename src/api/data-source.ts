// A data source from the app's own images: labeled images with their labels, unlabeled images without, turned into
// the engine's ImageDataset (uint8 NCHW; labeled images first, then unlabeled ones) plus the explicit split the trainer
// takes, the per-channel normalisation and the long-tailed class counts. Everything is checked here, before any GPU
// work: one size and channel count for all images, square images, integer labels in range, every class present.
import type { ImageDataset } from '../data/dataset.js';
import type { Normalisation } from '../kernels/augment.js';
import { allGray, decodeBrowserImages, fromImageArray, isImageArray, rgbaToBlock, type ImageBlock, type ImageInput, type RgbaImages } from './images.js';

export interface LabeledImages {
  images: ImageInput;
  /** One integer class id per image, 0..numClasses-1. */
  labels: ArrayLike<number>;
  /** Optional names (file names) per image, used in error messages. */
  names?: readonly string[];
}

export interface UnlabeledImages {
  images: ImageInput;
  names?: readonly string[];
  /** Optional true labels, never trained on: only for the pseudo-label precision/recall statistics. */
  labels?: ArrayLike<number>;
}

export interface DataSourceOptions {
  labeled: LabeledImages;
  /** Images without labels (FixMatch / DASO learn from them); a list, an ImageArray, or { images, names, labels }. */
  unlabeled?: ImageInput | UnlabeledImages;
  /** Default: the largest label + 1. */
  numClasses?: number;
  /** One name per class (reports, errors); default 'class0', 'class1', ... */
  classNames?: readonly string[];
  /** Channels for browser images: 1 or 3; default 1 when every pixel of every image is gray, else 3. */
  channels?: 1 | 3;
  /** Per-channel mean and std in 0..1 units; default 'auto': computed over every labeled and unlabeled pixel. */
  normalisation?: Normalisation | 'auto';
}

export interface DataSource {
  readonly kind: 'daso-webgpu/data-source';
  /** The engine's dataset: labeled images at `labeled`, unlabeled ones at `unlabeled` (label -1 when unknown). */
  readonly dataset: ImageDataset;
  readonly labeled: Int32Array;
  readonly unlabeled: Int32Array;
  readonly unlabeledLabelsKnown: boolean;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly channels: number;
  /** Side of the (square) images. */
  readonly imageSize: number;
  /** Labeled images per class (the long tail: the model's class prior comes from these). */
  readonly classCounts: readonly number[];
  readonly unlabeledCount: number;
  /** Largest / smallest labeled class count (1 = balanced; the paper's gamma_l). */
  readonly imbalanceRatio: number;
  readonly normalisation: Normalisation;
  /** One line: classes, image shape, counts per class, imbalance, unlabeled count, normalisation. */
  describe(): string;
}

/** Checks labels: integers, in range when `K` is given; returns them as Int32Array. */
export function checkLabels(labels: ArrayLike<number>, n: number, what: string, K?: number, names?: readonly string[]): Int32Array {
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new Error(`${what}: labels must be an array of class ids, got ${String(labels)}`);
  }
  if (labels.length !== n) throw new Error(`${what}: ${labels.length} labels for ${n} images (one label per image)`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const who = `label ${i}${names?.[i] ? ` (${names[i]})` : ''}`;
    if (!Number.isInteger(y) || y < 0) throw new Error(`${what}: ${who} is ${String(y)}; labels are integer class ids 0, 1, 2, ...`);
    if (K !== undefined && y >= K) throw new Error(`${what}: ${who} is ${y}, outside 0..${K - 1} (numClasses ${K})`);
    out[i] = y;
  }
  return out;
}

/** Population mean and std per channel over every pixel, in 0..1 units. */
function computeNormalisation(blocks: ImageBlock[], C: number): Normalisation {
  const sum = new Float64Array(C), sq = new Float64Array(C), cnt = new Float64Array(C);
  for (const b of blocks) {
    const hw = b.size * b.size;
    for (let i = 0; i < b.n; i++) {
      for (let ch = 0; ch < C; ch++) {
        const off = (i * C + ch) * hw;
        for (let p = 0; p < hw; p++) {
          const v = b.pixels[off + p] / 255;
          sum[ch] += v;
          sq[ch] += v * v;
        }
        cnt[ch] += hw;
      }
    }
  }
  const mean = Array.from(sum, (s, ch) => s / cnt[ch]);
  // A constant channel (all-black blue channel, say) has std 0: floor it at one grey level so normalising never divides
  // by zero; such a channel then carries no signal, which is what it is.
  const std = Array.from(sq, (s, ch) => Math.max(Math.sqrt(Math.max(0, s / cnt[ch] - mean[ch] ** 2)), 1 / 255));
  return { mean, std };
}

function checkNormalisation(n: Normalisation, C: number): Normalisation {
  const ok = (a: unknown, pos: boolean) => Array.isArray(a) && a.length === C && a.every((x) => Number.isFinite(x) && (!pos || x > 0));
  if (typeof n !== 'object' || n === null || !ok(n.mean, false) || !ok(n.std, true)) {
    throw new Error(`createDataSource: normalisation must be 'auto' or { mean: [${C} numbers], std: [${C} numbers > 0] } in 0..1 units ` +
      `(one per channel), got ${JSON.stringify(n)}`);
  }
  return { mean: [...n.mean], std: [...n.std] };
}

/** Decodes and checks the app's images; throws, naming the problem, before any GPU work. */
export function createDataSource(o: DataSourceOptions): DataSource {
  if (typeof o !== 'object' || o === null || typeof o.labeled !== 'object' || o.labeled === null) {
    throw new Error('createDataSource: expected { labeled: { images, labels }, unlabeled?: images }');
  }
  const u: UnlabeledImages | null = o.unlabeled === undefined ? null
    : (typeof o.unlabeled === 'object' && o.unlabeled !== null && 'images' in o.unlabeled) ? o.unlabeled : { images: o.unlabeled as ImageInput };
  if (o.channels !== undefined && o.channels !== 1 && o.channels !== 3) throw new Error(`createDataSource: channels is ${String(o.channels)}; use 1 or 3`);
  // Browser images are decoded first, both sets together, so the gray-or-colour choice is one for all.
  const decoded = new Map<string, RgbaImages>();
  const sets = [['labeled images', o.labeled] as const, ...(u ? [['unlabeled images', u] as const] : [])];
  for (const [what, s] of sets) if (!isImageArray(s.images)) decoded.set(what, decodeBrowserImages(s.images, what, s.names));
  const gray = [...decoded.values()].every(allGray);
  const blocks = sets.map(([what, s]) => (isImageArray(s.images) ? fromImageArray(s.images, what)
    : rgbaToBlock(decoded.get(what)!, o.channels ?? (gray ? 1 : 3), what)));
  const [lb, ub] = blocks;
  if (ub && (ub.channels !== lb.channels || ub.size !== lb.size)) {
    throw new Error(`unlabeled images are ${ub.channels}x${ub.size}x${ub.size} (channels x height x width) but labeled images are ` +
      `${lb.channels}x${lb.size}x${lb.size}: all images must have one size and channel count`);
  }

  let K = o.numClasses;
  if (K !== undefined && (!Number.isInteger(K) || K < 2)) throw new Error(`createDataSource: numClasses is ${String(K)}; it must be an integer >= 2`);
  const labels = checkLabels(o.labeled.labels, lb.n, 'labeled images', K, o.labeled.names);
  K ??= labels.reduce((m, y) => Math.max(m, y), -1) + 1;
  if (K < 2) throw new Error(`labeled images: every label is 0: classification needs at least 2 classes`);
  const classNames = o.classNames ? [...o.classNames] : Array.from({ length: K }, (_, k) => `class${k}`);
  if (classNames.length !== K || !classNames.every((x) => typeof x === 'string')) {
    throw new Error(`createDataSource: ${classNames.length} class names for ${K} classes (give one string per class)`);
  }
  const counts = new Array<number>(K).fill(0);
  for (const y of labels) counts[y]++;
  const empty = counts.findIndex((x) => x === 0);
  if (empty >= 0) {
    throw new Error(`labeled images: class ${empty} ('${classNames[empty]}') has no labeled images; every class 0..${K - 1} needs at least one ` +
      `(or pass fewer classes: numClasses / classNames)`);
  }
  const uLabels = u?.labels !== undefined ? checkLabels(u.labels, ub.n, 'unlabeled images', K, u.names) : null;

  const nU = ub?.n ?? 0, C = lb.channels, S = lb.size, per = C * S * S;
  const images = new Uint8Array((lb.n + nU) * per);
  images.set(lb.pixels);
  if (ub) images.set(ub.pixels, lb.n * per);
  const allLabels = new Int32Array(lb.n + nU).fill(-1);
  allLabels.set(labels);
  if (uLabels) allLabels.set(uLabels, lb.n);
  const normalisation = o.normalisation === undefined || o.normalisation === 'auto' ? computeNormalisation(blocks, C) : checkNormalisation(o.normalisation, C);
  const dataset: ImageDataset = {
    name: 'data source', images, labels: allLabels, n: lb.n + nU, channels: C, height: S, width: S, numClasses: K, classNames,
  };
  const imbalanceRatio = Math.max(...counts) / Math.min(...counts);
  return {
    kind: 'daso-webgpu/data-source',
    dataset,
    labeled: Int32Array.from({ length: lb.n }, (_, i) => i),
    unlabeled: Int32Array.from({ length: nU }, (_, i) => lb.n + i),
    unlabeledLabelsKnown: uLabels !== null,
    numClasses: K, classNames, channels: C, imageSize: S, classCounts: counts, unlabeledCount: nU, imbalanceRatio, normalisation,
    describe: () => `${K} classes of ${C}x${S}x${S} images; labeled per class ${counts.join(' ')} (${lb.n} in all, imbalance ` +
      `${imbalanceRatio.toFixed(1)}:1); ${nU} unlabeled; normalisation mean ${normalisation.mean.map((x) => x.toFixed(3)).join(' ')} ` +
      `std ${normalisation.std.map((x) => x.toFixed(3)).join(' ')}`,
  };
}

export function isDataSource(x: unknown): x is DataSource {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'daso-webgpu/data-source';
}
