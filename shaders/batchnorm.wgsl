// BatchNorm2d, training and eval mode, PyTorch semantics: x is [N,C,H,W] ([N,C] runs with HW = 1); per-channel
// statistics reduce over n = N*H*W values, normalise with the BIASED variance, running_var gets the unbiased one.
//
// Training forward = three dispatches:
//   fwd_partial: one workgroup per (channel, chunk of CHUNK values): per-thread Welford, then a fixed-order tree of
//                Chan merges in workgroup memory -> partials[c, chunk] = (count, mean, M2). The per-channel
//                reduction is long (327,680 values at batch 320, 32x32), so chunks spread it over C*P workgroups.
//   fwd_merge:   one workgroup per channel merges its P partials with Chan's formula in a fixed order (deterministic,
//                no atomics) -> save_mean, save_invstd, running statistics.
//   apply:       y = (x - mean) * (invstd * gamma) + beta. (x - mean) first: x*scale + shift cancels catastrophically
//                when |mean| >> std.
// Eval forward = apply with EVAL (running statistics in the mean/invstd slots, invstd computed per thread).
// Backward = bwd_partial (per chunk sums of dy and dy*xhat) -> bwd_merge (dbeta, dgamma; fixed order) -> bwd_apply
//   dx = gamma*invstd * (dy - dbeta/n - xhat*dgamma/n).
// Welford/Chan, not E[x^2]-E[x]^2: with |mean| >> std the latter loses every digit in f32 (test/batchnorm.test.ts).
//
// Variants (src/gpu/kernel.ts preprocessWgsl: wgsl-preprocessor's conditional lines on flags the launcher passes):
// SUBGROUPS = the reductions of the partial and merge passes use subgroupAdd (see reduce_chan / reduce_sum).
//
// The _v4 entry points (H*W a multiple of 4) move vec4s; a vec4 never crosses a channel row because rows are H*W long.
//
// Bindings, per entry point (' = written). A binding number is reused by variables that no single entry point uses
// together; layout 'auto' gives each pipeline exactly the bindings its entry point references.
//   entry          0         1            2            3              4              5      6       7
//   fwd_partial    x         partials'
//   fwd_merge      partials  save_mean'   save_invstd' running_mean'  running_var'
//   apply          x         y'           mean         invstd         beta           gamma            (EVAL: running
//                                                                                                      mean/var in 2, 3)
//   bwd_partial    x         partials'    mean         invstd         dy
//   bwd_merge      partials  dgamma'      dbeta'
//   bwd_apply      x         dx'          mean         invstd         dy             gamma  dgamma  dbeta
// Fused with the leaky ReLU that follows every BN of the WRN (src/kernels/batchnorm-lrelu.ts; `a` = the activation
// leaky_relu(BN(x)), the only tensor the fused forward writes; `da` its gradient; coef[c] = (mean, k1, k2, k3)):
//   apply (LEAKY)  x         a'           mean         invstd         beta           gamma
//   bwd_partial_lrelu x      partials'    mean         invstd         da             a
//   bwd_merge_coef partials  dgamma'      dbeta'       invstd         coef'          gamma  mean
//   bwd_apply_lrelu x        dx'          coef         a              da
// The backward masks da on the fly: dy = da * (a > 0 ? 1 : SLOPE), where a > 0 exactly when the BN output is > 0
// (SLOPE > 0; the launcher checks), so the BN output is never stored and the masked dy never written. bwd_apply_lrelu
// binds 5 buffers, not 9: merge folds gamma, invstd, dgamma, dbeta into dx = k1*dy + k2*(x - mean) + k3 per
// channel (9 would pass WebGPU's default limit of 8 storage buffers per stage).

#if SUBGROUPS
enable subgroups;
#endif

