import type { ForwardTile, RowTile } from '../../src/kernels/conv2d-tiles.js';
import { type ForwardVersion, type WgradVersion, conv2dBackwardWeightDyShape, conv2dBackwardInputPacked, conv2dPackedBackwardInputShape, conv2dForwardPacked, conv2dPackedForwardShape, conv2dBackwardInput, conv2dBackwardWeight, conv2dBackwardWeightScratchShape, conv2dForward, conv2dOutputSize, rowVectorsApply } from '../../src/kernels/conv2d.js';
import { conv2dBackwardWeightTiled, conv2dBackwardWeightTiledScratchShape } from '../../src/kernels/conv2d-wgrad-tiled.js';
import { random, type BenchCase } from './util.js';

export interface Conv { C: number; K: number; H: number; R: number; stride: number; what: string }

const BATCH = 64;

// Every distinct convolution of WRN-28-2 on 32x32 CIFAR (docs: /work/shared/spec/daso-reference.md §2.4): stem
// 3->16, stages of 32 / 64 / 128 channels with strides 1 / 2 / 2; 3x3 convs pad 1, 1x1 shortcuts pad 0 where the
// stride or the channel count changes (stage 1's first block goes 16->32, so it has a 1x1 shortcut too).
export const WRN_CONVS: Conv[] = [
  { C: 3, K: 16, H: 32, R: 3, stride: 1, what: 'stem' },
  { C: 16, K: 32, H: 32, R: 3, stride: 1, what: 'stage1 first' },
  { C: 16, K: 32, H: 32, R: 1, stride: 1, what: 'stage1 shortcut' },
  { C: 32, K: 32, H: 32, R: 3, stride: 1, what: 'stage1' },
  { C: 32, K: 64, H: 32, R: 3, stride: 2, what: 'stage2 first' },
  { C: 64, K: 64, H: 16, R: 3, stride: 1, what: 'stage2' },
  { C: 32, K: 64, H: 32, R: 1, stride: 2, what: 'stage2 shortcut' },
  { C: 64, K: 128, H: 16, R: 3, stride: 2, what: 'stage3 first' },
  { C: 128, K: 128, H: 8, R: 3, stride: 1, what: 'stage3' },
  { C: 64, K: 128, H: 16, R: 1, stride: 2, what: 'stage3 shortcut' },
];

const rowVectorShape = (c: Conv): boolean => rowVectorsApply({ R: c.R, stride: c.stride, pad: c.R === 3 ? 1 : 0, W: c.H });

function describe(c: Conv): string {
  const [OH] = conv2dOutputSize(c.H, c.H, c.R, { stride: c.stride, pad: c.R === 3 ? 1 : 0 });
  return `N=${BATCH} ${c.C}->${c.K} ${c.H}x${c.H}->${OH}x${OH} k${c.R} s${c.stride} p${c.R === 3 ? 1 : 0} (${c.what})`;
}

function shapes(c: Conv) {
  const o = { stride: c.stride, pad: c.R === 3 ? 1 : 0 };
  const [OH, OW] = conv2dOutputSize(c.H, c.H, c.R, o);
  return { o, x: [BATCH, c.C, c.H, c.H], w: [c.K, c.C, c.R, c.R], y: [BATCH, c.K, OH, OW] };
}

function forward(c: Conv, version: ForwardVersion = 4, tile?: ForwardTile | RowTile): BenchCase {
  return {
    kernel: `conv2d_forward.v${version}${tile ? `-${tile}` : ''}`,
    shape: describe(c),
    build(rt) {
      const s = shapes(c);
      if (version >= 2) {
        const packed = rt.tensor(conv2dPackedForwardShape(s.w), 'f32', 'packed');
        const v = version as 2 | 3 | 4 | 5;
        return conv2dForwardPacked(random(rt, s.x, 'x'), random(rt, s.w, 'w'), packed, rt.tensor(s.y, 'f32', 'y'), { ...s.o, version: v, ...(v === 4 ? { rowTile: tile as RowTile } : { tile: tile as ForwardTile }) });
      }
      if (version !== 0 && version !== 1) throw new Error('unreachable');
      return [conv2dForward(random(rt, s.x, 'x'), random(rt, s.w, 'w'), rt.tensor(s.y, 'f32', 'y'), { ...s.o, version })];
    },
  };
}

