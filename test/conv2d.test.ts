import { afterAll, describe, expect, it } from 'vitest';
import {
  conv2dBackwardWeightRule, conv2dBackwardWeightScratchShape, conv2dBackwardWeightVersions, conv2dOutputSize, wgradVectorsApply,
} from '../src/kernels/conv2d.js';
import {
  conv2dBackwardInputRef, conv2dBackwardWeightRef, conv2dForwardRef, conv2dRefOutputSize, type Conv2dShape,
} from '../src/kernels/conv2d.ref.js';
import { expectClose, randn } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

const S = (N: number, C: number, H: number, W: number, K: number, R: number, stride: number, pad: number): Conv2dShape =>
  ({ N, C, H, W, K, R, stride, pad });
const name = (s: Conv2dShape): string => `N=${s.N} C=${s.C} ${s.H}x${s.W} K=${s.K} k${s.R} s${s.stride} p${s.pad}`;
const sizes = (s: Conv2dShape) => {
  const [OH, OW] = conv2dRefOutputSize(s);
  return { x: s.N * s.C * s.H * s.W, w: s.K * s.C * s.R * s.R, y: s.N * s.K * OH * OW };
};

// Ragged shapes: N, C, K = 1 and primes (not multiples of the 4-pixel / 4- or 8-channel thread blocks), odd H x W,
// stride 2 on odd sizes (unequal parity classes in dgrad), 1x1 and 3x3, pad 0 and 1, and outputs of one pixel.
const SHAPES: Conv2dShape[] = [
  S(1, 1, 1, 1, 1, 1, 1, 0),
  S(1, 1, 5, 7, 1, 3, 1, 1),
  S(2, 3, 5, 7, 5, 3, 2, 1),
  S(3, 5, 7, 5, 7, 1, 2, 0),
  S(1, 7, 6, 9, 13, 3, 1, 0),
  S(2, 4, 8, 8, 9, 1, 1, 0),
  S(2, 6, 9, 11, 5, 3, 2, 0),
  S(1, 2, 2, 3, 3, 3, 2, 1),
  S(1, 3, 3, 3, 1, 3, 1, 1),
  S(2, 2, 6, 5, 3, 2, 2, 1), // R=2 (even kernel; the family allows R <= 3)
  S(2, 17, 6, 5, 19, 3, 1, 1), // C, K past one 8- and 16-wide block (packed weights, v2/v3 blocks)
  S(1, 9, 5, 9, 23, 1, 1, 0),
  // Row-vector shapes (v4: 3x3, stride 1, pad 1, W % 4 == 0): K past a 16-channel block; W = 4 (both image edges
  // in one 4-pixel group) with N*H*W % 8 == 4 (the thread's second group clamped); H = 1 (rows above and below).
  S(3, 5, 4, 8, 17, 3, 1, 1),
  S(1, 2, 3, 4, 1, 3, 1, 1),
  S(2, 3, 1, 12, 7, 3, 1, 1),
];
// Which shapes the row-vector rung (v4) takes; forward and input gradient alike (the flipped conv of a 3x3 pad-1
// stride-1 conv is again 3x3 pad 1 stride 1 on dy, whose width is W).
const rowVectorShape = (s: Conv2dShape): boolean => s.R === 3 && s.stride === 1 && s.pad === 1 && s.W % 4 === 0;
// Large enough reduction (N*OH*OW = 2*33*33) that the weight gradient splits it, with a ragged last chunk.
const SPLIT_SHAPE = S(2, 2, 33, 33, 3, 3, 1, 1);

const opParams = (s: Conv2dShape, extra: object = {}) => ({ ...s, ...extra });

