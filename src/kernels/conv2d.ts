// conv2d launchers: shape checks, then Dispatches of shaders/conv2d.wgsl (forward) and shaders/conv2d_backward.wgsl
// (input gradient, weight gradient in two passes). NCHW f32, weights [K, C, R, R] (PyTorch layout), no bias.
import forwardSource from '../../shaders/conv2d.wgsl';
import backwardSource from '../../shaders/conv2d_backward.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Constants, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { forwardTile, ROW_TILE, type ForwardTile, type RowTile } from './conv2d-tiles.js';
import { checkGemmTile, conv2dForwardTiledKernel, defaultGemmTile, tileLabel, type GemmTile } from './conv2d-tiled.js';

export type ForwardVersion = 0 | 1 | 2 | 3 | 4 | 5;
export type WgradVersion = 1 | 2 | 3 | 4 | 5;
import { shapeStr } from '../gpu/tensor.js';

export interface Conv2dOptions {
  stride: number;
  pad: number;
  /** out += beta * old (0 default; 1 accumulates gradients). */
  beta?: number;
}

export interface Conv2dParams {
  N: number;
  C: number;
  H: number;
  W: number;
  K: number;
  R: number;
  OH: number;
  OW: number;
  stride: number;
  pad: number;
  beta: number;
  /** Forward only. 0: naive (one output per thread); 1: register-blocked 4 pixels x 8 channels; 2: 8 x 8 with
   * vec4 loads of packed weights (conv2dForwardPacked); 3: v2 with a 16x8 or 8x16 block from the tile table;
   * 4: row vectors for 3x3 stride-1 pad-1 convs with W % 4 == 0 (v3 for other shapes); 5: implicit GEMM with
   * workgroup-memory tiles, for GPUs (src/kernels/conv2d-tiled.ts). */
  version: ForwardVersion;
  /** v3's block (pixels x channels). */
  tile?: ForwardTile;
  /** v4's block: 8 or 16 pixels (2 or 4 row groups of 4) x 16 channels. */
  rowTile?: RowTile;
  /** conv2d_pack_weights only: pack the flipped, transposed weight (the input gradient run as a forward conv). */
  packFlipped?: boolean;
}

export interface Conv2dWeightParams extends Conv2dParams {
  splits: number;
  chunk: number;
  /** 1: 4 output channels per thread; 2: 8, with a sliding input window for 3x3 stride-1 convs; 3: v2 reading a
   * transposed dy (conv2dBackwardWeight with `dyT`); 4: 4-pixel vectors of dy and x (wgradVectorsApply shapes);
   * 5: v4 carrying x vectors along output rows (3x3; 1x1 runs v4). */
  wgradVersion: WgradVersion;
  slide: boolean;
}

const WG = 64;
// Per-thread blocks; must match the consts in the shaders.
const FWD_TM = 4, FWD_TN = 8;
const BWD_TM = 4, BWD_TN = 8;
const WGRAD_TK = 4, WGRAD_TCOL_MAX = 9;

function shapeConstants(p: Conv2dParams): Constants {
  return {
    N: p.N, C: p.C, H: p.H, W: p.W, K: p.K, R: p.R, OH: p.OH, OW: p.OW,
    STRIDE: p.stride, PAD: p.pad, BETA: p.beta, WG,
  };
}

const convFlops = (p: Conv2dParams): number => 2 * p.N * p.OH * p.OW * p.K * p.C * p.R * p.R;

export const conv2dForwardKernel: KernelDef<Conv2dParams> = {
  name: 'conv2d_forward',
  source: forwardSource,
  bindings: ['x', 'w', 'y'],
  constants: shapeConstants,
  entryPoint: (p) => (p.version === 0 ? 'main_v0' : 'main'),
  dispatch: (p) => grid1d(p.version === 0
    ? ceilDiv(p.N * p.K * p.OH * p.OW, WG)
    : ceilDiv(ceilDiv(p.N * p.OH * p.OW, FWD_TM) * ceilDiv(p.K, FWD_TN), WG)),
  flops: convFlops,
};

