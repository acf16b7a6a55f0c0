// conv2d backward (NCHW, w [K,C,R,R], zero padding PAD, stride STRIDE), f32 accumulation, three entry points:
//
//   main_backward_input (conv2d_backward_input, dgrad): dx[N,C,H,W] = sum_{k,kh,kw} dy[n,k,oh,ow] * w[k,c,kh,kw]
//     over the (oh, ow) with oh*STRIDE - PAD + kh = h. An implicit GEMM: rows = input pixels, columns = C,
//     reduction = K*R*R; each thread computes TM pixels x TN input channels. The stride test is integer math.
//     With STRIDE 2 only the taps of one parity class of (h, w) contribute, and a masked loop over all taps would do
//     4x the work. So rows are ordered by parity class first: row = ((class*N + n)*HS + hq)*WS + wq with
//     h = ph + STRIDE*hq, w = pw + STRIDE*wq, class = ph*STRIDE + pw. A thread's pixels (and its neighbours') share
//     a class, so the `any(ok)` skip of an unusable tap is taken by whole threads (and SIMD lanes). Odd H/W pad a
//     class to ceil(H/STRIDE) x ceil(W/STRIDE) rows; those pixels are masked. STRIDE 1 has one class: plain order.
//
//   main_backward_weight (conv2d_backward_weight, pass 1 of 2): dw is tiny (K*C*R*R), the reduction N*OH*OW is
//     huge, so the reduction is split into SPLITS chunks of CHUNK pixels (split-K); each thread sums TK output
//     channels x TCOL weight columns over one chunk and writes partials[split, k, c, kh, kw].
//     TCOL = (9 / (R*R)) channels x all R*R taps (R=3: 1 x 9; R=1: 9 x 1), so a tap's (kh, kw) is a constant of
//     the unrolled column loop.
//   main_backward_weight_reduce (conv2d_backward_weight_reduce, pass 2): dw[i] = sum_s partials[s, i] in order s =
//     0, 1, ... (+ BETA * dw[i]): deterministic, no float atomics.
//
// Threads are numbered 1-D (grid1d folds more than 65535 workgroups into y). Ragged edges clamp indices for loads
// and mask the stores. Resources of different entry points may share a binding number (checked per entry point).

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
override SPLITS: u32 = 1;
override CHUNK: u32 = 1;

const TM: u32 = 4u; // dgrad: input pixels per thread (vec4 lanes)
const TN: u32 = 8u; // dgrad: input channels per thread
const TK: u32 = 4u; // wgrad: output channels per thread (vec4 lanes)
const TCOL_MAX: u32 = 9u; // wgrad: weight columns per thread (c, kh, kw) for R <= 3

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

@group(0) @binding(0) var<storage, read> partials_in: array<f32>;
@group(0) @binding(1) var<storage, read_write> dw: array<f32>;

fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn main_backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let CB = (C + TN - 1u) / TN;
  let HS = (H + STRIDE - 1u) / STRIDE;
  let WS = (W + STRIDE - 1u) / STRIDE;
  let MR = STRIDE * STRIDE * N * HS * WS;
  let r0 = (g / CB) * TM;
  let c0 = (g % CB) * TN;
  if (r0 >= MR) { return; }
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;

  var hp: vec4i;     // h + PAD
  var wp: vec4i;     // w + PAD
  var dybase: vec4u; // n * K * OHW
  var dxoff: vec4u;  // n * C * HW + h * W + w
  var live: vec4<bool>;
  for (var i = 0u; i < TM; i++) {
    let r = min(r0 + i, MR - 1u);
    let wq = r % WS;
    let hq = (r / WS) % HS;
    let n = (r / (WS * HS)) % N;
    let cls = r / (WS * HS * N);
    let h = cls / STRIDE + STRIDE * hq;
    let wc = cls % STRIDE + STRIDE * wq;
    live[i] = r0 + i < MR && h < H && wc < W;
    hp[i] = i32(h + PAD);
    wp[i] = i32(wc + PAD);
    dybase[i] = n * K * OHW;
    dxoff[i] = n * C * HW + min(h, H - 1u) * W + min(wc, W - 1u);
  }
  // Weight column starts of the thread's TN = 8 input channels, as two vec4s.
  let cc = vec4u(c0) + vec4u(0u, 1u, 2u, 3u);
  let wb0 = min(cc, vec4u(C - 1u)) * RR;
  let wb1 = min(cc + vec4u(4u), vec4u(C - 1u)) * RR;

  let S = i32(STRIDE);
  // Named accumulators (a_j[i]: channel c0 + j, pixel lane i): an array indexed in a loop is not kept in registers
  // on SwiftShader (4x slower in conv2d_forward).
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  for (var kh = 0u; kh < R; kh++) {
    // oh = (h + PAD - kh) / STRIDE must be an integer in [0, OH).
    let th = hp - vec4i(i32(kh));
    let oh = th / S;
    let row_ok = live & (th >= vec4i(0)) & (th == oh * S) & (oh < vec4i(i32(OH)));
    for (var kw = 0u; kw < R; kw++) {
      let tw = wp - vec4i(i32(kw));
      let ow = tw / S;
      let ok = row_ok & (tw >= vec4i(0)) & (tw == ow * S) & (ow < vec4i(i32(OW)));
      if (!any(ok)) { continue; }
      let off = dybase + select(vec4u(0u), vec4u(oh) * OW + vec4u(ow), ok);
      let tap = kh * R + kw;
      for (var k = 0u; k < K; k++) {
        let ko = k * OHW;
        let dv = select(vec4f(0.0), vec4f(dy[off.x + ko], dy[off.y + ko], dy[off.z + ko], dy[off.w + ko]), ok);
        let w0 = wb0 + vec4u(k * C * RR + tap);
        let w1 = wb1 + vec4u(k * C * RR + tap);
        a0 += dv * w[w0.x]; a1 += dv * w[w0.y]; a2 += dv * w[w0.z]; a3 += dv * w[w0.w];
        a4 += dv * w[w1.x]; a5 += dv * w[w1.y]; a6 += dv * w[w1.z]; a7 += dv * w[w1.w];
      }
    }
  }

  let acc = array<vec4f, TN>(a0, a1, a2, a3, a4, a5, a6, a7);
  for (var i = 0u; i < TM; i++) {
    if (live[i]) {
      for (var j = 0u; j < TN; j++) {
        if (c0 + j < C) {
          let o = dxoff[i] + (c0 + j) * HW;
          if (BETA != 0.0) { dx[o] = acc[j][i] + BETA * dx[o]; } else { dx[o] = acc[j][i]; }
        }
      }
    }
  }
}