describe('conv2d references (float64, Node)', () => {
  it('conv2dOutputSize matches the reference rule', () => {
    for (const s of [...SHAPES, SPLIT_SHAPE]) {
      expect(conv2dOutputSize(s.H, s.W, s.R, s)).toEqual(conv2dRefOutputSize(s));
    }
    expect(conv2dOutputSize(32, 32, 3, { stride: 2, pad: 1 })).toEqual([16, 16]);
    expect(conv2dOutputSize(32, 32, 1, { stride: 2, pad: 0 })).toEqual([16, 16]);
  });

  // L = sum(y * g) with y = conv(x, w): dL/dx = backward_input(g, w), dL/dw = backward_weight(x, g).
  // Central differences of the forward reference, every element, eps 1e-6 in float64.
  for (const s of [S(2, 3, 5, 7, 4, 3, 2, 1), S(1, 2, 6, 5, 3, 3, 1, 0), S(2, 3, 5, 4, 2, 1, 2, 0), S(1, 2, 4, 4, 3, 3, 1, 1)]) {
    it(`backward references match finite differences of the forward: ${name(s)}`, () => {
      const n = sizes(s);
      const x = Float64Array.from(randn(n.x, 11)), w = Float64Array.from(randn(n.w, 12)), g = Float64Array.from(randn(n.y, 13));
      const loss = (xx: Float64Array, ww: Float64Array): number => {
        const y = conv2dForwardRef(xx, ww, s);
        let l = 0;
        for (let i = 0; i < y.length; i++) l += y[i] * g[i];
        return l;
      };
      const eps = 1e-6;
      const fd = (v: Float64Array, f: () => number): Float64Array => {
        const out = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const v0 = v[i];
          v[i] = v0 + eps; const lp = f();
          v[i] = v0 - eps; const lm = f();
          v[i] = v0;
          out[i] = (lp - lm) / (2 * eps);
        }
        return out;
      };
      expectClose(conv2dBackwardInputRef(g, w, s), fd(x, () => loss(x, w)), `dx ${name(s)}`, 1e-6, 1e-6);
      expectClose(conv2dBackwardWeightRef(x, g, s), fd(w, () => loss(x, w)), `dw ${name(s)}`, 1e-6, 1e-6);
    });
  }

  it('splits the weight-gradient reduction for large N*OH*OW', () => {
    const [OH, OW] = conv2dRefOutputSize(SPLIT_SHAPE);
    const [splits, cols] = conv2dBackwardWeightScratchShape([2, 2, 33, 33], [2, 3, OH, OW], 3);
    expect(cols).toBe(3 * 2 * 9);
    expect(splits).toBeGreaterThan(1);
    // WRN-28-2 stage 1 at batch 64: 65536 reduction pixels in chunks of at most 4096.
    expect(conv2dBackwardWeightScratchShape([64, 32, 32, 32], [64, 32, 32, 32], 3)[0]).toBeGreaterThanOrEqual(16);
  });
});

describe('conv2d_forward', () => {
  // Every rung of the ladder; v3 with both blocks and with the tile table's choice (no tile given).
  const VERSIONS: { version: number; tile?: string; rowTile?: string }[] = [
    { version: 0 }, { version: 1 }, { version: 2 }, { version: 3, tile: '16x8' }, { version: 3, tile: '8x16' }, { version: 3 },
    { version: 4, rowTile: '8x16' }, { version: 4, rowTile: '16x16' }, { version: 4 },
  ];
  for (const v of VERSIONS) {
    const label = `v${v.version}${v.tile ? `-${v.tile}` : ''}${v.rowTile ? `-${v.rowTile}` : ''}`;
    it(`${label} matches the reference on ragged shapes`, async () => {
      for (const [i, s] of SHAPES.entries()) {
        const n = sizes(s);
        const x = randn(n.x, 100 + i), w = randn(n.w, 200 + i);
        const { y, rowVectors } = await runOp('conv2d_forward', opParams(s, v), { x, w });
        expectClose(y, conv2dForwardRef(x, w, s), `${label} ${name(s)}`, 1e-4, 1e-4);
        if (v.version >= 2) expect(rowVectors[0], `${label} ${name(s)} row vectors`).toBe(v.version === 4 && rowVectorShape(s) ? 1 : 0);
      }
    });

    it(`${label} accumulates with beta`, async () => {
      // v4 on a shape it takes (row vectors), the others on a stride-2 shape.
      const s = v.version === 4 ? S(2, 3, 5, 8, 5, 3, 1, 1) : S(2, 3, 5, 7, 5, 3, 2, 1), n = sizes(s);
      const x = randn(n.x, 1), w = randn(n.w, 2), y0 = randn(n.y, 3);
      const { y } = await runOp('conv2d_forward', opParams(s, { ...v, beta: 0.5 }), { x, w, y: y0 });
      expectClose(y, conv2dForwardRef(x, w, s, y0, 0.5), `beta ${name(s)}`, 1e-4, 1e-4);
    });
  }

  it('rejects a channel mismatch and a wrong output shape, naming kernel, argument and shapes', async () => {
    const s = S(2, 3, 5, 7, 4, 3, 1, 1);
    await expect(runOp('conv2d_forward', opParams(s, { shapes: { w: [4, 2, 3, 3] } }))).rejects.toThrow(
      "conv2d_forward: argument 'w' has shape [4, 2, 3, 3], expected [4, 3, 3, 3]",
    );
    await expect(runOp('conv2d_forward', opParams(s, { shapes: { y: [2, 4, 5, 5] } }))).rejects.toThrow(
      "conv2d_forward: argument 'y' has shape [2, 4, 5, 5], expected [2, 4, 5, 7]",
    );
    await expect(runOp('conv2d_forward', opParams(s, { shapes: { w: [4, 3, 5, 5] } }))).rejects.toThrow(/kernel size 5 is not supported/);
    await expect(runOp('conv2d_forward', opParams(s, { stride: 0, shapes: { y: [2, 4, 5, 7] } }))).rejects.toThrow(/stride 0 must be an integer >= 1/);
  });
});