const TILE_DIMS: Record<ForwardTile, [number, number]> = { '8x8': [8, 8], '16x8': [16, 8], '8x16': [8, 16] };

/** v2 / v3 forward: reads the packed weights (conv2dPackWeightsForward) as vec4s; v2 is the 8x8 block. */
export const conv2dForwardV2Kernel: KernelDef<Conv2dParams> = {
  name: 'conv2d_forward',
  source: forwardSource,
  bindings: ['x', 'wp', 'y'],
  constants: shapeConstants,
  entryPoint: (p) => (p.version === 3 ? `main_v3_${p.tile ?? '16x8'}` : 'main_v2'),
  dispatch: (p) => {
    const [tm, tn] = TILE_DIMS[p.version === 3 ? p.tile ?? '16x8' : '8x8'];
    return grid1d(ceilDiv(ceilDiv(p.N * p.OH * p.OW, tm) * ceilDiv(p.K, tn), WG));
  },
  flops: convFlops,
};

/** v4: x read as aligned vec4 row pieces, 8 pixels x 16 channels. Only for shapes rowVectorsApply accepts. */
export const conv2dForwardV4Kernel: KernelDef<Conv2dParams> = {
  name: 'conv2d_forward',
  source: forwardSource,
  bindings: ['xv', 'wp', 'y'],
  constants: shapeConstants,
  entryPoint: (p) => `main_v4_${p.rowTile ?? ROW_TILE}`,
  dispatch: (p) => grid1d(ceilDiv(ceilDiv(p.N * p.OH * p.OW, (p.rowTile ?? ROW_TILE) === '16x16' ? 16 : 8) * ceilDiv(p.K, 16), WG)),
  flops: convFlops,
};

/** v4's shapes: 3x3, stride 1, pad 1 (so OH x OW = H x W) and W a multiple of 4 (aligned 4-pixel row groups). */
export function rowVectorsApply(p: Pick<Conv2dParams, 'R' | 'stride' | 'pad' | 'W'>): boolean {
  return p.R === 3 && p.stride === 1 && p.pad === 1 && p.W % 4 === 0;
}

/** wp[(c*R*R + tap) * KP + k] = w[k, c, tap], KP = K rounded up to 16 (zeros beyond K). */
export const conv2dPackForwardKernel: KernelDef<Conv2dParams> = {
  name: 'conv2d_pack_weights',
  source: forwardSource,
  bindings: ['w_src', 'wp_out'],
  constants: (p) => ({ C: p.C, K: p.K, R: p.R, WG, PACK_FLIPPED: p.packFlipped ? 1 : 0 }),
  entryPoint: () => 'main_pack_forward',
  dispatch: (p) => grid1d(ceilDiv(p.C * p.R * p.R * roundUp(p.K, 16), WG)),
  bytes: (p) => 8 * p.C * p.R * p.R * roundUp(p.K, 16),
};

const roundUp = (n: number, m: number): number => ceilDiv(n, m) * m;

/** Shape of the packed forward weights of a [K, C, R, R] weight. */
export function conv2dPackedForwardShape(w: readonly number[]): number[] {
  return [w[1] * w[2] * w[3], roundUp(w[0], 16)];
}

export const conv2dBackwardInputKernel: KernelDef<Conv2dParams> = {
  name: 'conv2d_backward_input',
  source: backwardSource,
  bindings: ['dy', 'w', 'dx'],
  constants: shapeConstants,
  entryPoint: () => 'main_backward_input',
  // Rows are the stride-parity classes padded to ceil(H/stride) x ceil(W/stride) (see the shader).
  dispatch: (p) => {
    const rows = p.stride * p.stride * p.N * ceilDiv(p.H, p.stride) * ceilDiv(p.W, p.stride);
    return grid1d(ceilDiv(ceilDiv(rows, BWD_TM) * ceilDiv(p.C, BWD_TN), WG));
  },
  flops: convFlops,
};

