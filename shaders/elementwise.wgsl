// Elementwise kernels: leaky_relu_forward/backward, add, axpy, fill, copy. All memory-bound.
//
// Every op has a scalar entry point and a `_v4` one that the launcher picks when the element count is a multiple of
// 4 (every CIFAR activation): vec4 loads are the 16-byte transactions real GPUs want, and on SwiftShader the scalar
// path is 1.5-2.3x slower (leaky relu over 2M values: 33-51 vs 21-26 ms with 16 items a thread; 62 vs 27 ms with 1).
// Each thread handles ITEMS elements: SwiftShader pays per invocation and per workgroup, and leaky relu over
// [64,32,32,32] took 26-48 ms with one vec4 per thread, 22 ms with 4, 15 ms with 16 and 11.6 ms with 64 (noisy, 2
// shared cores). 16 keeps 512 workgroups for that tensor, enough to fill a discrete GPU.
// WGSL cannot switch an array's element type with an override, so the two widths are separate variables that share
// a @binding: a binding address may be reused by variables that no single entry point uses together, and layout
// 'auto' gives each entry point exactly the bindings it references.
//
// Binding roles: 0 = first input (read) or the filled tensor (fill); 1 = second input (read) or the output of a
// one-input op; 2 = the output of a two-input op.

override COUNT: u32;          // elements (scalar entry points) or vec4s (_v4 entry points)
override WG: u32 = 64;
override ITEMS: u32 = 16;     // elements (vec4s) per thread
override SLOPE: f32 = 0.1;    // leaky relu negative slope
override ALPHA: f32 = 1.0;    // axpy scale
override VALUE: f32 = 0.0;    // fill value

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(0) var<storage, read_write> out0: array<f32>;
@group(0) @binding(1) var<storage, read_write> out1: array<f32>;
@group(0) @binding(2) var<storage, read_write> out2: array<f32>;

@group(0) @binding(0) var<storage, read> in0v: array<vec4f>;
@group(0) @binding(1) var<storage, read> in1v: array<vec4f>;
@group(0) @binding(0) var<storage, read_write> out0v: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out1v: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out2v: array<vec4f>;

// The first element of this thread: workgroups (folded to 2-D by grid1d(), x fastest) own WG*ITEMS consecutive
// elements; thread lid takes lid, lid + WG, ... so each step of the loop is one coalesced sweep of the workgroup.
fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG * ITEMS + lid;
}

// y = x > 0 ? x : SLOPE*x (PyTorch's leaky_relu; at 0 both branches give 0).
@compute @workgroup_size(WG)
fn leaky_relu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      let v = in0[i];
      out1[i] = select(SLOPE * v, v, v > 0.0);
    }
  }
}

@compute @workgroup_size(WG)
fn leaky_relu_forward_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      let v = in0v[i];
      out1v[i] = select(SLOPE * v, v, v > vec4f(0.0));
    }
  }
}

// dx = dy * (x > 0 ? 1 : SLOPE), from the sign of the forward INPUT x (PyTorch's leaky_relu_backward(grad, self)).
@compute @workgroup_size(WG)
fn leaky_relu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      let g = in1[i];
      out2[i] = select(SLOPE * g, g, in0[i] > 0.0);
    }
  }
}

@compute @workgroup_size(WG)
fn leaky_relu_backward_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      let g = in1v[i];
      out2v[i] = select(SLOPE * g, g, in0v[i] > vec4f(0.0));
    }
  }
}

// out = a + b (residual connections).
@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out2[i] = in0[i] + in1[i];
    }
  }
}

@compute @workgroup_size(WG)
fn add_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out2v[i] = in0v[i] + in1v[i];
    }
  }
}

// y += ALPHA * x (gradient accumulation).
@compute @workgroup_size(WG)
fn axpy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out1[i] = fma(ALPHA, in0[i], out1[i]);
    }
  }
}

@compute @workgroup_size(WG)
fn axpy_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out1v[i] = fma(vec4f(ALPHA), in0v[i], out1v[i]);
    }
  }
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out0[i] = VALUE;
    }
  }
}

@compute @workgroup_size(WG)
fn fill_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out0v[i] = vec4f(VALUE);
    }
  }
}

@compute @workgroup_size(WG)
fn copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out1[i] = in0[i];
    }
  }
}

@compute @workgroup_size(WG)
fn copy_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = thread_index(wid, nwg, lid);
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i < COUNT) {
      out1v[i] = in0v[i];
    }
  }
}
