// global_avg_pool_forward / global_avg_pool_backward: y[n,c] = mean over H*W of x[n,c,:,:], and its gradient
// dx[n,c,h,w] = dy[n,c] / (H*W).
//
// Forward: one thread per (n, c) row summing its H*W contiguous values in a fixed order (deterministic, no atomics).
// In WRN-28-2 the pool sees [N,128,8,8]: rows of 64 values and N*128 rows, enough threads to fill a GPU without a
// workgroup reduction per row. The _v4 entry points (H*W a multiple of 4) read and write vec4s.
// As in elementwise.wgsl, the scalar and vec4 views of a buffer are separate variables sharing a @binding.

override ROWS: u32;           // N*C
override HW: u32;             // H*W (elements per row)
override WG: u32 = 64;
override ITEMS: u32 = 16;     // backward: elements (vec4s) per thread, as in elementwise.wgsl

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(0) var<storage, read> src_v: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dst_v: array<vec4f>;

fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = thread_index(wid, nwg, lid);
  if (r >= ROWS) { return; }
  var acc = 0.0;
  for (var k = 0u; k < HW; k++) { acc += src[r * HW + k]; }
  dst[r] = acc / f32(HW);
}

@compute @workgroup_size(WG)
fn forward_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = thread_index(wid, nwg, lid);
  if (r >= ROWS) { return; }
  let hw4 = HW / 4u;
  var acc = vec4f(0.0);
  for (var k = 0u; k < hw4; k++) { acc += src_v[r * hw4 + k]; }
  dst[r] = ((acc.x + acc.y) + (acc.z + acc.w)) / f32(HW);
}

// ITEMS elements of dx per thread (vec4s in _v4), strided by WG so each step is a coalesced sweep.
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * ITEMS + lid;
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= ROWS * HW) { break; }
    dst[i] = src[i / HW] / f32(HW);
  }
}

@compute @workgroup_size(WG)
fn backward_v4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let base = (wid.y * nwg.x + wid.x) * WG * ITEMS + lid;
  let hw4 = HW / 4u;
  for (var k = 0u; k < ITEMS; k++) {
    let i = base + k * WG;
    if (i >= ROWS * hw4) { break; }
    dst_v[i] = vec4f(src[i / hw4] / f32(HW));
  }
}
