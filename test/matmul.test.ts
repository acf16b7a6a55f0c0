import { afterAll, describe, expect, it } from 'vitest';
import { matmulRef } from '../src/kernels/matmul.ref.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

// Ragged shapes: 1, primes, and sizes that are not multiples of the 32x32 thread-block tile; the last is past v4's
// 64 x 64 workgroup tile in M and N (two tiles each, the second ragged) with K = 45 ending inside its third slice of 16.
const SHAPES: [number, number, number][] = [[1, 1, 1], [1, 7, 3], [5, 1, 9], [13, 17, 11], [33, 31, 37], [64, 10, 128], [70, 3, 129], [67, 131, 45]];
// v4's 256-thread pipelines take ~4 s each to compile on SwiftShader (one per shape and transpose: 32 took 120 s of
// npm test), so v4 runs the shapes that reach its edges: one element, ragged inside one tile, K past eight slices
// with N = 3, and two ragged tiles in M and N.
const V4_SHAPES = [SHAPES[0], SHAPES[3], SHAPES[6], SHAPES[7]];

describe('matmul_forward', () => {
  for (const version of [0, 1, 2, 3, 4] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        it(`v${version} ${transA ? 'A^T' : 'A'}·${transB ? 'B^T' : 'B'} on ragged shapes`, async () => {
          for (const [M, N, K] of version === 4 ? V4_SHAPES : SHAPES) {
            const a = randn(M * K, M * 7 + K), b = randn(K * N, N * 13 + K);
            const { c } = await runOp('matmul', { M, N, K, transA, transB, version }, { a, b });
            expectClose(c, matmulRef(a, b, M, N, K, { transA, transB }), `M=${M} N=${N} K=${K}`, 1e-4, 1e-4);
          }
        });
      }
    }
  }

  for (const version of [2, 4]) {
    it(`v${version} adds the bias epilogue and accumulates with beta`, async () => {
      const [M, N, K] = [19, 23, 29];
      const a = randn(M * K, 1), b = randn(N * K, 2), bias = randn(N, 3), c0 = randn(M * N, 4);
      const { c } = await runOp('matmul', { M, N, K, transB: true, bias: true, beta: 1, version }, { a, b, bias, c: c0 });
      expectClose(c, matmulRef(a, b, M, N, K, { transB: true, bias, c: c0, beta: 1 }), 'bias + beta', 1e-4, 1e-4);
    });
  }

  it('rejects mismatched inner dimensions with the kernel, argument and shapes named', async () => {
    await expect(runOp('matmul_bad', {}, {})).rejects.toThrow(/unknown op/);
    await expect(runOp('matmul', { M: 2, N: 3, K: 4 }, { a: new Float32Array(8), b: new Float32Array(15) })).rejects.toThrow(
      /upload 'b': 15 values given for shape \[4, 3\]/,
    );
  });
});
