// conv2d_backward_weight, tiled (pass 1): the weight gradient as a GEMM with workgroup-memory tiles, for GPUs
// (the v1-v3 rungs in conv2d_backward.wgsl are register-blocked with no workgroup memory, which wins on SwiftShader).
//   dw[k, r] = sum_p dy[p, k] * xcol[p, r],  k < K output channels, r = c*R*R + kh*R + kw < C*R*R,
//   p over the N*OH*OW output pixels, xcol[p, r] = x[n, c, oh*STRIDE - PAD + kh, ow*STRIDE - PAD + kw] (0 outside).
// Split-K: the pixels are cut into SPLITS chunks of CHUNK; workgroup (tile, split) writes its partial sums to
// partials[split, k, c, kh, kw], and conv2d_backward_weight_reduce (conv2d_backward.wgsl) adds the splits in a fixed
// order (deterministic, no float atomics).
// A workgroup of WG_M x WG_N threads owns (4*WG_M channels) x (4*WG_N columns), each thread 4 x 4; the chunk is walked
// in slices of BK pixels staged as As[kk][k] = dy and Bs[kk][r] = xcol (vec4s), double-buffered with one
// workgroupBarrier per slice (same schedule as conv2d_tiled.wgsl). Workgroup storage 2 * BK * 4 * (WG_M + WG_N) * 4
// bytes, checked by the launcher (src/kernels/conv2d-wgrad-tiled.ts).
// Ragged edges: channels and columns past K / C*R*R load clamped indices (values unused, stores masked); pixels past
// the chunk or past N*OH*OW load zeros.

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
override SPLITS: u32;
override CHUNK: u32;
override WG_M: u32 = 16;
override WG_N: u32 = 16;
override BK: u32 = 16;
override A_LEN: u32 = 2u * BK * WG_M;
override B_LEN: u32 = 2u * BK * WG_N;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

var<workgroup> As: array<vec4f, A_LEN>;
var<workgroup> Bs: array<vec4f, B_LEN>;

@compute @workgroup_size(WG_M, WG_N)
fn main_wgrad_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid3: vec3u,
  @builtin(local_invocation_index) lid: u32) {
  let P = N * OH * OW;
  let OHW = OH * OW;
  let HW = H * W;
  let RR = R * R;
  let CRR = C * RR;
  let tilesK = (K + 4u * WG_M - 1u) / (4u * WG_M);
  let tilesR = (CRR + 4u * WG_N - 1u) / (4u * WG_N);
  let g = wid.x + wid.y * nwg.x; // grid1d folds more than 65535 workgroups into y
  if (g >= tilesK * tilesR * SPLITS) { return; } // whole workgroups only (g is workgroup-uniform)
  let split = g / (tilesK * tilesR);
  let tile = g % (tilesK * tilesR);
  let k0 = (tile / tilesR) * 4u * WG_M;
  let r0 = (tile % tilesR) * 4u * WG_N;
  let pBegin = split * CHUNK;
  let pEnd = min(pBegin + CHUNK, P);

  // A loads (dy): channels k0 + 4*am .. +3 (clamped), slice rows lid / WG_M + j * WG_N.
  let am = lid % WG_M;
  var aoff: vec4u;
  for (var i = 0u; i < 4u; i++) { aoff[i] = min(k0 + 4u * am + i, K - 1u) * OHW; }
  // B loads (xcol): columns r0 + 4*bn .. +3 (clamped): channel offset and tap, fixed for the whole walk.
  let bn = lid % WG_N;
  var coff: vec4u; var kh: vec4i; var kw: vec4i;
  for (var i = 0u; i < 4u; i++) {
    let r = min(r0 + 4u * bn + i, CRR - 1u);
    coff[i] = (r / RR) * HW;
    kh[i] = i32((r % RR) / R) - i32(PAD);
    kw[i] = i32((r % RR) % R) - i32(PAD);
  }
  let LA = (BK + WG_N - 1u) / WG_N;
  let LB = (BK + WG_M - 1u) / WG_M;
  let tx = lid3.x; // channels k0 + 4*tx ..
  let ty = lid3.y; // columns r0 + 4*ty ..
  var acc0 = vec4f(0.0); var acc1 = vec4f(0.0); var acc2 = vec4f(0.0); var acc3 = vec4f(0.0);

  let S = (CHUNK + BK - 1u) / BK; // uniform: every split walks CHUNK pixels (the last one's tail loads zeros)
  for (var s = 0u; s <= S; s++) {
    if (s < S) {
      let ab = (s & 1u) * BK * WG_M;
      let bb = (s & 1u) * BK * WG_N;
      for (var j = 0u; j < LA; j++) {
        let kk = lid / WG_M + j * WG_N;
        if (kk < BK) {
          let p = pBegin + s * BK + kk;
          let pc = min(p, P - 1u);
          let base = (pc / OHW) * K * OHW + pc % OHW;
          let v = vec4f(dy[base + aoff.x], dy[base + aoff.y], dy[base + aoff.z], dy[base + aoff.w]);
          As[ab + kk * WG_M + am] = select(vec4f(0.0), v, p < pEnd);
        }
      }
      for (var j = 0u; j < LB; j++) {
        let kk = lid / WG_N + j * WG_M;
        if (kk < BK) {
          let p = pBegin + s * BK + kk;
          let pc = min(p, P - 1u);
          let q = pc % OHW;
          let ih = vec4i(i32((q / OW) * STRIDE)) + kh;
          let iw = vec4i(i32((q % OW) * STRIDE)) + kw;
          let ok = (vec4u(ih) < vec4u(H)) & (vec4u(iw) < vec4u(W)) & vec4<bool>(p < pEnd);
          let off = vec4u((pc / OHW) * C * HW) + coff + select(vec4u(0u), vec4u(ih) * W + vec4u(iw), ok);
          Bs[bb + kk * WG_N + bn] = select(vec4f(0.0), vec4f(x[off.x], x[off.y], x[off.z], x[off.w]), ok);
        }
      }
    }
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

  let KCRR = K * CRR;
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  let rc = r0 + 4u * ty;
  for (var i = 0u; i < 4u; i++) {
    let k = k0 + 4u * tx + i;
    if (k < K) {
      for (var j = 0u; j < 4u; j++) {
        if (rc + j < CRR) { partials[split * KCRR + k * CRR + rc + j] = accs[i][j]; }
      }
    }
  }
}