/** v2 input gradient: reads the packed weights (conv2dPackWeightsBackwardInput) as vec4s, 8 pixels x 8 channels. */
export const conv2dBackwardInputV2Kernel: KernelDef<Conv2dParams> = {
  name: 'conv2d_backward_input',
  source: backwardSource,
  bindings: ['dy', 'wq', 'dx'],
  constants: shapeConstants,
  entryPoint: () => 'main_backward_input_v2',
  dispatch: (p) => {
    const rows = p.stride * p.stride * p.N * ceilDiv(p.H, p.stride) * ceilDiv(p.W, p.stride);
    return grid1d(ceilDiv(ceilDiv(rows, 8) * ceilDiv(p.C, 8), WG));
  },
  flops: convFlops,
};

/** wq[(k*R*R + tap) * CP + c] = w[k, c, tap], CP = C rounded up to 8 (zeros beyond C). */
export const conv2dPackBackwardInputKernel: KernelDef<Conv2dParams> = {
  name: 'conv2d_pack_weights',
  source: backwardSource,
  bindings: ['w_src', 'wq_out'],
  constants: (p) => ({ C: p.C, K: p.K, R: p.R, WG }),
  entryPoint: () => 'main_pack_backward_input',
  dispatch: (p) => grid1d(ceilDiv(p.K * p.R * p.R * roundUp(p.C, 16), WG)),
  bytes: (p) => 8 * p.K * p.R * p.R * roundUp(p.C, 16),
};

/** Shape of the packed input-gradient weights of a [K, C, R, R] weight (v2 and v3 share it). */
export function conv2dPackedBackwardInputShape(w: readonly number[]): number[] {
  return [w[0] * w[2] * w[3], roundUp(w[1], 16)];
}

/** v3 input gradient of a stride-1 conv: the forward v3 kernel on dy with the flipped, transposed weight
 * (w'[c, k, kh, kw] = w[k, c, R-1-kh, R-1-kw]) and padding R-1-pad, which gives exactly dx's H x W. It has the
 * forward's larger blocks and none of the per-tap stride tests of v2. */
export const conv2dBackwardInputV3Kernel: KernelDef<Conv2dParams> = { ...conv2dForwardV2Kernel, name: 'conv2d_backward_input' };
/** v4 input gradient: v3 run as the forward v4 kernel where the flipped conv is one rowVectorsApply accepts. */
export const conv2dBackwardInputV4Kernel: KernelDef<Conv2dParams> = { ...conv2dForwardV4Kernel, name: 'conv2d_backward_input' };

/** v2's sliding-window row walk: 3x3 stride-1 convs (the chunk is then a whole number of output rows). */
const wgradRows = (p: { R: number; stride: number; slide: boolean }): boolean => p.slide && p.R === 3 && p.stride === 1;

const wgradChannelsPerThread = (R: number): number => Math.floor(WGRAD_TCOL_MAX / (R * R));

export const conv2dBackwardWeightKernel: KernelDef<Conv2dWeightParams> = {
  name: 'conv2d_backward_weight',
  source: backwardSource,
  bindings: ['dy', 'x', 'partials'],
  // BETA applies in pass 2 only: leaving it out keeps one pass-1 pipeline for accumulate and overwrite.
  constants: (p) => {
    const { BETA: _beta, ...rest } = shapeConstants(p);
    const c: Constants = { ...rest, SPLITS: p.splits, CHUNK: p.chunk };
    if (p.wgradVersion >= 2) c.ROWS = wgradRows(p) ? 1 : 0;
    return c;
  },
  entryPoint: (p) => (p.wgradVersion === 2 ? 'main_backward_weight_v2' : 'main_backward_weight'),
  dispatch: (p) => grid1d(ceilDiv(p.splits * ceilDiv(p.K, p.wgradVersion >= 2 ? 8 : WGRAD_TK) * ceilDiv(p.C, wgradChannelsPerThread(p.R)), WG)),
  flops: convFlops,
};

