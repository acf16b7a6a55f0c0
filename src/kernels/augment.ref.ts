// Plain TypeScript reference for augment (shaders/augment.wgsl): each RandAugment op is a separate function on a
// uint8 image (CHW), written after PIL's C code (Pillow libImaging: Blend.c, Filter.c, Geometry.c, Convert.c, and
// ImageOps/ImageEnhance), so it is the PIL behaviour of the reference code, not the GPU's approximation of it:
//   - blends (Brightness/Color/Contrast/Sharpness) in float32 with truncation, as ImagingBlend does;
//   - AutoContrast's LUT in float64 with int() truncation, as ImageOps.autocontrast does (the GPU uses exact integer
//     math, which differs by 1 where float64 rounds an exact integer down);
//   - geometric ops through PIL's 16.16 fixed-point affine sampling (exactly the kernel's integer math).
// Grey (1-channel) images: Color is the identity (PIL blends an 'L' image with itself), Contrast's mean is the
// channel's mean; every other op acts on the one channel.
import {
  decodeImagePlan, defaultPad, enhanceFactor, opAffine, affineFixed, OP, posterizeBits, solarizeThreshold,
  type ImagePlan, type PlannedOp,
} from '../data/augment-plan.js';
import type { Normalisation } from './augment.js';

export interface U8Image {
  /** c*h*w bytes, CHW */
  data: Uint8Array;
  c: number;
  h: number;
  w: number;
}

const f = Math.fround;

function like(img: U8Image): U8Image {
  return { data: new Uint8Array(img.data.length), c: img.c, h: img.h, w: img.w };
}

/** PIL's RGB -> L (ITU-R 601-2 in 16.16 fixed point, rounded); grey images are their own L. */
export function luminance(img: U8Image): Uint8Array {
  const hw = img.h * img.w;
  if (img.c === 1) return img.data.slice(0, hw);
  const L = new Uint8Array(hw);
  for (let p = 0; p < hw; p++) {
    L[p] = (img.data[p] * 19595 + img.data[hw + p] * 38470 + img.data[2 * hw + p] * 7471 + 0x8000) >> 16;
  }
  return L;
}

/** ImagingBlend for 0 <= alpha <= 1: out = (UINT8)(in1 + alpha*(in2 - in1)) in float32. */
export function blendPixel(in1: number, in2: number, alpha: number): number {
  return Math.trunc(f(in1 + f(f(alpha) * (in2 - in1))));
}

function blendWith(img: U8Image, degenerate: (i: number) => number, factor: number): U8Image {
  const out = like(img);
  for (let i = 0; i < img.data.length; i++) out.data[i] = blendPixel(degenerate(i), img.data[i], factor);
  return out;
}

function lut(img: U8Image, tables: number[][]): U8Image {
  const out = like(img);
  const hw = img.h * img.w;
  for (let i = 0; i < img.data.length; i++) out.data[i] = Math.min(255, tables[Math.floor(i / hw)][img.data[i]]);
  return out;
}

function histograms(img: U8Image): number[][] {
  const hw = img.h * img.w;
  const hs: number[][] = [];
  for (let c = 0; c < img.c; c++) {
    const h = new Array<number>(256).fill(0);
    for (let p = 0; p < hw; p++) h[img.data[c * hw + p]]++;
    hs.push(h);
  }
  return hs;
}

export function identity(img: U8Image): U8Image {
  return { ...img, data: img.data.slice() };
}

/** ImageOps.autocontrast(img) (cutoff 0): per channel, lo..hi stretched to 0..255 with int(ix*scale + offset). */
export function autoContrast(img: U8Image): U8Image {
  return lut(img, histograms(img).map((h) => {
    let lo = 0, hi = 255;
    while (lo < 256 && !h[lo]) lo++;
    while (hi >= 0 && !h[hi]) hi--;
    if (hi <= lo) return Array.from({ length: 256 }, (_, i) => i);
    const scale = 255.0 / (hi - lo);
    const offset = -lo * scale;
    return Array.from({ length: 256 }, (_, ix) => Math.max(0, Math.min(255, Math.trunc(ix * scale + offset))));
  }));
}

/** Pillow >= 10's divisor in ImageOps.equalize (older Pillow, e.g. of the DASO era, used 256). */
export const EQUALIZE_DIVISOR = 255;

/** ImageOps.equalize(img): per channel, step = (N - count of the top value) // 255, lut[i] = (step//2 + cumsum) // step,
 * clipped to 255 (Image.point clips its table to uint8). */
