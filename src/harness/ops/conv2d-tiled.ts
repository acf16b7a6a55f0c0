// Ops of the tiled (workgroup-memory) conv rungs that have their own launchers; the forward and input-gradient v5
// go through conv2d_forward / conv2d_backward_input (ops/conv2d.ts) with version 5.
import type { GemmTile } from '../../kernels/conv2d-tiled.js';
import { conv2dBackwardWeightTiled, conv2dBackwardWeightTiledScratchShape } from '../../kernels/conv2d-wgrad-tiled.js';
import { conv2dOutputSize } from '../../kernels/conv2d.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

interface Params { N: number; C: number; H: number; W: number; K: number; R: number; stride: number; pad: number; beta?: number; gemmTile?: GemmTile }

export const conv2dTiledOps: Record<string, OpFn> = {
  /** Returns dw and the split count used (`splits`, from the scratch shape). */
  async conv2d_backward_weight_tiled(rt, p: Params, inp) {
    const [OH, OW] = conv2dOutputSize(p.H, p.W, p.R, p);
    const x = input(rt, inp, 'x', [p.N, p.C, p.H, p.W]);
    const dy = input(rt, inp, 'dy', [p.N, p.K, OH, OW]);
    const dw = inp.dw ? input(rt, inp, 'dw', [p.K, p.C, p.R, p.R]) : rt.tensor([p.K, p.C, p.R, p.R], 'f32', 'dw');
    const scratch = rt.tensor(conv2dBackwardWeightTiledScratchShape(x.shape, dy.shape, p.R, p.gemmTile), 'f32', 'scratch');
    try {
      await rt.run(...conv2dBackwardWeightTiled(x, dy, dw, scratch, { stride: p.stride, pad: p.pad, beta: p.beta, gemmTile: p.gemmTile }));
      return { ...(await readAll(rt, { dw })), splits: [scratch.shape[0]] };
    } finally {
      releaseAll(x, dy, dw, scratch);
    }
  },
};
