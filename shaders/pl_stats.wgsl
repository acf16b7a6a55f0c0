// pl_confusion: counts of (true class, pseudo-label) over a training step's unlabeled images, accumulated on the GPU
// across every step of a logging window, so the statistics cover every image without a readback per step.
//   counts[0, t, p] += 1 for each image i with truth[i] = t, pseudo_label[i] = p
//   counts[1, t, p] += 1 when also mask[i] > 0 (the confident images, those the unlabeled loss trains on)
// The true labels are bound only here: no training kernel reads them (test: daso-kernels "true labels of unlabeled
// images do not change training"). Labels outside [0, K) (unknown truth: -1) are not counted. Integer atomics make
// the counts independent of the order the threads run in, so they are deterministic. The CPU clears `counts` after
// reading them at a log step (queue.writeBuffer, ordered before the next step's submission).

override BU: u32 = 1;       // unlabeled images per step
override K: u32 = 1;        // classes
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> pseudo_label: array<i32>;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read> truth: array<i32>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<i32>>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid;
  if (i >= BU) { return; }
  let t = truth[i];
  let p = pseudo_label[i];
  if (t < 0 || u32(t) >= K || p < 0 || u32(p) >= K) { return; }
  let cell = u32(t) * K + u32(p);
  atomicAdd(&counts[cell], 1);
  if (mask[i] > 0.0) { atomicAdd(&counts[K * K + cell], 1); }
}
