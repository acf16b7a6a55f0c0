// matmul_forward: C[M,N] = op(A) · op(B) (+ bias[N]) (+ BETA · C), f32 accumulation.
//   A is stored [M,K], or [K,M] when TRANS_A (A^T B: weight gradients of a linear layer);
//   B is stored [K,N], or [N,K] when TRANS_B (A B^T: a linear layer with PyTorch's [out,in] weight).
//
// Entry points are a ladder (llm.c dev/cuda style); each is validated against matmulRef by test/matmul.test.ts:
//   main_v0: one thread per output element, the plain triple loop. The reference kernel.
//   main:    v1, register blocking: each thread computes a TM x 4 block, so every loaded A value is reused 4 times
//            and every B value TM times, in registers. No workgroup memory and no barriers: on SwiftShader (a CPU
//            Vulkan) workgroup-memory tiles were slower than register blocking (setup-notes: 1.1-2.0 vs 2.3 GFLOP/s).
// Ragged edges: loads use clamped indices (always in bounds, values unused) and only the stores are masked, so the
// inner loop carries no branches.

override M: u32;
override N: u32;
override K: u32;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override BETA: f32 = 0.0;
override WG_X: u32 = 8;
override WG_Y: u32 = 8;

const TM: u32 = 4u;
const TN: u32 = 4u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

fn load_a(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * M + m]; }
  return a[m * K + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return b[n * K + k]; }
  return b[k * N + n];
}

fn store(m: u32, n: u32, v: f32) {
  var r = v;
  if (HAS_BIAS) { r += bias[n]; }
  if (BETA != 0.0) { r += BETA * c[m * N + n]; }
  c[m * N + n] = r;
}

@compute @workgroup_size(WG_X, WG_Y)
fn main_v0(@builtin(global_invocation_id) gid: vec3u) {
  let m = gid.y;
  let n = gid.x;
  if (m >= M || n >= N) { return; }
  var acc = 0.0;
  for (var k = 0u; k < K; k++) {
    acc += load_a(m, k) * load_b(k, n);
  }
  store(m, n, acc);
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * TM;
  let n0 = gid.x * TN;
  if (m0 >= M || n0 >= N) { return; }
  // Clamped row/column indices keep every load in bounds for ragged tiles.
  var mi: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { mi[i] = min(m0 + i, M - 1u); }
  let n1 = min(n0 + 1u, N - 1u);
  let n2 = min(n0 + 2u, N - 1u);
  let n3 = min(n0 + 3u, N - 1u);
  var acc: array<vec4f, TM>;
  for (var k = 0u; k < K; k++) {
    let bv = vec4f(load_b(k, n0), load_b(k, n1), load_b(k, n2), load_b(k, n3));
    for (var i = 0u; i < TM; i++) {
      acc[i] += load_a(mi[i], k) * bv;
    }
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m < M) {
      for (var j = 0u; j < TN; j++) {
        if (n0 + j < N) { store(m, n0 + j, acc[i][j]); }
      }
    }
  }
}

// main_v2: v1 with the 4 x 8 block held in eight named vec4 accumulators and no private arrays: SwiftShader spills
// dynamically indexed private arrays to memory, named registers stay in registers.
@compute @workgroup_size(WG_X, WG_Y)
fn main_v2(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 8u;
  if (m0 >= M || n0 >= N) { return; }
  let r0 = m0; let r1 = min(m0 + 1u, M - 1u); let r2 = min(m0 + 2u, M - 1u); let r3 = min(m0 + 3u, M - 1u);
  let c0 = n0; let c1 = min(n0 + 1u, N - 1u); let c2 = min(n0 + 2u, N - 1u); let c3 = min(n0 + 3u, N - 1u);
  let c4 = min(n0 + 4u, N - 1u); let c5 = min(n0 + 5u, N - 1u); let c6 = min(n0 + 6u, N - 1u); let c7 = min(n0 + 7u, N - 1u);
  var a00 = vec4f(0.0); var a01 = vec4f(0.0);
  var a10 = vec4f(0.0); var a11 = vec4f(0.0);
  var a20 = vec4f(0.0); var a21 = vec4f(0.0);
  var a30 = vec4f(0.0); var a31 = vec4f(0.0);
  for (var k = 0u; k < K; k++) {
    let b0 = vec4f(load_b(k, c0), load_b(k, c1), load_b(k, c2), load_b(k, c3));
    let b1 = vec4f(load_b(k, c4), load_b(k, c5), load_b(k, c6), load_b(k, c7));
    let x0 = load_a(r0, k); let x1 = load_a(r1, k); let x2 = load_a(r2, k); let x3 = load_a(r3, k);
    a00 += x0 * b0; a01 += x0 * b1;
    a10 += x1 * b0; a11 += x1 * b1;
    a20 += x2 * b0; a21 += x2 * b1;
    a30 += x3 * b0; a31 += x3 * b1;
  }
  store_row(m0, n0, a00, a01);
  if (m0 + 1u < M) { store_row(m0 + 1u, n0, a10, a11); }
  if (m0 + 2u < M) { store_row(m0 + 2u, n0, a20, a21); }
  if (m0 + 3u < M) { store_row(m0 + 3u, n0, a30, a31); }
}