override N: u32;
override C: u32;
override HW: u32;
override P: u32;              // chunks per channel = ceil(N*HW / CHUNK)
override CHUNK: u32 = 16384;  // values per chunk; a multiple of 4*WG (the launcher says why this size)
override ITEMS: u32 = 16;     // apply passes: values (vec4s) per thread, as in elementwise.wgsl
override WG: u32 = 64;        // a power of two (tree reductions)
override EPS: f32 = 1e-5;
override MOMENTUM: f32 = 0.1;
override UPDATE_RUNNING: bool = true;
override EVAL: bool = false;
override LEAKY: bool = false;  // apply: write leaky_relu(y, SLOPE) instead of y (the fused forward)
override SLOPE: f32 = 0.1;     // leaky ReLU negative slope (> 0)

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(0) var<storage, read> x_v: array<vec4f>;
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst_v: array<vec4f>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst2: array<f32>;
@group(0) @binding(3) var<storage, read> invstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read> dy_v: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(5) var<storage, read> gamma: array<f32>;
@group(0) @binding(6) var<storage, read> dgamma: array<f32>;
@group(0) @binding(7) var<storage, read> dbeta: array<f32>;
// The fused backward's buffers (table above).
@group(0) @binding(2) var<storage, read> coef: array<vec4f>;
@group(0) @binding(3) var<storage, read> act3: array<f32>;
@group(0) @binding(3) var<storage, read> act3_v: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> coef_out: array<vec4f>;
@group(0) @binding(5) var<storage, read> act5: array<f32>;
@group(0) @binding(5) var<storage, read> act5_v: array<vec4f>;
@group(0) @binding(6) var<storage, read> mean6: array<f32>;

// (count, mean, M2) of a set of values; merges in fixed order keep results bit-for-bit reproducible.
var<workgroup> sh: array<vec3f, WG>;

fn chan(a: vec3f, b: vec3f) -> vec3f {
  let n = a.x + b.x;
  if (n == 0.0) { return a; }
  let d = b.y - a.y;
  let f = b.x / n;
  return vec3f(n, a.y + d * f, a.z + b.z + d * d * a.x * f);
}

fn group_id(wid: vec3u, nwg: vec3u) -> u32 { return wid.y * nwg.x + wid.x; }

#if SUBGROUPS
// Subgroup variant (device feature 'subgroups'; src/kernels/batchnorm.ts says when it is the default): each
// subgroup reduces its lanes with subgroupAdd; its lowest lane (leader = subgroupMin(lid): no assumption on how
// local_invocation_index maps to subgroups) writes the subgroup's result to sh[leader] and sets bit `leader` of the
// `leaders` mask (atomicOr: order-free, so the mask is deterministic); then thread 0 merges the leaders' slots in
// increasing lid order, one per subgroup (2 at subgroup size 32, 16 at SwiftShader's 4). 2 barriers instead of the
// tree's log2(WG) + 1.
// Determinism: for a fixed subgroup size the lane grouping and subgroupAdd's order are fixed, so results are
// bit-for-bit reproducible on one device. With another subgroup size (another GPU, or a driver that picks the size
// per pipeline) the values are added in another order: the statistics then differ in the last bits (f32 rounding of
// a different summation tree), never more; the plain variant's tree is the same on every device.
var<workgroup> leaders: array<atomic<u32>, (WG + 31u) / 32u>;  // zero at workgroup start (WGSL zero-initialises)

fn mark_leader(lid: u32, v: vec3f) {
  sh[lid] = v;
  atomicOr(&leaders[lid / 32u], 1u << (lid % 32u));
}

// Chan merge of the subgroup's (count, mean, M2) as sums: n = sum n_i, mean = k + sum n_i (m_i - k) / n with k the
// first lane's mean (a shift against cancellation when |mean| >> std), M2 = sum (M2_i + n_i (m_i - mean)^2).
fn reduce_chan(lid: u32, s: vec3f) {
  let n = subgroupAdd(s.x);
  let k = subgroupBroadcastFirst(s.y);
  let dm = subgroupAdd(s.x * (s.y - k));
  let mu = select(k, k + dm / n, n > 0.0);
  let d = s.y - mu;
  let m2 = subgroupAdd(s.z + s.x * d * d);
  if (lid == subgroupMin(lid)) { mark_leader(lid, vec3f(n, mu, m2)); }
  workgroupBarrier();
  if (lid == 0u) {
    var t = vec3f(0.0);
    for (var w = 0u; w < (WG + 31u) / 32u; w++) {
      var m = atomicLoad(&leaders[w]);
      while (m != 0u) {
        t = chan(t, sh[w * 32u + firstTrailingBit(m)]);
        m &= m - 1u;
      }
    }
    sh[0] = t;
  }
  workgroupBarrier();
}

