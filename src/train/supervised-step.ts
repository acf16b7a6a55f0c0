// One supervised training step, recorded once and replayed: forward (train-mode BN) -> fused softmax-CE (loss rows
// and dlogits in one pass) -> backward through the tape -> fused Nesterov SGD over the flat parameters -> fused EMA
// of parameters and BN buffers. One CommandList, one submission per step; per-step values (EMA decay) are uniforms.
import type { CommandList } from '../gpu/commands.js';
import type { Dispatch } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { Tape } from '../graph/tape.js';
import { softmaxCrossEntropyHard } from '../kernels/loss.js';
import { emaUniforms, emaUpdate, sgdUpdate } from '../kernels/optim.js';
import { sumReduce } from '../kernels/reduce.js';
import { classifierForward, encoderForward, ParamVars } from '../nn/wrn.js';
import type { OptimConfig } from './config.js';
import type { TrainState } from './model-state.js';

export interface SupervisedStep {
  batch: number;
  /** Inputs, written before each submit: x [B,C,H,W] f32 (augmented, normalised), y [B] i32. */
  x: Tensor;
  y: Tensor;
  /** Outputs of the last step (read back only when asked). */
  logits: Tensor;
  loss: Tensor;
  list: CommandList;
  /** Number of dispatches per step. */
  dispatches: number;
  /** Sets the per-step uniforms for step t (EMA decay) and submits the step. */
  run(t: number): void;
  dispose(): void;
}

export function emaDecay(t: number, rho: number): number {
  return Math.min(1 - 1 / (t + 1), rho);
}

export async function buildSupervisedStep(st: TrainState, B: number, optim: OptimConfig, emaRho: number): Promise<SupervisedStep> {
  const rt = st.rt;
  const c = st.spec.config;
  const K = c.num_classes;
  const x = rt.tensor([B, c.in_channels, c.image_size, c.image_size], 'f32', 'x_lb');
  const y = rt.tensor([B], 'i32', 'y_lb');
  const ones = rt.upload(new Float32Array(B).fill(1), [1, B], 'f32', 'ones');
  const rowWeight = rt.upload(new Float32Array(B).fill(1), [B], 'f32', 'row_weight');
  const lossRows = rt.tensor([B], 'f32', 'loss_rows');
  const loss = rt.tensor([1], 'f32', 'loss');

  const tape = new Tape(rt, 'supervised');
  const P = new ParamVars(tape, st.model, st.grads);
  const z = encoderForward(tape, P, tape.constant(x), { train: true, grads: st.grads, label: 'online' });
  const logits = classifierForward(tape, P, z, ones, 'online');
  // Seed: the fused CE writes d(mean CE)/d(logits) straight into the logits' gradient buffer.
  logits.grad = rt.tensor([B, K], 'f32', 'd(logits)');
  logits.gradWritten = true;
  const lossDispatches: Dispatch[] = [
    softmaxCrossEntropyHard(logits.t, y, rowWeight, lossRows, logits.grad, 1 / B),
    ...sumReduce(lossRows, loss, 1 / B),
  ];
  const backward = tape.backward(P.all());
  const sgd = sgdUpdate(st.model.params, st.grads, st.momentum, {
    lr: optim.lr, momentum: optim.momentum, weightDecay: optim.weight_decay, nesterov: optim.nesterov,
  });
  const emaP = emaUpdate(st.ema.params, st.model.params, 0);
  const emaB = emaUpdate(st.ema.buffers, st.model.buffers, 0);

  const list = rt.commands('supervised step');
  list.add(...tape.forward, ...lossDispatches, ...backward, sgd, emaP, emaB);
  await list.compile();
  const iP = list.dispatches.indexOf(emaP);
  const iB = list.dispatches.indexOf(emaB);
  return {
    batch: B, x, y, logits: logits.t, loss, list,
    dispatches: list.dispatches.length,
    run(t: number) {
      const u = emaUniforms(emaDecay(t, emaRho));
      list.setUniforms(iP, u);
      list.setUniforms(iB, u);
      list.submit();
      st.model.numBatchesTracked += 1;
      // PyTorch's EMAModel blends every buffer, num_batches_tracked included.
      const d = emaDecay(t, emaRho);
      st.ema.numBatchesTracked = d * st.ema.numBatchesTracked + (1 - d) * st.model.numBatchesTracked;
      st.step = t + 1;
    },
    dispose() {
      list.dispose();
      tape.dispose();
      for (const t of [x, y, ones, rowWeight, lossRows, loss, logits.grad!]) t.release();
    },
  };
}

