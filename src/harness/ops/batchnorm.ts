// Ops for test/batchnorm.test.ts. `gammaShape`/`scratchShape` let tests hand the launchers mismatched tensors.
import { batchnormBackward, batchnormForwardEval, batchnormForwardTrain, batchnormScratchShape, type BatchNormOptions } from '../../kernels/batchnorm.js';
import { batchnormLreluBackward, batchnormLreluCoefShape, batchnormLreluForwardEval, batchnormLreluForwardTrain } from '../../kernels/batchnorm-lrelu.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

type Shape = number[];
const channels = (s: Shape) => s[1];

export const batchnormOps: Record<string, OpFn> = {
  async batchnorm_forward_train(rt, p: { shape: Shape; gammaShape?: Shape; scratchShape?: Shape } & BatchNormOptions, inp) {
    const C = channels(p.shape);
    const x = input(rt, inp, 'x', p.shape);
    const gamma = input(rt, inp, 'gamma', p.gammaShape ?? [C]);
    const beta = input(rt, inp, 'beta', [C]);
    const runningMean = input(rt, inp, 'runningMean', [C]);
    const runningVar = input(rt, inp, 'runningVar', [C]);
    const y = rt.tensor(p.shape, 'f32', 'y');
    const mean = rt.tensor([C], 'f32', 'mean');
    const invstd = rt.tensor([C], 'f32', 'invstd');
    const scratch = rt.tensor(p.scratchShape ?? batchnormScratchShape(p.shape), 'f32', 'scratch');
    try {
      await rt.run(...batchnormForwardTrain(x, gamma, beta, runningMean, runningVar, y, mean, invstd, scratch,
        { momentum: p.momentum, eps: p.eps, updateRunning: p.updateRunning, subgroups: p.subgroups }));
      return await readAll(rt, { y, mean, invstd, runningMean, runningVar });
    } finally {
      releaseAll(x, gamma, beta, runningMean, runningVar, y, mean, invstd, scratch);
    }
  },
  async batchnorm_forward_eval(rt, p: { shape: Shape; eps?: number }, inp) {
    const C = channels(p.shape);
    const x = input(rt, inp, 'x', p.shape);
    const gamma = input(rt, inp, 'gamma', [C]);
    const beta = input(rt, inp, 'beta', [C]);
    const runningMean = input(rt, inp, 'runningMean', [C]);
    const runningVar = input(rt, inp, 'runningVar', [C]);
    const y = rt.tensor(p.shape, 'f32', 'y');
    await rt.run(batchnormForwardEval(x, gamma, beta, runningMean, runningVar, y, { eps: p.eps }));
    const out = await readAll(rt, { y });
    releaseAll(x, gamma, beta, runningMean, runningVar, y);
    return out;
  },
  async batchnorm_backward(rt, p: { shape: Shape; scratchShape?: Shape; subgroups?: boolean }, inp) {
    const C = channels(p.shape);
    const x = input(rt, inp, 'x', p.shape);
    const dy = input(rt, inp, 'dy', p.shape);
    const gamma = input(rt, inp, 'gamma', [C]);
    const mean = input(rt, inp, 'mean', [C]);
    const invstd = input(rt, inp, 'invstd', [C]);
    const dx = rt.tensor(p.shape, 'f32', 'dx');
    // Stale values in the gradients: the kernels must overwrite them.
    const dgamma = rt.upload(new Float32Array(C).fill(7), [C], 'f32', 'dgamma');
    const dbeta = rt.upload(new Float32Array(C).fill(-7), [C], 'f32', 'dbeta');
    const scratch = rt.tensor(p.scratchShape ?? batchnormScratchShape(p.shape), 'f32', 'scratch');
    try {
      await rt.run(...batchnormBackward(x, dy, gamma, mean, invstd, dx, dgamma, dbeta, scratch, { subgroups: p.subgroups }));
      return await readAll(rt, { dx, dgamma, dbeta });
    } finally {
      releaseAll(x, dy, gamma, mean, invstd, dx, dgamma, dbeta, scratch);
    }
  },
  // Fused BN + leaky ReLU (test/batchnorm-lrelu.test.ts): the same inputs as above plus `slope`; outputs a, not y.
  async batchnorm_lrelu_forward_train(rt, p: { shape: Shape; slope: number } & BatchNormOptions, inp) {
    const C = channels(p.shape);
    const x = input(rt, inp, 'x', p.shape);
    const gamma = input(rt, inp, 'gamma', [C]);
    const beta = input(rt, inp, 'beta', [C]);
    const runningMean = input(rt, inp, 'runningMean', [C]);
    const runningVar = input(rt, inp, 'runningVar', [C]);
    const a = rt.tensor(p.shape, 'f32', 'a');
    const mean = rt.tensor([C], 'f32', 'mean');
    const invstd = rt.tensor([C], 'f32', 'invstd');
    const scratch = rt.tensor(batchnormScratchShape(p.shape), 'f32', 'scratch');
    try {
      await rt.run(...batchnormLreluForwardTrain(x, gamma, beta, runningMean, runningVar, a, mean, invstd, scratch, p.slope,
        { momentum: p.momentum, eps: p.eps, updateRunning: p.updateRunning, subgroups: p.subgroups }));
      return await readAll(rt, { a, mean, invstd, runningMean, runningVar });
    } finally {
      releaseAll(x, gamma, beta, runningMean, runningVar, a, mean, invstd, scratch);
    }
  },
  async batchnorm_lrelu_forward_eval(rt, p: { shape: Shape; slope: number; eps?: number }, inp) {
    const C = channels(p.shape);
    const x = input(rt, inp, 'x', p.shape);
    const gamma = input(rt, inp, 'gamma', [C]);
    const beta = input(rt, inp, 'beta', [C]);
    const runningMean = input(rt, inp, 'runningMean', [C]);
    const runningVar = input(rt, inp, 'runningVar', [C]);
    const a = rt.tensor(p.shape, 'f32', 'a');
    try {
      await rt.run(batchnormLreluForwardEval(x, gamma, beta, runningMean, runningVar, a, p.slope, { eps: p.eps }));
      return await readAll(rt, { a });
    } finally {
      releaseAll(x, gamma, beta, runningMean, runningVar, a);
    }
  },
  async batchnorm_lrelu_backward(rt, p: { shape: Shape; slope: number; subgroups?: boolean }, inp) {
    const C = channels(p.shape);
    const x = input(rt, inp, 'x', p.shape);
    const a = input(rt, inp, 'a', p.shape);
    const da = input(rt, inp, 'da', p.shape);
    const gamma = input(rt, inp, 'gamma', [C]);
    const mean = input(rt, inp, 'mean', [C]);
    const invstd = input(rt, inp, 'invstd', [C]);
    const dx = rt.tensor(p.shape, 'f32', 'dx');
    // Stale values in the gradients: the kernels must overwrite them.
    const dgamma = rt.upload(new Float32Array(C).fill(7), [C], 'f32', 'dgamma');
    const dbeta = rt.upload(new Float32Array(C).fill(-7), [C], 'f32', 'dbeta');
    const scratch = rt.tensor(batchnormScratchShape(p.shape), 'f32', 'scratch');
    const coef = rt.tensor(batchnormLreluCoefShape(C), 'f32', 'coef');
    try {
      await rt.run(...batchnormLreluBackward(x, a, da, gamma, mean, invstd, dx, dgamma, dbeta, scratch, coef, p.slope, { subgroups: p.subgroups }));
      return await readAll(rt, { dx, dgamma, dbeta });
    } finally {
      releaseAll(x, a, da, gamma, mean, invstd, dx, dgamma, dbeta, scratch, coef);
    }
  },
};
