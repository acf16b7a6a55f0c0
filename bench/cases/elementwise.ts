import { add, leakyReluBackward, leakyReluForward } from '../../src/kernels/elementwise.js';
import { globalAvgPoolBackward, globalAvgPoolForward } from '../../src/kernels/pool.js';
import { random, type BenchCase } from './util.js';

// WRN-28-2 stage 1 at batch 64: [64,32,32,32] (2M values, 8 MiB); the head pools [64,128,8,8].
const ACT = [64, 32, 32, 32];
const label = (s: number[]) => `N=${s[0]} C=${s[1]} ${s[2]}x${s[3]}`;
// One value fewer than ACT: not a multiple of 4, so the scalar entry point runs (the vec4 comparison).
const RAGGED = [64 * 32 * 32 * 32 - 1];

export const elementwiseCases: BenchCase[] = [
  {
    kernel: 'leaky_relu_forward',
    shape: label(ACT),
    build: (rt) => [leakyReluForward(random(rt, ACT, 'x'), rt.tensor(ACT), 0.1)],
  },
  {
    kernel: 'leaky_relu_forward.scalar',
    shape: `[${RAGGED}] (scalar path)`,
    build: (rt) => [leakyReluForward(random(rt, RAGGED, 'x'), rt.tensor(RAGGED), 0.1)],
  },
  {
    kernel: 'leaky_relu_backward',
    shape: label(ACT),
    build: (rt) => [leakyReluBackward(random(rt, ACT, 'x'), random(rt, ACT, 'dy'), rt.tensor(ACT), 0.1)],
  },
  {
    kernel: 'add',
    shape: label(ACT),
    build: (rt) => [add(random(rt, ACT, 'a'), random(rt, ACT, 'b'), rt.tensor(ACT))],
  },
  {
    kernel: 'global_avg_pool_forward',
    shape: 'N=64 C=128 8x8',
    build: (rt) => [globalAvgPoolForward(random(rt, [64, 128, 8, 8], 'x'), rt.tensor([64, 128]))],
  },
  {
    kernel: 'global_avg_pool_backward',
    shape: 'N=64 C=128 8x8',
    build: (rt) => [globalAvgPoolBackward(random(rt, [64, 128], 'dy'), rt.tensor([64, 128, 8, 8]))],
  },
];
