// Optimizer and EMA over flat buffers (all parameters packed; grads and momentum buffers share the layout).
//
// sgd_update: PyTorch 1.13 SGD(momentum=m, dampening=0, nesterov, weight_decay=wd), op for op as in
//   torch/optim/sgd.py::_single_tensor_sgd:  d = g + wd*w;  buf = m*buf + d;  w = w - lr*(nesterov ? d + m*buf : buf).
//   PyTorch sets buf = clone(d) on the first step; with dampening 0 and a ZERO-FILLED buffer m*0 + d == d exactly,
//   so there is no first-step flag (checked bitwise against torch 1.13 over 5 steps, nesterov on and off).
// ema_update: ema = decay*ema + (1-decay)*x (lib/models/ema_model.py). 1-decay comes from the host, computed in
//   double as Python does, then rounded to f32 like PyTorch's scalar.
// lr, momentum, wd, nesterov and decay are UNIFORMS: a recorded step replays with new values without recompiling.
//
// Each kernel has a scalar entry point and a `_v4` one (one vec4 per thread) that the launcher picks when N is a
// multiple of 4 (a 64-float-padded parameter arena always is). WGSL cannot read a ragged tail through a vec4 array,
// hence two entry points rather than one with a tail branch. Measured on SwiftShader (bench/cases/state.ts): four
// scalar elements per thread in a loop were no faster than one, the vec4 loads are what pays.

override N: u32;     // elements (scalar entry points) or vec4s (_v4 entry points)
override WG: u32 = 64;

struct SgdUniforms {
  lr: f32,
  momentum: f32,
  weight_decay: f32,
  nesterov: u32,
}

struct EmaUniforms {
  decay: f32,
  one_minus_decay: f32,
}

// A binding address may be reused by variables no single entry point uses together; layout 'auto' gives each
// entry point exactly the bindings it references.
@group(0) @binding(0) var<storage, read_write> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> momentum_buf: array<f32>;
@group(0) @binding(0) var<storage, read_write> params_v: array<vec4f>;
@group(0) @binding(1) var<storage, read> grads_v: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> momentum_v: array<vec4f>;
@group(0) @binding(3) var<uniform> su: SgdUniforms;

@group(0) @binding(0) var<storage, read_write> ema_buf: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(0) var<storage, read_write> ema_v: array<vec4f>;
@group(0) @binding(1) var<storage, read> x_v: array<vec4f>;
@group(0) @binding(2) var<uniform> eu: EmaUniforms;

// The linear thread index over a grid folded by grid1d() (x fastest).
fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid);
  if (i >= N) { return; }
  let w = params[i];
  let d = grads[i] + su.weight_decay * w;
  let b = su.momentum * momentum_buf[i] + d;
  momentum_buf[i] = b;
  params[i] = w - su.lr * select(b, d + su.momentum * b, su.nesterov != 0u);
}

@compute @workgroup_size(WG)
fn sgd_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid);
  if (i >= N) { return; }
  let w = params_v[i];
  let d = grads_v[i] + su.weight_decay * w;
  let b = su.momentum * momentum_v[i] + d;
  momentum_v[i] = b;
  params_v[i] = w - su.lr * select(b, d + su.momentum * b, su.nesterov != 0u);
}

@compute @workgroup_size(WG)
fn ema(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid);
  if (i >= N) { return; }
  ema_buf[i] = eu.decay * ema_buf[i] + eu.one_minus_decay * x[i];
}

@compute @workgroup_size(WG)
fn ema_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = thread_index(wid, nwg, lid);
  if (i >= N) { return; }
  ema_v[i] = eu.decay * ema_v[i] + eu.one_minus_decay * x_v[i];
}