fn reduce_sum(lid: u32, s: vec3f) {
  let t = subgroupAdd(s);
  if (lid == subgroupMin(lid)) { mark_leader(lid, t); }
  workgroupBarrier();
  if (lid == 0u) {
    var a = vec3f(0.0);
    for (var w = 0u; w < (WG + 31u) / 32u; w++) {
      var m = atomicLoad(&leaders[w]);
      while (m != 0u) {
        a += sh[w * 32u + firstTrailingBit(m)];
        m &= m - 1u;
      }
    }
    sh[0] = a;
  }
  workgroupBarrier();
}
#else
// Tree-merges sh[0..WG) into sh[0] (every thread calls it: it holds barriers).
fn reduce_chan(lid: u32, s: vec3f) {
  sh[lid] = s;
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (lid < stride) { sh[lid] = chan(sh[lid], sh[lid + stride]); }
  }
  workgroupBarrier();
}

// Tree-sums sh[0..WG).xy into sh[0].
fn reduce_sum(lid: u32, s: vec3f) {
  sh[lid] = s;
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    workgroupBarrier();
    if (lid < stride) { sh[lid] += sh[lid + stride]; }
  }
  workgroupBarrier();
}
#endif

// Loop trips of the partial passes: a chunk's CHUNK values, or all n = N*HW when one chunk holds them. Looping to
// CHUNK / WG whatever n (as before) left most trips empty on small channels: [80, 64, 7, 7] (n = 3920, 64 workgroups)
// ran 256 trips a thread for 62 with values (bench/README.md has the measured gain).
override STEPS: u32 = (min(CHUNK, N * HW) + WG - 1u) / WG;
override STEPS_V4: u32 = (min(CHUNK / 4u, N * HW / 4u) + WG - 1u) / WG;

// Offset of value j (0 <= j < N*HW, in units of VEC-wide values) of channel c.
fn chan_index(j: u32, c: u32, hwv: u32) -> u32 {
  let n = j / hwv;
  return (n * C + c) * hwv + (j - n * hwv);
}

@compute @workgroup_size(WG)
fn fwd_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = group_id(wid, nwg);
  if (w >= C * P) { return; }
  let c = w / P;
  let j0 = (w - c * P) * CHUNK;
  var s = vec3f(0.0);
  for (var k = 0u; k < STEPS; k++) {
    let j = j0 + k * WG + lid;
    if (j < N * HW) {
      let v = x[chan_index(j, c, HW)];
      s.x += 1.0;
      let d = v - s.y;
      s.y += d / s.x;
      s.z += d * (v - s.y);
    }
  }
  reduce_chan(lid, s);
  if (lid == 0u) { dst[w * 3u] = sh[0].x; dst[w * 3u + 1u] = sh[0].y; dst[w * 3u + 2u] = sh[0].z; }
}

@compute @workgroup_size(WG)
fn fwd_partial_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = group_id(wid, nwg);
  if (w >= C * P) { return; }
  let c = w / P;
  let j0 = (w - c * P) * (CHUNK / 4u);
  // One Welford per lane: the lanes share the count, so the update costs one reciprocal per vec4.
  var cnt = 0.0;
  var m = vec4f(0.0);
  var m2 = vec4f(0.0);
  for (var k = 0u; k < STEPS_V4; k++) {
    let j = j0 + k * WG + lid;
    if (j < N * HW / 4u) {
      let v = x_v[chan_index(j, c, HW / 4u)];
      cnt += 1.0;
      let d = v - m;
      m += d * (1.0 / cnt);
      m2 += d * (v - m);
    }
  }
  let s = chan(chan(vec3f(cnt, m.x, m2.x), vec3f(cnt, m.y, m2.y)), chan(vec3f(cnt, m.z, m2.z), vec3f(cnt, m.w, m2.w)));
  reduce_chan(lid, s);
  if (lid == 0u) { dst[w * 3u] = sh[0].x; dst[w * 3u + 1u] = sh[0].y; dst[w * 3u + 2u] = sh[0].z; }
}

@compute @workgroup_size(WG)
fn fwd_merge(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = group_id(wid, nwg);
  if (c >= C) { return; }
  var s = vec3f(0.0);
  for (var p = lid; p < P; p += WG) {
    let o = (c * P + p) * 3u;
    s = chan(s, vec3f(partials[o], partials[o + 1u], partials[o + 2u]));
  }
  reduce_chan(lid, s);
  if (lid == 0u) {
    let t = sh[0];
    dst[c] = t.y;
    dst2[c] = 1.0 / sqrt(t.z / t.x + EPS);
    if (UPDATE_RUNNING) {
      // Unbiased variance M2/(n-1); n = 1 would divide by zero (PyTorch refuses n = 1 in training), so it uses M2 = 0.
      running_mean[c] = (1.0 - MOMENTUM) * running_mean[c] + MOMENTUM * t.y;
      running_var[c] = (1.0 - MOMENTUM) * running_var[c] + MOMENTUM * (t.z / max(t.x - 1.0, 1.0));
    }
  }
}

