// Global average pool launchers: shape checks, then a Dispatch of shaders/pool.wgsl.
import source from '../../shaders/pool.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';

export interface PoolParams {
  rows: number; // N*C
  hw: number; // H*W
}

const WG = 64;
const ITEMS = 16; // backward elements per thread (see shaders/elementwise.wgsl for the measurements)
const vec4 = (p: PoolParams) => p.hw % 4 === 0;

export const globalAvgPoolForwardDef: KernelDef<PoolParams> = {
  name: 'global_avg_pool_forward',
  source,
  bindings: ['x', 'y'],
  constants: (p) => ({ ROWS: p.rows, HW: p.hw, WG }),
  entryPoint: (p) => (vec4(p) ? 'forward_v4' : 'forward'),
  dispatch: (p) => grid1d(ceilDiv(p.rows, WG)),
  flops: (p) => p.rows * p.hw,
  bytes: (p) => 4 * p.rows * (p.hw + 1),
};

export const globalAvgPoolBackwardDef: KernelDef<PoolParams> = {
  name: 'global_avg_pool_backward',
  source,
  bindings: ['dy', 'dx'],
  constants: (p) => ({ ROWS: p.rows, HW: p.hw, WG, ITEMS }),
  entryPoint: (p) => (vec4(p) ? 'backward_v4' : 'backward'),
  dispatch: (p) => grid1d(ceilDiv(vec4(p) ? (p.rows * p.hw) / 4 : p.rows * p.hw, WG * ITEMS)),
  bytes: (p) => 4 * p.rows * (p.hw + 1),
};

/** y[n,c] = mean over h,w of x[n,c,h,w]. x: [N,C,H,W]; y: [N,C]. */
export function globalAvgPoolForward(x: Tensor, y: Tensor): Dispatch {
  const k = globalAvgPoolForwardDef.name;
  expectRank(k, 'x', x, 4, 'f32');
  const [N, C, H, W] = x.shape;
  expectShape(k, 'y', y, [N, C], 'f32');
  return makeDispatch(globalAvgPoolForwardDef, { rows: N * C, hw: H * W }, { x, y }, `N=${N} C=${C} ${H}x${W}`);
}

/** dx[n,c,h,w] = dy[n,c] / (H*W). dy: [N,C]; dx: [N,C,H,W] (overwritten). */
export function globalAvgPoolBackward(dy: Tensor, dx: Tensor): Dispatch {
  const k = globalAvgPoolBackwardDef.name;
  expectRank(k, 'dx', dx, 4, 'f32');
  const [N, C, H, W] = dx.shape;
  expectShape(k, 'dy', dy, [N, C], 'f32');
  return makeDispatch(globalAvgPoolBackwardDef, { rows: N * C, hw: H * W }, { dy, dx }, `N=${N} C=${C} ${H}x${W}`);
}
