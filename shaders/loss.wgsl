// softmax_cross_entropy_hard / softmax_cross_entropy_soft: fused softmax cross-entropy. One pass per row gives the
// row's loss AND the gradient w.r.t. the logits (the softmax is never materialised):
//   hard: loss_i = w_i * (log s_i - (x[i,y_i] - m_i))            dx[i,k] = g * w_i * (p[i,k] - [k == y_i])
//   soft: loss_i = w_i * sum_k t[i,k] * (log s_i - (x[i,k] - m_i)) dx[i,k] = g * w_i * (p[i,k] * T_i - t[i,k])
//   m_i = max_k x[i,k], s_i = sum_k exp(x[i,k] - m_i), p = softmax, T_i = sum_k t[i,k] (targets need not sum to 1),
//   g = grad_scale (a uniform: lambda/B can change between replays of a recorded step without a new pipeline).
// -log softmax is written log s - (x - m): both terms are small and exact-ish, where lse - x would cancel two
// numbers of the size of the logits.
// A row with weight 0 (masked pseudo-label) writes exactly 0 to loss and gradient without reading its logits, so
// even non-finite logits cannot leak NaN through 0 * inf. A hard label outside [0, K) is ignored the same way
// (PyTorch's ignore_index, e.g. -100).
// One thread per row (K is 10 or 100 in DASO; see softmax.wgsl); rows folded over a 2-D grid by grid1d.
//
// `labels` and `targets` share binding 1: each entry point statically uses only one of them, and layout 'auto'
// gives each pipeline the binding's type from the entry point that uses it.

override B: u32;
override K: u32;
override WG: u32 = 64;

struct Uniforms {
  grad_scale: f32,
  _pad0: f32,
  _pad1: f32,
  _pad2: f32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read> row_weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss_rows: array<f32>;
@group(0) @binding(4) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(5) var<uniform> u: Uniforms;

fn row_of(wg: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wg.y * nwg.x + wg.x) * WG + lid;
}

fn zero_row(i: u32) {
  loss_rows[i] = 0.0;
  for (var k = 0u; k < K; k++) { dlogits[i * K + k] = 0.0; }
}

// (m, s): the row's max and sum of exp(x - m).
fn row_stats(base: u32) -> vec2f {
  var m = logits[base];
  for (var k = 1u; k < K; k++) { m = max(m, logits[base + k]); }
  var s = 0.0;
  for (var k = 0u; k < K; k++) { s += exp(logits[base + k] - m); }
  return vec2f(m, s);
}

@compute @workgroup_size(WG)
fn hard(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wg, nwg, lid);
  if (i >= B) { return; }
  let w = row_weight[i];
  let y = labels[i];
  if (w == 0.0 || y < 0 || u32(y) >= K) { zero_row(i); return; }
  let base = i * K;
  let ms = row_stats(base);
  let ls = log(ms.y);
  loss_rows[i] = w * (ls - (logits[base + u32(y)] - ms.x));
  let g = u.grad_scale * w / ms.y;
  let gy = u.grad_scale * w;
  for (var k = 0u; k < K; k++) {
    var d = g * exp(logits[base + k] - ms.x);
    if (k == u32(y)) { d -= gy; }
    dlogits[base + k] = d;
  }
}

@compute @workgroup_size(WG)
fn soft(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wg, nwg, lid);
  if (i >= B) { return; }
  let w = row_weight[i];
  if (w == 0.0) { zero_row(i); return; }
  let base = i * K;
  let ms = row_stats(base);
  let ls = log(ms.y);
  var loss = 0.0;
  var tsum = 0.0;
  for (var k = 0u; k < K; k++) {
    let t = targets[base + k];
    loss += t * (ls - (logits[base + k] - ms.x));
    tsum += t;
  }
  loss_rows[i] = w * loss;
  let gw = u.grad_scale * w;
  let gp = gw * tsum / ms.y;
  for (var k = 0u; k < K; k++) {
    dlogits[base + k] = gp * exp(logits[base + k] - ms.x) - gw * targets[base + k];
  }
}
