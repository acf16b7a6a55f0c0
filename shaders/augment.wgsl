// augment_weak / augment_strong: the dataset's uint8 images (packed 4 per u32, CHW per image, image i at byte i*C*H*W)
// + one plan record per batch image (src/data/augment-plan.ts documents the layout) -> the normalised f32 batch
// [B, C, H, W], (x/255 - mean[c]) / std[c]. One workgroup per batch image.
//
//   weak:   horizontal flip, then a crop of the reflect-padded image (numpy 'reflect': edge not repeated). Each thread
//           gathers its pixels straight from the dataset and writes them normalised; no workgroup memory.
//   strong: the weak view is gathered into workgroup memory (uint8 packed 4 per u32, two buffers to ping-pong), the
//           plan's 2 RandAugment ops run in sequence with barriers (each thread computes 4 pixels = one word, so no
//           two threads write the same word), then Cutout (grey 127) and normalisation on the way out.
//           Image statistics come from the image after the preceding op: AutoContrast and Equalize build per-channel
//           histograms in workgroup memory (atomics), 1 thread per channel turns them into a LUT in place;
//           Contrast sums the image's luminance with one atomic.
//
// PIL fidelity (src/kernels/augment.ref.ts is PIL-exact; checked against Pillow 12.3):
//   exact: flip/crop, Posterize, Solarize, Equalize (Pillow >= 10 divisor 255), Identity, Cutout, all geometric ops
//          (PIL's own 16.16 fixed-point affine sampler, coefficients from the plan), Sharpness's SMOOTH filter and
//          Contrast's mean (integer forms of PIL's rounding), luminance (PIL's 16.16 RGB->L).
//   +-1:   AutoContrast (PIL's float64 int(ix*scale+offset) truncates some exact integers to k-1, here exact integer
//          floor(255*(ix-lo)/(hi-lo))); blends (Brightness/Color/Contrast/Sharpness) are float32 with truncation like
//          ImagingBlend, but a GPU compiler may fuse the multiply-add.

override C: u32;
override H: u32;
override W: u32;
/** Images in the dataset (source indices are clamped to it). */
override N_IMAGES: u32;
/** Batch size. */
override B: u32;
override PAD_X: i32;
override PAD_Y: i32;
/** ceil(C*H*W / 4): words of one packed image; BUF_WORDS = 2 * WORDS (two ping-pong buffers). */
override WORDS: u32 = 1u;
override BUF_WORDS: u32 = 2u;
override MEAN0: f32 = 0.0;
override MEAN1: f32 = 0.0;
override MEAN2: f32 = 0.0;
override STD0: f32 = 1.0;
override STD1: f32 = 1.0;
override STD2: f32 = 1.0;
override WG: u32 = 64u;

const REC: u32 = 32u;
const OP_BASE: u32 = 8u;
const OP_FIELDS: u32 = 10u;
const EQUALIZE_DIVISOR: u32 = 255u;

const OP_AUTOCONTRAST: i32 = 0;
const OP_BRIGHTNESS: i32 = 1;
const OP_COLOR: i32 = 2;
const OP_CONTRAST: i32 = 3;
const OP_EQUALIZE: i32 = 4;
const OP_IDENTITY: i32 = 5;
const OP_POSTERIZE: i32 = 6;
const OP_ROTATE: i32 = 7;
const OP_SHARPNESS: i32 = 8;
const OP_SHEARX: i32 = 9;
const OP_SHEARY: i32 = 10;
const OP_SOLARIZE: i32 = 11;
const OP_TRANSLATEX: i32 = 12;
const OP_TRANSLATEY: i32 = 13;

@group(0) @binding(0) var<storage, read> images: array<u32>;
@group(0) @binding(1) var<storage, read> plan: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> buf: array<u32, BUF_WORDS>;
/** Per-channel histograms, then LUTs (in place). */
var<workgroup> hist: array<atomic<u32>, 768>;
/** Sum of the luminance (Contrast). */
var<workgroup> lsum: atomic<u32>;

fn dataset_byte(g: u32) -> u32 {
  return (images[g >> 2u] >> ((g & 3u) * 8u)) & 255u;
}

fn wg_byte(base: u32, e: u32) -> u32 {
  return (buf[base + (e >> 2u)] >> ((e & 3u) * 8u)) & 255u;
}

fn reflect_index(i: i32, n: i32) -> i32 {
  if (i < 0) { return -i; }
  if (i >= n) { return 2 * (n - 1) - i; }
  return i;
}

fn normalise(c: u32, v: u32) -> f32 {
  var m = MEAN0;
  var s = STD0;
  if (c == 1u) { m = MEAN1; s = STD1; }
  if (c == 2u) { m = MEAN2; s = STD2; }
  return (f32(v) / 255.0 - m) / s;
}

