// conv2d_backward_weight, tiled (shaders/conv2d_wgrad_tiled.wgsl): the weight gradient as a split-K GEMM with
// workgroup-memory tiles, for GPUs, then the existing deterministic reduction pass (conv2d_backward_weight_reduce).
// Kept out of conv2d.ts (its own scratch shape, its own split rule) so the register-blocked rungs stay as they are;
// not chosen by the step.
import source from '../../shaders/conv2d_wgrad_tiled.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import { shapeStr, type Tensor } from '../gpu/tensor.js';
import { conv2dBackwardWeightReduceKernel, conv2dOutputSize, type Conv2dOptions, type Conv2dParams, type Conv2dWeightParams } from './conv2d.js';
import { checkGemmTile, tileLabel, type GemmTile } from './conv2d-tiled.js';

interface WgradTiledParams extends Conv2dParams {
  splits: number;
  chunk: number;
  gemmTile: GemmTile;
}

/** 64 output channels x 64 weight columns (16 x 16 threads, 4 x 4 each), slices of 16 pixels: 16384 bytes. With
 * K <= 32 (the stem and stage 1) 32 channels x 128 columns, so fewer threads hold channels past K. */
export function defaultWgradTile(K: number): GemmTile {
  return K <= 32 ? { wgM: 8, wgN: 32, bk: 12 } : { wgM: 16, wgN: 16, bk: 16 }; // 15360 / 16384 bytes
}

// Split-K: enough workgroups to fill a GPU (~512: a few per compute unit on large parts), chunks of at least 512
// pixels (shorter ones make pass 2 and the scratch grow for little), whole slices per chunk.
const TARGET_WORKGROUPS = 512;
const MIN_CHUNK = 512;

function split(P: number, K: number, CRR: number, t: GemmTile): { splits: number; chunk: number } {
  const tiles = ceilDiv(K, 4 * t.wgM) * ceilDiv(CRR, 4 * t.wgN);
  const splits = Math.max(1, Math.min(ceilDiv(TARGET_WORKGROUPS, tiles), ceilDiv(P, MIN_CHUNK)));
  const chunk = ceilDiv(ceilDiv(P, splits), t.bk) * t.bk;
  return { splits: ceilDiv(P, chunk), chunk }; // no empty split
}

/** Shape of the split-K partial sums: [splits, K*C*R*R]. x: [N,C,H,W], dy: [N,K,OH,OW]; `tile` as passed to
 * conv2dBackwardWeightTiled (default: defaultWgradTile(K)). */
export function conv2dBackwardWeightTiledScratchShape(x: readonly number[], dy: readonly number[], R: number, tile?: GemmTile): number[] {
  const K = dy[1], CRR = x[1] * R * R;
  const { splits } = split(dy[0] * dy[2] * dy[3], K, CRR, tile ?? defaultWgradTile(K));
  return [splits, K * CRR];
}

export const conv2dBackwardWeightTiledKernel: KernelDef<WgradTiledParams> = {
  name: 'conv2d_backward_weight',
  source,
  bindings: ['dy', 'x', 'partials'],
  constants: (p) => ({
    N: p.N, C: p.C, H: p.H, W: p.W, K: p.K, R: p.R, OH: p.OH, OW: p.OW, STRIDE: p.stride, PAD: p.pad,
    SPLITS: p.splits, CHUNK: p.chunk, WG_M: p.gemmTile.wgM, WG_N: p.gemmTile.wgN, BK: p.gemmTile.bk,
  }),
  entryPoint: () => 'main_wgrad_tiled',
  dispatch: (p) => grid1d(p.splits * ceilDiv(p.K, 4 * p.gemmTile.wgM) * ceilDiv(p.C * p.R * p.R, 4 * p.gemmTile.wgN)),
  flops: (p) => 2 * p.N * p.OH * p.OW * p.K * p.C * p.R * p.R,
};

/** dw[K,C,R,R] = weight gradient given x and dy (+ beta * dw): tiled split-K partials into `scratch`
 * (conv2dBackwardWeightTiledScratchShape), then the fixed-order sum (two dispatches; deterministic). */
export function conv2dBackwardWeightTiled(x: Tensor, dy: Tensor, dw: Tensor, scratch: Tensor,
  o: Conv2dOptions & { gemmTile?: GemmTile }): Dispatch[] {
  const k = 'conv2d_backward_weight';
  expectRank(k, 'x', x, 4, 'f32');
  expectRank(k, 'dy', dy, 4, 'f32');
  expectRank(k, 'dw', dw, 4, 'f32');
  const [N, C, H, W] = x.shape;
  const [K, , R] = dw.shape;
  if (R < 1 || R > 3) throw new Error(`${k}: argument 'dw' has shape ${shapeStr(dw.shape)}: kernel size ${R} is not supported (1, 2 or 3)`);
  if (!Number.isInteger(o.stride) || o.stride < 1) throw new Error(`${k}: stride ${o.stride} must be an integer >= 1`);
  if (!Number.isInteger(o.pad) || o.pad < 0) throw new Error(`${k}: pad ${o.pad} must be an integer >= 0`);
  expectShape(k, 'dw', dw, [K, C, R, R], 'f32');
  const [OH, OW] = conv2dOutputSize(H, W, R, o);
  if (OH < 1 || OW < 1) throw new Error(`${k}: input ${shapeStr(x.shape)} is smaller than the ${R}x${R} kernel with pad ${o.pad}`);
  expectShape(k, 'dy', dy, [N, K, OH, OW], 'f32');
  const gemmTile = o.gemmTile ?? defaultWgradTile(K);
  checkGemmTile(k, gemmTile);
  expectShape(k, 'scratch', scratch, conv2dBackwardWeightTiledScratchShape(x.shape, dy.shape, R, gemmTile), 'f32');
  const p: WgradTiledParams = {
    N, C, H, W, K, R, OH, OW, stride: o.stride, pad: o.pad, beta: o.beta ?? 0, version: 5,
    ...split(N * OH * OW, K, C * R * R, gemmTile), gemmTile,
  };
  const q: Conv2dWeightParams = { ...p, wgradVersion: 3, slide: false }; // the reduce pass reads K, C, R, SPLITS, BETA
  const shape = `N=${N} C=${C}->K=${K} ${H}x${W} k${R} s${o.stride} p${o.pad} splits=${p.splits} (tiles ${tileLabel(gemmTile)})`;
  return [
    makeDispatch(conv2dBackwardWeightTiledKernel, p, { dy, x, partials: scratch }, shape),
    makeDispatch(conv2dBackwardWeightReduceKernel, q, { partials: scratch, dw }, shape),
  ];
}
