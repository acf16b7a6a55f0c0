// Augmentation plans: the CPU draws every random choice of a batch's augmentation from a seeded generator and writes
// them as one fixed-size i32 record per image; shaders/augment.wgsl (one workgroup per image) turns the dataset's
// uint8 images into the normalised f32 batch from these records alone, and src/kernels/augment.ref.ts does the same
// on the CPU. Everything that needs f64 (PIL's affine matrices, enhance factors) is computed here, once, in f64
// exactly as PIL/the reference code computes it, so the GPU only does integer and f32 work.
//
// Semantics (ytaek-oh/daso lib/dataset/transform/{transforms,randaugment,transformation}.py, spec §2.3):
//   weak   = RandomHorizontalFlip(0.5) -> RandomCrop(size, padding=pad, padding_mode='reflect')
//   strong = weak -> RandAugment(2 ops drawn with replacement from the 14-op FixMatch pool, each applied with
//            p=0.5 at level randint(1,10) = 1..9) -> CutoutAbs(cutout px, gray 127), always.
//
// Record layout (PLAN_STRIDE = 32 i32 per image):
//   [0] source image index in the dataset       [1] horizontal flip (0/1)
//   [2] crop left offset x in 0..2*padX          [3] crop top offset y in 0..2*padY  (into the reflect-padded image)
//   [4] cutout x0  [5] cutout y0  [6] cutout x1  [7] cutout y1   (inclusive, already clipped to the image; x0 = -1: no cutout)
//   [8..17]  op slot 0, [18..27] op slot 1, each OP_FIELDS = 10 values:
//       +0 op id (index into OP_NAMES)  +1 apply (0/1)  +2 level 1..9  +3 sign (+1/-1; used by Rotate/Shear/Translate)
//       +4..+9 p0..p5, the op's parameters derived from level and sign (opParams):
//         Brightness/Color/Contrast/Sharpness: p0 = f32 bits of the factor 0.09*l+0.05
//         Posterize: p0 = bits int(0.4*l)+4            Solarize: p0 = threshold 256-int(25.6*l)
//         Rotate/ShearX/ShearY/TranslateX/TranslateY: p0..p5 = PIL's 16.16 fixed-point affine coefficients
//           (a0, a1, a2, a3, a4, a5 with the half-pixel offsets folded into a2/a5): source pixel of output (x, y) is
//           ((a2 + x*a0 + y*a1) >> 16, (a5 + x*a3 + y*a4) >> 16), black outside the image.
//         AutoContrast/Equalize/Identity: unused (0).
//   [28..31] reserved (0).

export const OP_NAMES: readonly string[] = [
  'AutoContrast', 'Brightness', 'Color', 'Contrast', 'Equalize', 'Identity', 'Posterize',
  'Rotate', 'Sharpness', 'ShearX', 'ShearY', 'Solarize', 'TranslateX', 'TranslateY',
];

export const OP = Object.fromEntries(OP_NAMES.map((n, i) => [n, i])) as Record<
  'AutoContrast' | 'Brightness' | 'Color' | 'Contrast' | 'Equalize' | 'Identity' | 'Posterize' | 'Rotate' | 'Sharpness' |
  'ShearX' | 'ShearY' | 'Solarize' | 'TranslateX' | 'TranslateY', number>;

export const PLAN_STRIDE = 32;
export const OP_BASE = 8;
export const OP_FIELDS = 10;
export const NUM_OPS = 2;

export interface AugmentPlanOptions {
  strong: boolean;
  /** Image side (width; also the height unless `height` is given). */
  size: number;
  height?: number;
  channels: number;
  /** Reflect padding of the random crop, both axes; default int(side*0.125) per axis (4 at 32, 3 at 28). */
  pad?: number;
  /** Cutout side; default 16 at 32, round(size/2) otherwise (14 at 28). */
  cutout?: number;
}

export function defaultPad(size: number): number {
  return Math.floor(size * 0.125);
}

export function defaultCutout(size: number): number {
  return size === 32 ? 16 : Math.round(size / 2);
}

/** One op of a strong view, as drawn (or forced by a test). */
export interface PlannedOp {
  op: number;
  apply: boolean;
  /** 1..9 */
  level: number;
  /** +1 or -1 */
  sign: number;
}

export interface ImagePlan {
  src: number;
  flip: boolean;
  cropX: number;
  cropY: number;
  /** Inclusive, clipped rectangle, or null for none (weak views). */
  cutout: [number, number, number, number] | null;
  ops: PlannedOp[];
}

