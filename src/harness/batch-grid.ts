// "What the model sees": a debug view of the augmentation pipeline. Draws n random images of a dataset, runs the GPU
// augmentation (augmentBatch) with a weak and with a strong plan into normalised f32 batches, reads them back and
// draws three rows on a canvas: original, weak, strong (de-normalised, scaled up 4x, nearest). Under each strong image
// the two RandAugment ops of its plan and whether each was applied. window.daso.batchGrid(opts) returns a summary.
import { decodeImagePlan, drawAugmentPlan, OP_NAMES } from '../data/augment-plan.js';
import type { ImageDataset } from '../data/dataset.js';
import { FASHION_MNIST_CLASSES, loadIdxDataset } from '../data/idx.js';
import { deriveSeed, Rng } from '../data/rng.js';
import { syntheticDataset } from '../data/synthetic.js';
import type { Runtime } from '../gpu/runtime.js';
import { augmentBatch, FASHION_MNIST_NORM, packU8ToU32, type Normalisation } from '../kernels/augment.js';

export type GridDataset = 'synthetic' | 'fashion-mnist';

export interface BatchGridOptions {
  dataset?: GridDataset; // default 'synthetic'
  /** Images per row (default 8). */
  n?: number;
  seed?: number; // default 1
  /** Scale-up factor (default 4). */
  scale?: number;
  /** Where to draw; default none (summary only). */
  canvas?: HTMLCanvasElement | null;
}

export interface ViewStats {
  mean: number;
  std: number;
}

export interface BatchGridSummary {
  dataset: string;
  rows: number;
  n: number;
  images: number;
  channels: number;
  height: number;
  width: number;
  norm: Normalisation;
  /** Dataset indices drawn. */
  indices: number[];
  /** Mean/std of each row's normalised batch (the original row normalised on the CPU with the same constants). */
  views: { original: ViewStats; weak: ViewStats; strong: ViewStats };
  /** Mean |weak - strong| over the normalised batches. */
  weakStrongMeanAbsDiff: number;
  /** Per strong image, its two ops as "Name(level) on|off". */
  strongOps: string[][];
}

/** The synthetic set's normalisation: the one src/train/trainer.ts uses for datasets without published constants. */
const SYNTHETIC_NORM: Normalisation = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
const FASHION_URL = '/datasets/fashion-mnist/';

const cache = new Map<GridDataset, Promise<ImageDataset>>();

function loadDataset(which: GridDataset): Promise<ImageDataset> {
  let p = cache.get(which);
  if (!p) {
    p = which === 'synthetic'
      ? Promise.resolve(syntheticDataset({ numClasses: 10, perClass: 20, seed: 7, name: 'synthetic/grid' }))
      : loadFashionMnist('train');
    p.catch(() => cache.delete(which));
    cache.set(which, p);
  }
  return p;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) {
    throw new Error(`${url}: HTTP ${r.status}` + (r.status === 404 ? ' (is /usr/share/datasets/fashion-mnist/ on the server machine?)' : ''));
  }
  return new Uint8Array(await r.arrayBuffer());
}

const fashionCache = new Map<'train' | 't10k', Promise<ImageDataset>>();

/** Fashion-MNIST's train or test (t10k) split from the dev server's read-only /datasets/ folder, fetched and parsed
 * once per page (shared by this view and the live training section). */
export function loadFashionMnist(split: 'train' | 't10k'): Promise<ImageDataset> {
  let p = fashionCache.get(split);
  if (!p) {
    const img = `${FASHION_URL}${split}-images-idx3-ubyte.gz`, lab = `${FASHION_URL}${split}-labels-idx1-ubyte.gz`;
    p = Promise.all([fetchBytes(img), fetchBytes(lab)]).then(([a, b]) =>
      loadIdxDataset(a, b, { name: `fashion-mnist/${split}`, images: img, labels: lab, classNames: FASHION_MNIST_CLASSES }));
    p.catch(() => fashionCache.delete(split));
    fashionCache.set(split, p);
  }
  return p;
}

function stats(x: ArrayLike<number>): ViewStats {
  let s = 0, s2 = 0;
  for (let i = 0; i < x.length; i++) { s += x[i]; s2 += x[i] * x[i]; }
  const mean = s / x.length;
  return { mean, std: Math.sqrt(Math.max(0, s2 / x.length - mean * mean)) };
}

