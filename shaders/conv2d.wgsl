// conv2d_forward: y[N,K,OH,OW] = conv(x[N,C,H,W], w[K,C,R,R]) (+ BETA * y), NCHW, no bias, zero padding PAD,
// stride STRIDE, f32 accumulation. An implicit GEMM: rows = the N*OH*OW output pixels, columns = the K output
// channels, reduction = C*R*R; input values are gathered with integer index math (no im2col buffer).
//
// Entry points are a ladder; each is validated against conv2dForwardRef by test/conv2d.test.ts:
//   main_v0: one thread per output element, the plain loop nest. The reference kernel.
//   main:    v1, register blocking: each thread computes TM output pixels x TN output channels, so each gathered
//            input value is reused TN times and each weight TM times, in registers. No workgroup memory: on
//            SwiftShader register blocking is what is fast (see shaders/matmul.wgsl).
//            The tap loops (kh, kw) are outside the channel loop so the padding test runs once per tap, not per
//            channel; a tap no pixel of the thread can use (image border) is skipped. Ragged edges clamp the
//            pixel/channel indices for loads (always in bounds, values unused) and mask only the stores.
//
// Threads are numbered 1-D (grid1d folds more than 65535 workgroups into y): thread g owns channel block
// g % ceil(K/TN) and pixel block g / ceil(K/TN), so no thread idles when K is small (the stem has K=16).

override N: u32;
override C: u32;
override H: u32;
override W: u32;
override K: u32;
override R: u32;
override OH: u32;
override OW: u32;
override STRIDE: u32;
override PAD: u32;
override BETA: f32 = 0.0;
override WG: u32 = 64;

const TM: u32 = 4u; // output pixels per thread (one vec4 lane each)
const TN: u32 = 8u; // output channels per thread

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn store(i: u32, v: f32) {
  if (BETA != 0.0) {
    y[i] = v + BETA * y[i];
  } else {
    y[i] = v;
  }
}