/** Element e (CHW index) of the weak view of dataset image `src`. */
fn weak_pixel(src: u32, flip: bool, cx: i32, cy: i32, e: u32) -> u32 {
  let hw = H * W;
  let c = e / hw;
  let p = e - c * hw;
  let y = i32(p / W);
  let x = i32(p % W);
  let sy = reflect_index(y + cy - PAD_Y, i32(H));
  var sx = reflect_index(x + cx - PAD_X, i32(W));
  if (flip) { sx = i32(W) - 1 - sx; }
  return dataset_byte(src * C * hw + c * hw + u32(sy) * W + u32(sx));
}

/** ImagingBlend: (UINT8)(in1 + alpha*(in2 - in1)), float32. */
fn blend(in1: u32, in2: u32, alpha: f32) -> u32 {
  let r = f32(in1) + alpha * f32(i32(in2) - i32(in1));
  return u32(clamp(trunc(r), 0.0, 255.0));
}

/** PIL's RGB -> L of pixel p (0..H*W-1) of the image at `base`; grey images are their own L. */
fn lum(base: u32, p: u32) -> u32 {
  if (C == 1u) { return wg_byte(base, p); }
  let hw = H * W;
  return (wg_byte(base, p) * 19595u + wg_byte(base, hw + p) * 38470u + wg_byte(base, 2u * hw + p) * 7471u + 32768u) >> 16u;
}

/** ImageFilter.SMOOTH at element e: round((sum of 3x3 + 4*centre) / 13); borders (and images under 3x3) copied. */
fn smooth3x3(base: u32, e: u32) -> u32 {
  let hw = H * W;
  let c = e / hw;
  let p = e - c * hw;
  let y = p / W;
  let x = p % W;
  if (H < 3u || W < 3u || y == 0u || x == 0u || y == H - 1u || x == W - 1u) { return wg_byte(base, e); }
  var s = 4u * wg_byte(base, e);
  for (var dy = 0u; dy < 3u; dy++) {
    for (var dx = 0u; dx < 3u; dx++) {
      s += wg_byte(base, c * hw + (y + dy - 1u) * W + (x + dx - 1u));
    }
  }
  return (2u * s + 13u) / 26u;
}

/** Output element e of op `op` (parameters p0..p5 from the plan) applied to the image at `base`. */
fn op_pixel(op: i32, p: array<i32, 6>, base: u32, e: u32) -> u32 {
  let hw = H * W;
  let c = e / hw;
  let v = wg_byte(base, e);
  switch (op) {
    case OP_AUTOCONTRAST, OP_EQUALIZE: {
      return atomicLoad(&hist[c * 256u + v]);
    }
    case OP_BRIGHTNESS: {
      return blend(0u, v, bitcast<f32>(p[0]));
    }
    case OP_COLOR: {
      if (C == 1u) { return v; }
      return blend(lum(base, e - c * hw), v, bitcast<f32>(p[0]));
    }
    case OP_CONTRAST: {
      let mean = (2u * atomicLoad(&lsum) + hw) / (2u * hw);
      return blend(mean, v, bitcast<f32>(p[0]));
    }
    case OP_POSTERIZE: {
      let mask = ~((1u << (8u - u32(p[0]))) - 1u) & 255u;
      return v & mask;
    }
    case OP_SHARPNESS: {
      return blend(smooth3x3(base, e), v, bitcast<f32>(p[0]));
    }
    case OP_SOLARIZE: {
      if (i32(v) < p[0]) { return v; }
      return 255u - v;
    }
    case OP_ROTATE, OP_SHEARX, OP_SHEARY, OP_TRANSLATEX, OP_TRANSLATEY: {
      let q = e - c * hw;
      let y = i32(q / W);
      let x = i32(q % W);
      let xin = (p[2] + x * p[0] + y * p[1]) >> 16u;
      let yin = (p[5] + x * p[3] + y * p[4]) >> 16u;
      if (xin < 0 || xin >= i32(W) || yin < 0 || yin >= i32(H)) { return 0u; }
      return wg_byte(base, c * hw + u32(yin) * W + u32(xin));
    }
    default: {
      return v;
    }
  }
}