export async function batchGrid(rt: Runtime, o: BatchGridOptions = {}): Promise<BatchGridSummary> {
  const which = o.dataset ?? 'synthetic';
  if (which !== 'synthetic' && which !== 'fashion-mnist') throw new Error(`batchGrid: unknown dataset '${which}' (synthetic, fashion-mnist)`);
  const n = o.n ?? 8, seed = o.seed ?? 1, scale = o.scale ?? 4;
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`batchGrid: n is ${n}, expected an integer in 1..256`);
  if (!Number.isSafeInteger(seed)) throw new Error(`batchGrid: seed is ${seed}, expected an integer`);
  const ds = await loadDataset(which);
  const norm = which === 'fashion-mnist' ? FASHION_MNIST_NORM : SYNTHETIC_NORM;
  const C = ds.channels, H = ds.height, W = ds.width, chw = C * H * W;

  // Draw n distinct images; upload only those (plan sources are 0..n-1 into the small packed tensor).
  const pick = new Rng(deriveSeed(seed, 'batch-grid/pick'));
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, ds.n)) chosen.add(pick.nextInt(ds.n));
  const indices = [...chosen];
  while (indices.length < n) indices.push(pick.nextInt(ds.n));
  const bytes = new Uint8Array(n * chw);
  indices.forEach((src, i) => bytes.set(ds.images.subarray(src * chw, (src + 1) * chw), i * chw));
  const local = Int32Array.from({ length: n }, (_, i) => i);
  const planOpts = { size: W, height: H, channels: C };
  const weakPlan = drawAugmentPlan(uniform(new Rng(deriveSeed(seed, 'batch-grid/weak'))), local, { ...planOpts, strong: false });
  const strongPlan = drawAugmentPlan(uniform(new Rng(deriveSeed(seed, 'batch-grid/strong'))), local, { ...planOpts, strong: true });

  const packed = packU8ToU32(bytes);
  const images = rt.upload(packed, [packed.length], 'u32', 'grid images');
  const planW = rt.upload(weakPlan, [n, weakPlan.length / n], 'i32', 'grid weak plan');
  const planS = rt.upload(strongPlan, [n, strongPlan.length / n], 'i32', 'grid strong plan');
  const outW = rt.tensor([n, C, H, W], 'f32', 'grid weak');
  const outS = rt.tensor([n, C, H, W], 'f32', 'grid strong');
  let weak: Float32Array, strong: Float32Array;
  try {
    const aug = { n, channels: C, size: W, height: H, norm };
    await rt.run(
      ...augmentBatch(images, planW, outW, { ...aug, strong: false }),
      ...augmentBatch(images, planS, outS, { ...aug, strong: true }),
    );
    weak = (await rt.read(outW)) as Float32Array;
    strong = (await rt.read(outS)) as Float32Array;
  } finally {
    for (const t of [images, planW, planS, outW, outS]) t.release();
  }

  const original = new Float32Array(n * chw);
  for (let i = 0; i < original.length; i++) {
    const c = Math.floor(i / (H * W)) % C;
    original[i] = (bytes[i] / 255 - norm.mean[c]) / norm.std[c];
  }
  let diff = 0;
  for (let i = 0; i < weak.length; i++) diff += Math.abs(weak[i] - strong[i]);
  const strongOps = indices.map((_, i) => decodeImagePlan(strongPlan, i).ops.map(
    (op) => `${OP_NAMES[op.op] ?? `op${op.op}`}(${op.level}) ${op.apply ? 'on' : 'off'}`));

  if (o.canvas) {
    draw(o.canvas, { rows: [['original', original], ['weak', weak], ['strong', strong]], n, C, H, W, norm, scale, strongPlan,
      labels: indices.map((src) => ds.classNames?.[ds.labels[src]] ?? `class ${ds.labels[src]}`) });
  }
  return {
    dataset: ds.name, rows: 3, n, images: 3 * n, channels: C, height: H, width: W, norm, indices,
    views: { original: stats(original), weak: stats(weak), strong: stats(strong) },
    weakStrongMeanAbsDiff: diff / weak.length,
    strongOps,
  };
}

/** drawAugmentPlan takes a uniform [0, 1) source. */
function uniform(r: Rng): () => number {
  return () => r.nextFloat();
}

interface DrawArgs {
  rows: [string, Float32Array][];
  labels: string[];
  n: number; C: number; H: number; W: number;
  norm: Normalisation;
  scale: number;
  strongPlan: Int32Array;
}

