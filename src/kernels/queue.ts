// DASO per-class feature queues and prototypes (spec §1.1-1.2 step 2): launchers of shaders/queue.wgsl and the
// checkpoint helper. The queues are GPU ring buffers:
//   queue [K,L,D] f32, queueLen [K] i32 (entries held, <= L), queueHead [K] i32 (slot of the OLDEST entry),
//   touched [K] i32 (1 if the class got rows in the last push; written by queuePush).
// The caller zero-fills queueLen, queueHead and prototypes at start (a never-filled class keeps a zero prototype).
import source from '../../shaders/queue.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';

export interface QueueParams {
  K: number;
  L: number;
  D: number;
  /** Batch rows (push only). */
  B: number;
}

const PUSH_WG = 64;
const AVG_WG = 64;

export const queuePushKernel: KernelDef<QueueParams> = {
  name: 'queue_push',
  source,
  entryPoint: () => 'push',
  bindings: ['feat', 'labels', 'queue', 'queueLen', 'queueHead', 'touched'],
  constants: (p) => ({ K: p.K, L: p.L, D: p.D, B: p.B, WG: PUSH_WG }),
  // One workgroup per class: K <= 100 in DASO, far under the 65535 limit the launcher checks.
  dispatch: (p) => [p.K, 1, 1],
  // Every workgroup reads the labels; the feature rows are read once and written once.
  bytes: (p) => 4 * (p.K * p.B + 2 * p.B * p.D + 5 * p.K),
};

export const queueAverageKernel: KernelDef<Omit<QueueParams, 'B'>> = {
  name: 'queue_average',
  source,
  entryPoint: () => 'average',
  bindings: ['queue', 'queueLen', 'queueHead', 'touched', 'prototypes'],
  constants: (p) => ({ K: p.K, L: p.L, D: p.D, WG: AVG_WG }),
  dispatch: (p) => grid1d(ceilDiv(p.K * p.D, AVG_WG)),
  // Upper bound: every class touched and full.
  flops: (p) => p.K * p.L * p.D,
  bytes: (p) => 4 * (p.K * p.L * p.D + p.K * p.D + 3 * p.K),
};

function checkState(kernel: string, queue: Tensor, queueLen: Tensor, queueHead: Tensor, touched: Tensor): [number, number, number] {
  expectRank(kernel, 'queue', queue, 3, 'f32');
  const [K, L, D] = queue.shape;
  expectShape(kernel, 'queueLen', queueLen, [K], 'i32');
  expectShape(kernel, 'queueHead', queueHead, [K], 'i32');
  expectShape(kernel, 'touched', touched, [K], 'i32');
  if (K > 65535) throw new Error(`${kernel}: argument 'queue' has K=${K} classes, at most 65535 supported (one workgroup per class)`);
  return [K, L, D];
}

/** Pushes a batch feat [B,D] with labels [B] (i32 in 0..K-1; others are ignored): for each class, its rows are
 * appended in batch order and the oldest entries dropped so len <= L (with more than L rows in one batch only the
 * last L survive). Writes touched[k] = 1 for classes present in the batch, 0 for the others. */
export function queuePush(feat: Tensor, labels: Tensor, queue: Tensor, queueLen: Tensor, queueHead: Tensor, touched: Tensor): Dispatch[] {
  const k = 'queue_push';
  const [K, L, D] = checkState(k, queue, queueLen, queueHead, touched);
  expectRank(k, 'feat', feat, 2, 'f32');
  const B = feat.shape[0];
  expectShape(k, 'feat', feat, [B, D], 'f32');
  expectShape(k, 'labels', labels, [B], 'i32');
  return [makeDispatch(queuePushKernel, { K, L, D, B }, { feat, labels, queue, queueLen, queueHead, touched }, `B=${B} K=${K} L=${L} D=${D}`)];
}

/** prototypes [K,D]: for classes with touched=1 and len>0, the mean of the raw (not normalised) entries the queue
 * holds; the other classes keep their prototype. Run it after queuePush (same command list is fine). */
export function queueAverage(queue: Tensor, queueLen: Tensor, queueHead: Tensor, touched: Tensor, prototypes: Tensor): Dispatch {
  const k = 'queue_average';
  const [K, L, D] = checkState(k, queue, queueLen, queueHead, touched);
  expectShape(k, 'prototypes', prototypes, [K, D], 'f32');
  return makeDispatch(queueAverageKernel, { K, L, D }, { queue, queueLen, queueHead, touched, prototypes }, `K=${K} L=${L} D=${D}`);
}

/** Ring layout to the checkpoint layout: [K,L,D] with each class's held entries OLDEST FIRST in rows 0..len-1 and
 * zeros after. Loading goes the other way without conversion: oldest-first data is a valid ring with head = 0. */
export function ringToOldestFirst(ring: Float32Array, len: Int32Array, head: Int32Array, K: number, L: number, D: number): Float32Array {
  if (ring.length !== K * L * D) throw new Error(`ringToOldestFirst: ring has ${ring.length} values, expected K*L*D = ${K * L * D}`);
  if (len.length !== K || head.length !== K) throw new Error(`ringToOldestFirst: len/head have ${len.length}/${head.length} values, expected K = ${K}`);
  const out = new Float32Array(K * L * D);
  for (let k = 0; k < K; k++) {
    const n = len[k], h = head[k];
    if (!(n >= 0 && n <= L && h >= 0 && h < L)) throw new Error(`ringToOldestFirst: class ${k} has len ${n}, head ${h} (need 0 <= len <= ${L}, 0 <= head < ${L})`);
    for (let j = 0; j < n; j++) {
      const src = (k * L + ((h + j) % L)) * D;
      out.set(ring.subarray(src, src + D), (k * L + j) * D);
    }
  }
  return out;
}