function backwardInput(c: Conv, version: 1 | 2 | 3 | 4 | 5 = 4, rowTile?: RowTile): BenchCase {
  return {
    kernel: `conv2d_backward_input.v${version}${rowTile ? `-${rowTile}` : ''}`,
    shape: describe(c),
    build(rt) {
      const s = shapes(c);
      if (version >= 2) {
        const packed = rt.tensor(conv2dPackedBackwardInputShape(s.w), 'f32', 'packed');
        const v = version as 2 | 3 | 4 | 5;
        return conv2dBackwardInputPacked(random(rt, s.y, 'dy'), random(rt, s.w, 'w'), packed, rt.tensor(s.x, 'f32', 'dx'), { ...s.o, version: v, rowTile });
      }
      return [conv2dBackwardInput(random(rt, s.y, 'dy'), random(rt, s.w, 'w'), rt.tensor(s.x, 'f32', 'dx'), s.o)];
    },
  };
}

function backwardWeight(c: Conv, version: WgradVersion = 3, slide = true): BenchCase {
  return {
    kernel: `conv2d_backward_weight.v${version}${slide ? '' : '-noslide'}`,
    shape: describe(c),
    build(rt) {
      const s = shapes(c);
      const scratch = rt.tensor(conv2dBackwardWeightScratchShape(s.x, s.y, c.R), 'f32', 'scratch');
      return conv2dBackwardWeight(random(rt, s.x, 'x'), random(rt, s.y, 'dy'), rt.tensor(s.w, 'f32', 'dw'), scratch, { ...s.o, version, slide, dyT: version === 3 ? rt.tensor(conv2dBackwardWeightDyShape(s.y), 'f32', 'dyT') : undefined });
    },
  };
}

/** The weight gradient as a split-K GEMM with workgroup-memory tiles (src/kernels/conv2d-wgrad-tiled.ts), for GPUs. */
function backwardWeightTiled(c: Conv): BenchCase {
  return {
    kernel: 'conv2d_backward_weight.tiled',
    shape: describe(c),
    build(rt) {
      const s = shapes(c);
      const scratch = rt.tensor(conv2dBackwardWeightTiledScratchShape(s.x, s.y, c.R), 'f32', 'scratch');
      return conv2dBackwardWeightTiled(random(rt, s.x, 'x'), random(rt, s.y, 'dy'), rt.tensor(s.w, 'f32', 'dw'), scratch, s.o);
    },
  };
}

export const conv2dCases: BenchCase[] = [
  // The ladder's first rung on the most common conv (stage 1), for the v0 -> v1 speed-up.
  forward(WRN_CONVS[3], 0),
  ...WRN_CONVS.map((c) => forward(c, 1)),
  ...WRN_CONVS.map((c) => forward(c, 2)),
  ...WRN_CONVS.map((c) => forward(c, 3)),
  // v4 where it applies (3x3 stride 1: stem, stage1, stage1 first, stage2, stage3); the other shapes would run v3.
  ...WRN_CONVS.filter(rowVectorShape).map((c) => forward(c, 4)),
  ...WRN_CONVS.filter(rowVectorShape).map((c) => forward(c, 4, '16x16')),
  // Both v3 blocks on every shape: the input of scripts/conv-tile-table.mjs.
  ...WRN_CONVS.map((c) => forward(c, 3, '16x8')),
  ...WRN_CONVS.map((c) => forward(c, 3, '8x16')),
  ...WRN_CONVS.map((c) => backwardInput(c, 1)),
  ...WRN_CONVS.map((c) => backwardInput(c, 2)),
  ...WRN_CONVS.map((c) => backwardInput(c, 3)),
  ...WRN_CONVS.filter(rowVectorShape).map((c) => backwardInput(c, 4)),
  ...WRN_CONVS.filter(rowVectorShape).map((c) => backwardInput(c, 4, '16x16')),
  // v5, workgroup-memory tiles for GPUs (default tile per K); on SwiftShader (a CPU) it is timed for the record only.
  ...WRN_CONVS.map((c) => forward(c, 5)),
  // The input gradient v5 on the stride-1 convs (stride 2 would run v2).
  ...WRN_CONVS.filter((c) => c.stride === 1).map((c) => backwardInput(c, 5)),
  ...WRN_CONVS.map((c) => backwardWeight(c, 1)),
  ...WRN_CONVS.map((c) => backwardWeight(c, 2)),
  // v3, v4, v5 of one shape next to each other, so an A/B run under a changing load compares them at the same time
  // (v5 has no 1x1 entry point: its 1x1 rows run v4's kernel, a free measure of the run-to-run noise).
  ...WRN_CONVS.flatMap((c) => [backwardWeight(c, 3), backwardWeight(c, 4), backwardWeight(c, 5)]),
  ...WRN_CONVS.map((c) => backwardWeightTiled(c)),

];

