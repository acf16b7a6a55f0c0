// Elementwise launchers (leaky relu, add, axpy, fill, copy): shape checks, then a Dispatch of shaders/elementwise.wgsl.
// Memory-bound: each record reports bytes moved so the bench prints GB/s; sizes that are a multiple of 4 run the
// vec4 entry points.
import source from '../../shaders/elementwise.wgsl';
import { ceilDiv, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';

export interface ElementwiseParams {
  /** Elements. */
  n: number;
  /** Use the vec4 entry point (n % 4 == 0). */
  vec4: boolean;
  /** The op's scalar (SLOPE, ALPHA or VALUE), if it has one. */
  scalar?: number;
  /** Elements per thread (default ITEMS; tests use 1 to reach the grid1d fold with a small tensor). */
  items?: number;
}

const WG = 64;
/** Elements (vec4s) per thread; measured reasons in shaders/elementwise.wgsl. */
const ITEMS = 16;

/** One record per op; `entry` names both the scalar entry point and its `_v4` twin. */
function elementwiseDef(name: string, entry: string, bindings: string[], floatsMoved: number, scalarName?: string): KernelDef<ElementwiseParams> {
  return {
    name,
    source,
    bindings,
    constants: (p) => ({
      COUNT: p.vec4 ? p.n / 4 : p.n,
      WG,
      ITEMS: p.items ?? ITEMS,
      ...(scalarName ? { [scalarName]: p.scalar ?? 0 } : {}),
    }),
    entryPoint: (p) => (p.vec4 ? `${entry}_v4` : entry),
    dispatch: (p) => grid1d(ceilDiv(p.vec4 ? p.n / 4 : p.n, WG * (p.items ?? ITEMS))),
    bytes: (p) => 4 * floatsMoved * p.n,
  };
}

export const leakyReluForwardDef = elementwiseDef('leaky_relu_forward', 'leaky_relu_forward', ['x', 'y'], 2, 'SLOPE');
export const leakyReluBackwardDef = elementwiseDef('leaky_relu_backward', 'leaky_relu_backward', ['x', 'dy', 'dx'], 3, 'SLOPE');
export const addDef = elementwiseDef('add', 'add', ['a', 'b', 'out'], 3);
export const axpyDef = elementwiseDef('axpy', 'axpy', ['x', 'y'], 3, 'ALPHA');
export const fillDef = elementwiseDef('fill', 'fill', ['t'], 1, 'VALUE');
export const copyDef = elementwiseDef('copy', 'copy', ['src', 'dst'], 2);

/** WebGPU rejects a dispatch whose writable binding overlaps another binding; say so at record time, by name. */
export function expectNoAlias(kernel: string, outName: string, out: Tensor, inName: string, inp: Tensor): void {
  if (out.buffer !== inp.buffer) return;
  const overlap = out.offset < inp.offset + inp.byteLength && inp.offset < out.offset + out.byteLength;
  if (overlap) throw new Error(`${kernel}: argument '${outName}' aliases argument '${inName}' (in-place is not supported)`);
}

function params(t: Tensor, scalar?: number): ElementwiseParams {
  return { n: t.size, vec4: t.size % 4 === 0, scalar };
}

/** y = x > 0 ? x : slope*x. */
export function leakyReluForward(x: Tensor, y: Tensor, slope: number): Dispatch {
  const k = leakyReluForwardDef.name;
  expectShape(k, 'x', x, x.shape, 'f32');
  expectShape(k, 'y', y, x.shape, 'f32');
  expectNoAlias(k, 'y', y, 'x', x);
  return makeDispatch(leakyReluForwardDef, params(x, slope), { x, y }, shapeStr(x.shape));
}

/** dx = dy * (x > 0 ? 1 : slope), with x the forward INPUT. */
export function leakyReluBackward(x: Tensor, dy: Tensor, dx: Tensor, slope: number): Dispatch {
  const k = leakyReluBackwardDef.name;
  expectShape(k, 'x', x, x.shape, 'f32');
  expectShape(k, 'dy', dy, x.shape, 'f32');
  expectShape(k, 'dx', dx, x.shape, 'f32');
  expectNoAlias(k, 'dx', dx, 'x', x);
  expectNoAlias(k, 'dx', dx, 'dy', dy);
  return makeDispatch(leakyReluBackwardDef, params(x, slope), { x, dy, dx }, shapeStr(x.shape));
}

/** out = a + b; same shapes; out may not alias a or b. */
export function add(a: Tensor, b: Tensor, out: Tensor): Dispatch {
  const k = addDef.name;
  expectShape(k, 'a', a, a.shape, 'f32');
  expectShape(k, 'b', b, a.shape, 'f32');
  expectShape(k, 'out', out, a.shape, 'f32');
  expectNoAlias(k, 'out', out, 'a', a);
  expectNoAlias(k, 'out', out, 'b', b);
  return makeDispatch(addDef, params(a), { a, b, out }, shapeStr(a.shape));
}

/** y += alpha*x (gradient accumulation). */
export function axpy(x: Tensor, y: Tensor, alpha: number): Dispatch {
  const k = axpyDef.name;
  expectShape(k, 'x', x, x.shape, 'f32');
  expectShape(k, 'y', y, x.shape, 'f32');
  expectNoAlias(k, 'y', y, 'x', x);
  return makeDispatch(axpyDef, params(x, alpha), { x, y }, `${shapeStr(x.shape)} alpha=${alpha}`);
}

/** t[:] = value (f32; zeroing gradients). */
export function fill(t: Tensor, value: number): Dispatch {
  expectShape(fillDef.name, 't', t, t.shape, 'f32');
  return makeDispatch(fillDef, params(t, value), { t }, `${shapeStr(t.shape)} value=${value}`);
}

/** dst = src (same shapes; reshape a view first to copy between layouts). */
export function copy(src: Tensor, dst: Tensor): Dispatch {
  const k = copyDef.name;
  expectShape(k, 'src', src, src.shape, 'f32');
  expectShape(k, 'dst', dst, src.shape, 'f32');
  expectNoAlias(k, 'dst', dst, 'src', src);
  return makeDispatch(copyDef, params(src), { src, dst }, shapeStr(src.shape));
}
