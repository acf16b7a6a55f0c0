// augment_weak / augment_strong launchers: shape checks, then one Dispatch of shaders/augment.wgsl per batch.
// The dataset's uint8 images live on the GPU once, packed 4 bytes per u32 (packU8ToU32); each step the CPU draws a
// plan (src/data/augment-plan.ts, 32 i32 per image) and the kernel writes the normalised f32 batch [B, C, H, W].
import source from '../../shaders/augment.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';
import { defaultPad, PLAN_STRIDE } from '../data/augment-plan.js';

export interface Normalisation {
  /** Per channel, in [0, 1] units. */
  mean: number[];
  std: number[];
}

export const CIFAR10_NORM: Normalisation = { mean: [0.4914, 0.4822, 0.4465], std: [0.2471, 0.2435, 0.2616] };
export const CIFAR100_NORM: Normalisation = { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] };
/** Computed over every pixel of Fashion-MNIST's 60000 training images (train-images-idx3-ubyte.gz):
 * mean 0.2860406, population std 0.3530242. */
export const FASHION_MNIST_NORM: Normalisation = { mean: [0.2860406], std: [0.3530242] };

/** Packs bytes little-endian, 4 per u32 (byte i in bits 8*(i%4) of word i/4); the tail word is zero-padded. */
export function packU8ToU32(bytes: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(Math.max(1, Math.ceil(bytes.length / 4)));
  for (let i = 0; i < bytes.length; i++) out[i >> 2] |= (bytes[i] & 255) << ((i & 3) * 8);
  return out;
}

/** Words of the packed dataset tensor for n images of c*h*w bytes. */
export function packedWords(n: number, channels: number, height: number, width: number): number {
  return Math.max(1, Math.ceil((n * channels * height * width) / 4));
}

// 64 threads per image: on SwiftShader 3.7x faster than 256 (fewer invocations to step through each barrier);
// still two warps / one wave per workgroup on real GPUs.
const WG = 64;
/** The default maxComputeWorkgroupStorageSize every WebGPU device offers. */
const WORKGROUP_BYTES = 16384;
const HIST_BYTES = 768 * 4 + 4;

export interface AugmentParams {
  B: number;
  n: number;
  C: number;
  H: number;
  W: number;
  padX: number;
  padY: number;
  norm: Normalisation;
}

function constants(p: AugmentParams): Record<string, number> {
  const words = ceilDiv(p.C * p.H * p.W, 4);
  const c: Record<string, number> = {
    C: p.C, H: p.H, W: p.W, N_IMAGES: p.n, B: p.B, PAD_X: p.padX, PAD_Y: p.padY,
    WORDS: words, BUF_WORDS: 2 * words, WG,
  };
  for (let i = 0; i < p.C; i++) {
    c[`MEAN${i}`] = p.norm.mean[i];
    c[`STD${i}`] = p.norm.std[i];
  }
  return c;
}

const io = (p: AugmentParams): number => p.B * p.C * p.H * p.W * (1 + 4) + p.B * PLAN_STRIDE * 4;

export const augmentWeak: KernelDef<AugmentParams> = {
  name: 'augment_weak',
  source,
  bindings: ['images', 'plan', 'out'],
  constants,
  entryPoint: () => 'weak',
  dispatch: (p) => grid1d(p.B),
  bytes: io,
};

export const augmentStrong: KernelDef<AugmentParams> = {
  name: 'augment_strong',
  source,
  bindings: ['images', 'plan', 'out'],
  constants,
  entryPoint: () => 'strong',
  dispatch: (p) => grid1d(p.B),
  bytes: io,
};

export interface AugmentOptions {
  /** Images in the dataset tensor. */
  n: number;
  channels: number;
  /** Image width, and height unless `height` is given. */
  size: number;
  height?: number;
  strong: boolean;
  norm: Normalisation;
  /** Reflect padding of the crop (both axes); default int(side*0.125) per axis. Must match the plan's. */
  pad?: number;
}

/** out[b] = normalise(augment(images[plan[b].src], plan[b])). images: packed u32 dataset; plan: i32 [B, 32];
 * out: f32 [B, C, H, W]. */
export function augmentBatch(images: Tensor, plan: Tensor, out: Tensor, o: AugmentOptions): Dispatch[] {
  const k = o.strong ? 'augment_strong' : 'augment_weak';
  const C = o.channels, W = o.size, H = o.height ?? o.size;
  if (C !== 1 && C !== 3) throw new Error(`${k}: channels is ${C}, expected 1 or 3`);
  for (const [name, v] of [['size', W], ['height', H], ['n', o.n]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k}: ${name} is ${v}, expected a positive integer`);
  }
  if (o.norm.mean.length !== C || o.norm.std.length !== C) {
    throw new Error(`${k}: norm has ${o.norm.mean.length} means and ${o.norm.std.length} stds, expected ${C} of each`);
  }
  expectRank(k, 'images', images, 1, 'u32');
  const words = packedWords(o.n, C, H, W);
  if (images.shape[0] < words) {
    throw new Error(`${k}: argument 'images' has shape ${shapeStr(images.shape)}, expected at least [${words}] ` +
      `(${o.n} packed images of ${C}x${H}x${W} bytes)`);
  }
  expectRank(k, 'plan', plan, 2, 'i32');
  const B = plan.shape[0];
  expectShape(k, 'plan', plan, [B, PLAN_STRIDE], 'i32');
  expectShape(k, 'out', out, [B, C, H, W], 'f32');
  const padX = o.pad ?? defaultPad(W), padY = o.pad ?? defaultPad(H);
  if (padX >= W || padY >= H || padX < 0 || padY < 0) {
    throw new Error(`${k}: reflect padding ${padX}x${padY} must be in 0..side-1 for a ${H}x${W} image`);
  }
  if (o.strong) {
    const need = 2 * ceilDiv(C * H * W, 4) * 4 + HIST_BYTES;
    if (need > WORKGROUP_BYTES) {
      throw new Error(`${k}: a ${C}x${H}x${W} image needs ${need} bytes of workgroup memory, over the ${WORKGROUP_BYTES} ` +
        `every device offers (at most ${Math.floor((WORKGROUP_BYTES - HIST_BYTES) / 8) * 4} bytes per image)`);
    }
  }
  const p: AugmentParams = { B, n: o.n, C, H, W, padX, padY, norm: o.norm };
  return [makeDispatch(o.strong ? augmentStrong : augmentWeak, p, { images, plan, out }, `B=${B} ${C}x${H}x${W} ${o.strong ? 'strong' : 'weak'}`)];
}
