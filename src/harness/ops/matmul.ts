import { matmul, type MatmulVersion } from '../../kernels/matmul.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

export const matmulOps: Record<string, OpFn> = {
  async matmul(rt, p: { M: number; N: number; K: number; transA?: boolean; transB?: boolean; bias?: boolean; beta?: number; version?: MatmulVersion }, inp) {
    const a = input(rt, inp, 'a', p.transA ? [p.K, p.M] : [p.M, p.K]);
    const b = input(rt, inp, 'b', p.transB ? [p.N, p.K] : [p.K, p.N]);
    const bias = p.bias ? input(rt, inp, 'bias', [p.N]) : undefined;
    const c = inp.c ? input(rt, inp, 'c', [p.M, p.N]) : rt.tensor([p.M, p.N], 'f32', 'c');
    await rt.run(matmul(a, b, c, { transA: p.transA, transB: p.transB, bias, beta: p.beta, version: p.version }));
    const out = await readAll(rt, { c });
    releaseAll(a, b, bias, c);
    return out;
  },
};
