// softmax_forward / log_softmax_forward launchers: shape checks, then a Dispatch of shaders/softmax.wgsl.
import source from '../../shaders/softmax.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';

export interface RowParams {
  B: number;
  K: number;
}

const WG = 64;

function rowKernel(name: string, entryPoint: string, flopsPerElem: number): KernelDef<RowParams> {
  return {
    name,
    source,
    bindings: ['x', 'y'],
    constants: (p) => ({ B: p.B, K: p.K, WG }),
    entryPoint: () => entryPoint,
    dispatch: (p) => grid1d(ceilDiv(p.B, WG)),
    // Counted per element: max, subtract, exp, add, scale (exp counted as one operation).
    flops: (p) => flopsPerElem * p.B * p.K,
    bytes: (p) => 8 * p.B * p.K,
  };
}

export const softmaxForwardDef = rowKernel('softmax_forward', 'softmax', 5);
export const logSoftmaxForwardDef = rowKernel('log_softmax_forward', 'log_softmax', 5);

/** Checks x [B,K] f32 and y of the same shape (a distinct buffer: storage read and read_write may not alias). */
export function checkRows(kernel: string, x: Tensor, y: Tensor, xName = 'x', yName = 'y'): RowParams {
  expectRank(kernel, xName, x, 2, 'f32');
  expectShape(kernel, yName, y, x.shape, 'f32');
  if (x.buffer === y.buffer) throw new Error(`${kernel}: arguments '${xName}' and '${yName}' share a buffer (in place is not supported)`);
  return { B: x.shape[0], K: x.shape[1] };
}

/** y = softmax(x) along rows; x, y: [B,K] f32. */
export function softmaxForward(x: Tensor, y: Tensor): Dispatch {
  const p = checkRows('softmax_forward', x, y);
  return makeDispatch(softmaxForwardDef, p, { x, y }, `B=${p.B} K=${p.K}`);
}

/** y = log_softmax(x) along rows; x, y: [B,K] f32. */
export function logSoftmaxForward(x: Tensor, y: Tensor): Dispatch {
  const p = checkRows('log_softmax_forward', x, y);
  return makeDispatch(logSoftmaxForwardDef, p, { x, y }, `B=${p.B} K=${p.K}`);
}