// FixMatch pool magnitudes (transformation.py): float = l/10*max + bias, int = int(l/10*max) + bias.
const floatParam = (l: number, max: number, bias: number): number => (l / 10) * max + bias;
const intParam = (l: number, max: number, bias: number): number => Math.trunc((l / 10) * max) + bias;

/** The enhance factor of Brightness/Color/Contrast/Sharpness at level l (0.09*l + 0.05, as a float64). */
export const enhanceFactor = (l: number): number => floatParam(l, 0.9, 0.05);
export const posterizeBits = (l: number): number => intParam(l, 4, 4);
export const rotateDegrees = (l: number, sign: number): number => sign * intParam(l, 30, 0);
export const shearAmount = (l: number, sign: number): number => sign * floatParam(l, 0.3, 0);
export const solarizeThreshold = (l: number): number => 256 - intParam(l, 256, 0);
/** TranslateX/Y: int(level * size) with level = ±0.03*l (the sign is applied before the truncation, as in the code). */
export const translatePixels = (l: number, sign: number, size: number): number => Math.trunc(sign * floatParam(l, 0.3, 0) * size);

/** Python's round(x, 15): the double nearest the correctly rounded 15-decimal value. */
function round15(x: number): number {
  return parseFloat(x.toFixed(15));
}

/** PIL Image.rotate's inverse affine matrix (expand=False, centre (w/2, h/2)) for `deg` degrees counter-clockwise. */
export function rotateMatrix(deg: number, w: number, h: number): number[] {
  const a360 = ((deg % 360) + 360) % 360; // Python's float modulo
  const angle = -(a360 * (Math.PI / 180)); // -math.radians(angle)
  const m = [round15(Math.cos(angle)), round15(Math.sin(angle)), 0, round15(-Math.sin(angle)), round15(Math.cos(angle)), 0];
  const cx = w / 2, cy = h / 2;
  m[2] = m[0] * -cx + m[1] * -cy + m[2] + cx;
  m[5] = m[3] * -cx + m[4] * -cy + m[5] + cy;
  return m;
}

/** PIL's affine_fixed (libImaging/Geometry.c): 16.16 fixed-point coefficients with the half-pixel centre folded in.
 * Pure translations go through ImagingScaleAffine instead, which samples the same pixels for integer offsets. */
export function affineFixed(a: number[]): number[] {
  const FIX = (v: number): number => {
    const x = v * 65536 + 0.5;
    return x < 0 ? Math.floor(x) : Math.trunc(x);
  };
  return [FIX(a[0]), FIX(a[1]), FIX(a[2] + a[0] * 0.5 + a[1] * 0.5), FIX(a[3]), FIX(a[4]), FIX(a[5] + a[3] * 0.5 + a[4] * 0.5)];
}

/** The affine matrix (PIL's output->input map) of a geometric op on a w x h image, or null for the other ops. */
export function opAffine(op: number, level: number, sign: number, w: number, h = w): number[] | null {
  switch (op) {
    case OP.Rotate: return rotateMatrix(rotateDegrees(level, sign), w, h);
    case OP.ShearX: return [1, shearAmount(level, sign), 0, 0, 1, 0];
    case OP.ShearY: return [1, 0, 0, shearAmount(level, sign), 1, 0];
    case OP.TranslateX: return [1, 0, translatePixels(level, sign, w), 0, 1, 0];
    case OP.TranslateY: return [1, 0, 0, 0, 1, translatePixels(level, sign, h)];
    default: return null;
  }
}

const f32bits = (x: number): number => new Int32Array(new Float32Array([x]).buffer)[0];

/** p0..p5 of an op (see the layout above). */
export function opParams(op: number, level: number, sign: number, w: number, h = w): number[] {
  const p = [0, 0, 0, 0, 0, 0];
  const aff = opAffine(op, level, sign, w, h);
  if (aff) return affineFixed(aff);
  switch (op) {
    case OP.Brightness: case OP.Color: case OP.Contrast: case OP.Sharpness: p[0] = f32bits(enhanceFactor(level)); break;
    case OP.Posterize: p[0] = posterizeBits(level); break;
    case OP.Solarize: p[0] = solarizeThreshold(level); break;
  }
  return p;
}