fn store_row(m: u32, n0: u32, lo: vec4f, hi: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < N) { store(m, n0 + j, lo[j]); }
    if (n0 + 4u + j < N) { store(m, n0 + 4u + j, hi[j]); }
  }
}

// main_v3: v2 with an 8 x 8 block per thread (sixteen named vec4 accumulators): 16 loads per 64 multiply-adds per
// k step, against 12 per 32 in v2. The setup notes report ~2.3 GFLOP/s for this block at 1024^3 on SwiftShader; it
// is the "matmul probe" that bench:compare's conv rows are measured against.
@compute @workgroup_size(WG_X, WG_Y)
fn main_v3(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 8u;
  let n0 = gid.x * 8u;
  if (m0 >= M || n0 >= N) { return; }
  let r0 = min(m0 + 0u, M - 1u); let r1 = min(m0 + 1u, M - 1u); let r2 = min(m0 + 2u, M - 1u); let r3 = min(m0 + 3u, M - 1u); let r4 = min(m0 + 4u, M - 1u); let r5 = min(m0 + 5u, M - 1u); let r6 = min(m0 + 6u, M - 1u); let r7 = min(m0 + 7u, M - 1u);
  let c0 = min(n0 + 0u, N - 1u); let c1 = min(n0 + 1u, N - 1u); let c2 = min(n0 + 2u, N - 1u); let c3 = min(n0 + 3u, N - 1u); let c4 = min(n0 + 4u, N - 1u); let c5 = min(n0 + 5u, N - 1u); let c6 = min(n0 + 6u, N - 1u); let c7 = min(n0 + 7u, N - 1u);
  var a00 = vec4f(0.0); var a01 = vec4f(0.0);
  var a10 = vec4f(0.0); var a11 = vec4f(0.0);
  var a20 = vec4f(0.0); var a21 = vec4f(0.0);
  var a30 = vec4f(0.0); var a31 = vec4f(0.0);
  var a40 = vec4f(0.0); var a41 = vec4f(0.0);
  var a50 = vec4f(0.0); var a51 = vec4f(0.0);
  var a60 = vec4f(0.0); var a61 = vec4f(0.0);
  var a70 = vec4f(0.0); var a71 = vec4f(0.0);
  for (var k = 0u; k < K; k++) {
    let b0 = vec4f(load_b(k, c0), load_b(k, c1), load_b(k, c2), load_b(k, c3));
    let b1 = vec4f(load_b(k, c4), load_b(k, c5), load_b(k, c6), load_b(k, c7));
    let x0 = load_a(r0, k); let x1 = load_a(r1, k); let x2 = load_a(r2, k); let x3 = load_a(r3, k); let x4 = load_a(r4, k); let x5 = load_a(r5, k); let x6 = load_a(r6, k); let x7 = load_a(r7, k);
    a00 += x0 * b0; a01 += x0 * b1;
    a10 += x1 * b0; a11 += x1 * b1;
    a20 += x2 * b0; a21 += x2 * b1;
    a30 += x3 * b0; a31 += x3 * b1;
    a40 += x4 * b0; a41 += x4 * b1;
    a50 += x5 * b0; a51 += x5 * b1;
    a60 += x6 * b0; a61 += x6 * b1;
    a70 += x7 * b0; a71 += x7 * b1;
  }
  store_row(m0, n0, a00, a01);
  if (m0 + 1u < M) { store_row(m0 + 1u, n0, a10, a11); }
  if (m0 + 2u < M) { store_row(m0 + 2u, n0, a20, a21); }
  if (m0 + 3u < M) { store_row(m0 + 3u, n0, a30, a31); }
  if (m0 + 4u < M) { store_row(m0 + 4u, n0, a40, a41); }
  if (m0 + 5u < M) { store_row(m0 + 5u, n0, a50, a51); }
  if (m0 + 6u < M) { store_row(m0 + 6u, n0, a60, a61); }
  if (m0 + 7u < M) { store_row(m0 + 7u, n0, a70, a71); }
}