/** v3 pass 1: v2 reading dy from the transposed copy (two vec4 loads per pixel for its 8 output channels). */
export const conv2dBackwardWeightV3Kernel: KernelDef<Conv2dWeightParams> = {
  ...conv2dBackwardWeightKernel,
  bindings: ['dyt', 'x', 'partials'],
  entryPoint: () => 'main_backward_weight_v3',
};

/** v4 / v5 pass 1: dy and x read as aligned 4-pixel vectors (no transpose); v5 carries x vectors along output rows
 * (3x3 only: 1x1 convs run v4's entry point, which has nothing to carry). */
export const conv2dBackwardWeightV4Kernel: KernelDef<Conv2dWeightParams> = {
  ...conv2dBackwardWeightKernel,
  bindings: ['dyv', 'xv', 'partials'],
  entryPoint: (p) => (p.wgradVersion === 5 && p.R === 3 ? 'main_backward_weight_v5' : 'main_backward_weight_v4'),
};

/** v4 / v5's shapes: 3x3 pad 1 or 1x1 pad 0, stride 1 or 2, W and OW multiples of 4 (a group of 4 output pixels
 * lies in one row, and its dy and x rows are vec4-aligned). Every conv of WRN-28-2 on 32x32 qualifies. */
export function wgradVectorsApply(p: Pick<Conv2dParams, 'R' | 'stride' | 'pad' | 'W' | 'OW'>): boolean {
  return ((p.R === 3 && p.pad === 1) || (p.R === 1 && p.pad === 0)) && (p.stride === 1 || p.stride === 2)
    && p.W % 4 === 0 && p.OW % 4 === 0;
}

/** The weight-gradient rungs that can run a conv (for an autotuner): 1-3 always, 4 and 5 where wgradVectorsApply. */
export function conv2dBackwardWeightVersions(p: Pick<Conv2dParams, 'R' | 'stride' | 'pad' | 'W' | 'OW'>): WgradVersion[] {
  return wgradVectorsApply(p) ? [1, 2, 3, 4, 5] : [1, 2, 3];
}

/** dyt[(n*OH*OW + pixel) * KP + k] = dy[n, k, pixel], KP = K rounded up to 8 (zeros beyond K). */
export const conv2dTransposeDyKernel: KernelDef<Conv2dWeightParams> = {
  name: 'conv2d_transpose_dy',
  source: backwardSource,
  bindings: ['dy', 'dyt_out'],
  constants: (p) => ({ N: p.N, K: p.K, OH: p.OH, OW: p.OW, WG }),
  entryPoint: () => 'main_transpose_dy',
  dispatch: (p) => grid1d(ceilDiv(p.N * p.OH * p.OW * roundUp(p.K, 8), WG)),
  bytes: (p) => 4 * p.N * p.OH * p.OW * (p.K + roundUp(p.K, 8)),
};

/** Shape of the transposed dy conv2dBackwardWeight v3 reads: [N*OH*OW, K rounded up to 8]. dy: [N,K,OH,OW]. */
export function conv2dBackwardWeightDyShape(dy: readonly number[]): number[] {
  return [dy[0] * dy[2] * dy[3], roundUp(dy[1], 8)];
}

export const conv2dBackwardWeightReduceKernel: KernelDef<Conv2dWeightParams> = {
  name: 'conv2d_backward_weight_reduce',
  source: backwardSource,
  bindings: ['partials', 'dw'],
  constants: (p) => ({ K: p.K, C: p.C, R: p.R, SPLITS: p.splits, BETA: p.beta, WG }),
  entryPoint: () => 'main_backward_weight_reduce',
  dispatch: (p) => grid1d(ceilDiv(p.K * p.C * p.R * p.R, WG)),
  bytes: (p) => 4 * p.K * p.C * p.R * p.R * (p.splits + (p.beta ? 2 : 1)),
};

/** [OH, OW] = floor((H + 2*pad - R) / stride) + 1 (PyTorch's rule). */
export function conv2dOutputSize(H: number, W: number, R: number, o: Conv2dOptions): [number, number] {
  return [Math.floor((H + 2 * o.pad - R) / o.stride) + 1, Math.floor((W + 2 * o.pad - R) / o.stride) + 1];
}

