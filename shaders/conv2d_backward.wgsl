// conv2d backward (NCHW, w [K,C,R,R], zero padding PAD, stride STRIDE), f32 accumulation; the first rungs:
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
//     Later rungs (each with its own header below): _v2 (8 output channels, sliding window), _v3 (transposed dy),
//     _v4 (dy and x as aligned 4-pixel vectors), _v5 (v4 carrying x vectors along output rows).
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

// ---------------------------------------------------------------------------------------------------------------
// main_backward_input_v2: main_backward_input with vec4 weight loads from a packed copy and 8 pixels x 8 channels
// per thread (the same change as conv2d_forward v2). conv2d_pack_weights (main_pack_backward_input) writes
// wq[(k*R*R + tap) * CP + c] = w[k, c, tap] (0 for c >= C), CP = C rounded up to 16. Per output channel and tap a
// thread does 8 scalar dy loads and 2 vec4 weight loads for 64 multiply-adds (v1: 4 + 8 scalar loads for 32).
@group(0) @binding(0) var<storage, read> w_src: array<f32>;
@group(0) @binding(1) var<storage, read_write> wq_out: array<f32>;
@group(0) @binding(1) var<storage, read> wq: array<vec4f>;

@compute @workgroup_size(WG)
fn main_pack_backward_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let CP = (C + 15u) / 16u * 16u;
  let RR = R * R;
  if (g >= K * RR * CP) { return; }
  let c = g % CP;
  let kt = g / CP; // k * RR + tap
  let k = kt / RR;
  let tap = kt % RR;
  wq_out[g] = select(0.0, w_src[(k * C + min(c, C - 1u)) * RR + tap], c < C);
}

// Per-pixel-lane setup of main_backward_input for row r (clamped to the last row; `live` masks the padding).
struct DgradRows { hp: vec4i, wp: vec4i, dybase: vec4u, dxoff: vec4u, live: vec4<bool> }

fn dgrad_rows(r0: u32, MR: u32, HS: u32, WS: u32) -> DgradRows {
  var o: DgradRows;
  for (var i = 0u; i < 4u; i++) {
    let r = min(r0 + i, MR - 1u);
    let wq_ = r % WS;
    let hq = (r / WS) % HS;
    let n = (r / (WS * HS)) % N;
    let cls = r / (WS * HS * N);
    let h = cls / STRIDE + STRIDE * hq;
    let wc = cls % STRIDE + STRIDE * wq_;
    o.live[i] = r0 + i < MR && h < H && wc < W;
    o.hp[i] = i32(h + PAD);
    o.wp[i] = i32(wc + PAD);
    o.dybase[i] = n * K * OH * OW;
    o.dxoff[i] = n * C * H * W + min(h, H - 1u) * W + min(wc, W - 1u);
  }
  return o;
}

fn dgrad_store(o: u32, v: f32) {
  if (BETA != 0.0) { dx[o] = v + BETA * dx[o]; } else { dx[o] = v; }
}