// Per-channel (scale, shift) with y = (x - shift) * scale + beta.
fn scale_of(c: u32) -> f32 {
  if (EVAL) { return gamma[c] / sqrt(invstd[c] + EPS); }
  return gamma[c] * invstd[c];
}

// The fused activation (LEAKY is an override constant: the plain pipeline compiles it away). Same expression as
// elementwise.wgsl's leaky_relu_forward.
fn act(v: f32) -> f32 {
  if (LEAKY) { return select(SLOPE * v, v, v > 0.0); }
  return v;
}
fn act_v(v: vec4f) -> vec4f {
  if (LEAKY) { return select(SLOPE * v, v, v > vec4f(0.0)); }
  return v;
}

@compute @workgroup_size(WG)
fn apply(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = group_id(wid, nwg) * WG * ITEMS + lid;
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= N * C * HW) { break; }
    let c = (i / HW) % C;
    dst[i] = act((x[i] - mean[c]) * scale_of(c) + beta[c]);
  }
}

@compute @workgroup_size(WG)
fn apply_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = group_id(wid, nwg) * WG * ITEMS + lid;
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= N * C * HW / 4u) { break; }
    let c = (i / (HW / 4u)) % C;
    dst_v[i] = act_v((x_v[i] - mean[c]) * scale_of(c) + beta[c]);
  }
}

// Partial sums per (channel, chunk): (sum dy, sum dy*xhat, unused).
@compute @workgroup_size(WG)
fn bwd_partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = group_id(wid, nwg);
  if (w >= C * P) { return; }
  let c = w / P;
  let j0 = (w - c * P) * CHUNK;
  let mu = mean[c];
  let is = invstd[c];
  var s = vec3f(0.0);
  for (var k = 0u; k < STEPS; k++) {
    let j = j0 + k * WG + lid;
    if (j < N * HW) {
      let o = chan_index(j, c, HW);
      let g = dy[o];
      s += vec3f(g, g * (x[o] - mu) * is, 0.0);
    }
  }
  reduce_sum(lid, s);
  if (lid == 0u) { dst[w * 3u] = sh[0].x; dst[w * 3u + 1u] = sh[0].y; dst[w * 3u + 2u] = 0.0; }
}

@compute @workgroup_size(WG)
fn bwd_partial_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = group_id(wid, nwg);
  if (w >= C * P) { return; }
  let c = w / P;
  let j0 = (w - c * P) * (CHUNK / 4u);
  let mu = mean[c];
  let is = invstd[c];
  var sg = vec4f(0.0);
  var sgx = vec4f(0.0);
  for (var k = 0u; k < STEPS_V4; k++) {
    let j = j0 + k * WG + lid;
    if (j < N * HW / 4u) {
      let o = chan_index(j, c, HW / 4u);
      let g = dy_v[o];
      sg += g;
      sgx += g * (x_v[o] - mu) * is;
    }
  }
  let one = vec4f(1.0);
  reduce_sum(lid, vec3f(dot(sg, one), dot(sgx, one), 0.0));
  if (lid == 0u) { dst[w * 3u] = sh[0].x; dst[w * 3u + 1u] = sh[0].y; dst[w * 3u + 2u] = 0.0; }
}

// dgamma (binding 1) and dbeta (binding 2), overwritten.
@compute @workgroup_size(WG)
fn bwd_merge(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = group_id(wid, nwg);
  if (c >= C) { return; }
  var s = vec3f(0.0);
  for (var p = lid; p < P; p += WG) {
    let o = (c * P + p) * 3u;
    s += vec3f(partials[o], partials[o + 1u], 0.0);
  }
  reduce_sum(lid, s);
  if (lid == 0u) { dst[c] = sh[0].y; dst2[c] = sh[0].x; }
}

@compute @workgroup_size(WG)
fn bwd_apply(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = group_id(wid, nwg) * WG * ITEMS + lid;
  let inv_n = 1.0 / f32(N * HW);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= N * C * HW) { break; }
    let c = (i / HW) % C;
    let is = invstd[c];
    dst[i] = gamma[c] * is * (dy[i] - dbeta[c] * inv_n - (x[i] - mean[c]) * is * (dgamma[c] * inv_n));
  }
}