describe('conv2d_backward_input', () => {
  // v3 runs stride-1 convs as a forward conv with flipped weights and falls back to v2 for stride 2; v4 is v3 with
  // the forward's row-vector kernel where it applies.
  for (const version of [1, 2, 3, 4]) {
    it(`v${version} matches the reference on ragged shapes (stride 2 parity classes included)`, async () => {
      for (const [i, s] of SHAPES.entries()) {
        const n = sizes(s);
        const dy = randn(n.y, 300 + i), w = randn(n.w, 400 + i);
        const { dx, rowVectors } = await runOp('conv2d_backward_input', opParams(s, { version }), { dy, w });
        expectClose(dx, conv2dBackwardInputRef(dy, w, s), `v${version} ${name(s)}`, 1e-4, 1e-4);
        expect(rowVectors[0], `v${version} ${name(s)} row vectors`).toBe(version === 4 && rowVectorShape(s) ? 1 : 0);
      }
    });

    it(`v${version} accumulates with beta`, async () => {
      const s = version === 4 ? S(2, 5, 7, 8, 3, 3, 1, 1) : S(2, 5, 7, 9, 3, 3, 2, 1), n = sizes(s);
      const dy = randn(n.y, 5), w = randn(n.w, 6), dx0 = randn(n.x, 7);
      const { dx } = await runOp('conv2d_backward_input', opParams(s, { version, beta: 1 }), { dy, w, dx: dx0 });
      expectClose(dx, conv2dBackwardInputRef(dy, w, s, dx0, 1), `beta ${name(s)}`, 1e-4, 1e-4);
    });
  }

  it('v4 with the 16x16 row block matches the reference on the row-vector shapes', async () => {
    for (const [i, s] of SHAPES.entries()) {
      if (!rowVectorShape(s)) continue;
      const n = sizes(s);
      const dy = randn(n.y, 300 + i), w = randn(n.w, 400 + i);
      const { dx, rowVectors } = await runOp('conv2d_backward_input', opParams(s, { version: 4, rowTile: '16x16' }), { dy, w });
      expectClose(dx, conv2dBackwardInputRef(dy, w, s), `v4-16x16 ${name(s)}`, 1e-4, 1e-4);
      expect(rowVectors[0]).toBe(1);
    }
  });

  it('rejects a dy of the wrong shape', async () => {
    const s = S(2, 3, 5, 7, 4, 3, 2, 1);
    await expect(runOp('conv2d_backward_input', opParams(s, { shapes: { dy: [2, 4, 5, 7] } }))).rejects.toThrow(
      "conv2d_backward_input: argument 'dy' has shape [2, 4, 5, 7], expected [2, 4, 3, 4]",
    );
  });
});

// Shapes v4 / v5 take (wgradVectorsApply: 3x3 pad 1 or 1x1 pad 0, stride 1 or 2, W and OW multiples of 4), ragged
// otherwise: odd N, C, K past the 8-channel and 9-column blocks, odd H (stride 2: the last kernel row falls in the
// bottom padding), one and several 4-pixel groups per row; the last four split the reduction (2-5 splits, ragged last
// chunk, stride-2 chunks that cross an image boundary).
const VEC_SHAPES: Conv2dShape[] = [
  S(3, 5, 7, 8, 11, 3, 2, 1),
  S(2, 3, 7, 16, 13, 3, 2, 1),
  S(3, 19, 3, 4, 17, 3, 1, 1),
  S(2, 7, 5, 8, 9, 1, 2, 0),
  S(1, 10, 3, 12, 5, 1, 1, 0),
  S(2, 2, 33, 32, 3, 3, 1, 1),
  S(3, 2, 45, 64, 3, 3, 2, 1),
  S(2, 3, 33, 64, 5, 1, 1, 0),
  S(2, 3, 33, 64, 5, 1, 2, 0),
];
const vectorShape = (s: Conv2dShape): boolean => wgradVectorsApply({ ...s, OW: conv2dRefOutputSize(s)[1] });

