// Ops for test/elementwise.test.ts: elementwise kernels and global average pooling. Optional shape params
// (shapeB, outShape, yShape, ...) let tests hand the launchers mismatched tensors to check their errors.
import { add, axpy, copy, fill, fillDef, leakyReluBackward, leakyReluForward } from '../../kernels/elementwise.js';
import { makeDispatch } from '../../gpu/kernel.js';
import { globalAvgPoolBackward, globalAvgPoolForward } from '../../kernels/pool.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

type Shape = number[];

export const elementwiseOps: Record<string, OpFn> = {
  async leaky_relu_forward(rt, p: { shape: Shape; slope: number }, inp) {
    const x = input(rt, inp, 'x', p.shape);
    const y = rt.tensor(p.shape, 'f32', 'y');
    await rt.run(leakyReluForward(x, y, p.slope));
    const out = await readAll(rt, { y });
    releaseAll(x, y);
    return out;
  },
  async leaky_relu_backward(rt, p: { shape: Shape; slope: number }, inp) {
    const x = input(rt, inp, 'x', p.shape);
    const dy = input(rt, inp, 'dy', p.shape);
    const dx = rt.tensor(p.shape, 'f32', 'dx');
    await rt.run(leakyReluBackward(x, dy, dx, p.slope));
    const out = await readAll(rt, { dx });
    releaseAll(x, dy, dx);
    return out;
  },
  async elementwise_add(rt, p: { shape: Shape; shapeB?: Shape; outShape?: Shape; outIsA?: boolean }, inp) {
    const a = input(rt, inp, 'a', p.shape);
    const b = input(rt, inp, 'b', p.shapeB ?? p.shape);
    const o = p.outIsA ? a : rt.tensor(p.outShape ?? p.shape, 'f32', 'out');
    try {
      await rt.run(add(a, b, o));
      return await readAll(rt, { out: o });
    } finally {
      releaseAll(a, b, o);
    }
  },
  async elementwise_axpy(rt, p: { shape: Shape; alpha: number }, inp) {
    const x = input(rt, inp, 'x', p.shape);
    const y = input(rt, inp, 'y', p.shape);
    await rt.run(axpy(x, y, p.alpha));
    const out = await readAll(rt, { y });
    releaseAll(x, y);
    return out;
  },
  async elementwise_fill(rt, p: { shape: Shape; value: number }, inp) {
    const t = input(rt, inp, 't', p.shape); // pre-filled by the test so a no-op kernel would fail
    await rt.run(fill(t, p.value));
    const out = await readAll(rt, { t });
    releaseAll(t);
    return out;
  },
  /** Fills n elements one per thread (items: 1, so n past 65535*64 folds the grid) and reads back only a summary
   * (too big to ship as JSON). */
  async elementwise_fill_large(rt, p: { n: number; value: number }) {
    const t = rt.tensor([p.n], 'f32', 't');
    await rt.run(makeDispatch(fillDef, { n: p.n, vec4: false, scalar: p.value, items: 1 }, { t }, 'fold test'));
    const v = await rt.read(t);
    releaseAll(t);
    let bad = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== p.value) bad++;
    return { bad: [bad], first: [v[0]], last: [v[v.length - 1]] };
  },
  async elementwise_copy(rt, p: { shape: Shape }, inp) {
    const src = input(rt, inp, 'src', p.shape);
    const dst = input(rt, inp, 'dst', p.shape);
    await rt.run(copy(src, dst));
    const out = await readAll(rt, { dst });
    releaseAll(src, dst);
    return out;
  },
  async global_avg_pool_forward(rt, p: { N: number; C: number; H: number; W: number; yShape?: Shape }, inp) {
    const x = input(rt, inp, 'x', [p.N, p.C, p.H, p.W]);
    const y = rt.tensor(p.yShape ?? [p.N, p.C], 'f32', 'y');
    try {
      await rt.run(globalAvgPoolForward(x, y));
      return await readAll(rt, { y });
    } finally {
      releaseAll(x, y);
    }
  },
  async global_avg_pool_backward(rt, p: { N: number; C: number; H: number; W: number }, inp) {
    const dy = input(rt, inp, 'dy', [p.N, p.C]);
    const dx = rt.tensor([p.N, p.C, p.H, p.W], 'f32', 'dx');
    await rt.run(globalAvgPoolBackward(dy, dx));
    const out = await readAll(rt, { dx });
    releaseAll(dy, dx);
    return out;
  },
  /** A copy dispatch whose binding list has one entry too many for its WGSL: compile() must reject it (a GPU
   * validation error WebGPU reports asynchronously, which once made a benchmark row a silent no-op). */
  async runtime_bad_bindings(rt, p: { n: number }) {
    const a = rt.tensor([p.n], 'f32', 'a'), b = rt.tensor([p.n], 'f32', 'b'), extra = rt.tensor([p.n], 'f32', 'extra');
    const d = copy(a, b);
    const list = rt.commands('bad bindings').add({ ...d, bindings: [...d.bindings, 'extra'], tensors: { ...d.tensors, extra } });
    try {
      await list.compile();
      return {};
    } finally {
      list.dispose();
      releaseAll(a, b, extra);
    }
  },
};