@compute @workgroup_size(WG)
fn main_backward_input_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let CB = (C + 7u) / 8u;
  let CV = (C + 15u) / 16u * 4u; // vec4s per packed weight row (C rounded to 16, shared with the v3 layout)
  let HS = (H + STRIDE - 1u) / STRIDE;
  let WS = (W + STRIDE - 1u) / STRIDE;
  let MR = STRIDE * STRIDE * N * HS * WS;
  let r0 = (g / CB) * 8u;
  let cb = g % CB;
  if (r0 >= MR) { return; }
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;
  let A = dgrad_rows(r0, MR, HS, WS);
  let B = dgrad_rows(r0 + 4u, MR, HS, WS);

  let S = i32(STRIDE);
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0);
  var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0);
  var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0);
  for (var kh = 0u; kh < R; kh++) {
    let tha = A.hp - vec4i(i32(kh));
    let thb = B.hp - vec4i(i32(kh));
    let oha = tha / S;
    let ohb = thb / S;
    let rowA = A.live & (tha >= vec4i(0)) & (tha == oha * S) & (oha < vec4i(i32(OH)));
    let rowB = B.live & (thb >= vec4i(0)) & (thb == ohb * S) & (ohb < vec4i(i32(OH)));
    for (var kw = 0u; kw < R; kw++) {
      let twa = A.wp - vec4i(i32(kw));
      let twb = B.wp - vec4i(i32(kw));
      let owa = twa / S;
      let owb = twb / S;
      let okA = rowA & (twa >= vec4i(0)) & (twa == owa * S) & (owa < vec4i(i32(OW)));
      let okB = rowB & (twb >= vec4i(0)) & (twb == owb * S) & (owb < vec4i(i32(OW)));
      if (!any(okA) && !any(okB)) { continue; }
      let offA = A.dybase + select(vec4u(0u), vec4u(oha) * OW + vec4u(owa), okA);
      let offB = B.dybase + select(vec4u(0u), vec4u(ohb) * OW + vec4u(owb), okB);
      var wi = (kh * R + kw) * CV + 2u * cb;
      for (var k = 0u; k < K; k++) {
        let ko = k * OHW;
        let da = select(vec4f(0.0), vec4f(dy[offA.x + ko], dy[offA.y + ko], dy[offA.z + ko], dy[offA.w + ko]), okA);
        let db = select(vec4f(0.0), vec4f(dy[offB.x + ko], dy[offB.y + ko], dy[offB.z + ko], dy[offB.w + ko]), okB);
        let wl = wq[wi];
        let wh = wq[wi + 1u];
        wi += RR * CV;
        a0 += da * wl.x; a1 += da * wl.y; a2 += da * wl.z; a3 += da * wl.w;
        a4 += da * wh.x; a5 += da * wh.y; a6 += da * wh.z; a7 += da * wh.w;
        b0 += db * wl.x; b1 += db * wl.y; b2 += db * wl.z; b3 += db * wl.w;
        b4 += db * wh.x; b5 += db * wh.y; b6 += db * wh.z; b7 += db * wh.w;
      }
    }
  }

  let c0 = cb * 8u;
  let accA = array<vec4f, 8>(a0, a1, a2, a3, a4, a5, a6, a7);
  let accB = array<vec4f, 8>(b0, b1, b2, b3, b4, b5, b6, b7);
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 8u; j++) {
      if (c0 + j < C) {
        if (A.live[i]) { dgrad_store(A.dxoff[i] + (c0 + j) * HW, accA[j][i]); }
        if (B.live[i]) { dgrad_store(B.dxoff[i] + (c0 + j) * HW, accB[j][i]); }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// main_backward_weight_v2: pass 1 of the weight gradient with 8 output channels per thread (two vec4 lanes, dA and
// dB) instead of 4. Per pixel: 8 dy loads + 9 x loads for 72 multiply-adds (v1: 4 + 9 for 36).
// With ROWS (3x3, stride 1, CHUNK a multiple of OW) a thread walks whole output rows with a sliding 3x3 input
// window: the next pixel's window shares 6 of its 9 values, so only the new column (3 values) is loaded: 8 + 3
// loads for 72 multiply-adds. The row loop keeps the inner loop branch-free: a first version that restarted the
// window with an `if` inside the pixel loop was slower than no window at all on SwiftShader (both sides of the
// branch run), e.g. stage2 64->64 16x16: 0.94 vs 1.54 GFLOP/s.
override ROWS: bool = false;

fn wgrad_dy8(db: u32, o0: vec4u, o1: vec4u) -> array<vec4f, 2> {
  return array<vec4f, 2>(vec4f(dy[db + o0.x], dy[db + o0.y], dy[db + o0.z], dy[db + o0.w]),
                         vec4f(dy[db + o1.x], dy[db + o1.y], dy[db + o1.z], dy[db + o1.w]));
}

@compute @workgroup_size(WG)
fn main_backward_weight_v2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let RR = R * R;
  let TC = TCOL_MAX / RR;
  let CB = (C + TC - 1u) / TC;
  let KB = (K + 7u) / 8u;
  let cb = g % CB;
  let kb = (g / CB) % KB;
  let s = g / (CB * KB);
  if (s >= SPLITS) { return; }
  let c0 = cb * TC;
  let k0 = kb * 8u;
  let OHW = OH * OW;
  let HW = H * W;
  let kk = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);
  let dyo0 = min(kk, vec4u(K - 1u)) * OHW;
  let dyo1 = min(kk + vec4u(4u), vec4u(K - 1u)) * OHW;

  let P = N * OHW;
  let p0 = s * CHUNK;
  let p1 = min(P, p0 + CHUNK);
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0); var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0); var a8 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0); var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0); var b8 = vec4f(0.0);
  if (ROWS) {
    for (var r = p0 / OW; r < p1 / OW; r++) {
      let n = r / OH;
      let ih0 = i32(r % OH) - i32(PAD);
      let xb = n * C * HW;
      let db0 = n * K * OHW + (r % OH) * OW;
      // Columns kw = 0, 1 of the first pixel's window; each pixel then loads column kw = 2.
      var v0 = wgrad_x(0u, c0, xb, ih0, -i32(PAD)); var v1 = wgrad_x(1u, c0, xb, ih0, -i32(PAD));
      var v3 = wgrad_x(3u, c0, xb, ih0, -i32(PAD)); var v4 = wgrad_x(4u, c0, xb, ih0, -i32(PAD));
      var v6 = wgrad_x(6u, c0, xb, ih0, -i32(PAD)); var v7 = wgrad_x(7u, c0, xb, ih0, -i32(PAD));
      for (var ow = 0u; ow < OW; ow++) {
        let iw0 = i32(ow) - i32(PAD);
        let v2 = wgrad_x(2u, c0, xb, ih0, iw0); let v5 = wgrad_x(5u, c0, xb, ih0, iw0); let v8 = wgrad_x(8u, c0, xb, ih0, iw0);
        let d = wgrad_dy8(db0 + ow, dyo0, dyo1);
        a0 += v0 * d[0]; a1 += v1 * d[0]; a2 += v2 * d[0]; a3 += v3 * d[0]; a4 += v4 * d[0]; a5 += v5 * d[0]; a6 += v6 * d[0]; a7 += v7 * d[0]; a8 += v8 * d[0];
        b0 += v0 * d[1]; b1 += v1 * d[1]; b2 += v2 * d[1]; b3 += v3 * d[1]; b4 += v4 * d[1]; b5 += v5 * d[1]; b6 += v6 * d[1]; b7 += v7 * d[1]; b8 += v8 * d[1];
        v0 = v1; v1 = v2; v3 = v4; v4 = v5; v6 = v7; v7 = v8;
      }
    }
  } else {
    var n = p0 / OHW;
    var oh = (p0 % OHW) / OW;
    var ow = p0 % OW;
    for (var p = p0; p < p1; p++) {
      let xb = n * C * HW;
      let ih0 = i32(oh * STRIDE) - i32(PAD);
      let iw0 = i32(ow * STRIDE) - i32(PAD);
      let d = wgrad_dy8(n * K * OHW + oh * OW + ow, dyo0, dyo1);
      let v0 = wgrad_x(0u, c0, xb, ih0, iw0); let v1 = wgrad_x(1u, c0, xb, ih0, iw0); let v2 = wgrad_x(2u, c0, xb, ih0, iw0); let v3 = wgrad_x(3u, c0, xb, ih0, iw0); let v4 = wgrad_x(4u, c0, xb, ih0, iw0); let v5 = wgrad_x(5u, c0, xb, ih0, iw0); let v6 = wgrad_x(6u, c0, xb, ih0, iw0); let v7 = wgrad_x(7u, c0, xb, ih0, iw0); let v8 = wgrad_x(8u, c0, xb, ih0, iw0);
      a0 += v0 * d[0]; a1 += v1 * d[0]; a2 += v2 * d[0]; a3 += v3 * d[0]; a4 += v4 * d[0]; a5 += v5 * d[0]; a6 += v6 * d[0]; a7 += v7 * d[0]; a8 += v8 * d[0];
      b0 += v0 * d[1]; b1 += v1 * d[1]; b2 += v2 * d[1]; b3 += v3 * d[1]; b4 += v4 * d[1]; b5 += v5 * d[1]; b6 += v6 * d[1]; b7 += v7 * d[1]; b8 += v8 * d[1];
      ow++;
      if (ow == OW) {
        ow = 0u;
        oh++;
        if (oh == OH) { oh = 0u; n++; }
      }
    }
  }

  wgrad_store8(s, c0, k0, array<vec4f, TCOL_MAX>(a0, a1, a2, a3, a4, a5, a6, a7, a8), array<vec4f, TCOL_MAX>(b0, b1, b2, b3, b4, b5, b6, b7, b8));
}

