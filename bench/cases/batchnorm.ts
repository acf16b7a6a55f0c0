import { batchnormBackward, batchnormForwardEval, batchnormForwardTrain, batchnormScratchShape } from '../../src/kernels/batchnorm.js';
import { deviceFeatures } from '../../src/gpu/kernel.js';
import type { Runtime } from '../../src/gpu/runtime.js';
import { random, type BenchCase } from './util.js';

function channelTensors(rt: Runtime, C: number) {
  // Positive running_var: the eval case takes its square root.
  const runningVar = rt.upload(new Float32Array(C).fill(1), [C], 'f32', 'running_var');
  return { gamma: random(rt, [C], 'gamma'), beta: random(rt, [C], 'beta'), runningMean: random(rt, [C], 'running_mean'), runningVar };
}

const label = (s: number[]) => `N=${s[0]} C=${s[1]} ${s[2]}x${s[3]}`;

/** The statistics variant of a case: plain (workgroup-memory tree; the row names of earlier results) or subgroups
 * (subgroupAdd). Forced either way, whatever the device's default. A device without the 'subgroups' feature runs the
 * plain variant in the subgroups rows and says so in the row's shape (the bench has no skip). */
function variant(shape: string, subgroups: boolean) {
  let note = subgroups ? ', subgroups' : '';
  return {
    get shape() { return `${shape}${note})`; },
    subgroups(rt: Runtime): boolean {
      const ok = !subgroups || deviceFeatures(rt.device).subgroups;
      if (!ok) note = ', subgroups: NOT on this device, plain ran';
      return subgroups && ok;
    },
  };
}

function train(shape: number[], subgroups = false): BenchCase {
  const v = variant(`${label(shape)} (partial+merge+apply`, subgroups);
  return {
    kernel: 'batchnorm_forward',
    get shape() { return v.shape; },
    build(rt) {
      const C = shape[1];
      const t = channelTensors(rt, C);
      return batchnormForwardTrain(random(rt, shape, 'x'), t.gamma, t.beta, t.runningMean, t.runningVar, rt.tensor(shape),
        rt.tensor([C]), rt.tensor([C]), rt.tensor(batchnormScratchShape(shape)), { subgroups: v.subgroups(rt) });
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

function backward(shape: number[], subgroups = false): BenchCase {
  const v = variant(`${label(shape)} (partial+merge+apply`, subgroups);
  return {
    kernel: 'batchnorm_backward',
    get shape() { return v.shape; },
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
  ...SHAPES.map((s) => train(s)),
  ...SHAPES.map((s) => train(s, true)),
  ...SHAPES.map((s) => backward(s)),
  ...SHAPES.map((s) => backward(s, true)),
  evalMode([64, 32, 32, 32]),
];