/** Checks the options and the weight, returns the conv's sizes. R is limited to 1..3 because the weight-gradient
 * kernel keeps all of a channel's R*R taps in one thread's registers (WRN-28-2 uses 1x1 and 3x3). */
function convParams(kernel: string, xShape: readonly number[], w: Tensor, o: Conv2dOptions, version: ForwardVersion = 1, wArg = 'w'): Conv2dParams {
  expectRank(kernel, wArg, w, 4, 'f32');
  const [N, C, H, W] = xShape;
  const [K, , R] = w.shape;
  if (!Number.isInteger(o.stride) || o.stride < 1) throw new Error(`${kernel}: stride ${o.stride} must be an integer >= 1`);
  if (!Number.isInteger(o.pad) || o.pad < 0) throw new Error(`${kernel}: pad ${o.pad} must be an integer >= 0`);
  if (R < 1 || R > 3) throw new Error(`${kernel}: argument '${wArg}' has shape ${shapeStr(w.shape)}: kernel size ${R} is not supported (1, 2 or 3)`);
  expectShape(kernel, wArg, w, [K, C, R, R], 'f32');
  const [OH, OW] = conv2dOutputSize(H, W, R, o);
  if (OH < 1 || OW < 1) {
    throw new Error(`${kernel}: input ${shapeStr(xShape)} is smaller than the ${R}x${R} kernel with pad ${o.pad} (output ${OH}x${OW})`);
  }
  return { N, C, H, W, K, R, OH, OW, stride: o.stride, pad: o.pad, beta: o.beta ?? 0, version };
}

const describe = (p: Conv2dParams): string => `N=${p.N} C=${p.C}->K=${p.K} ${p.H}x${p.W} k${p.R} s${p.stride} p${p.pad}`;

/** y[N,K,OH,OW] = conv2d(x[N,C,H,W], w[K,C,R,R]) (+ beta * y). */
export function conv2dForward(x: Tensor, w: Tensor, y: Tensor, o: Conv2dOptions & { version?: 0 | 1 }): Dispatch {
  if ((o.version as number) > 1) throw new Error('conv2d_forward: versions 2 and 3 read packed weights: use conv2dForwardPacked');
  const k = 'conv2d_forward';
  expectRank(k, 'x', x, 4, 'f32');
  const p = convParams(k, x.shape, w, o, o.version ?? 1);
  expectShape(k, 'y', y, [p.N, p.K, p.OH, p.OW], 'f32');
  return makeDispatch(conv2dForwardKernel, p, { x, w, y }, describe(p));
}

/** v2 / v3 / v4 (default): [pack the weights, conv] (two dispatches). `packed` has conv2dPackedForwardShape(w.shape).
 * v4 applies to the shapes rowVectorsApply accepts; other shapes run v3. v3's block comes from the tile table
 * (src/kernels/conv2d-tiles.ts) unless `tile` is given. v5: workgroup-memory tiles (src/kernels/conv2d-tiled.ts, any
 * shape; `gemmTile` or the per-K default), not chosen by default. */
export function conv2dForwardPacked(x: Tensor, w: Tensor, packed: Tensor, y: Tensor,
  o: Conv2dOptions & { version?: 2 | 3 | 4 | 5; tile?: ForwardTile; rowTile?: RowTile; gemmTile?: GemmTile }): Dispatch[] {
  const k = 'conv2d_forward';
  expectRank(k, 'x', x, 4, 'f32');
  const p = convParams(k, x.shape, w, o, o.version ?? 4);
  if (p.version === 5) return forwardTiled(k, x, w, packed, y, p, o.gemmTile);
  if (p.version === 4 && !rowVectorsApply(p)) p.version = 3;
  if (p.version === 3) p.tile = o.tile ?? forwardTile(p);
  if (p.version === 4) p.rowTile = o.rowTile ?? ROW_TILE;
  expectShape(k, 'y', y, [p.N, p.K, p.OH, p.OW], 'f32');
  expectShape(k, 'packed', packed, conv2dPackedForwardShape(w.shape), 'f32');
  return [
    makeDispatch(conv2dPackForwardKernel, p, { w_src: w, wp_out: packed }, `[${w.shape.join(',')}]`),
    p.version === 4
      ? makeDispatch(conv2dForwardV4Kernel, p, { xv: x, wp: packed, y }, `${describe(p)} (row vectors ${p.rowTile})`)
      : makeDispatch(conv2dForwardV2Kernel, p, { x, wp: packed, y }, describe(p)),
  ];
}