describe('conv2d_backward_weight', () => {
  // v2 with the sliding-window row walk (3x3 stride 1: SPLIT_SHAPE and others) and without it; v4 / v5 on the shapes
  // they take (the others must be refused, naming the rungs that can run them).
  const VERSIONS = [{ version: 1 }, { version: 2 }, { version: 2, slide: false }, { version: 3 }, { version: 3, slide: false }, { version: 4 }, { version: 5 }];
  for (const v of VERSIONS) {
    const label = `v${v.version}${v.slide === false ? ' (no sliding window)' : ''}`;
    it(`${label} matches the reference on ragged shapes, and with a split reduction`, async () => {
      let ran = 0;
      for (const [i, s] of [...SHAPES, SPLIT_SHAPE, ...VEC_SHAPES].entries()) {
        const n = sizes(s);
        const x = randn(n.x, 500 + i), dy = randn(n.y, 600 + i);
        if (v.version >= 4 && !vectorShape(s)) {
          await expect(runOp('conv2d_backward_weight', opParams(s, v), { x, dy }), name(s)).rejects.toThrow(/4-pixel vectors .* use a version from conv2dBackwardWeightVersions/);
          continue;
        }
        const res = await runOp('conv2d_backward_weight', opParams(s, v), { x, dy });
        // Sums of up to 4224 products: a looser absolute tolerance than the short reductions above.
        expectClose(res.dw, conv2dBackwardWeightRef(x, dy, s), `${label} ${name(s)} splits=${res.splits[0]}`, 5e-4, 1e-4);
        if (s === SPLIT_SHAPE || VEC_SHAPES.indexOf(s) >= 5) expect(res.splits[0], name(s)).toBeGreaterThan(1);
        // v5 has no 1x1 entry point: it runs v4's.
        expect(res.ran[0], name(s)).toBe(v.version === 5 && s.R === 1 ? 4 : v.version);
        ran++;
      }
      expect(ran).toBeGreaterThanOrEqual(v.version >= 4 ? 11 : 25);
    });

    it(`${label} accumulates with beta`, async () => {
      // v4 / v5: a split 3x3 stride-2 shape and a split 1x1 one.
      for (const s of v.version >= 4 ? [VEC_SHAPES[6], VEC_SHAPES[8]] : [SPLIT_SHAPE]) {
        const n = sizes(s);
        const x = randn(n.x, 8), dy = randn(n.y, 9), dw0 = randn(n.w, 10);
        const { dw } = await runOp('conv2d_backward_weight', opParams(s, { ...v, beta: 1 }), { x, dy, dw: dw0 });
        expectClose(dw, conv2dBackwardWeightRef(x, dy, s, dw0, 1), `beta ${label} ${name(s)}`, 5e-4, 1e-4);
      }
    });
  }

  it('without a version runs the rule\'s rung, and lists v4 / v5 only for the shapes they take', async () => {
    const seen = new Set<number>();
    for (const [i, s] of [SHAPES[1], SHAPES[3], ...VEC_SHAPES.slice(0, 6)].entries()) {
      const OW = conv2dRefOutputSize(s)[1];
      const n = sizes(s);
      const x = randn(n.x, 700 + i), dy = randn(n.y, 800 + i);
      const res = await runOp('conv2d_backward_weight', opParams(s), { x, dy });
      expectClose(res.dw, conv2dBackwardWeightRef(x, dy, s), `rule ${name(s)}`, 5e-4, 1e-4);
      expect(res.ran[0], name(s)).toBe(conv2dBackwardWeightRule({ ...s, OW }));
      expect(conv2dBackwardWeightVersions({ ...s, OW })).toEqual(vectorShape(s) ? [1, 2, 3, 4, 5] : [1, 2, 3]);
      seen.add(res.ran[0]);
    }
    expect([...seen].sort()).toEqual([3, 4, 5]); // the shapes cover all three of the rule's choices
  });

  it('rejects a channel mismatch between x and dw, and a wrong scratch', async () => {
    const s = S(2, 3, 5, 7, 4, 3, 1, 1);
    await expect(runOp('conv2d_backward_weight', opParams(s, { shapes: { x: [2, 5, 5, 7] } }))).rejects.toThrow(
      "conv2d_backward_weight: argument 'dw' has shape [4, 3, 3, 3], expected [4, 5, 3, 3]",
    );
    await expect(runOp('conv2d_backward_weight', opParams(s, { shapes: { scratch: [1, 10] } }))).rejects.toThrow(
      "conv2d_backward_weight: argument 'scratch' has shape [1, 10], expected [1, 108]",
    );
  });
});