export function equalize(img: U8Image): U8Image {
  return lut(img, histograms(img).map((h) => {
    const nz = h.filter((x) => x > 0);
    const ident = Array.from({ length: 256 }, (_, i) => i);
    if (nz.length <= 1) return ident;
    const step = Math.floor((nz.reduce((a, b) => a + b, 0) - nz[nz.length - 1]) / EQUALIZE_DIVISOR);
    if (!step) return ident;
    const t: number[] = [];
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      t.push(Math.floor(n / step));
      n += h[i];
    }
    return t;
  }));
}

/** ImageEnhance.Brightness: blend with black. */
export function brightness(img: U8Image, factor: number): U8Image {
  return blendWith(img, () => 0, factor);
}

/** ImageEnhance.Color: blend with the image's greyscale (identity for grey images). */
export function color(img: U8Image, factor: number): U8Image {
  if (img.c === 1) return blendWith(img, (i) => img.data[i], factor);
  const L = luminance(img);
  const hw = img.h * img.w;
  return blendWith(img, (i) => L[i % hw], factor);
}

/** ImageEnhance.Contrast: blend with the constant int(mean(L) + 0.5). */
export function contrast(img: U8Image, factor: number): U8Image {
  const L = luminance(img);
  let s = 0;
  for (const v of L) s += v;
  const mean = Math.trunc(s / L.length + 0.5);
  return blendWith(img, () => mean, factor);
}

/** ImageFilter.SMOOTH (3x3 [1 1 1; 1 5 1; 1 1 1]/13, rounded; border pixels copied; images under 3x3 copied). */
export function smooth(img: U8Image): U8Image {
  const out = identity(img);
  const { h, w } = img;
  if (h < 3 || w < 3) return out;
  const k = [1, 1, 1, 1, 5, 1, 1, 1, 1].map((v) => f(v / 13));
  for (let c = 0; c < img.c; c++) {
    const base = c * h * w;
    for (let y = 1; y < h - 1; y++) {
      for (let x = 1; x < w - 1; x++) {
        let ss = f(0.5);
        for (let dy = 1; dy >= -1; dy--) { // Filter.c sums row y+1, y, y-1, each left to right
          const row = base + (y + dy) * w + x;
          const r = f(f(f(img.data[row - 1] * k[0]) + f(img.data[row] * k[(1 - dy) * 3 + 1])) + f(img.data[row + 1] * k[2]));
          ss = f(ss + r);
        }
        out.data[base + y * w + x] = ss <= 0 ? 0 : ss >= 255 ? 255 : Math.trunc(ss);
      }
    }
  }
  return out;
}

/** ImageEnhance.Sharpness: blend with the SMOOTH-filtered image. */
export function sharpness(img: U8Image, factor: number): U8Image {
  const s = smooth(img);
  return blendWith(img, (i) => s.data[i], factor);
}

/** ImageOps.posterize: keep the top `bits` bits. */
export function posterize(img: U8Image, bits: number): U8Image {
  const mask = ~((1 << (8 - bits)) - 1) & 255;
  return lut(img, new Array(img.c).fill(Array.from({ length: 256 }, (_, i) => i & mask)));
}

/** ImageOps.solarize: values >= threshold are inverted. */
export function solarize(img: U8Image, threshold: number): U8Image {
  return lut(img, new Array(img.c).fill(Array.from({ length: 256 }, (_, i) => (i < threshold ? i : 255 - i))));
}

/** Image.transform(AFFINE, NEAREST, black fill) through PIL's fixed-point sampler; `a` is the float matrix. */
export function affine(img: U8Image, a: number[]): U8Image {
  const [a0, a1, a2, a3, a4, a5] = affineFixed(a);
  const out = like(img);
  const { h, w } = img;
  for (let c = 0; c < img.c; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const xin = (a2 + y * a1 + x * a0) >> 16;
        const yin = (a5 + y * a4 + x * a3) >> 16;
        out.data[(c * h + y) * w + x] = xin >= 0 && xin < w && yin >= 0 && yin < h ? img.data[(c * h + yin) * w + xin] : 0;
      }
    }
  }
  return out;
}

/** ImagingScaleAffine for an integer translation (the path PIL takes when a1 = a3 = 0): out(x,y) = in(x+tx, y+ty). */
export function translate(img: U8Image, tx: number, ty: number): U8Image {
  const out = like(img);
  const { h, w } = img;
  for (let c = 0; c < img.c; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const xin = x + tx, yin = y + ty;
        out.data[(c * h + y) * w + x] = xin >= 0 && xin < w && yin >= 0 && yin < h ? img.data[(c * h + yin) * w + xin] : 0;
      }
    }
  }
  return out;
}

