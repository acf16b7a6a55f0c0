// conv2d v5 (shaders/conv2d_tiled.wgsl): the workgroup-memory tile GEMM, forward and stride-1 input gradient,
// against the float64 references on shapes ragged in all three GEMM dimensions.
import { afterAll, describe, expect, it } from 'vitest';
import { checkGemmTile, defaultGemmTile, gemmTileStorage, type GemmTile } from '../src/kernels/conv2d-tiled.js';
import { conv2dBackwardInputRef, conv2dBackwardWeightRef, conv2dForwardRef, conv2dRefOutputSize, type Conv2dShape } from '../src/kernels/conv2d.ref.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const S = (N: number, C: number, H: number, W: number, K: number, R: number, stride: number, pad: number): Conv2dShape =>
  ({ N, C, H, W, K, R, stride, pad });
const name = (s: Conv2dShape): string => `N=${s.N} C=${s.C} ${s.H}x${s.W} K=${s.K} k${s.R} s${s.stride} p${s.pad}`;
const sizes = (s: Conv2dShape) => {
  const [OH, OW] = conv2dRefOutputSize(s);
  return { x: s.N * s.C * s.H * s.W, w: s.K * s.C * s.R * s.R, y: s.N * s.K * OH * OW, M: s.N * OH * OW };
};

// GEMM sizes M = N*OH*OW, columns K, reduction C*R*R: none a multiple of a tile or of the 16-row slice except where
// noted. One pixel and one channel; K past one 64-channel tile (70) and past KP's 16-rounding (K=17, 23); M past one
// 64- or 128-pixel tile (198, 256+); reduction shorter than a slice (C*R*R = 1, 4, 9) and past several (17*9 = 153);
// stride 2 on odd sizes, 1x1 and 3x3, pad 0 and 1, R=2.
const SHAPES: Conv2dShape[] = [
  S(1, 1, 1, 1, 1, 1, 1, 0),
  S(1, 1, 5, 7, 1, 3, 1, 1),
  S(2, 3, 5, 7, 5, 3, 2, 1),
  S(3, 5, 7, 5, 7, 1, 2, 0),
  S(1, 7, 6, 9, 13, 3, 1, 0),
  S(2, 4, 8, 8, 9, 1, 1, 0),
  S(2, 2, 6, 5, 3, 2, 2, 1),
  S(2, 17, 9, 11, 23, 3, 1, 1), // M = 198, reduction 153, K = 23 (32-channel tile)
  S(1, 9, 5, 9, 70, 1, 1, 0), // K = 70: two 64-channel tiles, the second 6 wide (KP = 80)
  S(3, 6, 11, 9, 17, 3, 2, 1), // stride 2, M = 90, K = 17
  S(1, 16, 16, 17, 33, 3, 1, 1), // M = 272 past four 64-pixel tiles, reduction exactly nine slices, K = 33
];

// The launcher's tiles for K <= 16 / <= 32 / larger, and odd ones: slices not a multiple of the threads' load rows
// (bk 5 with wgN 2 and wgM 3: loads loop twice and skip rows), one thread per channel group, a 1-thread workgroup.
const TILES: (GemmTile | undefined)[] = [undefined, { wgM: 16, wgN: 16, bk: 16 }, { wgM: 3, wgN: 2, bk: 5 }, { wgM: 8, wgN: 1, bk: 7 }, { wgM: 1, wgN: 1, bk: 1 }];
// Every shape with the launcher's default tile; the other tiles on the shapes that reach their edge cases (one pixel,
// stride 2 ragged, a 3x3 pad-0 reduction of 63 rows, 70 channels over two column tiles): each (tile, shape) is its own
// pipeline, ~3 s to compile on SwiftShader, and all of them took 189 s of npm test.
const SOME = [SHAPES[0], SHAPES[2], SHAPES[4], SHAPES[8]];
const shapesFor = (t?: GemmTile): Conv2dShape[] => (t ? SOME : SHAPES);
const tileName = (t?: GemmTile): string => (t ? `tile ${t.wgM}x${t.wgN}/${t.bk}` : 'default tile');