// ---------------------------------------------------------------------------------------------------------------
// main_backward_weight_v3: v2 reading dy from a transposed copy dyt[(n*OH*OW + pixel) * KP + k] (KP = K rounded up
// to 8), written by conv2d_transpose_dy (main_transpose_dy) right before: a pixel's 8 output channels are then two
// vec4 loads instead of 8 gathered scalars (3x3 stride 1: 3 + 2 loads per 72 multiply-adds, v2: 3 + 8). The
// transpose is one pass over dy, a memory-bound copy.
@group(0) @binding(0) var<storage, read> dyt: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dyt_out: array<f32>;

fn wgrad_dyt8(q: u32) -> array<vec4f, 2> {
  return array<vec4f, 2>(dyt[q], dyt[q + 1u]);
}

@compute @workgroup_size(WG)
fn main_transpose_dy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let KP = (K + 7u) / 8u * 8u;
  let OHW = OH * OW;
  if (g >= N * OHW * KP) { return; }
  let k = g % KP;
  let p = g / KP;
  dyt_out[g] = select(0.0, dy[((p / OHW) * K + min(k, K - 1u)) * OHW + p % OHW], k < K);
}

@compute @workgroup_size(WG)
fn main_backward_weight_v3(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let RR = R * R;
  let TC = TCOL_MAX / RR;
  let CB = (C + TC - 1u) / TC;
  let KB = (K + 7u) / 8u;
  let cb = g % CB;
  let kb = (g / CB) % KB;
  let s = g / (CB * KB);
  if (s >= SPLITS) { return; }
  let c0 = cb * TC;
  let k0 = kb * 8u;
  let OHW = OH * OW;
  let HW = H * W;
  let KV = (K + 7u) / 8u * 2u; // vec4s per pixel row of dyt

  let P = N * OHW;
  let p0 = s * CHUNK;
  let p1 = min(P, p0 + CHUNK);
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0); var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0); var a8 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0); var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0); var b8 = vec4f(0.0);
  if (ROWS) {
    for (var r = p0 / OW; r < p1 / OW; r++) {
      let n = r / OH;
      let ih0 = i32(r % OH) - i32(PAD);
      let xb = n * C * HW;
      let db0 = n * K * OHW + (r % OH) * OW;
      // Columns kw = 0, 1 of the first pixel's window; each pixel then loads column kw = 2.
      var v0 = wgrad_x(0u, c0, xb, ih0, -i32(PAD)); var v1 = wgrad_x(1u, c0, xb, ih0, -i32(PAD));
      var v3 = wgrad_x(3u, c0, xb, ih0, -i32(PAD)); var v4 = wgrad_x(4u, c0, xb, ih0, -i32(PAD));
      var v6 = wgrad_x(6u, c0, xb, ih0, -i32(PAD)); var v7 = wgrad_x(7u, c0, xb, ih0, -i32(PAD));
      for (var ow = 0u; ow < OW; ow++) {
        let iw0 = i32(ow) - i32(PAD);
        let v2 = wgrad_x(2u, c0, xb, ih0, iw0); let v5 = wgrad_x(5u, c0, xb, ih0, iw0); let v8 = wgrad_x(8u, c0, xb, ih0, iw0);
        let d = wgrad_dyt8((n * OHW + (r % OH) * OW + ow) * KV + 2u * kb);
        a0 += v0 * d[0]; a1 += v1 * d[0]; a2 += v2 * d[0]; a3 += v3 * d[0]; a4 += v4 * d[0]; a5 += v5 * d[0]; a6 += v6 * d[0]; a7 += v7 * d[0]; a8 += v8 * d[0];
        b0 += v0 * d[1]; b1 += v1 * d[1]; b2 += v2 * d[1]; b3 += v3 * d[1]; b4 += v4 * d[1]; b5 += v5 * d[1]; b6 += v6 * d[1]; b7 += v7 * d[1]; b8 += v8 * d[1];
        v0 = v1; v1 = v2; v3 = v4; v4 = v5; v6 = v7; v7 = v8;
      }
    }
  } else {
    var n = p0 / OHW;
    var oh = (p0 % OHW) / OW;
    var ow = p0 % OW;
    for (var p = p0; p < p1; p++) {
      let xb = n * C * HW;
      let ih0 = i32(oh * STRIDE) - i32(PAD);
      let iw0 = i32(ow * STRIDE) - i32(PAD);
      let d = wgrad_dyt8((n * OHW + oh * OW + ow) * KV + 2u * kb);
      let v0 = wgrad_x(0u, c0, xb, ih0, iw0); let v1 = wgrad_x(1u, c0, xb, ih0, iw0); let v2 = wgrad_x(2u, c0, xb, ih0, iw0); let v3 = wgrad_x(3u, c0, xb, ih0, iw0); let v4 = wgrad_x(4u, c0, xb, ih0, iw0); let v5 = wgrad_x(5u, c0, xb, ih0, iw0); let v6 = wgrad_x(6u, c0, xb, ih0, iw0); let v7 = wgrad_x(7u, c0, xb, ih0, iw0); let v8 = wgrad_x(8u, c0, xb, ih0, iw0);
      a0 += v0 * d[0]; a1 += v1 * d[0]; a2 += v2 * d[0]; a3 += v3 * d[0]; a4 += v4 * d[0]; a5 += v5 * d[0]; a6 += v6 * d[0]; a7 += v7 * d[0]; a8 += v8 * d[0];
      b0 += v0 * d[1]; b1 += v1 * d[1]; b2 += v2 * d[1]; b3 += v3 * d[1]; b4 += v4 * d[1]; b5 += v5 * d[1]; b6 += v6 * d[1]; b7 += v7 * d[1]; b8 += v8 * d[1];
      ow++;
      if (ow == OW) {
        ow = 0u;
        oh++;
        if (oh == OH) { oh = 0u; n++; }
      }
    }
  }

  wgrad_store8(s, c0, k0, array<vec4f, TCOL_MAX>(a0, a1, a2, a3, a4, a5, a6, a7, a8), array<vec4f, TCOL_MAX>(b0, b1, b2, b3, b4, b5, b6, b7, b8));
}