/** Image statistics an op needs, from the image at `base` (all threads call it; it ends on a barrier). */
fn prepare(op: i32, base: u32, lid: u32) {
  let hw = H * W;
  for (var i = lid; i < 768u; i += WG) { atomicStore(&hist[i], 0u); }
  if (lid == 0u) { atomicStore(&lsum, 0u); }
  workgroupBarrier();
  if (op == OP_CONTRAST) {
    for (var q = lid; q < hw; q += WG) { atomicAdd(&lsum, lum(base, q)); }
  } else {
    for (var e = lid; e < C * hw; e += WG) { atomicAdd(&hist[(e / hw) * 256u + wg_byte(base, e)], 1u); }
  }
  workgroupBarrier();
  if (op != OP_CONTRAST && lid < C) {
    let h0 = lid * 256u;
    if (op == OP_AUTOCONTRAST) {
      var lo = 0u;
      while (lo < 255u && atomicLoad(&hist[h0 + lo]) == 0u) { lo++; }
      var hi = 255u;
      while (hi > 0u && atomicLoad(&hist[h0 + hi]) == 0u) { hi--; }
      for (var i = 0u; i < 256u; i++) {
        var t = i;
        if (hi > lo) {
          if (i <= lo) { t = 0u; } else if (i >= hi) { t = 255u; } else { t = (255u * (i - lo)) / (hi - lo); }
        }
        atomicStore(&hist[h0 + i], t);
      }
    } else {
      // ImageOps.equalize: step = (N - count of the top value) // 255; lut[i] = (step//2 + cumsum_{j<i}) // step.
      var nonzero = 0u;
      var top = 0u;
      for (var i = 0u; i < 256u; i++) {
        let n = atomicLoad(&hist[h0 + i]);
        if (n > 0u) { nonzero++; top = n; }
      }
      let step = (hw - top) / EQUALIZE_DIVISOR;
      var acc = step / 2u;
      for (var i = 0u; i < 256u; i++) {
        let n = atomicLoad(&hist[h0 + i]);
        var t = i;
        if (nonzero > 1u && step > 0u) { t = min(acc / step, 255u); }
        atomicStore(&hist[h0 + i], t);
        acc += n;
      }
    }
  }
  workgroupBarrier();
}

@compute @workgroup_size(WG)
fn weak(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= B) { return; }
  let r = b * REC;
  let src = u32(clamp(plan[r], 0, i32(N_IMAGES) - 1));
  let flip = plan[r + 1u] != 0;
  let chw = C * H * W;
  for (var e = lid; e < chw; e += WG) {
    out[b * chw + e] = normalise(e / (H * W), weak_pixel(src, flip, plan[r + 2u], plan[r + 3u], e));
  }
}

@compute @workgroup_size(WG)
fn strong(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let b = wid.x + wid.y * nwg.x;
  if (b >= B) { return; }
  let r = b * REC;
  let src = u32(clamp(plan[r], 0, i32(N_IMAGES) - 1));
  let flip = plan[r + 1u] != 0;
  let cx = plan[r + 2u];
  let cy = plan[r + 3u];
  let hw = H * W;
  let chw = C * hw;
  for (var w = lid; w < WORDS; w += WG) {
    var word = 0u;
    for (var k = 0u; k < 4u; k++) {
      let e = w * 4u + k;
      if (e < chw) { word |= weak_pixel(src, flip, cx, cy, e) << (8u * k); }
    }
    buf[w] = word;
  }
  workgroupBarrier();

  var cur = 0u;
  for (var s = 0u; s < 2u; s++) {
    let o = r + OP_BASE + s * OP_FIELDS;
    let op = plan[o];
    if (plan[o + 1u] != 0 && op != OP_IDENTITY) {
      if (op == OP_AUTOCONTRAST || op == OP_EQUALIZE || op == OP_CONTRAST) { prepare(op, cur, lid); }
      let p = array<i32, 6>(plan[o + 4u], plan[o + 5u], plan[o + 6u], plan[o + 7u], plan[o + 8u], plan[o + 9u]);
      let dst = WORDS - cur;
      for (var w = lid; w < WORDS; w += WG) {
        var word = 0u;
        for (var k = 0u; k < 4u; k++) {
          let e = w * 4u + k;
          if (e < chw) { word |= op_pixel(op, p, cur, e) << (8u * k); }
        }
        buf[dst + w] = word;
      }
      workgroupBarrier();
      cur = dst;
    }
  }

  let x0 = plan[r + 4u];
  let y0 = plan[r + 5u];
  let x1 = plan[r + 6u];
  let y1 = plan[r + 7u];
  for (var e = lid; e < chw; e += WG) {
    let c = e / hw;
    let q = e - c * hw;
    let y = i32(q / W);
    let x = i32(q % W);
    var v = wg_byte(cur, e);
    if (x0 >= 0 && x >= x0 && x <= x1 && y >= y0 && y <= y1) { v = 127u; }
    out[b * chw + e] = normalise(c, v);
  }
}