describe('conv2d v5 tile checks', () => {
  it('default tiles stay within WebGPU default limits (16384 bytes, 256 invocations)', () => {
    for (const K of [1, 16, 17, 32, 33, 128]) {
      const t = defaultGemmTile(K);
      expect(gemmTileStorage(t)).toBeLessThanOrEqual(16384);
      expect(t.wgM * t.wgN).toBeLessThanOrEqual(256);
      expect(() => checkGemmTile('k', t)).not.toThrow();
    }
    expect(gemmTileStorage({ wgM: 16, wgN: 16, bk: 16 })).toBe(16384);
  });

  it('rejects tiles over the limits, naming the limit and the fix', async () => {
    expect(() => checkGemmTile('conv2d_forward', { wgM: 16, wgN: 16, bk: 17 })).toThrow(
      'conv2d_forward: tile wgM=16 wgN=16 bk=17 needs 17408 bytes of workgroup memory, over WebGPU\'s default limit 16384: make bk or the tile smaller',
    );
    expect(() => checkGemmTile('k', { wgM: 32, wgN: 16, bk: 1 })).toThrow(/512 invocations, over WebGPU's default limit 256/);
    expect(() => checkGemmTile('k', { wgM: 0, wgN: 16, bk: 1 })).toThrow(/wgM=0 must be an integer >= 1/);
    await expect(runOp('conv2d_forward', { ...S(1, 2, 4, 4, 3, 3, 1, 1), version: 5, gemmTile: { wgM: 64, wgN: 8, bk: 4 } })).rejects.toThrow(
      /512 invocations/,
    );
  });
});

describe('conv2d_forward v5', () => {
  for (const t of TILES) {
    it(`${tileName(t)} matches the reference on ragged shapes`, async () => {
      for (const [i, s] of shapesFor(t).entries()) {
        const n = sizes(s);
        const x = randn(n.x, 100 + i), w = randn(n.w, 200 + i);
        const { y, tiled } = await runOp('conv2d_forward', { ...s, version: 5, gemmTile: t }, { x, w });
        expectClose(y, conv2dForwardRef(x, w, s), `v5 ${tileName(t)} ${name(s)}`, 1e-4, 1e-4);
        expect(tiled[0], `${name(s)} ran the tiled kernel`).toBe(1);
      }
    });
  }

  for (const beta of [0, 1]) {
    it(`accumulates into y with beta ${beta} (stride 2, ragged)`, async () => {
      const s = S(2, 3, 5, 7, 5, 3, 2, 1), n = sizes(s);
      const x = randn(n.x, 1), w = randn(n.w, 2), y0 = randn(n.y, 3);
      const { y } = await runOp('conv2d_forward', { ...s, version: 5, beta }, { x, w, y: y0 });
      expectClose(y, conv2dForwardRef(x, w, s, y0, beta), `beta ${beta} ${name(s)}`, 1e-4, 1e-4);
    });
  }
});

describe('conv2d_backward_input v5', () => {
  // Stride-1 shapes run as the v5 forward on dy with flipped weights; stride 2 falls back to v2 (like v3 / v4).
  for (const t of [undefined, { wgM: 3, wgN: 2, bk: 5 }]) {
    it(`${tileName(t)} matches the reference on ragged shapes`, async () => {
      for (const [i, s] of shapesFor(t).entries()) {
        const n = sizes(s);
        const dy = randn(n.y, 300 + i), w = randn(n.w, 400 + i);
        const { dx, tiled } = await runOp('conv2d_backward_input', { ...s, version: 5, gemmTile: t }, { dy, w });
        expectClose(dx, conv2dBackwardInputRef(dy, w, s), `v5 ${tileName(t)} ${name(s)}`, 1e-4, 1e-4);
        expect(tiled[0], `${name(s)} tiled`).toBe(s.stride === 1 ? 1 : 0);
      }
    });
  }

  for (const beta of [0, 1]) {
    it(`accumulates into dx with beta ${beta}`, async () => {
      const s = S(2, 5, 7, 9, 3, 3, 1, 1), n = sizes(s);
      const dy = randn(n.y, 5), w = randn(n.w, 6), dx0 = randn(n.x, 7);
      const { dx, tiled } = await runOp('conv2d_backward_input', { ...s, version: 5, beta }, { dy, w, dx: dx0 });
      expectClose(dx, conv2dBackwardInputRef(dy, w, s, dx0, beta), `beta ${beta} ${name(s)}`, 1e-4, 1e-4);
      expect(tiled[0]).toBe(1);
    });
  }
});

describe('conv2d_backward_weight tiled (split-K GEMM + the deterministic reduce)', () => {
  // N*OH*OW = 2178 pixels: several splits (chunks of whole 12- or 5-pixel slices), the last one ragged.
  const SPLIT_SHAPE = S(2, 2, 33, 33, 3, 3, 1, 1);
  for (const t of [undefined, { wgM: 16, wgN: 16, bk: 16 }, { wgM: 3, wgN: 2, bk: 5 }]) {
    it(`${tileName(t)} matches the reference on ragged shapes, and with a split reduction`, async () => {
      for (const [i, s] of [...shapesFor(t), SPLIT_SHAPE].entries()) {
        const n = sizes(s);
        const x = randn(n.x, 500 + i), dy = randn(n.y, 600 + i);
        const { dw, splits } = await runOp('conv2d_backward_weight_tiled', { ...s, gemmTile: t }, { x, dy });
        // Sums of up to 2178 products: the looser absolute tolerance of test/conv2d.test.ts's weight gradient.
        expectClose(dw, conv2dBackwardWeightRef(x, dy, s), `${tileName(t)} ${name(s)} splits=${splits[0]}`, 5e-4, 1e-4);
        if (s === SPLIT_SHAPE) expect(splits[0]).toBeGreaterThan(1);
      }
    });
  }

  it('accumulates into dw with beta 1', async () => {
    const s = SPLIT_SHAPE, n = sizes(s);
    const x = randn(n.x, 8), dy = randn(n.y, 9), dw0 = randn(n.w, 10);
    const { dw } = await runOp('conv2d_backward_weight_tiled', { ...s, beta: 1 }, { x, dy, dw: dw0 });
    expectClose(dw, conv2dBackwardWeightRef(x, dy, s, dw0, 1), `beta ${name(s)}`, 5e-4, 1e-4);
  });
});
