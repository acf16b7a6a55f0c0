// conv2d_forward v5: the conv as an implicit GEMM with workgroup-memory tiles, the layout that wins on discrete GPUs
// (the v1-v4 rungs are register-blocked with no workgroup memory, which is what wins on SwiftShader, a CPU).
//   rows    M = N*OH*OW output pixels,
//   columns   K output channels (y[n, k, oh, ow]),
//   reduction C*R*R, r = c*R*R + kh*R + kw.
// A workgroup of WG_M x WG_N threads owns a TILE_M x TILE_N output tile (TILE_M = 4*WG_M pixels, TILE_N = 4*WG_N
// channels); each thread 4 pixels x 4 channels (four vec4 accumulators, one per pixel). The reduction is walked in
// slices of BK: per slice the workgroup stages
//   As[kk][m] = x gathered for reduction row r0+kk and tile pixel m (im2col on the fly: zero padding, any stride),
//   Bs[kk][n] = wp[(r0+kk) * KP + n], the packed weights of conv2d_pack_weights ([C*R*R, KP], KP = K rounded to 16),
// both as vec4s along the tile's M / N, then every thread reads one vec4 of each per kk for 16 multiply-adds.
// Double-buffered: slice s+1 is loaded into the other half while slice s is consumed, so one workgroupBarrier per
// slice suffices (the write of buffer (s+1)&1 in slice s comes after the barrier that ended slice s-1, its last
// reader; the reads of slice s come after the barrier that ended slice s-1, which followed their writes).
// Workgroup storage: 2 * BK * (TILE_M + TILE_N) * 4 bytes; the launcher (src/kernels/conv2d-tiled.ts) checks it
// against WebGPU's default 16384-byte limit and WG_M*WG_N against 256 invocations.
// Ragged edges: pixels past M load a clamped pixel (values unused), reduction rows past C*R*R and channels past KP
// load zeros, stores are masked. Every thread runs every barrier (no early return except whole workgroups).
// The input gradient of stride-1 convs runs this kernel on dy with flipped packed weights (conv2d_backward_input v5).

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
// Threads along the tile's pixels / channels, and the reduction slice.
override WG_M: u32 = 16;
override WG_N: u32 = 16;
override BK: u32 = 16;
override A_LEN: u32 = 2u * BK * WG_M; // vec4s: two slices of BK x TILE_M
override B_LEN: u32 = 2u * BK * WG_N;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> wp: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

var<workgroup> As: array<vec4f, A_LEN>;
var<workgroup> Bs: array<vec4f, B_LEN>;

fn store(i: u32, v: f32) {
  if (BETA != 0.0) {
    y[i] = v + BETA * y[i];
  } else {
    y[i] = v;
  }
}

@compute @workgroup_size(WG_M, WG_N)
fn main_v5(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u,
  @builtin(local_invocation_index) lid: u32) {
  let M = N * OH * OW;
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;
  let CRR = C * RR;
  let KV = (K + 15u) / 16u * 4u; // vec4s per packed weight row
  let tilesN = (K + 4u * WG_N - 1u) / (4u * WG_N);
  let tilesM = (M + 4u * WG_M - 1u) / (4u * WG_M);
  let tile = wid.x + wid.y * nwg.x; // grid1d folds more than 65535 workgroups into y
  if (tile >= tilesM * tilesN) { return; } // whole workgroups only (tile is workgroup-uniform)
  let m0 = (tile / tilesN) * 4u * WG_M;
  let n4base = (tile % tilesN) * WG_N; // first vec4 column of the tile in wp's rows

  // This thread's share of the A loads: vec4 column am (4 pixels), rows lid / WG_M + j * WG_N.
  let am = lid % WG_M;
  var xb: vec4u; var ih: vec4i; var iw: vec4i;
  for (var i = 0u; i < 4u; i++) {
    let mi = min(m0 + 4u * am + i, M - 1u);
    let q = mi % OHW;
    xb[i] = (mi / OHW) * C * HW;
    ih[i] = i32((q / OW) * STRIDE) - i32(PAD);
    iw[i] = i32((q % OW) * STRIDE) - i32(PAD);
  }
  // And of the B loads: vec4 column bn, rows lid / WG_N + j * WG_M.
  let bn = lid % WG_N;
  let bcol = n4base + bn;
  let LA = (BK + WG_N - 1u) / WG_N;
  let LB = (BK + WG_M - 1u) / WG_M;

  let tx = lid3.x; // compute: pixels 4*tx .. 4*tx+3 of the tile
  let ty = lid3.y; // channels 4*ty .. 4*ty+3
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);

  let S = (CRR + BK - 1u) / BK;
  for (var s = 0u; s <= S; s++) {
    // Stage slice s (if any) into buffer s & 1.
    if (s < S) {
      let ab = (s & 1u) * BK * WG_M;
      let bb = (s & 1u) * BK * WG_N;
      for (var j = 0u; j < LA; j++) {
        let kk = lid / WG_M + j * WG_N;
        if (kk < BK) {
          let r = s * BK + kk;
          var v = vec4f(0.0);
          if (r < CRR) {
            let c = r / RR;
            let tap = r % RR;
            let ihh = ih + vec4i(i32(tap / R));
            let iww = iw + vec4i(i32(tap % R));
            let ok = (vec4u(ihh) < vec4u(H)) & (vec4u(iww) < vec4u(W));
            let off = xb + vec4u(c * HW) + select(vec4u(0u), vec4u(ihh) * W + vec4u(iww), ok);
            v = select(vec4f(0.0), vec4f(x[off.x], x[off.y], x[off.z], x[off.w]), ok);
          }
          As[ab + kk * WG_M + am] = v;
        }
      }
      for (var j = 0u; j < LB; j++) {
        let kk = lid / WG_N + j * WG_M;
        if (kk < BK) {
          let r = s * BK + kk;
          let ok = r < CRR && bcol < KV;
          let v = wp[select(0u, r * KV + bcol, ok)];
          Bs[bb + kk * WG_N + bn] = select(vec4f(0.0), v, ok);
        }
      }
    }
    // Consume slice s - 1 from buffer (s - 1) & 1 (written before the previous barrier).
    if (s > 0u) {
      let ab = ((s - 1u) & 1u) * BK * WG_M + tx;
      let bb = ((s - 1u) & 1u) * BK * WG_N + ty;
      for (var kk = 0u; kk < BK; kk++) {
        let a = As[ab + kk * WG_M];
        let b = Bs[bb + kk * WG_N];
        acc0 += a.x * b; acc1 += a.y * b; acc2 += a.z * b; acc3 += a.w * b;
      }
    }
    workgroupBarrier();
  }

  let k0 = n4base * 4u + 4u * ty;
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + 4u * tx + i;
    if (m < M) {
      let o = (m / OHW) * K * OHW + m % OHW;
      for (var j = 0u; j < 4u; j++) {
        if (k0 + j < K) { store(o + (k0 + j) * OHW, accs[i][j]); }
      }
    }
  }
}