/** v5 input gradient: the v5 forward on dy with flipped packed weights, like v3 / v4. */
const conv2dBackwardInputTiledKernel = { ...conv2dForwardTiledKernel, name: 'conv2d_backward_input' };

/** v5: [pack the weights, the workgroup-tile GEMM] (conv2d-tiled.ts); `y` is dx when run for the input gradient. */
function forwardTiled(k: string, x: Tensor, w: Tensor, packed: Tensor, y: Tensor, p: Conv2dParams, tile?: GemmTile,
  what = ''): Dispatch[] {
  const q = { ...p, gemmTile: tile ?? defaultGemmTile(p.K) };
  checkGemmTile(k, q.gemmTile);
  expectShape(k, what ? 'dx' : 'y', y, [p.N, p.K, p.OH, p.OW], 'f32');
  expectShape(k, 'packed', packed, conv2dPackedForwardShape([p.K, p.C, p.R, p.R]), 'f32');
  return [
    makeDispatch(conv2dPackForwardKernel, p, { w_src: w, wp_out: packed }, `[${w.shape.join(',')}]${what ? ' flipped' : ''}`),
    makeDispatch(what ? conv2dBackwardInputTiledKernel : conv2dForwardTiledKernel, q, { x, wp: packed, y }, `${describe(p)} (${what}tiles ${tileLabel(q.gemmTile)})`),
  ];
}

/** dx[N,C,H,W] = input gradient of the conv given dy[N,K,OH,OW] (+ beta * dx). */
export function conv2dBackwardInput(dy: Tensor, w: Tensor, dx: Tensor, o: Conv2dOptions): Dispatch {
  const k = 'conv2d_backward_input';
  expectRank(k, 'dx', dx, 4, 'f32');
  expectRank(k, 'dy', dy, 4, 'f32');
  const p = convParams(k, dx.shape, w, o);
  expectShape(k, 'dy', dy, [p.N, p.K, p.OH, p.OW], 'f32');
  return makeDispatch(conv2dBackwardInputKernel, p, { dy, w, dx }, describe(p));
}

/** v4 (default), v3 or v2: [pack the weights, input gradient] (two dispatches); `packed` has
 * conv2dPackedBackwardInputShape(w.shape). v3: stride-1 convs with pad <= R-1 run as the forward v3 kernel with
 * flipped weights (block from the tile table unless `tile` is given: the autotuner's choice); v4: the same with the
 * forward v4 kernel where it applies (3x3 pad 1, W % 4 == 0); v5: the same with the forward v5 workgroup-tile kernel
 * (for GPUs; `gemmTile` as in conv2dForwardPacked); others v2. */