@compute @workgroup_size(WG)
fn bwd_apply_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = group_id(wid, nwg) * WG * ITEMS + lid;
  let inv_n = 1.0 / f32(N * HW);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= N * C * HW / 4u) { break; }
    let c = (i / (HW / 4u)) % C;
    let is = invstd[c];
    dst_v[i] = gamma[c] * is * (dy_v[i] - dbeta[c] * inv_n - (x_v[i] - mean[c]) * is * (dgamma[c] * inv_n));
  }
}

// ---- Fused leaky ReLU backward (header table). dy = da masked by the sign of the activation, as in elementwise.wgsl's
// leaky_relu_backward (select(SLOPE * g, g, ...)).

@compute @workgroup_size(WG)
fn bwd_partial_lrelu(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = group_id(wid, nwg);
  if (w >= C * P) { return; }
  let c = w / P;
  let j0 = (w - c * P) * CHUNK;
  let mu = mean[c];
  let is = invstd[c];
  var s = vec3f(0.0);
  for (var k = 0u; k < STEPS; k++) {
    let j = j0 + k * WG + lid;
    if (j < N * HW) {
      let o = chan_index(j, c, HW);
      let g = select(SLOPE * dy[o], dy[o], act5[o] > 0.0);
      s += vec3f(g, g * (x[o] - mu) * is, 0.0);
    }
  }
  reduce_sum(lid, s);
  if (lid == 0u) { dst[w * 3u] = sh[0].x; dst[w * 3u + 1u] = sh[0].y; dst[w * 3u + 2u] = 0.0; }
}

@compute @workgroup_size(WG)
fn bwd_partial_lrelu_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let w = group_id(wid, nwg);
  if (w >= C * P) { return; }
  let c = w / P;
  let j0 = (w - c * P) * (CHUNK / 4u);
  let mu = mean[c];
  let is = invstd[c];
  var sg = vec4f(0.0);
  var sgx = vec4f(0.0);
  for (var k = 0u; k < STEPS_V4; k++) {
    let j = j0 + k * WG + lid;
    if (j < N * HW / 4u) {
      let o = chan_index(j, c, HW / 4u);
      let g = select(SLOPE * dy_v[o], dy_v[o], act5_v[o] > vec4f(0.0));
      sg += g;
      sgx += g * (x_v[o] - mu) * is;
    }
  }
  let one = vec4f(1.0);
  reduce_sum(lid, vec3f(dot(sg, one), dot(sgx, one), 0.0));
  if (lid == 0u) { dst[w * 3u] = sh[0].x; dst[w * 3u + 1u] = sh[0].y; dst[w * 3u + 2u] = 0.0; }
}

// bwd_merge, then the per-channel coefficients of dx = gamma*invstd * (dy - dbeta/n - (x - mean)*invstd*dgamma/n)
// = k1*dy + k2*(x - mean) + k3 ((x - mean) kept as a difference: no cancellation when |mean| >> std).
@compute @workgroup_size(WG)
fn bwd_merge_coef(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = group_id(wid, nwg);
  if (c >= C) { return; }
  var s = vec3f(0.0);
  for (var p = lid; p < P; p += WG) {
    let o = (c * P + p) * 3u;
    s += vec3f(partials[o], partials[o + 1u], 0.0);
  }
  reduce_sum(lid, s);
  if (lid == 0u) {
    let dg = sh[0].y;
    let db = sh[0].x;
    dst[c] = dg;
    dst2[c] = db;
    let inv_n = 1.0 / f32(N * HW);
    let is = invstd[c];
    let k1 = gamma[c] * is;
    coef_out[c] = vec4f(mean6[c], k1, -k1 * is * (dg * inv_n), -k1 * (db * inv_n));
  }
}

@compute @workgroup_size(WG)
fn bwd_apply_lrelu(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = group_id(wid, nwg) * WG * ITEMS + lid;
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= N * C * HW) { break; }
    let q = coef[(i / HW) % C];
    let g = select(SLOPE * dy[i], dy[i], act3[i] > 0.0);
    dst[i] = q.y * g + q.z * (x[i] - q.x) + q.w;
  }
}

@compute @workgroup_size(WG)
fn bwd_apply_lrelu_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = group_id(wid, nwg) * WG * ITEMS + lid;
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= N * C * HW / 4u) { break; }
    let q = coef[(i / (HW / 4u)) % C];
    let g = select(SLOPE * dy_v[i], dy_v[i], act3_v[i] > vec4f(0.0));
    dst_v[i] = q.y * g + q.z * (x_v[i] - q.x) + q.w;
  }
}
