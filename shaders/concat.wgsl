// copy_into: dst[OFFSET + i] = src[i] for i < N (any 32-bit element type, copied as bits through u32, so integer
// labels and floats alike; no float canonicalisation). Used to assemble the joint batch [x_lb; x_ulb_w; x_ulb_s]:
// a storage binding's offset must be 256-byte aligned, an element offset in the shader need not be.
override N: u32;
override OFFSET: u32;
override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid;
  if (i >= N) { return; }
  dst[OFFSET + i] = src[i];
}
