import { afterAll, describe, expect, it } from 'vitest';
import { addRef, axpyRef, leakyReluBackwardRef, leakyReluRef } from '../src/kernels/elementwise.ref.js';
import { globalAvgPoolBackwardRef, globalAvgPoolRef } from '../src/kernels/pool.ref.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

// Ragged sizes (1, primes: the scalar entry points) and multiples of 4 (the vec4 ones), none a multiple of the
// 64-thread workgroup; 1155 and 5460 span two workgroups of 64 threads x 16 elements (vec4s).
const SHAPES: number[][] = [[1], [7], [3, 5], [1, 1, 1, 13], [3, 5, 7, 11], [4], [2, 3, 4, 4], [2, 4, 9, 9], [5, 7, 12, 13]];
const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Central differences of a scalar function of x, in float64. */
function fdGrad(f: (x: Float64Array) => number, x0: ArrayLike<number>, h = 1e-6): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    x[i] = v + h; const fp = f(x);
    x[i] = v - h; const fm = f(x);
    x[i] = v;
    g[i] = (fp - fm) / (2 * h);
  }
  return g;
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/** Random values with some exact zeros (the leaky relu branch point). */
function withZeros(n: number, seed: number): Float32Array {
  const x = randn(n, seed);
  for (let i = 0; i < n; i += 5) x[i] = 0;
  return x;
}

describe('leaky_relu', () => {
  it('forward matches the reference on ragged shapes (scalar and vec4 paths)', async () => {
    for (const shape of SHAPES) {
      for (const slope of [0.1, 0.25]) {
        const x = withZeros(numel(shape), numel(shape) + 1);
        const { y } = await runOp('leaky_relu_forward', { shape, slope }, { x });
        expectClose(y, leakyReluRef(x, slope), `leaky_relu_forward ${shape} slope=${slope}`, 1e-7, 1e-6);
      }
    }
  });

  it('backward matches the reference and uses the sign of the input', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape);
      const x = withZeros(n, n + 2), dy = randn(n, n + 3);
      const { dx } = await runOp('leaky_relu_backward', { shape, slope: 0.1 }, { x, dy });
      expectClose(dx, leakyReluBackwardRef(x, dy, 0.1), `leaky_relu_backward ${shape}`, 1e-7, 1e-6);
    }
  });

  it('reference backward equals finite differences of the reference forward', () => {
    const x = randn(50, 9).map((v) => (Math.abs(v) < 1e-3 ? 0.5 : v)); // away from the kink
    const w = randn(50, 10);
    const fd = fdGrad((xx) => dot(leakyReluRef(xx, 0.1), w), x);
    expectClose(leakyReluBackwardRef(x, w, 0.1), fd, 'leaky relu FD', 1e-6, 1e-6);
  });
});

describe('add, axpy, fill, copy', () => {
  it('match the references on ragged shapes', async () => {
    for (const shape of SHAPES) {
      const n = numel(shape);
      const a = randn(n, n + 4), b = randn(n, n + 5);
      expectClose((await runOp('elementwise_add', { shape }, { a, b })).out, addRef(a, b), `add ${shape}`, 1e-6, 1e-6);
      const { y } = await runOp('elementwise_axpy', { shape, alpha: -0.75 }, { x: a, y: b });
      expectClose(y, axpyRef(a, b, -0.75), `axpy ${shape}`, 1e-6, 1e-6);
      const { t } = await runOp('elementwise_fill', { shape, value: 2.5 }, { t: a });
      expectClose(t, new Float64Array(n).fill(2.5), `fill ${shape}`, 0, 0);
      const { dst } = await runOp('elementwise_copy', { shape }, { src: a, dst: b });
      expectClose(dst, a, `copy ${shape}`, 0, 0);
    }
  });

  it('fill covers a grid folded past 65535 workgroups', async () => {
    const n = 65536 * 64 + 5; // scalar path, one value per thread: 65537 workgroups of 64, folded to 2-D by grid1d
    const { bad, first, last } = await runOp('elementwise_fill_large', { n, value: -3 }, {});
    expect(Array.from(bad)).toEqual([0]);
    expect([first[0], last[0]]).toEqual([-3, -3]);
  });

  it('rejects mismatched shapes and aliasing, naming the kernel and argument', async () => {
    await expect(runOp('elementwise_add', { shape: [3, 2], shapeB: [2, 3] }, { a: new Float32Array(6), b: new Float32Array(6) }))
      .rejects.toThrow("add: argument 'b' has shape [2, 3], expected [3, 2]");
    await expect(runOp('elementwise_add', { shape: [4], outShape: [5] }, { a: new Float32Array(4), b: new Float32Array(4) }))
      .rejects.toThrow("add: argument 'out' has shape [5], expected [4]");
    await expect(runOp('elementwise_add', { shape: [4], outIsA: true }, { a: new Float32Array(4), b: new Float32Array(4) }))
      .rejects.toThrow("add: argument 'out' aliases argument 'a'");
  });
});

describe('global_avg_pool', () => {
  // [N,C,H,W]: H*W = 1 and primes (scalar path), multiples of 4 (vec4 path) incl. WRN's 8x8 head.
  const POOL: [number, number, number, number][] = [[1, 1, 1, 1], [2, 3, 5, 7], [1, 7, 3, 1], [3, 5, 8, 8], [2, 13, 2, 2], [5, 3, 4, 3]];

  it('forward and backward match the references on ragged shapes', async () => {
    for (const [N, C, H, W] of POOL) {
      const x = randn(N * C * H * W, N * 31 + C), dy = randn(N * C, H * 7 + W);
      const { y } = await runOp('global_avg_pool_forward', { N, C, H, W }, { x });
      expectClose(y, globalAvgPoolRef(x, N, C, H * W), `pool forward ${[N, C, H, W]}`, 1e-6, 1e-5);
      const { dx } = await runOp('global_avg_pool_backward', { N, C, H, W }, { dy });
      expectClose(dx, globalAvgPoolBackwardRef(dy, N, C, H * W), `pool backward ${[N, C, H, W]}`, 1e-7, 1e-6);
    }
  });

  it('reference backward equals finite differences of the reference forward', () => {
    const [N, C, HW] = [2, 3, 5];
    const x = randn(N * C * HW, 11), w = randn(N * C, 12);
    const fd = fdGrad((xx) => dot(globalAvgPoolRef(xx, N, C, HW), w), x);
    expectClose(globalAvgPoolBackwardRef(w, N, C, HW), fd, 'pool FD', 1e-7, 1e-6);
  });

  it('rejects a wrong output shape, naming the kernel and argument', async () => {
    await expect(runOp('global_avg_pool_forward', { N: 2, C: 3, H: 2, W: 2, yShape: [2, 4] }, { x: new Float32Array(24) }))
      .rejects.toThrow("global_avg_pool_forward: argument 'y' has shape [2, 4], expected [2, 3]");
  });
});

describe('CommandList.compile', () => {
  it('rejects a bind group that does not match its pipeline instead of running a silent no-op', async () => {
    await expect(runOp('runtime_bad_bindings', { n: 8 })).rejects.toThrow(/command list 'bad bindings': building the bind groups failed/);
  });
});