// ---------------------------------------------------------------------------------------------------------------
// main_backward_weight_v4: the weight gradient as a GEMM over pixel vectors, dw[k, (c, tap)] = sum_p dy[k, p] *
// col[(c, tap), p], 4 consecutive output pixels of one row at a time. dy in NCHW is contiguous along pixels, so a
// channel's 4 pixels are one aligned vec4 load (no transpose pass, unlike v3), and the x values the 4 pixels see at
// a tap come from aligned vec4 loads of the input row (wgrad_taps): 3x3 stride 1 pad 1: 3 loads per kernel row give
// its three taps (left | middle | right, as conv2d_forward v4); 3x3 stride 2 pad 1: 3 loads per kernel row
// (x[2o-1 .. 2o+7], even and odd lanes); 1x1 stride 1: 1 load; 1x1 stride 2: 2 loads (even lanes). The thread's 8
// output channels are two mat4x4 of dy (column j = channel k0 + j over the 4 pixels), so a tap vector t adds t * D:
// 4 dot products over the 4 pixels, into the same vec4-per-column accumulators as v3.
// Per 4 pixels (288 multiply-adds), 3x3: 8 dy + 9 x vec4 loads (v3: 8 vec4 + 12 scalar gathers at stride 1 with the
// sliding window, 8 + 36 at stride 2, plus the transpose pass); 1x1 (9 channels): 8 + 9 or 8 + 18.
// Shapes (wgradVectorsApply in conv2d.ts): 3x3 pad 1 or 1x1 pad 0, stride 1 or 2, W % 4 == 0 and OW % 4 == 0 (4-pixel
// groups within a row, vec4-aligned in x and dy). CHUNK is a multiple of 4 pixels.
@group(0) @binding(0) var<storage, read> dyv: array<vec4f>;
@group(0) @binding(1) var<storage, read> xv: array<vec4f>;

