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