export function conv2dBackwardInputPacked(dy: Tensor, w: Tensor, packed: Tensor, dx: Tensor,
  o: Conv2dOptions & { version?: 2 | 3 | 4 | 5; tile?: ForwardTile; rowTile?: RowTile; gemmTile?: GemmTile }): Dispatch[] {
  const k = 'conv2d_backward_input';
  expectRank(k, 'dx', dx, 4, 'f32');
  expectRank(k, 'dy', dy, 4, 'f32');
  const p = convParams(k, dx.shape, w, o);
  expectShape(k, 'dy', dy, [p.N, p.K, p.OH, p.OW], 'f32');
  expectShape(k, 'packed', packed, conv2dPackedBackwardInputShape(w.shape), 'f32');
  const version = o.version ?? 4;
  if (version >= 3 && p.stride === 1 && p.pad <= p.R - 1) {
    const f: Conv2dParams = {
      N: p.N, C: p.K, H: p.OH, W: p.OW, K: p.C, R: p.R, OH: p.H, OW: p.W, stride: 1, pad: p.R - 1 - p.pad,
      beta: p.beta, version: 3, packFlipped: true,
    };
    if (version === 5) return forwardTiled(k, dy, w, packed, dx, f, o.gemmTile, 'as forward, ');
    const pack = makeDispatch(conv2dPackForwardKernel, f, { w_src: w, wp_out: packed }, `[${w.shape.join(',')}] flipped`);
    if (version === 4 && rowVectorsApply(f)) {
      f.version = 4;
      f.rowTile = o.rowTile ?? ROW_TILE;
      return [pack, makeDispatch(conv2dBackwardInputV4Kernel, f, { xv: dy, wp: packed, y: dx }, `${describe(p)} (as forward, row vectors ${f.rowTile})`)];
    }
    f.tile = o.tile ?? forwardTile(f);
    return [pack, makeDispatch(conv2dBackwardInputV3Kernel, f, { x: dy, wp: packed, y: dx }, `${describe(p)} (as forward ${f.tile})`)];
  }
  return [
    makeDispatch(conv2dPackBackwardInputKernel, p, { w_src: w, wq_out: packed }, `[${w.shape.join(',')}]`),
    makeDispatch(conv2dBackwardInputV2Kernel, p, { dy, wq: packed, dx }, describe(p)),
  ];
}

// Split-K for the weight gradient: aim for ~16k threads in pass 1 (enough to fill a GPU), with chunks of 1024-4096
// reduction pixels (fewer splits would leave a GPU idle; more would make pass 2 and the scratch grow for nothing).
const WGRAD_TARGET_THREADS = 16384;
const WGRAD_MIN_CHUNK = 1024;
const WGRAD_MAX_CHUNK = 4096;

function wgradSplit(N: number, C: number, K: number, OH: number, OW: number, R: number): { splits: number; chunk: number } {
  const P = N * OH * OW;
  const tiles = ceilDiv(K, 8) * ceilDiv(C, wgradChannelsPerThread(R)); // v2's 8 channels per thread
  let splits = ceilDiv(WGRAD_TARGET_THREADS, tiles);
  splits = Math.max(splits, ceilDiv(P, WGRAD_MAX_CHUNK));
  splits = Math.max(1, Math.min(splits, ceilDiv(P, WGRAD_MIN_CHUNK)));
  let chunk = ceilDiv(P, splits);
  // 3x3: whole output rows per chunk, for the row walks of v2 / v3 (stride 1) and v5; else a multiple of 4 pixels,
  // for v4's 4-pixel groups (wgradVectorsApply makes OW a multiple of 4, so 3x3 rows are too). Both are harmless
  // to the other rungs, so the split, and the scratch shape, do not depend on the rung.
  chunk = R === 3 ? roundUp(chunk, OW) : roundUp(chunk, 4);
  return { splits: ceilDiv(P, chunk), chunk }; // no empty split
}

/** Shape of the split-K partial sums conv2dBackwardWeight needs: [splits, K*C*R*R]. x: [N,C,H,W], dy: [N,K,OH,OW]. */
export function conv2dBackwardWeightScratchShape(x: readonly number[], dy: readonly number[], R: number): number[] {
  const { splits } = wgradSplit(x[0], x[1], dy[1], dy[2], dy[3], R);
  return [splits, dy[1] * x[1] * R * R];
}

