// Reductions: sum_reduce (vector -> scalar), row_max (max and argmax per row), histogram (class counts).
// The entry points alias binding numbers with different types; each statically uses only its own variables, and
// layout 'auto' builds each pipeline's layout from the entry point alone.

override N: u32 = 1;        // sum_reduce: elements to sum
override G: u32 = 1;        // sum_reduce: workgroups in this stage
override CHUNK: u32 = 256;  // sum_reduce: elements per workgroup, a multiple of WG
override B: u32 = 1;        // row_max / histogram: rows (labels)
override K: u32 = 1;        // row_max / histogram: columns (classes)
override ACCUMULATE: bool = false;
override WG_ROWS: u32 = 64;

const WG: u32 = 256u;

struct Uniforms {
  scale: f32,
  _pad0: f32,
  _pad1: f32,
  _pad2: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> u: Uniforms;

@group(0) @binding(1) var<storage, read_write> max_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> argmax_out: array<i32>;

@group(0) @binding(0) var<storage, read> labels: array<i32>;
@group(0) @binding(1) var<storage, read_write> hist: array<i32>;

var<workgroup> partial: array<f32, WG>;
var<workgroup> counts: array<atomic<u32>, K>;

// sum_reduce, one stage: workgroup g sums its contiguous chunk x[g*CHUNK ..) with lanes striding by WG (each step
// of the workgroup reads WG consecutive floats: coalesced on a GPU, sequential for a CPU's cache), a fixed-shape
// tree in workgroup memory combines the 256 lanes, and out[g] = scale * total. Contiguous chunks measured 2.4x
// faster than a grid-stride over the whole vector on SwiftShader (1.47M floats, 256 workgroups: 111 vs 266 ms).
// Deterministic: the order of every addition depends only on N and G, never on scheduling. Run with G > 1 into a
// scratch of G partials, then with G = 1 over the partials; or with G = 1 alone over x.
@compute @workgroup_size(WG)
fn sum(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  let start = wg.x * CHUNK;
  let end = min(start + CHUNK, N);
  for (var i = start + lid; i < end; i += WG) { acc += x[i]; }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[wg.x] = u.scale * partial[0]; }
}

// row_max: max and first argmax of each row of x[B,K] (strict '>' keeps the first index on ties, like torch.max on
// CPU). One thread per row (K is small in DASO); rows folded over a 2-D grid by grid1d.
@compute @workgroup_size(WG_ROWS)
fn row_max(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG_ROWS + lid;
  if (i >= B) { return; }
  let base = i * K;
  var best = x[base];
  var arg = 0u;
  for (var k = 1u; k < K; k++) {
    let v = x[base + k];
    if (v > best) { best = v; arg = k; }
  }
  max_out[i] = best;
  argmax_out[i] = i32(arg);
}

// histogram: hist[k] (+)= #{i : labels[i] == k}. One workgroup counts into workgroup-memory atomics (zero-initialised
// by WebGPU) and then writes each class once. Integer counts make the result independent of the atomic order, so it
// is deterministic. Labels outside [0, K) are not counted. A single workgroup is enough for DASO's 12,800 labels per
// refresh (100 steps x 128); it also means no global atomics and no separate clearing pass when ACCUMULATE is off.
@compute @workgroup_size(WG)
fn histogram(@builtin(local_invocation_index) lid: u32) {
  for (var i = lid; i < B; i += WG) {
    let y = labels[i];
    if (y >= 0 && u32(y) < K) { atomicAdd(&counts[u32(y)], 1u); }
  }
  workgroupBarrier();
  for (var k = lid; k < K; k += WG) {
    var c = i32(atomicLoad(&counts[k]));
    if (ACCUMULATE) { c += hist[k]; }
    hist[k] = c;
  }
}
