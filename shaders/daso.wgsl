// daso_pseudo_label: the distribution-aware pseudo-label of DASO (official lib/models/daso_model.py), one thread per
// unlabeled row, no gradient (everything here is under torch.no_grad in the reference):
//   p      = softmax(logits_w[i])                 linear pseudo-label; k' = argmax p (first on ties)
//   q_hat  = softmax(sim_w[i])                    semantic pseudo-label (sim_w = cos(z_w, C) / T_proto, from cosine.wgsl)
//   v_k    = (m_k / max_j m_j)^(1/T_dist)         m = pseudo-label histogram of the last complete window (counts)
//   v      = dist_aware ? v_{k'} : interp_alpha
//   p'     = (1 - v) p + v q_hat                  only when blend_on (after warm-up); else p' = p, v = 0
//   conf, y_hat = max / argmax p';  mask = conf >= tau (on the BLENDED p', as the code does, not on p)
// The reference normalises m by its sum, raises to 1/T, renormalises by the sum, then by the max: all of that
// reduces to (m_k / max m)^(1/T). A histogram of zeros while active would be 0/0 (NaN) in the reference; the trainer
// refuses such configurations, and here v = 0 (pure linear pseudo-label) so no NaN can appear.
// Per-step switches are uniforms, so one recorded step serves warm-up and DASO phases.

override BU: u32;
override K: u32;
override WG: u32 = 64;

struct Uniforms {
  blend_on: u32,
  dist_aware: u32,
  tau: f32,
  inv_t_dist: f32,
  interp_alpha: f32,
  _pad0: f32,
  _pad1: f32,
  _pad2: f32,
}

@group(0) @binding(0) var<storage, read> logits_w: array<f32>;
@group(0) @binding(1) var<storage, read> sim_w: array<f32>;
@group(0) @binding(2) var<storage, read> pl_hist: array<i32>;
@group(0) @binding(3) var<storage, read_write> q_hat: array<f32>;
@group(0) @binding(4) var<storage, read_write> pseudo_label: array<i32>;
@group(0) @binding(5) var<storage, read_write> mask: array<f32>;
@group(0) @binding(6) var<storage, read_write> blend_weight: array<f32>;
@group(0) @binding(7) var<storage, read_write> confidence: array<f32>;
@group(0) @binding(8) var<uniform> u: Uniforms;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid;
  if (i >= BU) { return; }
  let base = i * K;
  // Softmax statistics of the linear logits and of the similarities (max-subtracted).
  var lm = logits_w[base];
  var sm = sim_w[base];
  var k1 = 0u;
  for (var k = 1u; k < K; k++) {
    let x = logits_w[base + k];
    if (x > lm) { lm = x; k1 = k; }
    sm = max(sm, sim_w[base + k]);
  }
  var ls = 0.0;
  var ss = 0.0;
  for (var k = 0u; k < K; k++) {
    ls += exp(logits_w[base + k] - lm);
    ss += exp(sim_w[base + k] - sm);
  }
  var v = 0.0;
  if (u.blend_on != 0u) {
    if (u.dist_aware != 0u) {
      var mmax = 0;
      for (var k = 0u; k < K; k++) { mmax = max(mmax, pl_hist[k]); }
      let mk = pl_hist[k1];
      if (mmax > 0 && mk > 0) { v = pow(f32(mk) / f32(mmax), u.inv_t_dist); }
    } else {
      v = u.interp_alpha;
    }
  }
  var conf = -1.0;
  var y = 0u;
  for (var k = 0u; k < K; k++) {
    let p = exp(logits_w[base + k] - lm) / ls;
    let q = exp(sim_w[base + k] - sm) / ss;
    q_hat[base + k] = q;
    let pb = (1.0 - v) * p + v * q;
    if (pb > conf) { conf = pb; y = k; }
  }
  pseudo_label[i] = i32(y);
  confidence[i] = conf;
  mask[i] = select(0.0, 1.0, conf >= u.tau);
  blend_weight[i] = v;
}

// daso_refresh_histogram: every pl_update_period steps the window's counts become the counts in force and the
// window starts again (official DistributionLogger.update_pl_dist: replaced wholesale, not an EMA).
@group(0) @binding(0) var<storage, read_write> hist_in_force: array<i32>;
@group(0) @binding(1) var<storage, read_write> hist_window: array<i32>;

@compute @workgroup_size(WG)
fn refresh(@builtin(global_invocation_id) gid: vec3u) {
  let k = gid.x;
  if (k >= K) { return; }
  hist_in_force[k] = hist_window[k];
  hist_window[k] = 0;
}
