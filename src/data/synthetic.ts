// A seeded synthetic image dataset for fast tests: each class is a fixed pattern — stripes at a class-specific
// orientation plus a bright blob at a class-specific position, with a class-specific tint per channel — and each image
// adds a small random phase shift, blob jitter and Gaussian pixel noise. Classes differ in several simple cues, so a
// tiny conv net (or even nearest-centroid on pixels) learns it in a few hundred steps, while noise keeps it from being
// trivially separable at the pixel level.
import type { ImageDataset } from './dataset.js';
import { Rng } from './rng.js';

export interface SyntheticOptions {
  numClasses: number;
  /** Images per class: one number (balanced) or one count per class (e.g. longTailCounts for a long-tailed set). */
  perClass: number | number[];
  channels?: number; // default 3
  height?: number; // default 32
  width?: number; // default 32
  seed: number;
  /** Std of the additive pixel noise, in units of the 0..1 intensity range (default 0.1). */
  noise?: number;
  /** Max random stripe phase shift, radians (default pi/2). */
  phaseJitter?: number;
  name?: string;
}

/** Images class by class in an interleaved order (image i of a balanced set has label i % K). */
export function syntheticDataset(o: SyntheticOptions): ImageDataset {
  const k = o.numClasses;
  const c = o.channels ?? 3, h = o.height ?? 32, w = o.width ?? 32;
  const noise = o.noise ?? 0.1, jitter = o.phaseJitter ?? Math.PI / 2;
  if (!Number.isInteger(k) || k < 1) throw new Error(`syntheticDataset: numClasses must be >= 1, got ${k}`);
  for (const [nm, v] of [['channels', c], ['height', h], ['width', w]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`syntheticDataset: ${nm} must be an integer >= 1, got ${v}`);
  }
  const counts = typeof o.perClass === 'number' ? new Array<number>(k).fill(o.perClass) : o.perClass;
  if (counts.length !== k || !counts.every((x) => Number.isInteger(x) && x >= 0)) {
    throw new Error(`syntheticDataset: perClass must be an integer >= 0 or ${k} of them, got ${JSON.stringify(o.perClass)}`);
  }
  // Interleave classes round-robin so any prefix of a balanced set is (nearly) balanced.
  const labelList: number[] = [];
  const left = counts.slice();
  for (let more = true; more; ) {
    more = false;
    for (let y = 0; y < k; y++) if (left[y] > 0) { labelList.push(y); left[y]--; more = true; }
  }
  const n = labelList.length;
  const rng = new Rng(o.seed);
  const size = c * h * w;
  const images = new Uint8Array(n * size);
  const labels = Int32Array.from(labelList);
  const freq = (2 * Math.PI) / Math.max(4, Math.min(h, w) / 3); // about 3 stripe periods across the image
  const sigma = Math.max(1, Math.min(h, w) / 8);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    const theta = (Math.PI * y) / k; // orientations spread over [0, pi)
    const ct = Math.cos(theta), st = Math.sin(theta);
    const phase = rng.nextFloat() * jitter;
    // Blob centre on a circle, angle by class (golden-angle steps so even many classes spread out).
    const ang = y * 2.399963229728653;
    const by = h / 2 + (h / 4) * Math.sin(ang) + (rng.nextFloat() - 0.5);
    const bx = w / 2 + (w / 4) * Math.cos(ang) + (rng.nextFloat() - 0.5);
    for (let ch = 0; ch < c; ch++) {
      // Tint: per class and channel, in [0.6, 1].
      const tint = c === 1 ? 1 : 0.6 + 0.4 * (0.5 + 0.5 * Math.cos(2 * Math.PI * (y / k + ch / c)));
      const base = i * size + ch * h * w;
      for (let py = 0; py < h; py++) {
        for (let px = 0; px < w; px++) {
          const stripe = 0.5 + 0.5 * Math.cos(freq * (px * ct + py * st) + phase);
          const d2 = (px - bx) ** 2 + (py - by) ** 2;
          const blob = Math.exp(-d2 / (2 * sigma * sigma));
          const v = tint * (0.15 + 0.45 * stripe + 0.4 * blob) + noise * rng.normal();
          images[base + py * w + px] = Math.max(0, Math.min(255, Math.round(v * 255)));
        }
      }
    }
  }
  return {
    name: o.name ?? `synthetic-${k}x${c}x${h}x${w}`,
    images, labels, n, channels: c, height: h, width: w, numClasses: k,
    classNames: Array.from({ length: k }, (_, y) => `class${y}`),
  };
}