@compute @workgroup_size(WG)
fn main_v0(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  if (g >= N * K * OH * OW) { return; }
  let ow = g % OW;
  let oh = (g / OW) % OH;
  let k = (g / (OW * OH)) % K;
  let n = g / (OW * OH * K);
  var acc = 0.0;
  for (var c = 0u; c < C; c++) {
    for (var kh = 0u; kh < R; kh++) {
      for (var kw = 0u; kw < R; kw++) {
        // Signed: the padded window starts PAD pixels before the image. u32(negative) wraps above H, so one
        // unsigned compare tests both edges.
        let ih = i32(oh * STRIDE + kh) - i32(PAD);
        let iw = i32(ow * STRIDE + kw) - i32(PAD);
        if (u32(ih) < H && u32(iw) < W) {
          acc += x[((n * C + c) * H + u32(ih)) * W + u32(iw)] * w[((k * C + c) * R + kh) * R + kw];
        }
      }
    }
  }
  store(g, acc);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KB = (K + TN - 1u) / TN;
  let M = N * OH * OW;
  let m0 = (g / KB) * TM;
  let k0 = (g % KB) * TN;
  if (m0 >= M) { return; }
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;

  // Per pixel lane i: start of its image, and the top-left corner of its (padded) input window.
  var xbase: vec4u;
  var ih0: vec4i;
  var iw0: vec4i;
  for (var i = 0u; i < TM; i++) {
    let m = min(m0 + i, M - 1u);
    let pix = m % OHW;
    xbase[i] = (m / OHW) * C * HW;
    ih0[i] = i32((pix / OW) * STRIDE) - i32(PAD);
    iw0[i] = i32((pix % OW) * STRIDE) - i32(PAD);
  }
  // Weight row starts of the thread's TN = 8 channels, as two vec4s.
  let kk = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);
  let wb0 = min(kk, vec4u(K - 1u)) * (C * RR);
  let wb1 = min(kk + vec4u(4u), vec4u(K - 1u)) * (C * RR);

  // Eight named accumulators (a_j[i]: channel k0 + j, pixel m0 + i), not an array indexed in a loop: on
  // SwiftShader the array version was 4x slower (stage3 128->128 8x8 at batch 64: 0.30 vs 1.28 GFLOP/s, same load),
  // as the array is not kept in registers.
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  for (var kh = 0u; kh < R; kh++) {
    let ih = ih0 + vec4i(i32(kh));
    let row_ok = vec4u(ih) < vec4u(H);
    for (var kw = 0u; kw < R; kw++) {
      let iw = iw0 + vec4i(i32(kw));
      let ok = row_ok & (vec4u(iw) < vec4u(W));
      if (!any(ok)) { continue; }
      let off = xbase + select(vec4u(0u), vec4u(ih) * W + vec4u(iw), ok);
      let tap = kh * R + kw;
      for (var c = 0u; c < C; c++) {
        let co = c * HW;
        let xv = select(vec4f(0.0), vec4f(x[off.x + co], x[off.y + co], x[off.z + co], x[off.w + co]), ok);
        let w0 = wb0 + vec4u(c * RR + tap);
        let w1 = wb1 + vec4u(c * RR + tap);
        a0 += xv * w[w0.x]; a1 += xv * w[w0.y]; a2 += xv * w[w0.z]; a3 += xv * w[w0.w];
        a4 += xv * w[w1.x]; a5 += xv * w[w1.y]; a6 += xv * w[w1.z]; a7 += xv * w[w1.w];
      }
    }
  }

  let acc = array<vec4f, TN>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m < M) {
      let obase = (m / OHW) * K * OHW + m % OHW;
      for (var j = 0u; j < TN; j++) {
        if (k0 + j < K) { store(obase + (k0 + j) * OHW, acc[j][i]); }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// v2: v1 with the weights read as vec4s from a packed copy and a 8 x 8 block per thread.
//   conv2d_pack_weights (main_pack_forward) writes wp[(c*R*R + tap) * KP + k] = w[k, c, tap] (0 for k >= K),
//   KP = K rounded up to 16, once per step (the weights do not change inside a step; 0.1% of the conv's work).
//   Each thread computes 8 output pixels (two vec4 pixel lanes, A and B) x 8 output channels: per input channel
//   and tap it does 8 scalar x loads and 2 vec4 weight loads for 64 multiply-adds (v1: 4 + 8 scalar loads for 32).
//   On SwiftShader a load costs far more than an FMA (every lane gathers and bounds-checks), so loads per FMA is
//   what sets the speed.
@group(0) @binding(1) var<storage, read> wp: array<vec4f>;
@group(0) @binding(0) var<storage, read> w_src: array<f32>;
override PACK_FLIPPED: bool = false;
@group(0) @binding(1) var<storage, read_write> wp_out: array<f32>;

@compute @workgroup_size(WG)
fn main_pack_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KP = (K + 15u) / 16u * 16u;
  let RR = R * R;
  if (g >= C * RR * KP) { return; }
  let k = g % KP;
  let ct = g / KP; // c * RR + tap
  if (PACK_FLIPPED) {
    // The input gradient of a stride-1 conv run as this forward kernel (conv2d_backward_input v3): here C and K are
    // the original conv's K and C, and the weight is w[c, k, R-1-kh, R-1-kw] of the original [C, K, R, R] tensor.
    let c = ct / RR;
    let tap = ct % RR;
    wp_out[g] = select(0.0, w_src[(c * K + min(k, K - 1u)) * RR + (RR - 1u - tap)], k < K);
  } else {
    wp_out[g] = select(0.0, w_src[min(k, K - 1u) * C * RR + ct], k < K);
  }
}

@compute @workgroup_size(WG)
fn main_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KB = (K + 7u) / 8u;
  let KV = (K + 15u) / 16u * 4u; // vec4s per packed weight row
  let M = N * OH * OW;
  let m0 = (g / KB) * 8u;
  let kb = g % KB;
  if (m0 >= M) { return; }
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;

  var xbA: vec4u; var ihA: vec4i; var iwA: vec4i;
  var xbB: vec4u; var ihB: vec4i; var iwB: vec4i;
  for (var i = 0u; i < 4u; i++) {
    let ma = min(m0 + i, M - 1u);
    let pa = ma % OHW;
    xbA[i] = (ma / OHW) * C * HW;
    ihA[i] = i32((pa / OW) * STRIDE) - i32(PAD);
    iwA[i] = i32((pa % OW) * STRIDE) - i32(PAD);
    let mb = min(m0 + 4u + i, M - 1u);
    let pb = mb % OHW;
    xbB[i] = (mb / OHW) * C * HW;
    ihB[i] = i32((pb / OW) * STRIDE) - i32(PAD);
    iwB[i] = i32((pb % OW) * STRIDE) - i32(PAD);
  }

  // a_j: channel 8kb + j for pixel lanes A; b_j: the same for lanes B. Named, not an array (see main).
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0);
  var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0);
  for (var kh = 0u; kh < R; kh++) {
    let iha = ihA + vec4i(i32(kh));
    let ihb = ihB + vec4i(i32(kh));
    let rowA = vec4u(iha) < vec4u(H);
    let rowB = vec4u(ihb) < vec4u(H);
    for (var kw = 0u; kw < R; kw++) {
      let iwa = iwA + vec4i(i32(kw));
      let iwb = iwB + vec4i(i32(kw));
      let okA = rowA & (vec4u(iwa) < vec4u(W));
      let okB = rowB & (vec4u(iwb) < vec4u(W));
      if (!any(okA) && !any(okB)) { continue; }
      let offA = xbA + select(vec4u(0u), vec4u(iha) * W + vec4u(iwa), okA);
      let offB = xbB + select(vec4u(0u), vec4u(ihb) * W + vec4u(iwb), okB);
      var wi = (kh * R + kw) * KV + 2u * kb;
      for (var c = 0u; c < C; c++) {
        let co = c * HW;
        let xa = select(vec4f(0.0), vec4f(x[offA.x + co], x[offA.y + co], x[offA.z + co], x[offA.w + co]), okA);
        let xb = select(vec4f(0.0), vec4f(x[offB.x + co], x[offB.y + co], x[offB.z + co], x[offB.w + co]), okB);
        let wl = wp[wi];
        let wh = wp[wi + 1u];
        wi += RR * KV;
        a0 += xa * wl.x; a1 += xa * wl.y; a2 += xa * wl.z; a3 += xa * wl.w;
        a4 += xa * wh.x; a5 += xa * wh.y; a6 += xa * wh.z; a7 += xa * wh.w;
        b0 += xb * wl.x; b1 += xb * wl.y; b2 += xb * wl.z; b3 += xb * wl.w;
        b4 += xb * wh.x; b5 += xb * wh.y; b6 += xb * wh.z; b7 += xb * wh.w;
      }
    }
  }

  let k0 = kb * 8u;
  let accA = array<vec4f, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  let accB = array<vec4f, 8>(b0, b1, b2, b3, b4, b5, b6, b7);
  for (var i = 0u; i < 4u; i++) {
    let ma = m0 + i;
    let mb = m0 + 4u + i;
    let oa = (ma / OHW) * K * OHW + ma % OHW;
    let ob = (mb / OHW) * K * OHW + mb % OHW;
    for (var j = 0u; j < 8u; j++) {
      if (k0 + j < K) {
        if (ma < M) { store(oa + (k0 + j) * OHW, accA[j][i]); }
        if (mb < M) { store(ob + (k0 + j) * OHW, accB[j][i]); }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// v3: v2 with larger blocks: 16 pixels x 8 channels (main_v3_16x8) or 8 pixels x 16 channels (main_v3_8x16), i.e.
// 16 + 2 or 8 + 4 loads per 128 multiply-adds (v2: 8 + 2 per 64). 32 vec4 accumulators no longer fit in registers
// (SwiftShader keeps one register per scalar per SIMD lane group), but spills are cheap next to gathered loads.
// Which block is faster depends on the shape: src/kernels/conv2d-tiles.ts holds the table, regenerated from the
// `conv2d_forward.v3-*` rows of `npm run bench` (scripts/conv-tile-table.mjs). Measured on SwiftShader (2 cores,
// batch 64, the experiment paused; GFLOP/s, 8x8 / 16x8 / 8x16 / 12x8 / 4x16): stage1 32->32 @32 2.66 / 2.87 / 2.48
// / 1.98 / 2.12; stage3 128->128 @8 2.16 / 2.83 / 3.26 / 2.87 / 2.47. 12x8 and 4x16 were dropped.
@compute @workgroup_size(WG)
fn main_v3_16x8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KB = (K + 7u) / 8u;
  let KV = (K + 15u) / 16u * 4u; // vec4s per packed weight row
  let M = N * OH * OW;
  let m0 = (g / KB) * 16u;
  let kb = g % KB;
  if (m0 >= M) { return; }
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;
  var xb0: vec4u; var ih0: vec4i; var iw0: vec4i;
  var xb1: vec4u; var ih1: vec4i; var iw1: vec4i;
  var xb2: vec4u; var ih2: vec4i; var iw2: vec4i;
  var xb3: vec4u; var ih3: vec4i; var iw3: vec4i;
  for (var i = 0u; i < 4u; i++) {
    let mi0 = min(m0 + 0u + i, M - 1u); let q0 = mi0 % OHW;
    xb0[i] = (mi0 / OHW) * C * HW; ih0[i] = i32((q0 / OW) * STRIDE) - i32(PAD); iw0[i] = i32((q0 % OW) * STRIDE) - i32(PAD);
    let mi1 = min(m0 + 4u + i, M - 1u); let q1 = mi1 % OHW;
    xb1[i] = (mi1 / OHW) * C * HW; ih1[i] = i32((q1 / OW) * STRIDE) - i32(PAD); iw1[i] = i32((q1 % OW) * STRIDE) - i32(PAD);
    let mi2 = min(m0 + 8u + i, M - 1u); let q2 = mi2 % OHW;
    xb2[i] = (mi2 / OHW) * C * HW; ih2[i] = i32((q2 / OW) * STRIDE) - i32(PAD); iw2[i] = i32((q2 % OW) * STRIDE) - i32(PAD);
    let mi3 = min(m0 + 12u + i, M - 1u); let q3 = mi3 % OHW;
    xb3[i] = (mi3 / OHW) * C * HW; ih3[i] = i32((q3 / OW) * STRIDE) - i32(PAD); iw3[i] = i32((q3 % OW) * STRIDE) - i32(PAD);
  }
  var a0_0 = vec4f(0.0); var a0_1 = vec4f(0.0); var a0_2 = vec4f(0.0); var a0_3 = vec4f(0.0); var a0_4 = vec4f(0.0); var a0_5 = vec4f(0.0); var a0_6 = vec4f(0.0); var a0_7 = vec4f(0.0);
  var a1_0 = vec4f(0.0); var a1_1 = vec4f(0.0); var a1_2 = vec4f(0.0); var a1_3 = vec4f(0.0); var a1_4 = vec4f(0.0); var a1_5 = vec4f(0.0); var a1_6 = vec4f(0.0); var a1_7 = vec4f(0.0);
  var a2_0 = vec4f(0.0); var a2_1 = vec4f(0.0); var a2_2 = vec4f(0.0); var a2_3 = vec4f(0.0); var a2_4 = vec4f(0.0); var a2_5 = vec4f(0.0); var a2_6 = vec4f(0.0); var a2_7 = vec4f(0.0);
  var a3_0 = vec4f(0.0); var a3_1 = vec4f(0.0); var a3_2 = vec4f(0.0); var a3_3 = vec4f(0.0); var a3_4 = vec4f(0.0); var a3_5 = vec4f(0.0); var a3_6 = vec4f(0.0); var a3_7 = vec4f(0.0);
  for (var kh = 0u; kh < R; kh++) {
    let ihh0 = ih0 + vec4i(i32(kh)); let row0 = vec4u(ihh0) < vec4u(H);
    let ihh1 = ih1 + vec4i(i32(kh)); let row1 = vec4u(ihh1) < vec4u(H);
    let ihh2 = ih2 + vec4i(i32(kh)); let row2 = vec4u(ihh2) < vec4u(H);
    let ihh3 = ih3 + vec4i(i32(kh)); let row3 = vec4u(ihh3) < vec4u(H);
    for (var kw = 0u; kw < R; kw++) {
      let iww0 = iw0 + vec4i(i32(kw)); let ok0 = row0 & (vec4u(iww0) < vec4u(W));
      let iww1 = iw1 + vec4i(i32(kw)); let ok1 = row1 & (vec4u(iww1) < vec4u(W));
      let iww2 = iw2 + vec4i(i32(kw)); let ok2 = row2 & (vec4u(iww2) < vec4u(W));
      let iww3 = iw3 + vec4i(i32(kw)); let ok3 = row3 & (vec4u(iww3) < vec4u(W));
      if (!any(ok0) && !any(ok1) && !any(ok2) && !any(ok3)) { continue; }
      let off0 = xb0 + select(vec4u(0u), vec4u(ihh0) * W + vec4u(iww0), ok0);
      let off1 = xb1 + select(vec4u(0u), vec4u(ihh1) * W + vec4u(iww1), ok1);
      let off2 = xb2 + select(vec4u(0u), vec4u(ihh2) * W + vec4u(iww2), ok2);
      let off3 = xb3 + select(vec4u(0u), vec4u(ihh3) * W + vec4u(iww3), ok3);
      var wi = (kh * R + kw) * KV + 2u * kb;
      for (var c = 0u; c < C; c++) {
        let co = c * HW;
        let x0 = select(vec4f(0.0), vec4f(x[off0.x + co], x[off0.y + co], x[off0.z + co], x[off0.w + co]), ok0);
        let x1 = select(vec4f(0.0), vec4f(x[off1.x + co], x[off1.y + co], x[off1.z + co], x[off1.w + co]), ok1);
        let x2 = select(vec4f(0.0), vec4f(x[off2.x + co], x[off2.y + co], x[off2.z + co], x[off2.w + co]), ok2);
        let x3 = select(vec4f(0.0), vec4f(x[off3.x + co], x[off3.y + co], x[off3.z + co], x[off3.w + co]), ok3);
        let w0 = wp[wi + 0u];
        let w1 = wp[wi + 1u];
        wi += RR * KV;
        a0_0 += x0 * w0.x; a0_1 += x0 * w0.y; a0_2 += x0 * w0.z; a0_3 += x0 * w0.w; a0_4 += x0 * w1.x; a0_5 += x0 * w1.y; a0_6 += x0 * w1.z; a0_7 += x0 * w1.w;
        a1_0 += x1 * w0.x; a1_1 += x1 * w0.y; a1_2 += x1 * w0.z; a1_3 += x1 * w0.w; a1_4 += x1 * w1.x; a1_5 += x1 * w1.y; a1_6 += x1 * w1.z; a1_7 += x1 * w1.w;
        a2_0 += x2 * w0.x; a2_1 += x2 * w0.y; a2_2 += x2 * w0.z; a2_3 += x2 * w0.w; a2_4 += x2 * w1.x; a2_5 += x2 * w1.y; a2_6 += x2 * w1.z; a2_7 += x2 * w1.w;
        a3_0 += x3 * w0.x; a3_1 += x3 * w0.y; a3_2 += x3 * w0.z; a3_3 += x3 * w0.w; a3_4 += x3 * w1.x; a3_5 += x3 * w1.y; a3_6 += x3 * w1.z; a3_7 += x3 * w1.w;
      }
    }
  }
  let k0 = kb * 8u;
  let acc0 = array<vec4f, 8>(a0_0, a0_1, a0_2, a0_3, a0_4, a0_5, a0_6, a0_7);
  let acc1 = array<vec4f, 8>(a1_0, a1_1, a1_2, a1_3, a1_4, a1_5, a1_6, a1_7);
  let acc2 = array<vec4f, 8>(a2_0, a2_1, a2_2, a2_3, a2_4, a2_5, a2_6, a2_7);
  let acc3 = array<vec4f, 8>(a3_0, a3_1, a3_2, a3_3, a3_4, a3_5, a3_6, a3_7);
  for (var i = 0u; i < 4u; i++) {
    let mm0 = m0 + 0u + i; let o0 = (mm0 / OHW) * K * OHW + mm0 % OHW;
    let mm1 = m0 + 4u + i; let o1 = (mm1 / OHW) * K * OHW + mm1 % OHW;
    let mm2 = m0 + 8u + i; let o2 = (mm2 / OHW) * K * OHW + mm2 % OHW;
    let mm3 = m0 + 12u + i; let o3 = (mm3 / OHW) * K * OHW + mm3 % OHW;
    for (var j = 0u; j < 8u; j++) {
      if (k0 + j < K) {
        if (mm0 < M) { store(o0 + (k0 + j) * OHW, acc0[j][i]); }
        if (mm1 < M) { store(o1 + (k0 + j) * OHW, acc1[j][i]); }
        if (mm2 < M) { store(o2 + (k0 + j) * OHW, acc2[j][i]); }
        if (mm3 < M) { store(o3 + (k0 + j) * OHW, acc3[j][i]); }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main_v3_8x16(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KB = (K + 15u) / 16u;
  let KV = (K + 15u) / 16u * 4u; // vec4s per packed weight row
  let M = N * OH * OW;
  let m0 = (g / KB) * 8u;
  let kb = g % KB;
  if (m0 >= M) { return; }
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;
  var xb0: vec4u; var ih0: vec4i; var iw0: vec4i;
  var xb1: vec4u; var ih1: vec4i; var iw1: vec4i;
  for (var i = 0u; i < 4u; i++) {
    let mi0 = min(m0 + 0u + i, M - 1u); let q0 = mi0 % OHW;
    xb0[i] = (mi0 / OHW) * C * HW; ih0[i] = i32((q0 / OW) * STRIDE) - i32(PAD); iw0[i] = i32((q0 % OW) * STRIDE) - i32(PAD);
    let mi1 = min(m0 + 4u + i, M - 1u); let q1 = mi1 % OHW;
    xb1[i] = (mi1 / OHW) * C * HW; ih1[i] = i32((q1 / OW) * STRIDE) - i32(PAD); iw1[i] = i32((q1 % OW) * STRIDE) - i32(PAD);
  }
  var a0_0 = vec4f(0.0); var a0_1 = vec4f(0.0); var a0_2 = vec4f(0.0); var a0_3 = vec4f(0.0); var a0_4 = vec4f(0.0); var a0_5 = vec4f(0.0); var a0_6 = vec4f(0.0); var a0_7 = vec4f(0.0); var a0_8 = vec4f(0.0); var a0_9 = vec4f(0.0); var a0_10 = vec4f(0.0); var a0_11 = vec4f(0.0); var a0_12 = vec4f(0.0); var a0_13 = vec4f(0.0); var a0_14 = vec4f(0.0); var a0_15 = vec4f(0.0);
  var a1_0 = vec4f(0.0); var a1_1 = vec4f(0.0); var a1_2 = vec4f(0.0); var a1_3 = vec4f(0.0); var a1_4 = vec4f(0.0); var a1_5 = vec4f(0.0); var a1_6 = vec4f(0.0); var a1_7 = vec4f(0.0); var a1_8 = vec4f(0.0); var a1_9 = vec4f(0.0); var a1_10 = vec4f(0.0); var a1_11 = vec4f(0.0); var a1_12 = vec4f(0.0); var a1_13 = vec4f(0.0); var a1_14 = vec4f(0.0); var a1_15 = vec4f(0.0);
  for (var kh = 0u; kh < R; kh++) {
    let ihh0 = ih0 + vec4i(i32(kh)); let row0 = vec4u(ihh0) < vec4u(H);
    let ihh1 = ih1 + vec4i(i32(kh)); let row1 = vec4u(ihh1) < vec4u(H);
    for (var kw = 0u; kw < R; kw++) {
      let iww0 = iw0 + vec4i(i32(kw)); let ok0 = row0 & (vec4u(iww0) < vec4u(W));
      let iww1 = iw1 + vec4i(i32(kw)); let ok1 = row1 & (vec4u(iww1) < vec4u(W));
      if (!any(ok0) && !any(ok1)) { continue; }
      let off0 = xb0 + select(vec4u(0u), vec4u(ihh0) * W + vec4u(iww0), ok0);
      let off1 = xb1 + select(vec4u(0u), vec4u(ihh1) * W + vec4u(iww1), ok1);
      var wi = (kh * R + kw) * KV + 4u * kb;
      for (var c = 0u; c < C; c++) {
        let co = c * HW;
        let x0 = select(vec4f(0.0), vec4f(x[off0.x + co], x[off0.y + co], x[off0.z + co], x[off0.w + co]), ok0);
        let x1 = select(vec4f(0.0), vec4f(x[off1.x + co], x[off1.y + co], x[off1.z + co], x[off1.w + co]), ok1);
        let w0 = wp[wi + 0u];
        let w1 = wp[wi + 1u];
        let w2 = wp[wi + 2u];
        let w3 = wp[wi + 3u];
        wi += RR * KV;
        a0_0 += x0 * w0.x; a0_1 += x0 * w0.y; a0_2 += x0 * w0.z; a0_3 += x0 * w0.w; a0_4 += x0 * w1.x; a0_5 += x0 * w1.y; a0_6 += x0 * w1.z; a0_7 += x0 * w1.w; a0_8 += x0 * w2.x; a0_9 += x0 * w2.y; a0_10 += x0 * w2.z; a0_11 += x0 * w2.w; a0_12 += x0 * w3.x; a0_13 += x0 * w3.y; a0_14 += x0 * w3.z; a0_15 += x0 * w3.w;
        a1_0 += x1 * w0.x; a1_1 += x1 * w0.y; a1_2 += x1 * w0.z; a1_3 += x1 * w0.w; a1_4 += x1 * w1.x; a1_5 += x1 * w1.y; a1_6 += x1 * w1.z; a1_7 += x1 * w1.w; a1_8 += x1 * w2.x; a1_9 += x1 * w2.y; a1_10 += x1 * w2.z; a1_11 += x1 * w2.w; a1_12 += x1 * w3.x; a1_13 += x1 * w3.y; a1_14 += x1 * w3.z; a1_15 += x1 * w3.w;
      }
    }
  }
  let k0 = kb * 16u;
  let acc0 = array<vec4f, 16>(a0_0, a0_1, a0_2, a0_3, a0_4, a0_5, a0_6, a0_7, a0_8, a0_9, a0_10, a0_11, a0_12, a0_13, a0_14, a0_15);
  let acc1 = array<vec4f, 16>(a1_0, a1_1, a1_2, a1_3, a1_4, a1_5, a1_6, a1_7, a1_8, a1_9, a1_10, a1_11, a1_12, a1_13, a1_14, a1_15);
  for (var i = 0u; i < 4u; i++) {
    let mm0 = m0 + 0u + i; let o0 = (mm0 / OHW) * K * OHW + mm0 % OHW;
    let mm1 = m0 + 4u + i; let o1 = (mm1 / OHW) * K * OHW + mm1 % OHW;
    for (var j = 0u; j < 16u; j++) {
      if (k0 + j < K) {
        if (mm0 < M) { store(o0 + (k0 + j) * OHW, acc0[j][i]); }
        if (mm1 < M) { store(o1 + (k0 + j) * OHW, acc1[j][i]); }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// v4: row vectors for stride-1 3x3 convs with pad 1 and W % 4 == 0 (then OH x OW = H x W, and every aligned group
// of 4 output pixels lies in one row of one image). For one input row, channel and group, the three taps need the 6
// input values at columns w-1 .. w+4: one aligned vec4 load (columns w..w+3, tap 1) and the neighbours' .w and .x
// (2 more vec4 loads) serve all three taps, 3 loads where v3 gathers 12 scalars. Blocks: 8 pixels (2 groups) x 16
// channels, per input row and channel 6 x loads and 12 packed-weight loads for 96 vec4 multiply-adds (v3 8x16: 8 + 4
// per 32), or 16 pixels (4 groups) x 16 channels, 12 + 12 loads for 192. Rows outside the image are skipped per
// group; the image's left and right edge zero the neighbour values.
// Other shapes use v3 (conv2dForwardPacked picks). It also runs the stride-1 input gradient (weights flipped, pad
// R-1-1 = 1) whenever the input's width is a multiple of 4: all of WRN-28-2 on 32x32 images.
@group(0) @binding(0) var<storage, read> xv: array<vec4f>;

// BEGIN GENERATED v4 (scripts/gen-conv2d-v4.mjs)
@compute @workgroup_size(WG)
fn main_v4_8x16(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KB = (K + 15u) / 16u;
  let KV = KB * 4u;
  let M = N * H * W;
  let m0 = (g / KB) * 8u;
  let kb = g % KB;
  if (m0 >= M) { return; }
  let HW = H * W;
  let W4 = W / 4u;
  let HW4 = HW / 4u;
  // Group i: output pixels m0+4i .. m0+4i+3 of one image row, clamped to the last group (its stores are masked).
  let mg0 = min(m0 + 0u, M - 4u); let p0 = mg0 % HW; let h0 = p0 / W; let col0 = p0 % W;
  let base0 = (mg0 / HW) * C * HW4 + col0 / 4u; let left0 = col0 > 0u; let right0 = col0 + 4u < W;
  let mg1 = min(m0 + 4u, M - 4u); let p1 = mg1 % HW; let h1 = p1 / W; let col1 = p1 % W;
  let base1 = (mg1 / HW) * C * HW4 + col1 / 4u; let left1 = col1 > 0u; let right1 = col1 + 4u < W;
  var a0_0 = vec4f(0.0); var a0_1 = vec4f(0.0); var a0_2 = vec4f(0.0); var a0_3 = vec4f(0.0); var a0_4 = vec4f(0.0); var a0_5 = vec4f(0.0); var a0_6 = vec4f(0.0); var a0_7 = vec4f(0.0); var a0_8 = vec4f(0.0); var a0_9 = vec4f(0.0); var a0_10 = vec4f(0.0); var a0_11 = vec4f(0.0); var a0_12 = vec4f(0.0); var a0_13 = vec4f(0.0); var a0_14 = vec4f(0.0); var a0_15 = vec4f(0.0);
  var a1_0 = vec4f(0.0); var a1_1 = vec4f(0.0); var a1_2 = vec4f(0.0); var a1_3 = vec4f(0.0); var a1_4 = vec4f(0.0); var a1_5 = vec4f(0.0); var a1_6 = vec4f(0.0); var a1_7 = vec4f(0.0); var a1_8 = vec4f(0.0); var a1_9 = vec4f(0.0); var a1_10 = vec4f(0.0); var a1_11 = vec4f(0.0); var a1_12 = vec4f(0.0); var a1_13 = vec4f(0.0); var a1_14 = vec4f(0.0); var a1_15 = vec4f(0.0);
  for (var kh = 0u; kh < 3u; kh++) {
    // Input row h - 1 + kh; above the image it wraps to a huge value and fails the test.
    let ih0 = h0 + kh - 1u; let ok0 = ih0 < H;
    let ih1 = h1 + kh - 1u; let ok1 = ih1 < H;
    if (!ok0 && !ok1) { continue; }
    var i0 = base0 + select(0u, ih0 * W4, ok0); let l0 = ok0 && left0; let r0 = ok0 && right0;
    var i1 = base1 + select(0u, ih1 * W4, ok1); let l1 = ok1 && left1; let r1 = ok1 && right1;
    var wi = kh * 3u * KV + 4u * kb;
    for (var c = 0u; c < C; c++) {
      // v: columns w..w+3 (tap 1); xl / xr: shifted by one, with the neighbours' .w / .x (0 at the image edge).
      let v0 = select(vec4f(0.0), xv[i0], ok0);
      let xl0 = vec4f(select(0.0, xv[select(i0, i0 - 1u, l0)].w, l0), v0.xyz);
      let xr0 = vec4f(v0.yzw, select(0.0, xv[select(i0, i0 + 1u, r0)].x, r0));
      i0 += HW4;
      let v1 = select(vec4f(0.0), xv[i1], ok1);
      let xl1 = vec4f(select(0.0, xv[select(i1, i1 - 1u, l1)].w, l1), v1.xyz);
      let xr1 = vec4f(v1.yzw, select(0.0, xv[select(i1, i1 + 1u, r1)].x, r1));
      i1 += HW4;
      {
        let o = wi;
        let w0 = wp[o]; let w1 = wp[o + 1u]; let w2 = wp[o + 2u]; let w3 = wp[o + 3u];
        a0_0 += xl0 * w0.x; a0_1 += xl0 * w0.y; a0_2 += xl0 * w0.z; a0_3 += xl0 * w0.w; a0_4 += xl0 * w1.x; a0_5 += xl0 * w1.y; a0_6 += xl0 * w1.z; a0_7 += xl0 * w1.w; a0_8 += xl0 * w2.x; a0_9 += xl0 * w2.y; a0_10 += xl0 * w2.z; a0_11 += xl0 * w2.w; a0_12 += xl0 * w3.x; a0_13 += xl0 * w3.y; a0_14 += xl0 * w3.z; a0_15 += xl0 * w3.w;
        a1_0 += xl1 * w0.x; a1_1 += xl1 * w0.y; a1_2 += xl1 * w0.z; a1_3 += xl1 * w0.w; a1_4 += xl1 * w1.x; a1_5 += xl1 * w1.y; a1_6 += xl1 * w1.z; a1_7 += xl1 * w1.w; a1_8 += xl1 * w2.x; a1_9 += xl1 * w2.y; a1_10 += xl1 * w2.z; a1_11 += xl1 * w2.w; a1_12 += xl1 * w3.x; a1_13 += xl1 * w3.y; a1_14 += xl1 * w3.z; a1_15 += xl1 * w3.w;
      }
      {
        let o = wi + KV;
        let w0 = wp[o]; let w1 = wp[o + 1u]; let w2 = wp[o + 2u]; let w3 = wp[o + 3u];
        a0_0 += v0 * w0.x; a0_1 += v0 * w0.y; a0_2 += v0 * w0.z; a0_3 += v0 * w0.w; a0_4 += v0 * w1.x; a0_5 += v0 * w1.y; a0_6 += v0 * w1.z; a0_7 += v0 * w1.w; a0_8 += v0 * w2.x; a0_9 += v0 * w2.y; a0_10 += v0 * w2.z; a0_11 += v0 * w2.w; a0_12 += v0 * w3.x; a0_13 += v0 * w3.y; a0_14 += v0 * w3.z; a0_15 += v0 * w3.w;
        a1_0 += v1 * w0.x; a1_1 += v1 * w0.y; a1_2 += v1 * w0.z; a1_3 += v1 * w0.w; a1_4 += v1 * w1.x; a1_5 += v1 * w1.y; a1_6 += v1 * w1.z; a1_7 += v1 * w1.w; a1_8 += v1 * w2.x; a1_9 += v1 * w2.y; a1_10 += v1 * w2.z; a1_11 += v1 * w2.w; a1_12 += v1 * w3.x; a1_13 += v1 * w3.y; a1_14 += v1 * w3.z; a1_15 += v1 * w3.w;
      }
      {
        let o = wi + 2u * KV;
        let w0 = wp[o]; let w1 = wp[o + 1u]; let w2 = wp[o + 2u]; let w3 = wp[o + 3u];
        a0_0 += xr0 * w0.x; a0_1 += xr0 * w0.y; a0_2 += xr0 * w0.z; a0_3 += xr0 * w0.w; a0_4 += xr0 * w1.x; a0_5 += xr0 * w1.y; a0_6 += xr0 * w1.z; a0_7 += xr0 * w1.w; a0_8 += xr0 * w2.x; a0_9 += xr0 * w2.y; a0_10 += xr0 * w2.z; a0_11 += xr0 * w2.w; a0_12 += xr0 * w3.x; a0_13 += xr0 * w3.y; a0_14 += xr0 * w3.z; a0_15 += xr0 * w3.w;
        a1_0 += xr1 * w0.x; a1_1 += xr1 * w0.y; a1_2 += xr1 * w0.z; a1_3 += xr1 * w0.w; a1_4 += xr1 * w1.x; a1_5 += xr1 * w1.y; a1_6 += xr1 * w1.z; a1_7 += xr1 * w1.w; a1_8 += xr1 * w2.x; a1_9 += xr1 * w2.y; a1_10 += xr1 * w2.z; a1_11 += xr1 * w2.w; a1_12 += xr1 * w3.x; a1_13 += xr1 * w3.y; a1_14 += xr1 * w3.z; a1_15 += xr1 * w3.w;
      }
      wi += 9u * KV;
    }
  }
  let k0 = kb * 16u;
  let acc0 = array<vec4f, 16>(a0_0, a0_1, a0_2, a0_3, a0_4, a0_5, a0_6, a0_7, a0_8, a0_9, a0_10, a0_11, a0_12, a0_13, a0_14, a0_15);
  let acc1 = array<vec4f, 16>(a1_0, a1_1, a1_2, a1_3, a1_4, a1_5, a1_6, a1_7, a1_8, a1_9, a1_10, a1_11, a1_12, a1_13, a1_14, a1_15);
  let o0 = (mg0 / HW) * K * HW + p0; let s0 = m0 + 0u < M;
  let o1 = (mg1 / HW) * K * HW + p1; let s1 = m0 + 4u < M;
  for (var j = 0u; j < 16u; j++) {
    if (k0 + j < K) {
      for (var i = 0u; i < 4u; i++) {
        if (s0) { store(o0 + (k0 + j) * HW + i, acc0[j][i]); }
        if (s1) { store(o1 + (k0 + j) * HW + i, acc1[j][i]); }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main_v4_16x16(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KB = (K + 15u) / 16u;
  let KV = KB * 4u;
  let M = N * H * W;
  let m0 = (g / KB) * 16u;
  let kb = g % KB;
  if (m0 >= M) { return; }
  let HW = H * W;
  let W4 = W / 4u;
  let HW4 = HW / 4u;
  // Group i: output pixels m0+4i .. m0+4i+3 of one image row, clamped to the last group (its stores are masked).
  let mg0 = min(m0 + 0u, M - 4u); let p0 = mg0 % HW; let h0 = p0 / W; let col0 = p0 % W;
  let base0 = (mg0 / HW) * C * HW4 + col0 / 4u; let left0 = col0 > 0u; let right0 = col0 + 4u < W;
  let mg1 = min(m0 + 4u, M - 4u); let p1 = mg1 % HW; let h1 = p1 / W; let col1 = p1 % W;
  let base1 = (mg1 / HW) * C * HW4 + col1 / 4u; let left1 = col1 > 0u; let right1 = col1 + 4u < W;
  let mg2 = min(m0 + 8u, M - 4u); let p2 = mg2 % HW; let h2 = p2 / W; let col2 = p2 % W;
  let base2 = (mg2 / HW) * C * HW4 + col2 / 4u; let left2 = col2 > 0u; let right2 = col2 + 4u < W;
  let mg3 = min(m0 + 12u, M - 4u); let p3 = mg3 % HW; let h3 = p3 / W; let col3 = p3 % W;
  let base3 = (mg3 / HW) * C * HW4 + col3 / 4u; let left3 = col3 > 0u; let right3 = col3 + 4u < W;
  var a0_0 = vec4f(0.0); var a0_1 = vec4f(0.0); var a0_2 = vec4f(0.0); var a0_3 = vec4f(0.0); var a0_4 = vec4f(0.0); var a0_5 = vec4f(0.0); var a0_6 = vec4f(0.0); var a0_7 = vec4f(0.0); var a0_8 = vec4f(0.0); var a0_9 = vec4f(0.0); var a0_10 = vec4f(0.0); var a0_11 = vec4f(0.0); var a0_12 = vec4f(0.0); var a0_13 = vec4f(0.0); var a0_14 = vec4f(0.0); var a0_15 = vec4f(0.0);
  var a1_0 = vec4f(0.0); var a1_1 = vec4f(0.0); var a1_2 = vec4f(0.0); var a1_3 = vec4f(0.0); var a1_4 = vec4f(0.0); var a1_5 = vec4f(0.0); var a1_6 = vec4f(0.0); var a1_7 = vec4f(0.0); var a1_8 = vec4f(0.0); var a1_9 = vec4f(0.0); var a1_10 = vec4f(0.0); var a1_11 = vec4f(0.0); var a1_12 = vec4f(0.0); var a1_13 = vec4f(0.0); var a1_14 = vec4f(0.0); var a1_15 = vec4f(0.0);
  var a2_0 = vec4f(0.0); var a2_1 = vec4f(0.0); var a2_2 = vec4f(0.0); var a2_3 = vec4f(0.0); var a2_4 = vec4f(0.0); var a2_5 = vec4f(0.0); var a2_6 = vec4f(0.0); var a2_7 = vec4f(0.0); var a2_8 = vec4f(0.0); var a2_9 = vec4f(0.0); var a2_10 = vec4f(0.0); var a2_11 = vec4f(0.0); var a2_12 = vec4f(0.0); var a2_13 = vec4f(0.0); var a2_14 = vec4f(0.0); var a2_15 = vec4f(0.0);
  var a3_0 = vec4f(0.0); var a3_1 = vec4f(0.0); var a3_2 = vec4f(0.0); var a3_3 = vec4f(0.0); var a3_4 = vec4f(0.0); var a3_5 = vec4f(0.0); var a3_6 = vec4f(0.0); var a3_7 = vec4f(0.0); var a3_8 = vec4f(0.0); var a3_9 = vec4f(0.0); var a3_10 = vec4f(0.0); var a3_11 = vec4f(0.0); var a3_12 = vec4f(0.0); var a3_13 = vec4f(0.0); var a3_14 = vec4f(0.0); var a3_15 = vec4f(0.0);
  for (var kh = 0u; kh < 3u; kh++) {
    // Input row h - 1 + kh; above the image it wraps to a huge value and fails the test.
    let ih0 = h0 + kh - 1u; let ok0 = ih0 < H;
    let ih1 = h1 + kh - 1u; let ok1 = ih1 < H;
    let ih2 = h2 + kh - 1u; let ok2 = ih2 < H;
    let ih3 = h3 + kh - 1u; let ok3 = ih3 < H;
    if (!ok0 && !ok1 && !ok2 && !ok3) { continue; }
    var i0 = base0 + select(0u, ih0 * W4, ok0); let l0 = ok0 && left0; let r0 = ok0 && right0;
    var i1 = base1 + select(0u, ih1 * W4, ok1); let l1 = ok1 && left1; let r1 = ok1 && right1;
    var i2 = base2 + select(0u, ih2 * W4, ok2); let l2 = ok2 && left2; let r2 = ok2 && right2;
    var i3 = base3 + select(0u, ih3 * W4, ok3); let l3 = ok3 && left3; let r3 = ok3 && right3;
    var wi = kh * 3u * KV + 4u * kb;
    for (var c = 0u; c < C; c++) {
      // v: columns w..w+3 (tap 1); xl / xr: shifted by one, with the neighbours' .w / .x (0 at the image edge).
      let v0 = select(vec4f(0.0), xv[i0], ok0);
      let xl0 = vec4f(select(0.0, xv[select(i0, i0 - 1u, l0)].w, l0), v0.xyz);
      let xr0 = vec4f(v0.yzw, select(0.0, xv[select(i0, i0 + 1u, r0)].x, r0));
      i0 += HW4;
      let v1 = select(vec4f(0.0), xv[i1], ok1);
      let xl1 = vec4f(select(0.0, xv[select(i1, i1 - 1u, l1)].w, l1), v1.xyz);
      let xr1 = vec4f(v1.yzw, select(0.0, xv[select(i1, i1 + 1u, r1)].x, r1));
      i1 += HW4;
      let v2 = select(vec4f(0.0), xv[i2], ok2);
      let xl2 = vec4f(select(0.0, xv[select(i2, i2 - 1u, l2)].w, l2), v2.xyz);
      let xr2 = vec4f(v2.yzw, select(0.0, xv[select(i2, i2 + 1u, r2)].x, r2));
      i2 += HW4;
      let v3 = select(vec4f(0.0), xv[i3], ok3);
      let xl3 = vec4f(select(0.0, xv[select(i3, i3 - 1u, l3)].w, l3), v3.xyz);
      let xr3 = vec4f(v3.yzw, select(0.0, xv[select(i3, i3 + 1u, r3)].x, r3));
      i3 += HW4;
      {
        let o = wi;
        let w0 = wp[o]; let w1 = wp[o + 1u]; let w2 = wp[o + 2u]; let w3 = wp[o + 3u];
        a0_0 += xl0 * w0.x; a0_1 += xl0 * w0.y; a0_2 += xl0 * w0.z; a0_3 += xl0 * w0.w; a0_4 += xl0 * w1.x; a0_5 += xl0 * w1.y; a0_6 += xl0 * w1.z; a0_7 += xl0 * w1.w; a0_8 += xl0 * w2.x; a0_9 += xl0 * w2.y; a0_10 += xl0 * w2.z; a0_11 += xl0 * w2.w; a0_12 += xl0 * w3.x; a0_13 += xl0 * w3.y; a0_14 += xl0 * w3.z; a0_15 += xl0 * w3.w;
        a1_0 += xl1 * w0.x; a1_1 += xl1 * w0.y; a1_2 += xl1 * w0.z; a1_3 += xl1 * w0.w; a1_4 += xl1 * w1.x; a1_5 += xl1 * w1.y; a1_6 += xl1 * w1.z; a1_7 += xl1 * w1.w; a1_8 += xl1 * w2.x; a1_9 += xl1 * w2.y; a1_10 += xl1 * w2.z; a1_11 += xl1 * w2.w; a1_12 += xl1 * w3.x; a1_13 += xl1 * w3.y; a1_14 += xl1 * w3.z; a1_15 += xl1 * w3.w;
        a2_0 += xl2 * w0.x; a2_1 += xl2 * w0.y; a2_2 += xl2 * w0.z; a2_3 += xl2 * w0.w; a2_4 += xl2 * w1.x; a2_5 += xl2 * w1.y; a2_6 += xl2 * w1.z; a2_7 += xl2 * w1.w; a2_8 += xl2 * w2.x; a2_9 += xl2 * w2.y; a2_10 += xl2 * w2.z; a2_11 += xl2 * w2.w; a2_12 += xl2 * w3.x; a2_13 += xl2 * w3.y; a2_14 += xl2 * w3.z; a2_15 += xl2 * w3.w;
        a3_0 += xl3 * w0.x; a3_1 += xl3 * w0.y; a3_2 += xl3 * w0.z; a3_3 += xl3 * w0.w; a3_4 += xl3 * w1.x; a3_5 += xl3 * w1.y; a3_6 += xl3 * w1.z; a3_7 += xl3 * w1.w; a3_8 += xl3 * w2.x; a3_9 += xl3 * w2.y; a3_10 += xl3 * w2.z; a3_11 += xl3 * w2.w; a3_12 += xl3 * w3.x; a3_13 += xl3 * w3.y; a3_14 += xl3 * w3.z; a3_15 += xl3 * w3.w;
      }
      {
        let o = wi + KV;
        let w0 = wp[o]; let w1 = wp[o + 1u]; let w2 = wp[o + 2u]; let w3 = wp[o + 3u];
        a0_0 += v0 * w0.x; a0_1 += v0 * w0.y; a0_2 += v0 * w0.z; a0_3 += v0 * w0.w; a0_4 += v0 * w1.x; a0_5 += v0 * w1.y; a0_6 += v0 * w1.z; a0_7 += v0 * w1.w; a0_8 += v0 * w2.x; a0_9 += v0 * w2.y; a0_10 += v0 * w2.z; a0_11 += v0 * w2.w; a0_12 += v0 * w3.x; a0_13 += v0 * w3.y; a0_14 += v0 * w3.z; a0_15 += v0 * w3.w;
        a1_0 += v1 * w0.x; a1_1 += v1 * w0.y; a1_2 += v1 * w0.z; a1_3 += v1 * w0.w; a1_4 += v1 * w1.x; a1_5 += v1 * w1.y; a1_6 += v1 * w1.z; a1_7 += v1 * w1.w; a1_8 += v1 * w2.x; a1_9 += v1 * w2.y; a1_10 += v1 * w2.z; a1_11 += v1 * w2.w; a1_12 += v1 * w3.x; a1_13 += v1 * w3.y; a1_14 += v1 * w3.z; a1_15 += v1 * w3.w;
        a2_0 += v2 * w0.x; a2_1 += v2 * w0.y; a2_2 += v2 * w0.z; a2_3 += v2 * w0.w; a2_4 += v2 * w1.x; a2_5 += v2 * w1.y; a2_6 += v2 * w1.z; a2_7 += v2 * w1.w; a2_8 += v2 * w2.x; a2_9 += v2 * w2.y; a2_10 += v2 * w2.z; a2_11 += v2 * w2.w; a2_12 += v2 * w3.x; a2_13 += v2 * w3.y; a2_14 += v2 * w3.z; a2_15 += v2 * w3.w;
        a3_0 += v3 * w0.x; a3_1 += v3 * w0.y; a3_2 += v3 * w0.z; a3_3 += v3 * w0.w; a3_4 += v3 * w1.x; a3_5 += v3 * w1.y; a3_6 += v3 * w1.z; a3_7 += v3 * w1.w; a3_8 += v3 * w2.x; a3_9 += v3 * w2.y; a3_10 += v3 * w2.z; a3_11 += v3 * w2.w; a3_12 += v3 * w3.x; a3_13 += v3 * w3.y; a3_14 += v3 * w3.z; a3_15 += v3 * w3.w;
      }
      {
        let o = wi + 2u * KV;
        let w0 = wp[o]; let w1 = wp[o + 1u]; let w2 = wp[o + 2u]; let w3 = wp[o + 3u];
        a0_0 += xr0 * w0.x; a0_1 += xr0 * w0.y; a0_2 += xr0 * w0.z; a0_3 += xr0 * w0.w; a0_4 += xr0 * w1.x; a0_5 += xr0 * w1.y; a0_6 += xr0 * w1.z; a0_7 += xr0 * w1.w; a0_8 += xr0 * w2.x; a0_9 += xr0 * w2.y; a0_10 += xr0 * w2.z; a0_11 += xr0 * w2.w; a0_12 += xr0 * w3.x; a0_13 += xr0 * w3.y; a0_14 += xr0 * w3.z; a0_15 += xr0 * w3.w;
        a1_0 += xr1 * w0.x; a1_1 += xr1 * w0.y; a1_2 += xr1 * w0.z; a1_3 += xr1 * w0.w; a1_4 += xr1 * w1.x; a1_5 += xr1 * w1.y; a1_6 += xr1 * w1.z; a1_7 += xr1 * w1.w; a1_8 += xr1 * w2.x; a1_9 += xr1 * w2.y; a1_10 += xr1 * w2.z; a1_11 += xr1 * w2.w; a1_12 += xr1 * w3.x; a1_13 += xr1 * w3.y; a1_14 += xr1 * w3.z; a1_15 += xr1 * w3.w;
        a2_0 += xr2 * w0.x; a2_1 += xr2 * w0.y; a2_2 += xr2 * w0.z; a2_3 += xr2 * w0.w; a2_4 += xr2 * w1.x; a2_5 += xr2 * w1.y; a2_6 += xr2 * w1.z; a2_7 += xr2 * w1.w; a2_8 += xr2 * w2.x; a2_9 += xr2 * w2.y; a2_10 += xr2 * w2.z; a2_11 += xr2 * w2.w; a2_12 += xr2 * w3.x; a2_13 += xr2 * w3.y; a2_14 += xr2 * w3.z; a2_15 += xr2 * w3.w;
        a3_0 += xr3 * w0.x; a3_1 += xr3 * w0.y; a3_2 += xr3 * w0.z; a3_3 += xr3 * w0.w; a3_4 += xr3 * w1.x; a3_5 += xr3 * w1.y; a3_6 += xr3 * w1.z; a3_7 += xr3 * w1.w; a3_8 += xr3 * w2.x; a3_9 += xr3 * w2.y; a3_10 += xr3 * w2.z; a3_11 += xr3 * w2.w; a3_12 += xr3 * w3.x; a3_13 += xr3 * w3.y; a3_14 += xr3 * w3.z; a3_15 += xr3 * w3.w;
      }
      wi += 9u * KV;
    }
  }
  let k0 = kb * 16u;
  let acc0 = array<vec4f, 16>(a0_0, a0_1, a0_2, a0_3, a0_4, a0_5, a0_6, a0_7, a0_8, a0_9, a0_10, a0_11, a0_12, a0_13, a0_14, a0_15);
  let acc1 = array<vec4f, 16>(a1_0, a1_1, a1_2, a1_3, a1_4, a1_5, a1_6, a1_7, a1_8, a1_9, a1_10, a1_11, a1_12, a1_13, a1_14, a1_15);
  let acc2 = array<vec4f, 16>(a2_0, a2_1, a2_2, a2_3, a2_4, a2_5, a2_6, a2_7, a2_8, a2_9, a2_10, a2_11, a2_12, a2_13, a2_14, a2_15);
  let acc3 = array<vec4f, 16>(a3_0, a3_1, a3_2, a3_3, a3_4, a3_5, a3_6, a3_7, a3_8, a3_9, a3_10, a3_11, a3_12, a3_13, a3_14, a3_15);
  let o0 = (mg0 / HW) * K * HW + p0; let s0 = m0 + 0u < M;
  let o1 = (mg1 / HW) * K * HW + p1; let s1 = m0 + 4u < M;
  let o2 = (mg2 / HW) * K * HW + p2; let s2 = m0 + 8u < M;
  let o3 = (mg3 / HW) * K * HW + p3; let s3 = m0 + 12u < M;
  for (var j = 0u; j < 16u; j++) {
    if (k0 + j < K) {
      for (var i = 0u; i < 4u; i++) {
        if (s0) { store(o0 + (k0 + j) * HW + i, acc0[j][i]); }
        if (s1) { store(o1 + (k0 + j) * HW + i, acc1[j][i]); }
        if (s2) { store(o2 + (k0 + j) * HW + i, acc2[j][i]); }
        if (s3) { store(o3 + (k0 + j) * HW + i, acc3[j][i]); }
      }
    }
  }
}
// END GENERATED v4