// The aligned vec4 x[rowbase + iw .. + 3] (iw % 4 == 0), zeros outside the row [0, W) or when !ok.
fn wgrad_xv(rowbase: u32, iw: i32, ok: bool) -> vec4f {
  let inside = ok && iw >= 0 && iw < i32(W);
  return select(vec4f(0.0), xv[(rowbase + u32(select(0, iw, inside))) / 4u], inside);
}

// t[kw][i] = x[row, STRIDE * (o + i) - PAD + kw] for the 4 output pixels o..o+3 (o % 4 == 0) of input row `rowbase`
// (ok: the row is inside the image); zeros in the padding. R = 1 (PAD 0): t[0] only.
fn wgrad_taps(rowbase: u32, ok: bool, o: u32) -> array<vec4f, 3> {
  let b = i32(STRIDE * o);
  if (STRIDE == 1u) {
    let m = wgrad_xv(rowbase, b, ok);
    if (R == 1u) { return array<vec4f, 3>(m, m, m); }
    let l = wgrad_xv(rowbase, b - 4, ok).w;
    let r = wgrad_xv(rowbase, b + 4, ok).x;
    return array<vec4f, 3>(vec4f(l, m.xyz), m, vec4f(m.yzw, r));
  }
  let e = wgrad_xv(rowbase, b, ok);
  let f = wgrad_xv(rowbase, b + 4, ok);
  if (R == 1u) { return array<vec4f, 3>(vec4f(e.xz, f.xz), vec4f(0.0), vec4f(0.0)); }
  let l = wgrad_xv(rowbase, b - 4, ok).w;
  return array<vec4f, 3>(vec4f(l, e.y, e.w, f.y), vec4f(e.x, e.z, f.x, f.z), vec4f(e.y, e.w, f.y, f.w));
}

