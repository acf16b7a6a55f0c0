// DASO per-class feature queues (spec §1.1-1.2 step 2): K FIFO queues of capacity L over D-dim features, stored as
// ring buffers so a push writes only the new rows (no shifting of the L-1 kept rows).
//   queue [K,L,D] f32; queue_len [K] i32 (entries held, <= L); queue_head [K] i32 (slot of the OLDEST entry);
//   touched [K] i32 (1 if the class got rows in the last push).
// Logical entry j (0 = oldest) of class k lives in slot (head + j) % L.
//
// queue_push (entry `push`): one workgroup per class, threads stride over D. Every thread scans the B labels in
// batch order (a uniform loop over a read-only buffer: all lanes read the same label), so the rank of a row among its
// class's rows is its batch order and the result is deterministic with no atomics. When a class gets n > L rows only
// its last L survive: ranks below n - L are skipped, so no two rows ever write one slot.
// queue_average (entry `average`): one thread per (class, dim), summing the held entries oldest first in f32.
// Labels outside 0..K-1 match no class and are ignored.

override K: u32;
override L: u32;
override D: u32;
override B: u32 = 1;
override WG: u32 = 64;

// push
@group(0) @binding(0) var<storage, read> feat: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> queue: array<f32>;
@group(0) @binding(3) var<storage, read_write> queue_len: array<i32>;
@group(0) @binding(4) var<storage, read_write> queue_head: array<i32>;
@group(0) @binding(5) var<storage, read_write> touched: array<i32>;

// average (own variables: read-only access, and layout 'auto' gives each entry point only what it references)
@group(0) @binding(0) var<storage, read> queue_in: array<f32>;
@group(0) @binding(1) var<storage, read> len_in: array<i32>;
@group(0) @binding(2) var<storage, read> head_in: array<i32>;
@group(0) @binding(3) var<storage, read> touched_in: array<i32>;
@group(0) @binding(4) var<storage, read_write> prototypes: array<f32>;

@compute @workgroup_size(WG)
fn push(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let k = wid.x;
  let ki = i32(k);
  var n = 0u;
  for (var b = 0u; b < B; b++) {
    if (labels[b] == ki) { n++; }
  }
  let len = u32(queue_len[k]);
  let head = u32(queue_head[k]);
  // Rows of this class that a later row of the same batch evicts anyway: not written at all. (Correctness does not
  // hang on it: one thread writes a given dim of every row in batch order, so the later row would win regardless.)
  let skip = n - min(n, L);
  let tail = head + len;      // logical position of the first new row (< 2L: no overflow)
  var r = 0u;
  for (var b = 0u; b < B; b++) {
    if (labels[b] == ki) {
      if (r >= skip) {
        let dst = (k * L + (tail + r) % L) * D;
        let src = b * D;
        for (var d = lid; d < D; d += WG) { queue[dst + d] = feat[src + d]; }
      }
      r++;
    }
  }
  // Every thread has read len/head above; thread 0 overwrites them only after all of them passed this barrier.
  storageBarrier();
  if (lid == 0u) {
    let new_len = min(len + n, L);
    queue_len[k] = i32(new_len);
    queue_head[k] = i32((head + len + n - new_len) % L);   // advance by the number of evicted entries
    touched[k] = select(0, 1, n > 0u);
  }
}

@compute @workgroup_size(WG)
fn average(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= K * D) { return; }
  let k = i / D;
  let d = i % D;
  let len = u32(len_in[k]);
  // Untouched classes keep their prototype; len 0 (never filled) keeps it too, so no 0/0.
  if (touched_in[k] == 0 || len == 0u) { return; }
  let head = u32(head_in[k]);
  var acc = 0.0;
  for (var j = 0u; j < len; j++) {
    acc += queue_in[(k * L + (head + j) % L) * D + d];
  }
  prototypes[i] = acc / f32(len);
}
