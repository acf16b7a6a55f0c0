import { batchnormBackward, batchnormForwardEval, batchnormForwardTrain, batchnormScratchShape } from '../../src/kernels/batchnorm.js';
import { batchnormLreluBackward, batchnormLreluCoefShape, batchnormLreluForwardTrain } from '../../src/kernels/batchnorm-lrelu.js';
import { leakyReluBackward, leakyReluForward } from '../../src/kernels/elementwise.js';
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

// BN + leaky ReLU, fused (src/kernels/batchnorm-lrelu.ts) against the unfused pair it replaces (BN's three passes +
// leaky_relu_forward; leaky_relu_backward + BN's three passes), same kernel name so the two rows sit together.
function lreluPair(shape: number[], fused: boolean): BenchCase[] {
  const C = shape[1];
  const tag = `${label(shape)} (${fused ? 'fused' : 'unfused'})`;
  return [{
    kernel: 'batchnorm_lrelu_forward',
    shape: tag,
    build(rt) {
      const t = channelTensors(rt, C);
      const x = random(rt, shape, 'x'), a = rt.tensor(shape);
      const stats = [rt.tensor([C]), rt.tensor([C]), rt.tensor(batchnormScratchShape(shape))] as const;
      if (fused) return batchnormLreluForwardTrain(x, t.gamma, t.beta, t.runningMean, t.runningVar, a, ...stats, 0.1, { subgroups: false });
      const y = rt.tensor(shape);
      return [...batchnormForwardTrain(x, t.gamma, t.beta, t.runningMean, t.runningVar, y, ...stats, { subgroups: false }), leakyReluForward(y, a, 0.1)];
    },
  }, {
    kernel: 'batchnorm_lrelu_backward',
    shape: tag,
    build(rt) {
      const invstd = rt.upload(new Float32Array(C).fill(1), [C], 'f32', 'invstd');
      const x = random(rt, shape, 'x'), a = random(rt, shape, 'a'), da = random(rt, shape, 'da');
      const gamma = random(rt, [C], 'gamma'), mean = random(rt, [C], 'mean');
      const dx = rt.tensor(shape), dg = rt.tensor([C]), db = rt.tensor([C]), scratch = rt.tensor(batchnormScratchShape(shape));
      if (fused) return batchnormLreluBackward(x, a, da, gamma, mean, invstd, dx, dg, db, scratch, rt.tensor(batchnormLreluCoefShape(C)), 0.1, { subgroups: false });
      const dy = rt.tensor(shape);
      return [leakyReluBackward(a, da, dy, 0.1), ...batchnormBackward(x, dy, gamma, mean, invstd, dx, dg, db, scratch, { subgroups: false })];
    },
  }];
}
// The main job's step (fmnist-daso: WRN-10-1 on 28x28, 80 online images) at its three stage widths (7x7: H*W odd,
// the scalar entry points), and WRN-28-2 stage 1 at batch 64.
const LRELU_SHAPES = [[80, 16, 28, 28], [80, 32, 14, 14], [80, 64, 7, 7], [64, 32, 32, 32]];

// WRN-28-2's three stage widths at batch 64, and the first stage at DASO's joint batch of 320 (64 + 128 + 128).
const SHAPES = [[64, 32, 32, 32], [64, 64, 16, 16], [64, 128, 8, 8], [320, 32, 32, 32]];

export const batchnormCases: BenchCase[] = [
  ...SHAPES.map((s) => train(s)),
  ...SHAPES.map((s) => train(s, true)),
  ...SHAPES.map((s) => backward(s)),
  ...SHAPES.map((s) => backward(s, true)),
  evalMode([64, 32, 32, 32]),
  ...LRELU_SHAPES.flatMap((s) => [...lreluPair(s, false), ...lreluPair(s, true)]),
];
