import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeImagePlan, defaultPad, drawAugmentPlan, encodeImagePlan, OP, OP_NAMES, PLAN_STRIDE, type ImagePlan,
} from '../src/data/augment-plan.js';
import { CIFAR10_NORM, FASHION_MNIST_NORM, packU8ToU32, type Normalisation } from '../src/kernels/augment.js';
import { applyOp, augmentBatchRef, weakView, type U8Image } from '../src/kernels/augment.ref.js';
import { rng } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

interface Shape { c: number; h: number; w: number; pad: number }
// Ragged: odd, non-square, grey and RGB; pad 2 on 7x5 (its default int(side/8) would be 0).
const SHAPES: Shape[] = [
  { c: 3, h: 7, w: 5, pad: 2 }, { c: 1, h: 9, w: 9, pad: 1 }, { c: 3, h: 32, w: 32, pad: 4 }, { c: 1, h: 28, w: 28, pad: 3 },
];
const normFor = (c: number): Normalisation => (c === 3 ? CIFAR10_NORM : FASHION_MNIST_NORM);

/** n images: even ones uniform 0..255, odd ones in a narrow band (so AutoContrast/Equalize/Contrast do something). */
function dataset(n: number, s: Shape, seed: number): Uint8Array {
  const r = rng(seed);
  const chw = s.c * s.h * s.w;
  const d = new Uint8Array(n * chw);
  for (let i = 0; i < n; i++) {
    const [lo, span] = i % 2 ? [40 + Math.floor(r() * 40), 60 + Math.floor(r() * 60)] : [0, 256];
    for (let j = 0; j < chw; j++) d[i * chw + j] = lo + Math.floor(r() * span);
  }
  return d;
}

interface Cmp { exact: number; off1: number; offMore: number; worst: number }

/** GPU output (normalised) back to grey levels, compared with the reference's uint8 images. */
function compare(gpu: Float64Array, refU8: Uint8Array, s: Shape, norm: Normalisation, what: string): Cmp {
  expect(gpu.length, `${what}: length`).toBe(refU8.length);
  const hw = s.h * s.w;
  const r: Cmp = { exact: 0, off1: 0, offMore: 0, worst: 0 };
  for (let i = 0; i < gpu.length; i++) {
    const c = Math.floor(i / hw) % s.c;
    const level = (gpu[i] * norm.std[c] + norm.mean[c]) * 255;
    const q = Math.round(level);
    if (!(Math.abs(level - q) < 1e-3)) expect.fail(`${what}: element ${i} is ${gpu[i]}, grey level ${level}, not on the 0..255 grid`);
    const d = Math.abs(q - refU8[i]);
    if (d === 0) r.exact++;
    else if (d === 1) r.off1++;
    else r.offMore++;
    r.worst = Math.max(r.worst, d);
  }
  return r;
}

async function gpuAugment(data: Uint8Array, plan: Int32Array, s: Shape, strong: boolean, n: number): Promise<Float64Array> {
  const { out } = await runOp('augment', { n, channels: s.c, size: s.w, height: s.h, strong, norm: normFor(s.c), pad: s.pad }, {
    images: packU8ToU32(data), plan,
  });
  return out;
}

// Ops whose GPU result may differ by one grey level (see shaders/augment.wgsl): float64 vs integer AutoContrast,
// float32 blends that a GPU compiler may fuse.
const OFF_BY_ONE_OK = new Set([OP.AutoContrast, OP.Brightness, OP.Color, OP.Contrast, OP.Sharpness]);

