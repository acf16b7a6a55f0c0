import { batchnormBackward, batchnormForwardEval, batchnormForwardTrain, batchnormScratchShape } from '../../src/kernels/batchnorm.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { random, type BenchCase } from './util.js';

function channelTensors(rt: Runtime, C: number) {
  // Positive running_var: the eval case takes its square root.
  const runningVar = rt.upload(new Float32Array(C).fill(1), [C], 'f32', 'running_var');
  return { gamma: random(rt, [C], 'gamma'), beta: random(rt, [C], 'beta'), runningMean: random(rt, [C], 'running_mean'), runningVar };
}

const label = (s: number[]) => `N=${s[0]} C=${s[1]} ${s[2]}x${s[3]}`;

function train(shape: number[]): BenchCase {
  return {
    kernel: 'batchnorm_forward',
    shape: `${label(shape)} (partial+merge+apply)`,
    build(rt) {
      const C = shape[1];
      const t = channelTensors(rt, C);
      return batchnormForwardTrain(random(rt, shape, 'x'), t.gamma, t.beta, t.runningMean, t.runningVar, rt.tensor(shape),
        rt.tensor([C]), rt.tensor([C]), rt.tensor(batchnormScratchShape(shape)));
    },
  };
}

function evalMode(shape: number[]): BenchCase {
  return {
    kernel: 'batchnorm_forward_eval',
    shape: label(shape),
    build(rt) {
      const t = channelTensors(rt, shape[1]);
      return [batchnormForwardEval(random(rt, shape, 'x'), t.gamma, t.beta, t.runningMean, t.runningVar, rt.tensor(shape))];
    },
  };
}

function backward(shape: number[]): BenchCase {
  return {
    kernel: 'batchnorm_backward',
    shape: `${label(shape)} (partial+merge+apply)`,
    build(rt) {
      const C = shape[1];
      const invstd = rt.upload(new Float32Array(C).fill(1), [C], 'f32', 'invstd');
      return batchnormBackward(random(rt, shape, 'x'), random(rt, shape, 'dy'), random(rt, [C], 'gamma'), random(rt, [C], 'mean'), invstd,
        rt.tensor(shape), rt.tensor([C]), rt.tensor([C]), rt.tensor(batchnormScratchShape(shape)));
    },
  };
}

// WRN-28-2's three stage widths at batch 64, and the first stage at DASO's joint batch of 320 (64 + 128 + 128).
const SHAPES = [[64, 32, 32, 32], [64, 64, 16, 16], [64, 128, 8, 8], [320, 32, 32, 32]];

export const batchnormCases: BenchCase[] = [
  ...SHAPES.map(train),
  ...SHAPES.map(backward),
  evalMode([64, 32, 32, 32]),
];