const LABEL_W = 64, GAP = 6, TEXT_H = 26, TOP = 14;

function draw(canvas: HTMLCanvasElement, a: DrawArgs): void {
  const { n, C, H, W, norm, scale } = a;
  const cw = Math.max(W * scale, 72), ch = H * scale;
  const rowH = (r: number) => ch + GAP + (r === a.rows.length - 1 ? TEXT_H : 0);
  canvas.width = LABEL_W + n * (cw + GAP);
  canvas.height = TOP + a.rows.reduce((s, _, r) => s + rowH(r), 0);
  const g = canvas.getContext('2d');
  if (!g) throw new Error('batchGrid: no 2d canvas context');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, canvas.width, canvas.height);
  g.font = '10px ui-monospace, monospace';
  g.textBaseline = 'top';
  g.fillStyle = '#333';
  a.labels.forEach((l, i) => g.fillText(l.slice(0, 12), LABEL_W + i * (cw + GAP), 2));
  let y = TOP;
  a.rows.forEach(([name, data], r) => {
    g.fillStyle = '#000';
    g.font = '12px system-ui, sans-serif';
    g.fillText(name, 4, y + ch / 2 - 6);
    g.font = '10px ui-monospace, monospace';
    for (let i = 0; i < n; i++) {
      const x0 = LABEL_W + i * (cw + GAP);
      g.putImageData(toImageData(g, data, i, C, H, W, norm, scale), x0, y);
      if (r === a.rows.length - 1) {
        decodeImagePlan(a.strongPlan, i).ops.forEach((op, k) => {
          g.fillStyle = op.apply ? '#060' : '#999';
          g.fillText(`${op.apply ? '✓' : '✗'} ${OP_NAMES[op.op] ?? op.op} ${op.level}`, x0, y + ch + 2 + k * 11);
        });
      }
    }
    y += rowH(r);
  });
}

/** Image i of a normalised [n, C, H, W] batch back to 0..255 ((x*std+mean)*255), scaled up `s`x (nearest). */
function toImageData(g: CanvasRenderingContext2D, x: Float32Array, i: number, C: number, H: number, W: number,
  norm: Normalisation, s: number): ImageData {
  const img = g.createImageData(W * s, H * s);
  const px = img.data, hw = H * W, base = i * C * hw;
  const level = (c: number, p: number) => Math.max(0, Math.min(255, Math.round((x[base + c * hw + p] * norm.std[c] + norm.mean[c]) * 255)));
  for (let yy = 0; yy < H; yy++) {
    for (let xx = 0; xx < W; xx++) {
      const p = yy * W + xx;
      const r = level(0, p), gg = C === 3 ? level(1, p) : r, b = C === 3 ? level(2, p) : r;
      for (let dy = 0; dy < s; dy++) {
        for (let dx = 0; dx < s; dx++) {
          const o = ((yy * s + dy) * W * s + xx * s + dx) * 4;
          px[o] = r; px[o + 1] = gg; px[o + 2] = b; px[o + 3] = 255;
        }
      }
    }
  }
  return img;
}

/** Wires the harness page's "Show augmented batch" section (button, dataset choice, seed, canvas). */
export function wireBatchGrid(rt: Runtime): void {
  const button = document.getElementById('grid-show') as HTMLButtonElement | null;
  const dataset = document.getElementById('grid-dataset') as HTMLSelectElement | null;
  const seed = document.getElementById('grid-seed') as HTMLInputElement | null;
  const canvas = document.getElementById('grid-canvas') as HTMLCanvasElement | null;
  const note = document.getElementById('grid-status');
  if (!button || !dataset || !seed || !canvas || !note) return;
  button.disabled = false;
  button.onclick = async () => {
    button.disabled = true;
    note.textContent = 'running…';
    try {
      const s = await batchGrid(rt, { dataset: dataset.value as GridDataset, seed: Number(seed.value) || 0, canvas });
      const f = (v: ViewStats) => `${v.mean.toFixed(2)}±${v.std.toFixed(2)}`;
      note.textContent = `${s.dataset}: images ${s.indices.join(', ')}; normalised mean±std original ${f(s.views.original)}, ` +
        `weak ${f(s.views.weak)}, strong ${f(s.views.strong)}`;
    } catch (e) {
      note.textContent = `failed: ${(e as Error).message}`;
    } finally {
      button.disabled = false;
    }
  };
}