describe('augment: plans', () => {
  it('packs uint8 little-endian, 4 per u32', () => {
    expect(Array.from(packU8ToU32([1, 2, 3, 4, 255]))).toEqual([0x04030201, 255]);
  });

  it('the same seed gives the same plan; other seeds give other plans', () => {
    const idx = Int32Array.from({ length: 50 }, (_, i) => i * 3);
    for (const strong of [false, true]) {
      const o = { strong, size: 32, channels: 3 };
      const a = drawAugmentPlan(rng(7), idx, o), b = drawAugmentPlan(rng(7), idx, o), c = drawAugmentPlan(rng(8), idx, o);
      expect(a.length).toBe(50 * PLAN_STRIDE);
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(Array.from(a)).not.toEqual(Array.from(c));
    }
  });

  it('draws the documented distribution: crop offsets 0..2*pad, levels 1..9, ops from all 14, cutout 16/17 px at 32', () => {
    const idx = Int32Array.from({ length: 4000 }, (_, i) => i);
    const plan = drawAugmentPlan(rng(1), idx, { strong: true, size: 32, channels: 3 });
    const ops = new Set<number>(), levels = new Set<number>(), crops = new Set<number>();
    let applied = 0, flips = 0, maxW = 0;
    for (let i = 0; i < idx.length; i++) {
      const p = decodeImagePlan(plan, i);
      expect(p.src).toBe(i);
      flips += +p.flip;
      crops.add(p.cropX).add(p.cropY);
      for (const o of p.ops) {
        ops.add(o.op);
        levels.add(o.level);
        applied += +o.apply;
      }
      const [x0, y0, x1, y1] = p.cutout!;
      expect(x0 >= 0 && y0 >= 0 && x1 <= 31 && y1 <= 31 && x1 >= x0 && y1 >= y0).toBe(true);
      maxW = Math.max(maxW, x1 - x0 + 1);
    }
    expect([...ops].sort((a, b) => a - b)).toEqual(OP_NAMES.map((_, i) => i));
    expect([...levels].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...crops].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(maxW).toBe(17);
    expect(Math.abs(applied / 8000 - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(flips / 4000 - 0.5)).toBeLessThan(0.03);
    expect(defaultPad(28)).toBe(3);
  });
});

describe('augment_strong: each op vs its PIL-exact reference', () => {
  for (const s of SHAPES) {
    it(`14 ops at levels 1, 5, 9, both signs, on ${s.c}x${s.h}x${s.w}`, async () => {
      const n = 4;
      const data = dataset(n, s, s.c * 100 + s.h);
      const levels = [1, 5, 9], signs = [1, -1];
      const report: string[] = [];
      for (let op = 0; op < OP_NAMES.length; op++) {
        const plans: ImagePlan[] = [];
        for (let src = 0; src < n; src++) {
          for (const level of levels) {
            for (const sign of signs) {
              // Crop offset = pad is the identity crop; flip on odd images; slot 1 not applied.
              plans.push({ src, flip: src % 2 === 1, cropX: s.pad, cropY: s.pad, cutout: null, ops: [
                { op, apply: true, level, sign }, { op: OP.Solarize, apply: false, level: 1, sign: 1 },
              ] });
            }
          }
        }
        const plan = new Int32Array(plans.length * PLAN_STRIDE);
        plans.forEach((p, i) => encodeImagePlan(plan, i, p, s.w, s.h));
        const gpu = await gpuAugment(data, plan, s, true, n);
        const ref = augmentBatchRef(data, plan, { channels: s.c, size: s.w, height: s.h, strong: true, norm: normFor(s.c), pad: s.pad });
        // The op must do something (else GPU and reference could agree by both doing nothing).
        const chw = s.c * s.h * s.w;
        let changed = 0;
        plans.forEach((p, i) => {
          const src: U8Image = { data: data.subarray(p.src * chw, (p.src + 1) * chw), c: s.c, h: s.h, w: s.w };
          const weak = weakView(src, p.flip, p.cropX, p.cropY, s.pad);
          const one = applyOp(weak, p.ops[0]);
          expect(Array.from(one.data), `reference ${OP_NAMES[op]} image ${i}`).toEqual(Array.from(ref.u8.subarray(i * chw, (i + 1) * chw)));
          if (one.data.some((v, j) => v !== weak.data[j])) changed++;
        });
        // Identity by construction: Identity; Color on grey; Equalize under 256 pixels (PIL's step = (N - top) // 255 is 0).
        const inert = op === OP.Identity || (op === OP.Color && s.c === 1) || (op === OP.Equalize && s.h * s.w < 256);
        if (!inert) expect(changed, `${OP_NAMES[op]} changes some images`).toBeGreaterThan(0);
        const r = compare(gpu, ref.u8, s, normFor(s.c), `${OP_NAMES[op]} ${s.c}x${s.h}x${s.w}`);
        if (r.off1 || r.offMore) report.push(`${OP_NAMES[op]}: ${r.off1} px off by 1, ${r.offMore} by more (of ${gpu.length})`);
        expect(r.offMore, `${OP_NAMES[op]}: pixels off by more than 1 (worst ${r.worst})`).toBe(0);
        if (!OFF_BY_ONE_OK.has(op)) expect(r.off1, `${OP_NAMES[op]}: pixels off by 1`).toBe(0);
        else expect(r.off1 / gpu.length, `${OP_NAMES[op]}: share of pixels off by 1`).toBeLessThan(0.01);
      }
      console.log(`augment ops ${s.c}x${s.h}x${s.w}: ${report.length ? report.join('; ') : 'all exact'}`);
    });
  }
});

describe('augment: full batches vs the reference', () => {
  for (const s of SHAPES) {
    it(`weak views are exact on ${s.c}x${s.h}x${s.w}`, async () => {
      const n = 5;
      const data = dataset(n, s, 17 + s.w);
      const idx = Int32Array.from({ length: 24 }, (_, i) => (i * 7) % n);
      const plan = drawAugmentPlan(rng(s.w), idx, { strong: false, size: s.w, height: s.h, channels: s.c, pad: s.pad });
      const gpu = await gpuAugment(data, plan, s, false, n);
      const ref = augmentBatchRef(data, plan, { channels: s.c, size: s.w, height: s.h, strong: false, norm: normFor(s.c), pad: s.pad });
      const r = compare(gpu, ref.u8, s, normFor(s.c), `weak ${s.c}x${s.h}x${s.w}`);
      expect(r.exact).toBe(gpu.length);
      // Normalisation itself within float32 rounding.
      for (let i = 0; i < gpu.length; i++) expect(Math.abs(gpu[i] - ref.out[i])).toBeLessThan(1e-5);
    });

    it(`strong views on ${s.c}x${s.h}x${s.w}: all ops composed, cutout, normalisation`, async () => {
      const n = 6;
      const data = dataset(n, s, 29 + s.w);
      const B = s.h === 32 ? 320 : 96;
      const idx = Int32Array.from({ length: B }, (_, i) => (i * 5) % n);
      const plan = drawAugmentPlan(rng(1000 + s.w), idx, { strong: true, size: s.w, height: s.h, channels: s.c, pad: s.pad });
      const gpu = await gpuAugment(data, plan, s, true, n);
      const ref = augmentBatchRef(data, plan, { channels: s.c, size: s.w, height: s.h, strong: true, norm: normFor(s.c), pad: s.pad });
      const r = compare(gpu, ref.u8, s, normFor(s.c), `strong ${s.c}x${s.h}x${s.w}`);
      console.log(`augment strong ${s.c}x${s.h}x${s.w} B=${B}: ${r.exact} exact, ${r.off1} off by 1, ${r.offMore} off by more ` +
        `(worst ${r.worst}) of ${gpu.length} values`);
      // Off-by-one grey levels (see OFF_BY_ONE_OK) can grow through a following Posterize/Solarize/Equalize; allow a
      // few such pixels, never many.
      expect((r.off1 + r.offMore) / gpu.length).toBeLessThan(0.01);
      expect(r.offMore / gpu.length).toBeLessThan(0.002);
    });
  }

  it('a strong plan with no op applied is the weak view plus the cutout', async () => {
    const s = SHAPES[2];
    const data = dataset(3, s, 5);
    const plan = new Int32Array(3 * PLAN_STRIDE);
    for (let i = 0; i < 3; i++) {
      encodeImagePlan(plan, i, { src: i, flip: i === 1, cropX: i, cropY: 8 - i, cutout: [i * 7, 3, i * 7 + 16, 19], ops: [
        { op: OP.Rotate, apply: false, level: 9, sign: 1 }, { op: OP.Equalize, apply: false, level: 1, sign: 1 },
      ] }, 32);
    }
    const gpu = await gpuAugment(data, plan, s, true, 3);
    const ref = augmentBatchRef(data, plan, { channels: 3, size: 32, strong: true, norm: CIFAR10_NORM });
    expect(compare(gpu, ref.u8, s, CIFAR10_NORM, 'no-op strong').exact).toBe(gpu.length);
    expect(ref.u8.filter((v) => v === 127).length).toBeGreaterThanOrEqual(3 * 3 * 17 * 17);
  });

  it('rejects bad arguments naming the kernel, the argument, expected and given', async () => {
    const s = SHAPES[2];
    const images = packU8ToU32(dataset(2, s, 1));
    const plan = new Int32Array(2 * PLAN_STRIDE);
    const base = { n: 2, channels: 3, size: 32, strong: true, norm: CIFAR10_NORM };
    await expect(runOp('augment', { ...base, channels: 2, norm: { mean: [0, 0], std: [1, 1] } }, { images, plan })).rejects.toThrow(
      /augment_strong: channels is 2, expected 1 or 3/,
    );
    await expect(runOp('augment', { ...base, n: 3 }, { images, plan })).rejects.toThrow(
      /augment_strong: argument 'images' has shape \[1536\], expected at least \[2304\]/,
    );
    await expect(runOp('augment', { ...base, norm: FASHION_MNIST_NORM }, { images, plan })).rejects.toThrow(/augment_strong: norm has 1 means/);
    await expect(runOp('augment', { ...base, size: 96 }, { images: packU8ToU32(new Uint8Array(2 * 3 * 96 * 96)), plan })).rejects.toThrow(
      /augment_strong: a 3x96x96 image needs \d+ bytes of workgroup memory/,
    );
  });
});
