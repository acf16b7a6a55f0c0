// DASO state kernels at CIFAR-10 / WRN-28-2 shapes: the per-step queue push of the 64 labeled EMA features into
// K=10 queues of L=256 x 128, the prototype recompute, and SGD / EMA over the flat parameter buffer
// (1,467,610 floats = 1,466,320 encoder + 1,290 classifier parameters).
//
// Measured on SwiftShader (2 shared cores, medians of 3): SGD / EMA over 1,467,610 floats (scalar path) 43 ms /
// 43 ms, over 1,467,612 (vec4 path) 23 ms / 14 ms: the vec4 loads, not the invocation count, are what pays (an
// earlier variant with 4 scalar elements per thread measured the same as 1). queue_push 4.2 ms, queue_average
// 4.4 ms: both negligible next to a training step.
import { emaUpdate, sgdUpdate } from '../../src/kernels/optim.js';
import { queueAverage, queuePush } from '../../src/kernels/queue.js';
import { random, type BenchCase } from './util.js';

const [B, K, L, D] = [64, 10, 256, 128];
const WRN_PARAMS = 1_467_610;
// The same rounded up to a multiple of 4 (as a 64-float-padded arena is): the vec4 entry points.
const WRN_PARAMS_4 = 1_467_612;

function queueState(rt: Parameters<BenchCase['build']>[0], full: boolean) {
  const queue = random(rt, [K, L, D], 'queue');
  const zeros = new Int32Array(K);
  const queueLen = rt.upload(full ? new Int32Array(K).fill(L) : zeros, [K], 'i32', 'queueLen');
  const queueHead = rt.upload(full ? new Int32Array(K).fill(17) : zeros, [K], 'i32', 'queueHead');
  const touched = rt.upload(new Int32Array(K).fill(1), [K], 'i32', 'touched');
  return { queue, queueLen, queueHead, touched };
}

export const stateCases: BenchCase[] = [
  {
    kernel: 'queue_push',
    shape: `B=${B} D=${D} into K=${K} L=${L}`,
    build(rt) {
      const s = queueState(rt, true);
      return queuePush(random(rt, [B, D], 'feat'), random(rt, [B], 'labels', 'i32', K), s.queue, s.queueLen, s.queueHead, s.touched);
    },
  },
  {
    kernel: 'queue_average',
    shape: `K=${K} L=${L} D=${D} (all full, all touched)`,
    build(rt) {
      const s = queueState(rt, true);
      return [queueAverage(s.queue, s.queueLen, s.queueHead, s.touched, rt.tensor([K, D], 'f32', 'prototypes'))];
    },
  },
  ...[WRN_PARAMS, WRN_PARAMS_4].flatMap((n): BenchCase[] => [
    {
      kernel: 'ema_update',
      shape: `N=${n}${n % 4 ? ' (scalar)' : ' (vec4)'}`,
      build: (rt) => [emaUpdate(random(rt, [n], 'ema'), random(rt, [n], 'x'), 0.999)],
    },
    {
      kernel: 'sgd_update',
      shape: `N=${n}${n % 4 ? ' (scalar)' : ' (vec4)'} nesterov`,
      build(rt) {
        const o = { lr: 0.03, momentum: 0.9, weightDecay: 5e-4, nesterov: true };
        return [sgdUpdate(random(rt, [n], 'params'), random(rt, [n], 'grads'), random(rt, [n], 'momentum'), o)];
      },
    },
  ]),
];
