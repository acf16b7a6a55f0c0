// softmax_forward / log_softmax_forward: row-wise over x[B,K], max-subtracted, f32.
//   softmax:     y[i,k] = exp(x[i,k] - m_i) / s_i
//   log_softmax: y[i,k] = (x[i,k] - m_i) - log(s_i)
//   with m_i = max_k x[i,k] and s_i = sum_k exp(x[i,k] - m_i) >= 1, so nothing overflows for logits of any size
//   (exp never sees a positive argument) and log never sees 0.
// One thread per row: DASO's rows are short (K = 10 or 100 classes), so a row fits one thread's loop and a
// workgroup-wide reduction per row would leave most lanes idle. Rows are the 1-D index, folded over a 2-D grid
// (grid1d) when B exceeds 65535 workgroups.

override B: u32;
override K: u32;
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

fn row_of(wg: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wg.y * nwg.x + wg.x) * WG + lid;
}

fn row_max(base: u32) -> f32 {
  var m = x[base];
  for (var k = 1u; k < K; k++) { m = max(m, x[base + k]); }
  return m;
}

@compute @workgroup_size(WG)
fn softmax(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wg, nwg, lid);
  if (i >= B) { return; }
  let base = i * K;
  let m = row_max(base);
  // exp is stored once and rescaled, rather than recomputed: one exp per element instead of two.
  var s = 0.0;
  for (var k = 0u; k < K; k++) {
    let e = exp(x[base + k] - m);
    y[base + k] = e;
    s += e;
  }
  let inv = 1.0 / s;
  for (var k = 0u; k < K; k++) { y[base + k] *= inv; }
}

@compute @workgroup_size(WG)
fn log_softmax(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wg, nwg, lid);
  if (i >= B) { return; }
  let base = i * K;
  let m = row_max(base);
  var s = 0.0;
  for (var k = 0u; k < K; k++) { s += exp(x[base + k] - m); }
  // (x - m) - log(s): subtracting m first keeps the difference exact for large logits (x - (m + log s) would
  // round m + log s at the magnitude of m).
  let ls = log(s);
  for (var k = 0u; k < K; k++) { y[base + k] = (x[base + k] - m) - ls; }
}
