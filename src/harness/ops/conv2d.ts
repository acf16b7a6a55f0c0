import {
  conv2dBackwardInput, conv2dBackwardInputPacked, conv2dBackwardWeight, conv2dBackwardWeightDyShape, conv2dBackwardWeightScratchShape, conv2dForward,
  conv2dForwardPacked, conv2dOutputSize, conv2dPackedBackwardInputShape, conv2dPackedForwardShape, type WgradVersion,
} from '../../kernels/conv2d.js';
import type { ForwardTile, RowTile } from '../../kernels/conv2d-tiles.js';
import type { GemmTile } from '../../kernels/conv2d-tiled.js';
import type { Runtime } from '../../gpu/runtime.js';
import type { Tensor } from '../../gpu/tensor.js';
import type { Dispatch } from '../../gpu/kernel.js';
import { input, readAll, releaseAll, type Inputs, type OpFn } from '../op-table.js';

interface ConvOpParams {
  N: number; C: number; H: number; W: number; K: number; R: number;
  stride: number; pad: number; beta?: number;
  /** Forward 0..5 (default 4), input gradient 1..5 (default 4), weight gradient 1..5 (default: the launcher's rule). */
  version?: number;
  tile?: ForwardTile;
  /** v4's block (forward and input gradient). */
  rowTile?: RowTile;
  /** v5's workgroup tile (forward and input gradient). */
  gemmTile?: GemmTile;
  /** Weight gradient v2: the sliding-window row walk for 3x3 stride 1 (default true). */
  slide?: boolean;
  /** Shape overrides (bad-input tests): tensors of these shapes are allocated instead of the consistent ones. */
  shapes?: Record<string, number[]>;
}

/** The named input uploaded when given (with its override shape if any), else an uninitialised tensor. */
function arg(rt: Runtime, inp: Inputs, p: ConvOpParams, name: string, shape: number[]): Tensor {
  const s = p.shapes?.[name] ?? shape;
  return inp[name] ? input(rt, inp, name, s) : rt.tensor(s, 'f32', name);
}

function shapes(p: ConvOpParams): { x: number[]; w: number[]; y: number[] } {
  const [OH, OW] = conv2dOutputSize(p.H, p.W, p.R, p);
  return { x: [p.N, p.C, p.H, p.W], w: [p.K, p.C, p.R, p.R], y: [p.N, p.K, OH, OW] };
}

/** 1 when the launch list ran the row-vector kernel (v4), so tests can check which rung a shape took. */
const rowVectorsRan = (ds: Dispatch[]): number => (ds.some((d) => d.entryPoint.startsWith('main_v4_')) ? 1 : 0);
/** 1 when the launch list ran the workgroup-tile kernel (v5). */
const tilesRan = (ds: Dispatch[]): number => (ds.some((d) => d.entryPoint === 'main_v5') ? 1 : 0);

export const conv2dOps: Record<string, OpFn> = {
  async conv2d_forward(rt, p: ConvOpParams, inp) {
    const s = shapes(p);
    const x = arg(rt, inp, p, 'x', s.x), w = arg(rt, inp, p, 'w', s.w), y = arg(rt, inp, p, 'y', s.y);
    try {
      const o = { stride: p.stride, pad: p.pad, beta: p.beta };
      const v = p.version ?? 4;
      if (v === 0 || v === 1) {
        await rt.run(conv2dForward(x, w, y, { ...o, version: v }));
        return await readAll(rt, { y });
      }
      const packed = rt.tensor(conv2dPackedForwardShape(w.shape), 'f32', 'packed');
      let ds: Dispatch[];
      try {
        ds = conv2dForwardPacked(x, w, packed, y, { ...o, version: v as 2 | 3 | 4 | 5, tile: p.tile, rowTile: p.rowTile, gemmTile: p.gemmTile });
        await rt.run(...ds);
      } finally {
        packed.release();
      }
      return { ...(await readAll(rt, { y })), rowVectors: [rowVectorsRan(ds)], tiled: [tilesRan(ds)] };
    } finally {
      releaseAll(x, w, y);
    }
  },

  async conv2d_backward_input(rt, p: ConvOpParams, inp) {
    const s = shapes(p);
    const dy = arg(rt, inp, p, 'dy', s.y), w = arg(rt, inp, p, 'w', s.w), dx = arg(rt, inp, p, 'dx', s.x);
    try {
      const o = { stride: p.stride, pad: p.pad, beta: p.beta };
      const v = p.version ?? 4;
      const packed = v === 1 ? undefined : rt.tensor(conv2dPackedBackwardInputShape(w.shape), 'f32', 'packed');
      let ds: Dispatch[];
      try {
        ds = packed
          ? conv2dBackwardInputPacked(dy, w, packed, dx, { ...o, version: v as 2 | 3 | 4 | 5, rowTile: p.rowTile, gemmTile: p.gemmTile })
          : [conv2dBackwardInput(dy, w, dx, o)];
        await rt.run(...ds);
      } finally {
        packed?.release();
      }
      return { ...(await readAll(rt, { dx })), rowVectors: [rowVectorsRan(ds)], tiled: [tilesRan(ds)] };
    } finally {
      releaseAll(dy, w, dx);
    }
  },

  /** Returns dw and the split count used (`splits`, from the scratch shape). */
  async conv2d_backward_weight(rt, p: ConvOpParams, inp) {
    const s = shapes(p);
    const x = arg(rt, inp, p, 'x', s.x), dy = arg(rt, inp, p, 'dy', s.y), dw = arg(rt, inp, p, 'dw', s.w);
    const scratch = arg(rt, inp, p, 'scratch', conv2dBackwardWeightScratchShape(x.shape, dy.shape, p.R));
    try {
      // No version: the launcher's rule (given a dyT, so a rule choosing v3 can run it).
      const version = p.version as WgradVersion | undefined;
      const dyT = version === undefined || version === 3 ? rt.tensor(conv2dBackwardWeightDyShape(dy.shape), 'f32', 'dyT') : undefined;
      let ds: Dispatch[];
      try {
        ds = conv2dBackwardWeight(x, dy, dw, scratch, { stride: p.stride, pad: p.pad, beta: p.beta, version, slide: p.slide, dyT });
        await rt.run(...ds);
      } finally {
        dyT?.release();
      }
      // The rung whose pass-1 entry point ran (main_backward_weight = 1, main_backward_weight_vN = N).
      const pass1 = ds.find((d) => d.entryPoint.startsWith('main_backward_weight') && !d.entryPoint.endsWith('_reduce'))!;
      const ran = Number(/_v(\d)$/.exec(pass1.entryPoint)?.[1] ?? 1);
      return { ...(await readAll(rt, { dw })), splits: [scratch.shape[0]], ran: [ran] };
    } finally {
      releaseAll(x, dy, dw, scratch);
    }
  },
};