// The row base of input row ih of the channel starting at `cbase`, and whether the row is inside the image.
fn wgrad_row(cbase: u32, ih: i32) -> vec2u {
  let ok = ih >= 0 && ih < i32(H);
  return vec2u(cbase + u32(select(0, ih, ok)) * W, u32(ok));
}

// The two dy matrices of the thread's 8 output channels at pixel group `db` (vec4 index of the group in channel 0).
fn wgrad_dmat(db: u32, ko: vec4u) -> mat4x4f {
  return mat4x4f(dyv[db + ko.x], dyv[db + ko.y], dyv[db + ko.z], dyv[db + ko.w]);
}

// Pass-1 partials of v2-v5: 8 output channels (accA: k0..k0+3, accB: k0+4..k0+7) x TC*RR columns, masked to K and C.
fn wgrad_store8(s: u32, c0: u32, k0: u32, accA: array<vec4f, TCOL_MAX>, accB: array<vec4f, TCOL_MAX>) {
  let RR = R * R;
  let TC = TCOL_MAX / RR;
  let KCRR = K * C * RR;
  for (var col = 0u; col < TC * RR; col++) {
    let c = c0 + col / RR;
    if (c < C) {
      for (var j = 0u; j < 4u; j++) {
        if (k0 + j < K) { partials[s * KCRR + ((k0 + j) * C + c) * RR + col % RR] = accA[col][j]; }
        if (k0 + 4u + j < K) { partials[s * KCRR + ((k0 + 4u + j) * C + c) * RR + col % RR] = accB[col][j]; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn main_backward_weight_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let RR = R * R;
  let TC = TCOL_MAX / RR;
  let CB = (C + TC - 1u) / TC;
  let KB = (K + 7u) / 8u;
  let cb = g % CB;
  let kb = (g / CB) % KB;
  let s = g / (CB * KB);
  if (s >= SPLITS) { return; }
  let c0 = cb * TC;
  let k0 = kb * 8u;
  let HW = H * W;
  let OW4 = OW / 4u;
  let OHW4 = OH * OW4;
  let kk = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);
  let ko0 = min(kk, vec4u(K - 1u)) * OHW4;
  let ko1 = min(kk + vec4u(4u), vec4u(K - 1u)) * OHW4;

  let q0 = s * (CHUNK / 4u);
  let q1 = min(N * OHW4, q0 + CHUNK / 4u);
  var n = q0 / OHW4;
  var oh = (q0 % OHW4) / OW4;
  var og = q0 % OW4;
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0); var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0); var a8 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0); var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0); var b8 = vec4f(0.0);
  for (var q = q0; q < q1; q++) {
    let db = n * K * OHW4 + oh * OW4 + og;
    let D0 = wgrad_dmat(db, ko0);
    let D1 = wgrad_dmat(db, ko1);
    let o = og * 4u;
    let xb = n * C * HW;
    if (R == 3u) {
      let ih0 = i32(oh * STRIDE) - i32(PAD);
      let r0 = wgrad_row(xb + c0 * HW, ih0);
      let r1 = wgrad_row(xb + c0 * HW, ih0 + 1);
      let r2 = wgrad_row(xb + c0 * HW, ih0 + 2);
      let t0 = wgrad_taps(r0.x, r0.y != 0u, o);
      let t1 = wgrad_taps(r1.x, r1.y != 0u, o);
      let t2 = wgrad_taps(r2.x, r2.y != 0u, o);
      a0 += t0[0] * D0; a1 += t0[1] * D0; a2 += t0[2] * D0; a3 += t1[0] * D0; a4 += t1[1] * D0; a5 += t1[2] * D0; a6 += t2[0] * D0; a7 += t2[1] * D0; a8 += t2[2] * D0;
      b0 += t0[0] * D1; b1 += t0[1] * D1; b2 += t0[2] * D1; b3 += t1[0] * D1; b4 += t1[1] * D1; b5 += t1[2] * D1; b6 += t2[0] * D1; b7 += t2[1] * D1; b8 += t2[2] * D1;
    } else {
      // 1x1: 9 channels (clamped to C - 1; their partials are not stored).
      let rb = xb + oh * STRIDE * W;
      let t0 = wgrad_taps(rb + min(c0, C - 1u) * HW, true, o)[0];
      let t1 = wgrad_taps(rb + min(c0 + 1u, C - 1u) * HW, true, o)[0];
      let t2 = wgrad_taps(rb + min(c0 + 2u, C - 1u) * HW, true, o)[0];
      let t3 = wgrad_taps(rb + min(c0 + 3u, C - 1u) * HW, true, o)[0];
      let t4 = wgrad_taps(rb + min(c0 + 4u, C - 1u) * HW, true, o)[0];
      let t5 = wgrad_taps(rb + min(c0 + 5u, C - 1u) * HW, true, o)[0];
      let t6 = wgrad_taps(rb + min(c0 + 6u, C - 1u) * HW, true, o)[0];
      let t7 = wgrad_taps(rb + min(c0 + 7u, C - 1u) * HW, true, o)[0];
      let t8 = wgrad_taps(rb + min(c0 + 8u, C - 1u) * HW, true, o)[0];
      a0 += t0 * D0; a1 += t1 * D0; a2 += t2 * D0; a3 += t3 * D0; a4 += t4 * D0; a5 += t5 * D0; a6 += t6 * D0; a7 += t7 * D0; a8 += t8 * D0;
      b0 += t0 * D1; b1 += t1 * D1; b2 += t2 * D1; b3 += t3 * D1; b4 += t4 * D1; b5 += t5 * D1; b6 += t6 * D1; b7 += t7 * D1; b8 += t8 * D1;
    }
    og++;
    if (og == OW4) {
      og = 0u;
      oh++;
      if (oh == OH) { oh = 0u; n++; }
    }
  }
  wgrad_store8(s, c0, k0, array<vec4f, TCOL_MAX>(a0, a1, a2, a3, a4, a5, a6, a7, a8), array<vec4f, TCOL_MAX>(b0, b1, b2, b3, b4, b5, b6, b7, b8));
}

