// Ops for the DASO state kernels: queue push / prototypes (queue.ts) and SGD / EMA (optim.ts).
import { emaUniforms, emaUpdate, sgdUniforms, sgdUpdate, type SgdOptions } from '../../kernels/optim.js';
import { queueAverage, queuePush } from '../../kernels/queue.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

type QueueShape = { K: number; L: number; D: number };

export const stateOps: Record<string, OpFn> = {
  /** One push of feat [B,D] / labels [B] into the given ring state; with `average`, queue_average follows in the
   * same command list (the training step's order). */
  async queue_push(rt, p: QueueShape & { B: number; average?: boolean }, inp) {
    const feat = input(rt, inp, 'feat', [p.B, p.D]);
    const labels = input(rt, inp, 'labels', [p.B], 'i32');
    const queue = input(rt, inp, 'queue', [p.K, p.L, p.D]);
    const queueLen = input(rt, inp, 'queueLen', [p.K], 'i32');
    const queueHead = input(rt, inp, 'queueHead', [p.K], 'i32');
    // Garbage in touched proves the push writes every class's flag, present or not.
    const touched = rt.upload(new Array(p.K).fill(7), [p.K], 'i32', 'touched');
    const prototypes = p.average ? input(rt, inp, 'prototypes', [p.K, p.D]) : undefined;
    const ds = queuePush(feat, labels, queue, queueLen, queueHead, touched);
    if (prototypes) ds.push(queueAverage(queue, queueLen, queueHead, touched, prototypes));
    await rt.run(...ds);
    const out = await readAll(rt, { queue, queueLen, queueHead, touched, ...(prototypes ? { prototypes } : {}) });
    releaseAll(feat, labels, queue, queueLen, queueHead, touched, prototypes);
    return out;
  },

  async queue_average(rt, p: QueueShape, inp) {
    const queue = input(rt, inp, 'queue', [p.K, p.L, p.D]);
    const queueLen = input(rt, inp, 'queueLen', [p.K], 'i32');
    const queueHead = input(rt, inp, 'queueHead', [p.K], 'i32');
    const touched = input(rt, inp, 'touched', [p.K], 'i32');
    const prototypes = input(rt, inp, 'prototypes', [p.K, p.D]);
    await rt.run(queueAverage(queue, queueLen, queueHead, touched, prototypes));
    const out = await readAll(rt, { prototypes });
    releaseAll(queue, queueLen, queueHead, touched, prototypes);
    return out;
  },

  /** steps.length SGD steps from ONE compiled command list: before each replay the grads are rewritten and the
   * uniforms replaced (new lr, momentum, wd, nesterov). `grads` holds steps.length gradients back to back. */
  async sgd_steps(rt, p: { n: number; steps: SgdOptions[] }, inp) {
    const params = input(rt, inp, 'params', [p.n]);
    const momentumBuf = input(rt, inp, 'momentumBuf', [p.n]);
    const all = inp.grads;
    if (!all || all.length !== p.n * p.steps.length) throw new Error(`sgd_steps: 'grads' needs ${p.n * p.steps.length} values`);
    const grads = rt.tensor([p.n], 'f32', 'grads');
    const list = rt.commands('sgd_steps').add(sgdUpdate(params, grads, momentumBuf, p.steps[0]));
    const compiledBefore = rt.pipelines.compiled;
    await list.compile();
    for (let s = 0; s < p.steps.length; s++) {
      rt.pool.write(grads, all.slice(s * p.n, (s + 1) * p.n));
      list.setUniforms(0, sgdUniforms(p.steps[s]));
      await list.run();
    }
    const out = await readAll(rt, { params, momentumBuf });
    list.dispose();
    releaseAll(params, grads, momentumBuf);
    return { ...out, pipelinesCompiled: [rt.pipelines.compiled - compiledBefore] };
  },

  /** decays.length EMA updates from ONE compiled command list, new x and decay before each replay. */
  async ema_steps(rt, p: { n: number; decays: number[] }, inp) {
    const ema = input(rt, inp, 'ema', [p.n]);
    const all = inp.xs;
    if (!all || all.length !== p.n * p.decays.length) throw new Error(`ema_steps: 'xs' needs ${p.n * p.decays.length} values`);
    const x = rt.tensor([p.n], 'f32', 'x');
    const list = rt.commands('ema_steps').add(emaUpdate(ema, x, p.decays[0]));
    const compiledBefore = rt.pipelines.compiled;
    await list.compile();
    for (let s = 0; s < p.decays.length; s++) {
      rt.pool.write(x, all.slice(s * p.n, (s + 1) * p.n));
      list.setUniforms(0, emaUniforms(p.decays[s]));
      await list.run();
    }
    const out = await readAll(rt, { ema });
    list.dispose();
    releaseAll(ema, x);
    return { ...out, pipelinesCompiled: [rt.pipelines.compiled - compiledBefore] };
  },
};
