import { augmentBatch, type Normalisation } from '../../kernels/augment.js';
import { PLAN_STRIDE } from '../../data/augment-plan.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

export const augmentOps: Record<string, OpFn> = {
  /** inputs: images (packed u32 words of the dataset), plan (i32, PLAN_STRIDE per image); output: out [B,C,H,W]. */
  async augment(rt, p: { n: number; channels: number; size: number; height?: number; strong: boolean; norm: Normalisation; pad?: number }, inp) {
    const B = (inp.plan?.length ?? 0) / PLAN_STRIDE;
    const images = input(rt, inp, 'images', [inp.images?.length ?? 0], 'u32');
    const plan = input(rt, inp, 'plan', [B, PLAN_STRIDE], 'i32');
    const out = rt.tensor([B, p.channels, p.height ?? p.size, p.size], 'f32', 'out');
    try {
      await rt.run(...augmentBatch(images, plan, out, p));
      return await readAll(rt, { out });
    } finally {
      releaseAll(images, plan, out);
    }
  },
};