// ---------------------------------------------------------------------------------------------------------------
// main_backward_weight_v5: v4 walking whole output rows (3x3; CHUNK is a whole number of rows), carrying the x
// vectors a pixel group shares with the next one across the row instead of reloading them: stride 1: the middle
// vec4 and its left neighbour's last value, so 1 new vec4 per kernel row and group (v4: 3); stride 2: the left
// value (the previous group's last odd lane), 2 new vec4s (v4: 3). Per 4 pixels: 8 dy + 3 (stride 1) or 6 (stride
// 2) x vec4 loads for 288 multiply-adds. The row loop keeps the group loop branch-free (v2's measured lesson); the
// zero padding at the row ends comes from the masked loads (wgrad_xv). 3x3 only: the launcher runs v4 for 1x1 convs
// (nothing to carry: each group's x vectors are its own).
@compute @workgroup_size(WG)
fn main_backward_weight_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let RR = R * R;
  let TC = TCOL_MAX / RR;
  let CB = (C + TC - 1u) / TC;
  let KB = (K + 7u) / 8u;
  let cb = g % CB;
  let kb = (g / CB) % KB;
  let s = g / (CB * KB);
  if (s >= SPLITS) { return; }
  let c0 = cb * TC;
  let k0 = kb * 8u;
  let HW = H * W;
  let OW4 = OW / 4u;
  let OHW4 = OH * OW4;
  let kk = vec4u(k0) + vec4u(0u, 1u, 2u, 3u);
  let ko0 = min(kk, vec4u(K - 1u)) * OHW4;
  let ko1 = min(kk + vec4u(4u), vec4u(K - 1u)) * OHW4;

  let p1 = min(N * OH * OW, (s + 1u) * CHUNK);
  var a0 = vec4f(0.0); var a1 = vec4f(0.0); var a2 = vec4f(0.0); var a3 = vec4f(0.0); var a4 = vec4f(0.0); var a5 = vec4f(0.0); var a6 = vec4f(0.0); var a7 = vec4f(0.0); var a8 = vec4f(0.0);
  var b0 = vec4f(0.0); var b1 = vec4f(0.0); var b2 = vec4f(0.0); var b3 = vec4f(0.0); var b4 = vec4f(0.0); var b5 = vec4f(0.0); var b6 = vec4f(0.0); var b7 = vec4f(0.0); var b8 = vec4f(0.0);
  for (var r = s * CHUNK / OW; r < p1 / OW; r++) {
    let n = r / OH;
    let oh = r % OH;
    let xc = n * C * HW + c0 * HW;
    let ih0 = i32(oh * STRIDE) - i32(PAD);
    let r0 = wgrad_row(xc, ih0);
    let r1 = wgrad_row(xc, ih0 + 1);
    let r2 = wgrad_row(xc, ih0 + 2);
    let ok0 = r0.y != 0u; let ok1 = r1.y != 0u; let ok2 = r2.y != 0u;
    let db0 = n * K * OHW4 + oh * OW4;
    // Carried per kernel row: l = x[row, STRIDE*o - 1] (left padding at o = 0); stride 1 also m = x[row, o..o+3].
    var l0 = 0.0; var l1 = 0.0; var l2 = 0.0;
    var m0 = vec4f(0.0); var m1 = vec4f(0.0); var m2 = vec4f(0.0);
    if (STRIDE == 1u) { m0 = wgrad_xv(r0.x, 0, ok0); m1 = wgrad_xv(r1.x, 0, ok1); m2 = wgrad_xv(r2.x, 0, ok2); }
    for (var og = 0u; og < OW4; og++) {
      let D0 = wgrad_dmat(db0 + og, ko0);
      let D1 = wgrad_dmat(db0 + og, ko1);
      let b = i32(STRIDE * og * 4u);
      var t00: vec4f; var t01: vec4f; var t02: vec4f;
      var t10: vec4f; var t11: vec4f; var t12: vec4f;
      var t20: vec4f; var t21: vec4f; var t22: vec4f;
      if (STRIDE == 1u) {
        let n0 = wgrad_xv(r0.x, b + 4, ok0); let n1 = wgrad_xv(r1.x, b + 4, ok1); let n2 = wgrad_xv(r2.x, b + 4, ok2);
        t00 = vec4f(l0, m0.xyz); t01 = m0; t02 = vec4f(m0.yzw, n0.x);
        t10 = vec4f(l1, m1.xyz); t11 = m1; t12 = vec4f(m1.yzw, n1.x);
        t20 = vec4f(l2, m2.xyz); t21 = m2; t22 = vec4f(m2.yzw, n2.x);
        l0 = m0.w; l1 = m1.w; l2 = m2.w;
        m0 = n0; m1 = n1; m2 = n2;
      } else {
        let e0 = wgrad_xv(r0.x, b, ok0); let f0 = wgrad_xv(r0.x, b + 4, ok0);
        let e1 = wgrad_xv(r1.x, b, ok1); let f1 = wgrad_xv(r1.x, b + 4, ok1);
        let e2 = wgrad_xv(r2.x, b, ok2); let f2 = wgrad_xv(r2.x, b + 4, ok2);
        t00 = vec4f(l0, e0.y, e0.w, f0.y); t01 = vec4f(e0.x, e0.z, f0.x, f0.z); t02 = vec4f(e0.y, e0.w, f0.y, f0.w);
        t10 = vec4f(l1, e1.y, e1.w, f1.y); t11 = vec4f(e1.x, e1.z, f1.x, f1.z); t12 = vec4f(e1.y, e1.w, f1.y, f1.w);
        t20 = vec4f(l2, e2.y, e2.w, f2.y); t21 = vec4f(e2.x, e2.z, f2.x, f2.z); t22 = vec4f(e2.y, e2.w, f2.y, f2.w);
        l0 = f0.w; l1 = f1.w; l2 = f2.w;
      }
      a0 += t00 * D0; a1 += t01 * D0; a2 += t02 * D0; a3 += t10 * D0; a4 += t11 * D0; a5 += t12 * D0; a6 += t20 * D0; a7 += t21 * D0; a8 += t22 * D0;
      b0 += t00 * D1; b1 += t01 * D1; b2 += t02 * D1; b3 += t10 * D1; b4 += t11 * D1; b5 += t12 * D1; b6 += t20 * D1; b7 += t21 * D1; b8 += t22 * D1;
    }
  }
  wgrad_store8(s, c0, k0, array<vec4f, TCOL_MAX>(a0, a1, a2, a3, a4, a5, a6, a7, a8), array<vec4f, TCOL_MAX>(b0, b1, b2, b3, b4, b5, b6, b7, b8));
}