// main_v4: workgroup-memory tiles, the layout that wins on discrete GPUs (v1-v3 are register-blocked with no
// workgroup memory, which is what wins on SwiftShader, a CPU). A workgroup of WG_X x WG_Y threads owns a
// (4*WG_Y) x (4*WG_X) block of C, each thread 4 rows x 4 columns; K is walked in slices of BK staged as
// As[kk][m] = op(A)[m, k0+kk] and Bs[kk][n] = op(B)[k0+kk, n] (vec4s along m and n), double-buffered so one
// workgroupBarrier per slice suffices (same schedule as shaders/conv2d_tiled.wgsl). 16 x 16 threads and BK 16 use
// 2 * 16 * (64 + 64) * 4 = 16384 bytes, WebGPU's default limit (src/kernels/matmul.ts checks it).
// Rows and columns past M / N load clamped indices (values unused, stores masked); k past K loads zeros.
override BK: u32 = 16;
override A_LEN: u32 = 2u * BK * WG_Y;
override B_LEN: u32 = 2u * BK * WG_X;
var<workgroup> As: array<vec4f, A_LEN>;
var<workgroup> Bs: array<vec4f, B_LEN>;

@compute @workgroup_size(WG_X, WG_Y)
fn main_v4(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * 4u * WG_Y;
  let n0 = wid.x * 4u * WG_X;
  let am = lid % WG_Y; // A loads: rows m0 + 4*am .. +3, slice rows lid / WG_Y + j * WG_X
  let bn = lid % WG_X; // B loads: columns n0 + 4*bn .. +3, slice rows lid / WG_X + j * WG_Y
  let ra = vec4u(min(m0 + 4u * am, M - 1u), min(m0 + 4u * am + 1u, M - 1u), min(m0 + 4u * am + 2u, M - 1u), min(m0 + 4u * am + 3u, M - 1u));
  let cb = vec4u(min(n0 + 4u * bn, N - 1u), min(n0 + 4u * bn + 1u, N - 1u), min(n0 + 4u * bn + 2u, N - 1u), min(n0 + 4u * bn + 3u, N - 1u));
  let LA = (BK + WG_X - 1u) / WG_X;
  let LB = (BK + WG_Y - 1u) / WG_Y;
  let tx = lid3.x; // columns n0 + 4*tx ..
  let ty = lid3.y; // rows m0 + 4*ty ..
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);
  let S = (K + BK - 1u) / BK;
  for (var s = 0u; s <= S; s++) {
    if (s < S) {
      let ab = (s & 1u) * BK * WG_Y;
      let bb = (s & 1u) * BK * WG_X;
      for (var j = 0u; j < LA; j++) {
        let kk = lid / WG_Y + j * WG_X;
        if (kk < BK) {
          let k = s * BK + kk;
          let kc = min(k, K - 1u);
          let v = vec4f(load_a(ra.x, kc), load_a(ra.y, kc), load_a(ra.z, kc), load_a(ra.w, kc));
          As[ab + kk * WG_Y + am] = select(vec4f(0.0), v, k < K);
        }
      }
      for (var j = 0u; j < LB; j++) {
        let kk = lid / WG_X + j * WG_Y;
        if (kk < BK) {
          let k = s * BK + kk;
          let kc = min(k, K - 1u);
          let v = vec4f(load_b(kc, cb.x), load_b(kc, cb.y), load_b(kc, cb.z), load_b(kc, cb.w));
          Bs[bb + kk * WG_X + bn] = select(vec4f(0.0), v, k < K);
        }
      }
    }
    if (s > 0u) {
      let ab = ((s - 1u) & 1u) * BK * WG_Y + ty;
      let bb = ((s - 1u) & 1u) * BK * WG_X + tx;
      for (var kk = 0u; kk < BK; kk++) {
        let a = As[ab + kk * WG_Y];
        let b = Bs[bb + kk * WG_X];
        acc0 += a.x * b; acc1 += a.y * b; acc2 += a.z * b; acc3 += a.w * b;
      }
    }
    workgroupBarrier();
  }
  let r = m0 + 4u * ty;
  let c0 = n0 + 4u * tx;
  if (r < M) { store_row4(r, c0, acc0); }
  if (r + 1u < M) { store_row4(r + 1u, c0, acc1); }
  if (r + 2u < M) { store_row4(r + 2u, c0, acc2); }
  if (r + 3u < M) { store_row4(r + 3u, c0, acc3); }
}

fn store_row4(m: u32, n0: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    if (n0 + j < N) { store(m, n0 + j, v[j]); }
  }
}