/** CutoutAbs: centre (u*w, v*h) -> PIL's inclusive rectangle, clipped to the w x h image. */
export function cutoutRect(u: number, v: number, w: number, h: number, side: number): [number, number, number, number] {
  const x0 = Math.trunc(Math.max(0, u * w - side / 2));
  const y0 = Math.trunc(Math.max(0, v * h - side / 2));
  const x1 = Math.trunc(Math.min(w, x0 + side));
  const y1 = Math.trunc(Math.min(h, y0 + side));
  return [x0, y0, Math.min(x1, w - 1), Math.min(y1, h - 1)];
}

/** Writes one image's record at `plan[i*PLAN_STRIDE..]` for a w x h image (tests build plans by hand with this). */
export function encodeImagePlan(plan: Int32Array, i: number, p: ImagePlan, w: number, h = w): void {
  if (p.ops.length > NUM_OPS) throw new Error(`encodeImagePlan: ${p.ops.length} ops given, at most ${NUM_OPS}`);
  const r = i * PLAN_STRIDE;
  plan.fill(0, r, r + PLAN_STRIDE);
  plan[r] = p.src;
  plan[r + 1] = +p.flip;
  plan[r + 2] = p.cropX;
  plan[r + 3] = p.cropY;
  if (p.cutout) plan.set(p.cutout, r + 4);
  else plan.set([-1, -1, -1, -1], r + 4);
  p.ops.forEach((o, k) => {
    if (o.op < 0 || o.op >= OP_NAMES.length) throw new Error(`encodeImagePlan: op id ${o.op} outside 0..${OP_NAMES.length - 1}`);
    const s = r + OP_BASE + k * OP_FIELDS;
    plan[s] = o.op;
    plan[s + 1] = +o.apply;
    plan[s + 2] = o.level;
    plan[s + 3] = o.sign;
    plan.set(opParams(o.op, o.level, o.sign, w, h), s + 4);
  });
  for (let k = p.ops.length; k < NUM_OPS; k++) plan[r + OP_BASE + k * OP_FIELDS] = OP.Identity;
}

/** Reads a record back (the CPU reference runs from the same records the kernel does). */
export function decodeImagePlan(plan: Int32Array, i: number): ImagePlan & { params: number[][] } {
  const r = i * PLAN_STRIDE;
  const ops: PlannedOp[] = [];
  const params: number[][] = [];
  for (let k = 0; k < NUM_OPS; k++) {
    const s = r + OP_BASE + k * OP_FIELDS;
    ops.push({ op: plan[s], apply: plan[s + 1] !== 0, level: plan[s + 2], sign: plan[s + 3] });
    params.push(Array.from(plan.subarray(s + 4, s + 10)));
  }
  return {
    src: plan[r], flip: plan[r + 1] !== 0, cropX: plan[r + 2], cropY: plan[r + 3],
    cutout: plan[r + 4] < 0 ? null : [plan[r + 4], plan[r + 5], plan[r + 6], plan[r + 7]],
    ops, params,
  };
}

/** Draws one batch's plan: per image (in this order) flip, crop x, crop y; strong views then per op slot: op, apply,
 * level, sign; then the cutout centre (u, v). `rnd` returns uniform [0, 1) (use a seeded generator). */
export function drawAugmentPlan(rnd: () => number, indices: Int32Array, o: AugmentPlanOptions): Int32Array {
  const w = o.size, h = o.height ?? o.size;
  const padX = o.pad ?? defaultPad(w), padY = o.pad ?? defaultPad(h);
  const side = o.cutout ?? defaultCutout(o.size);
  const plan = new Int32Array(indices.length * PLAN_STRIDE);
  const randint = (n: number): number => Math.min(n - 1, Math.floor(rnd() * n));
  for (let i = 0; i < indices.length; i++) {
    const flip = rnd() < 0.5;
    const cropX = randint(2 * padX + 1);
    const cropY = randint(2 * padY + 1);
    const ops: PlannedOp[] = [];
    let cutout: ImagePlan['cutout'] = null;
    if (o.strong) {
      for (let k = 0; k < NUM_OPS; k++) {
        const op = randint(OP_NAMES.length);
        const apply = rnd() <= 0.5;
        const level = 1 + randint(9);
        const sign = rnd() < 0.5 ? -1 : 1;
        ops.push({ op, apply, level, sign });
      }
      const u = rnd(), v = rnd();
      cutout = cutoutRect(u, v, w, h, side);
    }
    encodeImagePlan(plan, i, { src: indices[i], flip, cropX, cropY, cutout, ops }, w, h);
  }
  return plan;
}
