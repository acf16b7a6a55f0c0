// Ops for the softmax, loss, reduction and cosine-similarity kernels (tests call them through runOp).
import { cosineSimilarityBackward, cosineSimilarityForward } from '../../kernels/cosine.js';
import { softmaxCrossEntropyHard, softmaxCrossEntropySoft } from '../../kernels/loss.js';
import { histogram, rowMax, sumReduce, sumReduceScratchShape } from '../../kernels/reduce.js';
import { logSoftmaxForward, softmaxForward } from '../../kernels/softmax.js';
import type { Runtime } from '../../gpu/runtime.js';
import { numel, type DType, type Tensor } from '../../gpu/tensor.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

type Rows = { B: number; K: number };

/** Outputs start as garbage (not the zeros of a fresh buffer), so a kernel that skips writing an element fails. */
function garbage(rt: Runtime, shape: number[], label: string, dtype: DType = 'f32'): Tensor {
  return rt.upload(new Array(numel(shape)).fill(dtype === 'f32' ? -7.25 : -7), shape, dtype, label);
}

export const lossOps: Record<string, OpFn> = {
  async softmax(rt, p: Rows & { log?: boolean; yShape?: number[] }, inp) {
    const x = input(rt, inp, 'x', [p.B, p.K]);
    const y = garbage(rt, p.yShape ?? [p.B, p.K], 'y');
    try {
      await rt.run(p.log ? logSoftmaxForward(x, y) : softmaxForward(x, y));
      return await readAll(rt, { y });
    } finally {
      releaseAll(x, y);
    }
  },

  /** Hard (inputs.labels) or soft (inputs.targets) CE; `gradScales` runs one recorded list with several uniforms. */
  async cross_entropy(rt, p: Rows & { soft?: boolean; gradScale: number; gradScales?: number[]; labelDtype?: DType; labelShape?: number[]; targetShape?: number[] }, inp) {
    const logits = input(rt, inp, 'logits', [p.B, p.K]);
    const second = p.soft
      ? input(rt, inp, 'targets', p.targetShape ?? [p.B, p.K])
      : input(rt, inp, 'labels', p.labelShape ?? [p.B], p.labelDtype ?? 'i32');
    const w = input(rt, inp, 'rowWeight', [p.B]);
    const lossRows = garbage(rt, [p.B], 'lossRows');
    const dlogits = garbage(rt, [p.B, p.K], 'dlogits');
    try {
      const d = p.soft
        ? softmaxCrossEntropySoft(logits, second, w, lossRows, dlogits, p.gradScale)
        : softmaxCrossEntropyHard(logits, second, w, lossRows, dlogits, p.gradScale);
      if (!p.gradScales) {
        await rt.run(d);
        return await readAll(rt, { lossRows, dlogits });
      }
      // Replays of one compiled list with new uniforms: outputs of each replay concatenated.
      const list = rt.commands('cross_entropy replay');
      list.add(d);
      await list.compile();
      const out: Record<string, number[]> = { lossRows: [], dlogits: [] };
      for (const g of p.gradScales) {
        list.setUniforms(0, new Float32Array([g, 0, 0, 0]).buffer);
        await list.run();
        const r = await readAll(rt, { lossRows, dlogits });
        out.lossRows.push(...r.lossRows);
        out.dlogits.push(...r.dlogits);
      }
      list.dispose();
      return out;
    } finally {
      releaseAll(logits, second, w, lossRows, dlogits);
    }
  },

  async sum_reduce(rt, p: { n: number; scale: number; twoStage?: boolean }, inp) {
    const x = input(rt, inp, 'x', [p.n]);
    const out = garbage(rt, [1], 'out');
    const scratch = p.twoStage ? rt.tensor(sumReduceScratchShape(p.n), 'f32', 'scratch') : undefined;
    try {
      const ds = sumReduce(x, out, p.scale, scratch);
      await rt.run(...ds);
      return { ...(await readAll(rt, { out })), dispatches: [ds.length] };
    } finally {
      releaseAll(x, out, scratch);
    }
  },

  async row_max(rt, p: Rows, inp) {
    const x = input(rt, inp, 'x', [p.B, p.K]);
    const max = garbage(rt, [p.B], 'max');
    const argmax = garbage(rt, [p.B], 'argmax', 'i32');
    try {
      await rt.run(rowMax(x, max, argmax));
      return await readAll(rt, { max, argmax });
    } finally {
      releaseAll(x, max, argmax);
    }
  },

  /** inputs.hist (optional) is the prior content of hist (what accumulate adds to). */
  async histogram(rt, p: { B: number; K: number; accumulate: boolean; labelDtype?: DType }, inp) {
    const labels = input(rt, inp, 'labels', [p.B], p.labelDtype ?? 'i32');
    const hist = inp.hist ? input(rt, inp, 'hist', [p.K], 'i32') : garbage(rt, [p.K], 'hist', 'i32');
    try {
      await rt.run(histogram(labels, hist, p.accumulate));
      return await readAll(rt, { hist });
    } finally {
      releaseAll(labels, hist);
    }
  },

  /** Forward always; backward too when inputs.dsim is given (inputs.dz0: prior dz for accumulate). */
  async cosine(rt, p: { B: number; K: number; D: number; invTemp: number; accumulate?: boolean; protoShape?: number[] }, inp) {
    const z = input(rt, inp, 'z', [p.B, p.D]);
    const protos = input(rt, inp, 'protos', p.protoShape ?? [p.K, p.D]);
    const sim = garbage(rt, [p.B, p.K], 'sim');
    const dsim = inp.dsim ? input(rt, inp, 'dsim', [p.B, p.K]) : undefined;
    const dz = dsim ? (inp.dz0 ? input(rt, inp, 'dz0', [p.B, p.D]) : garbage(rt, [p.B, p.D], 'dz')) : undefined;
    try {
      const ds = [cosineSimilarityForward(z, protos, sim, p.invTemp)];
      if (dsim && dz) ds.push(cosineSimilarityBackward(z, protos, dsim, dz, p.invTemp, p.accumulate));
      await rt.run(...ds);
      return await readAll(rt, dz ? { sim, dz } : { sim });
    } finally {
      releaseAll(z, protos, sim, dsim, dz);
    }
  },
};
