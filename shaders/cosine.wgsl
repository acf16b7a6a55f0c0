// cosine_similarity_forward / cosine_similarity_backward: scaled cosine similarity of features to prototypes,
//   sim[i,k] = INV_TEMP * <z_i, c_k> / (max(|z_i|, EPS) * max(|c_k|, EPS)),   z: [B,D], c (protos): [K,D], EPS = 1e-8.
// Each norm is clamped separately, as current ATen's cosine_similarity does (it normalises each input first:
// x1 / max(|x1|, eps) . x2 / max(|x2|, eps)); the formula in older docs, x1.x2 / max(|x1|*|x2|, eps), differs only
// when a norm is below ~1e-8, i.e. for (nearly) zero vectors. A zero vector gives <z, c> = 0, so sim = 0, never NaN.
//
// Backward (w.r.t. z only; prototypes are means of queued features and carry no gradient in DASO), for |z_i| > EPS:
//   dz_i = sum_k g_ik * INV_TEMP * (c_k / (|z_i| nc_k) - cos_ik * z_i / |z_i|^2),   nc_k = max(|c_k|, EPS),
//   cos_ik = <z_i, c_k> / (|z_i| nc_k), g = dsim. This is the exact derivative of the forward there.
// For |z_i| <= EPS we write 0: the exact derivative of the clamped forward is INV_TEMP * sum_k g_ik c_k / (EPS nc_k),
// about 1e9 for unit prototypes, which one SGD step would turn into garbage (PyTorch clamps under no_grad, so its
// gradient there has the same 1/EPS factor). A zero feature (all ReLUs dead) is treated as a dead input instead.

override B: u32;
override K: u32;
override D: u32;
override INV_TEMP: f32 = 1.0;
override ACCUMULATE: bool = false;
override WG: u32 = 64;

const EPS: f32 = 1e-8;

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> protos: array<f32>;
@group(0) @binding(2) var<storage, read_write> sim: array<f32>;

@group(0) @binding(2) var<storage, read> dsim: array<f32>;
@group(0) @binding(3) var<storage, read_write> dz: array<f32>;

// Forward: one thread per (i, k). Dot product and both squared norms in one loop over D; recomputing |z_i| for every
// prototype costs K*D extra multiply-adds per row, far less than a second dispatch (or a workgroup pass) to share it.
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = (wg.y * nwg.x + wg.x) * WG + lid;
  if (t >= B * K) { return; }
  let i = t / K;
  let k = t % K;
  var dot = 0.0;
  var zz = 0.0;
  var cc = 0.0;
  for (var d = 0u; d < D; d++) {
    let a = z[i * D + d];
    let b = protos[k * D + d];
    dot += a * b;
    zz += a * a;
    cc += b * b;
  }
  sim[t] = INV_TEMP * dot / (max(sqrt(zz), EPS) * max(sqrt(cc), EPS));
}

// Backward: one thread per row i. |z_i|, then for each prototype its dot product, norm and coefficient, added into
// dz_i; the cos-weighted z term last. Every sum has a fixed order. Measured on SwiftShader (B=128, K=10, D=128):
// 5-7 ms, against 16-27 ms for a workgroup per row (tree-reduced |z|, lanes over k then over d, workgroup memory and
// barriers), which pays SwiftShader's per-workgroup barrier cost 128 times. B threads is little parallelism for a
// discrete GPU, but the whole kernel is ~0.5 MFLOP there.
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid;
  if (i >= B) { return; }
  let zrow = i * D;
  var zz = 0.0;
  for (var d = 0u; d < D; d++) { let a = z[zrow + d]; zz += a * a; }
  let nz = sqrt(zz);
  if (nz <= EPS) {
    if (!ACCUMULATE) {
      for (var d = 0u; d < D; d++) { dz[zrow + d] = 0.0; }
    }
    return;
  }
  // Without ACCUMULATE the row starts from 0; with it, from the gradient already in dz.
  if (!ACCUMULATE) {
    for (var d = 0u; d < D; d++) { dz[zrow + d] = 0.0; }
  }
  var sg = 0.0; // sum_k g_ik * cos_ik
  for (var k = 0u; k < K; k++) {
    var dot = 0.0;
    var cc = 0.0;
    for (var d = 0u; d < D; d++) {
      let b = protos[k * D + d];
      dot += z[zrow + d] * b;
      cc += b * b;
    }
    let nc = max(sqrt(cc), EPS);
    let g = dsim[i * K + k];
    sg += g * dot / (nz * nc);
    let a = g * INV_TEMP / (nz * nc);
    for (var d = 0u; d < D; d++) { dz[zrow + d] += a * protos[k * D + d]; }
  }
  let beta = INV_TEMP * sg / zz;
  for (var d = 0u; d < D; d++) { dz[zrow + d] -= beta * z[zrow + d]; }
}