/** The default rung per shape, from SwiftShader at batch 64 (bench/README.md "Weight gradient v4 / v5"; the fastest
 * of 3 repetitions, over 3 runs beside other work, bench/results/kernels-wgrad-v5*-swiftshader-2026-12-02.json):
 * v5 on 3x3 stride-1 convs with rows of >= 32 pixels (stem 13 ms vs v3 34, stage1 first 136 vs 160, stage1 256 vs
 * 277); v4 on the other shapes it takes: 1x1 (stage1 shortcut 20 vs 76 ms, stage2 shortcut 29 vs 39; stage3
 * shortcut 36 vs 31, a tie within the noise), 3x3 stride 2 (stage2 first 176 vs 191, stage3 first 164 vs 191) and
 * the short-row stride-1 convs, where v5's per-row setup is spread over 2-4 groups and it loses (stage3 451 ms vs
 * v4 316, v3 313; stage2 v4 327, v3 290, within the noise). v4 needs no transposed dy. Other shapes: v3. */
export function conv2dBackwardWeightRule(p: Pick<Conv2dParams, 'R' | 'stride' | 'pad' | 'W' | 'OW'>): WgradVersion {
  if (!wgradVectorsApply(p)) return 3;
  return p.R === 3 && p.stride === 1 && p.OW >= 32 ? 5 : 4;
}

/** dw[K,C,R,R] = weight gradient given x and dy (+ beta * dw): split-K partials into `scratch`, then a fixed-order
 * sum (two or three dispatches; deterministic). `version` picks a rung (conv2dBackwardWeightVersions lists those a
 * shape can run); without it, conv2dBackwardWeightRule's, with v2 in place of v3 when no `dyT` is given. */
export function conv2dBackwardWeight(x: Tensor, dy: Tensor, dw: Tensor, scratch: Tensor,
  o: Conv2dOptions & { version?: WgradVersion; slide?: boolean; dyT?: Tensor }): Dispatch[] {
  const k = 'conv2d_backward_weight';
  expectRank(k, 'x', x, 4, 'f32');
  expectRank(k, 'dy', dy, 4, 'f32');
  const p = convParams(k, x.shape, dw, o, 1, 'dw');
  expectShape(k, 'dy', dy, [p.N, p.K, p.OH, p.OW], 'f32');
  expectShape(k, 'scratch', scratch, conv2dBackwardWeightScratchShape(x.shape, dy.shape, p.R), 'f32');
  let version = o.version ?? conv2dBackwardWeightRule(p);
  if (o.version === undefined && version === 3 && !o.dyT) version = 2;
  const q: Conv2dWeightParams = { ...p, ...wgradSplit(p.N, p.C, p.K, p.OH, p.OW, p.R), wgradVersion: version, slide: o.slide ?? true };
  const shape = `${describe(p)} splits=${q.splits}`;
  const reduce = makeDispatch(conv2dBackwardWeightReduceKernel, q, { partials: scratch, dw }, shape);
  if (version >= 4) {
    if (!wgradVectorsApply(p)) {
      throw new Error(`${k}: version ${version} reads 4-pixel vectors and needs a 3x3 pad-1 or 1x1 pad-0 conv of stride 1 or 2 with W and OW multiples of 4; ${describe(p)} OW=${p.OW} is not: use a version from conv2dBackwardWeightVersions (1, 2 or 3)`);
    }
    return [makeDispatch(conv2dBackwardWeightV4Kernel, q, { dyv: dy, xv: x, partials: scratch }, `${shape} v${version}`), reduce];
  }
  if (version === 3) {
    if (!o.dyT) throw new Error(`${k}: version 3 reads a transposed dy: pass 'dyT' of shape [${conv2dBackwardWeightDyShape(dy.shape).join(', ')}]`);
    expectShape(k, 'dyT', o.dyT, conv2dBackwardWeightDyShape(dy.shape), 'f32');
    return [
      makeDispatch(conv2dTransposeDyKernel, q, { dy, dyt_out: o.dyT }, `dy [${dy.shape.join(',')}]`),
      makeDispatch(conv2dBackwardWeightV3Kernel, q, { dyt: o.dyT, x, partials: scratch }, shape),
      reduce,
    ];
  }
  return [makeDispatch(conv2dBackwardWeightKernel, q, { dy, x, partials: scratch }, shape), reduce];
}