// x at weight column `col` of the thread (channel c0 + col / RR, tap col % RR) for the output pixel whose window
// starts at (ih0, iw0) in image xb; 0 in the padding. `col` is a literal at every call, so the tap math folds.
fn wgrad_x(col: u32, c0: u32, xb: u32, ih0: i32, iw0: i32) -> f32 {
  let RR = R * R;
  let tap = col % RR;
  let ih = ih0 + i32(tap / R);
  let iw = iw0 + i32(tap % R);
  let ok = u32(ih) < H && u32(iw) < W;
  let xo = xb + min(c0 + col / RR, C - 1u) * (H * W) + select(0u, u32(ih) * W + u32(iw), ok);
  return select(0.0, x[xo], ok);
}

@compute @workgroup_size(WG)
fn main_backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let RR = R * R;
  let TC = TCOL_MAX / RR; // channels per thread
  let CB = (C + TC - 1u) / TC;
  let KB = (K + TK - 1u) / TK;
  let cb = g % CB;
  let kb = (g / CB) % KB;
  let s = g / (CB * KB);
  if (s >= SPLITS) { return; }
  let c0 = cb * TC;
  let k0 = kb * TK;
  let OHW = OH * OW;
  let HW = H * W;

  var dyoff: vec4u; // k * OHW per output channel lane (clamped)
  for (var j = 0u; j < TK; j++) { dyoff[j] = min(k0 + j, K - 1u) * OHW; }

  let P = N * OHW;
  let p0 = s * CHUNK;
  let p1 = min(P, p0 + CHUNK);
  var n = p0 / OHW;
  var oh = (p0 % OHW) / OW;
  var ow = p0 % OW;
  // Nine named accumulators and an unrolled column loop (a_col[j]: column col, channel k0 + j): an array indexed
  // in a loop is not kept in registers on SwiftShader (4x slower in conv2d_forward).
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0);
  var a3 = vec4f(0.0); var a4 = vec4f(0.0); var a5 = vec4f(0.0);
  var a6 = vec4f(0.0); var a7 = vec4f(0.0); var a8 = vec4f(0.0);
  for (var p = p0; p < p1; p++) {
    let db = n * K * OHW + oh * OW + ow;
    let dv = vec4f(dy[db + dyoff.x], dy[db + dyoff.y], dy[db + dyoff.z], dy[db + dyoff.w]);
    let xb = n * C * HW;
    let ih0 = i32(oh * STRIDE) - i32(PAD);
    let iw0 = i32(ow * STRIDE) - i32(PAD);
    a0 += wgrad_x(0u, c0, xb, ih0, iw0) * dv;
    a1 += wgrad_x(1u, c0, xb, ih0, iw0) * dv;
    a2 += wgrad_x(2u, c0, xb, ih0, iw0) * dv;
    a3 += wgrad_x(3u, c0, xb, ih0, iw0) * dv;
    a4 += wgrad_x(4u, c0, xb, ih0, iw0) * dv;
    a5 += wgrad_x(5u, c0, xb, ih0, iw0) * dv;
    a6 += wgrad_x(6u, c0, xb, ih0, iw0) * dv;
    a7 += wgrad_x(7u, c0, xb, ih0, iw0) * dv;
    a8 += wgrad_x(8u, c0, xb, ih0, iw0) * dv;
    // Step (n, oh, ow) without a division per pixel.
    ow++;
    if (ow == OW) {
      ow = 0u;
      oh++;
      if (oh == OH) { oh = 0u; n++; }
    }
  }

  let acc = array<vec4f, TCOL_MAX>(a0, a1, a2, a3, a4, a5, a6, a7, a8);
  let KCRR = K * C * RR;
  for (var col = 0u; col < TC * RR; col++) {
    let c = c0 + col / RR;
    if (c < C) {
      for (var j = 0u; j < TK; j++) {
        if (k0 + j < K) { partials[s * KCRR + ((k0 + j) * C + c) * RR + col % RR] = acc[col][j]; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main_backward_weight_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid);
  let KCRR = K * C * R * R;
  if (i >= KCRR) { return; }
  var acc = 0.0;
  for (var s = 0u; s < SPLITS; s++) { acc += partials_in[s * KCRR + i]; }
  if (BETA != 0.0) { dw[i] = acc + BETA * dw[i]; } else { dw[i] = acc; }
}