export const rotate = (img: U8Image, level: number, sign: number): U8Image => affine(img, opAffine(OP.Rotate, level, sign, img.w, img.h)!);
export const shearX = (img: U8Image, level: number, sign: number): U8Image => affine(img, opAffine(OP.ShearX, level, sign, img.w, img.h)!);
export const shearY = (img: U8Image, level: number, sign: number): U8Image => affine(img, opAffine(OP.ShearY, level, sign, img.w, img.h)!);
export const translateX = (img: U8Image, level: number, sign: number): U8Image => translate(img, opAffine(OP.TranslateX, level, sign, img.w, img.h)![2], 0);
export const translateY = (img: U8Image, level: number, sign: number): U8Image => translate(img, 0, opAffine(OP.TranslateY, level, sign, img.w, img.h)![5]);

/** One RandAugment op at `level` (1..9) with `sign` (±1), magnitudes of the FixMatch pool. */
export function applyOp(img: U8Image, o: Pick<PlannedOp, 'op' | 'level' | 'sign'>): U8Image {
  const { op, level, sign } = o;
  switch (op) {
    case OP.AutoContrast: return autoContrast(img);
    case OP.Brightness: return brightness(img, enhanceFactor(level));
    case OP.Color: return color(img, enhanceFactor(level));
    case OP.Contrast: return contrast(img, enhanceFactor(level));
    case OP.Equalize: return equalize(img);
    case OP.Identity: return identity(img);
    case OP.Posterize: return posterize(img, posterizeBits(level));
    case OP.Rotate: return rotate(img, level, sign);
    case OP.Sharpness: return sharpness(img, enhanceFactor(level));
    case OP.ShearX: return shearX(img, level, sign);
    case OP.ShearY: return shearY(img, level, sign);
    case OP.Solarize: return solarize(img, solarizeThreshold(level));
    case OP.TranslateX: return translateX(img, level, sign);
    case OP.TranslateY: return translateY(img, level, sign);
    default: throw new Error(`augment reference: unknown op id ${op}`);
  }
}

/** Reflect (numpy 'reflect', edge not repeated) index into 0..n-1. */
export function reflectIndex(i: number, n: number): number {
  if (i < 0) return -i;
  if (i >= n) return 2 * (n - 1) - i;
  return i;
}

/** Weak view: horizontal flip, then the crop at (cropX, cropY) of the image reflect-padded by padX, padY. */
export function weakView(img: U8Image, flip: boolean, cropX: number, cropY: number, padX: number, padY = padX): U8Image {
  const out = like(img);
  const { h, w } = img;
  for (let c = 0; c < img.c; c++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const sy = reflectIndex(y + cropY - padY, h);
        let sx = reflectIndex(x + cropX - padX, w);
        if (flip) sx = w - 1 - sx;
        out.data[(c * h + y) * w + x] = img.data[(c * h + sy) * w + sx];
      }
    }
  }
  return out;
}

/** CutoutAbs's inclusive rectangle filled with grey 127 in every channel. */
export function cutout(img: U8Image, rect: [number, number, number, number]): U8Image {
  const out = identity(img);
  const [x0, y0, x1, y1] = rect;
  for (let c = 0; c < img.c; c++) {
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) out.data[(c * img.h + y) * img.w + x] = 127;
  }
  return out;
}

/** One image through its plan record (uint8 result, before normalisation). */
export function augmentImageRef(src: U8Image, p: ImagePlan, o: { strong: boolean; pad?: number }): U8Image {
  let img = weakView(src, p.flip, p.cropX, p.cropY, o.pad ?? defaultPad(src.w), o.pad ?? defaultPad(src.h));
  if (!o.strong) return img;
  for (const op of p.ops) if (op.apply) img = applyOp(img, op);
  if (p.cutout) img = cutout(img, p.cutout);
  return img;
}

/** The whole batch on the CPU: dataset bytes (n images, CHW each) + plan -> uint8 views and the normalised batch. */
export function augmentBatchRef(
  dataset: Uint8Array, plan: Int32Array,
  o: { channels: number; size: number; height?: number; strong: boolean; norm: Normalisation; pad?: number },
): { u8: Uint8Array; out: Float64Array } {
  const W = o.size, H = o.height ?? o.size;
  const chw = o.channels * H * W, hw = H * W;
  const B = plan.length / 32;
  const u8 = new Uint8Array(B * chw);
  const out = new Float64Array(B * chw);
  for (let b = 0; b < B; b++) {
    const p = decodeImagePlan(plan, b);
    const src: U8Image = { data: dataset.subarray(p.src * chw, (p.src + 1) * chw), c: o.channels, h: H, w: W };
    const img = augmentImageRef(src, p, o);
    u8.set(img.data, b * chw);
    for (let i = 0; i < chw; i++) {
      const c = Math.floor(i / hw);
      out[b * chw + i] = (img.data[i] / 255 - o.norm.mean[c]) / o.norm.std[c];
    }
  }
  return { u8, out };
}
