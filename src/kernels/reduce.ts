// sum_reduce, row_max and histogram launchers: shape checks, then Dispatches of shaders/reduce.wgsl.
import source from '../../shaders/reduce.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';

const WG = 256; // must match `const WG` in reduce.wgsl
const WG_ROWS = 64;
/** Stage-1 workgroups at most. SwiftShader pays roughly 0.5 ms per 256-lane workgroup with barriers (1.47M floats,
 * one bench run on 2 shared, loaded cores: 4 partials 14.7 ms, 16: 18.2 ms, 64: 45 ms, 256: 111-164 ms, one
 * workgroup alone: 20-22 ms; later runs gave 16 partials 43-51 ms against 15-34 ms for one workgroup, so on
 * SwiftShader the one-stage form is as fast or faster). 16 workgroups of 256 lanes spread the read over 16 cores of a
 * discrete GPU, where one workgroup would use one (not measured on a real GPU). */
const MAX_PARTIALS = 16;
/** Below this many elements one workgroup sums everything (a second dispatch would cost more than it saves). */
const ONE_STAGE_MAX = 16 * WG;

export interface SumParams {
  N: number;
  G: number;
  scale: number;
}

export const sumReduceDef: KernelDef<SumParams> = {
  name: 'sum_reduce',
  source,
  bindings: ['x', 'out', 'uniforms'],
  constants: (p) => ({ N: p.N, G: p.G, CHUNK: ceilDiv(p.N, p.G * WG) * WG }),
  entryPoint: () => 'sum',
  dispatch: (p) => [p.G, 1, 1],
  uniforms: (p) => new Float32Array([p.scale, 0, 0, 0]).buffer,
  flops: (p) => p.N,
  bytes: (p) => 4 * p.N + 4 * p.G,
};

/** Stage-1 workgroups (= partial sums) sumReduce uses for n elements when given scratch; 1 means one stage. */
export function sumReduceWorkgroups(n: number): number {
  return n <= ONE_STAGE_MAX ? 1 : Math.min(MAX_PARTIALS, ceilDiv(n, 16 * WG));
}

/** Shape of the f32 scratch sumReduce takes for its two-stage form over n elements. */
export function sumReduceScratchShape(n: number): number[] {
  return [sumReduceWorkgroups(n)];
}

/**
 * out[0] = scale * sum(x). x: any shape, f32 (summed flat); out: [1] f32 (or a [1] view). Deterministic: the order of
 * the additions depends only on x's size. With `scratch` (shape sumReduceScratchShape(n)) and n > 4096 it is two
 * dispatches: up to 16 workgroups write partial sums, one workgroup adds them. Without scratch one workgroup sums
 * everything: correct for any n, but on a GPU it runs on one core (on SwiftShader it is about as fast).
 * `scale` is a uniform (CommandList.setUniforms on the last dispatch changes it).
 */
export function sumReduce(x: Tensor, out: Tensor, scale: number, scratch?: Tensor): Dispatch[] {
  const k = 'sum_reduce';
  if (x.dtype !== 'f32') throw new Error(`${k}: argument 'x' has dtype ${x.dtype}, expected f32`);
  expectShape(k, 'out', out, [1], 'f32');
  if (!Number.isFinite(scale)) throw new Error(`${k}: scale must be finite, given ${scale}`);
  const N = x.size;
  const G = sumReduceWorkgroups(N);
  if (!scratch || G === 1) return [makeDispatch(sumReduceDef, { N, G: 1, scale }, { x, out }, `n=${N}`)];
  expectShape(k, 'scratch', scratch, [G], 'f32');
  return [
    makeDispatch(sumReduceDef, { N, G, scale: 1 }, { x, out: scratch }, `n=${N} stage 1 (${G} partials)`),
    makeDispatch(sumReduceDef, { N: G, G: 1, scale }, { x: scratch, out }, `n=${N} stage 2`),
  ];
}

export interface RowMaxParams {
  B: number;
  K: number;
}

export const rowMaxDef: KernelDef<RowMaxParams> = {
  name: 'row_max',
  source,
  bindings: ['x', 'max', 'argmax'],
  constants: (p) => ({ B: p.B, K: p.K, WG_ROWS }),
  entryPoint: () => 'row_max',
  dispatch: (p) => grid1d(ceilDiv(p.B, WG_ROWS)),
  flops: (p) => p.B * p.K,
  bytes: (p) => 4 * p.B * p.K + 8 * p.B,
};

/** max[i] = max_k x[i,k], argmax[i] = the first k attaining it. x [B,K] f32, max [B] f32, argmax [B] i32. */
export function rowMax(x: Tensor, max: Tensor, argmax: Tensor): Dispatch {
  const k = 'row_max';
  expectRank(k, 'x', x, 2, 'f32');
  const [B, K] = x.shape;
  expectShape(k, 'max', max, [B], 'f32');
  expectShape(k, 'argmax', argmax, [B], 'i32');
  return makeDispatch(rowMaxDef, { B, K }, { x, max, argmax }, `B=${B} K=${K}`);
}

export interface HistogramParams {
  B: number;
  K: number;
  accumulate: boolean;
}

/** Workgroup memory holds K u32 counters (16 KiB is WebGPU's guaranteed minimum). */
const HISTOGRAM_MAX_K = 4096;

export const histogramDef: KernelDef<HistogramParams> = {
  name: 'histogram',
  source,
  bindings: ['labels', 'hist'],
  constants: (p) => ({ B: p.B, K: p.K, ACCUMULATE: +p.accumulate }),
  entryPoint: () => 'histogram',
  dispatch: () => [1, 1, 1],
  bytes: (p) => 4 * p.B + 4 * p.K,
};

/** hist[k] = #{i : labels[i] == k} (+ hist[k] when accumulate). labels [B] i32 (outside [0, K) not counted), hist [K] i32. */
export function histogram(labels: Tensor, hist: Tensor, accumulate: boolean): Dispatch {
  const k = 'histogram';
  expectRank(k, 'labels', labels, 1, 'i32');
  expectRank(k, 'hist', hist, 1, 'i32');
  const B = labels.shape[0], K = hist.shape[0];
  if (K > HISTOGRAM_MAX_K) throw new Error(`${k}: argument 'hist' has shape ${shapeStr(hist.shape)}, at most [${HISTOGRAM_MAX_K}] classes are supported`);
  return makeDispatch(histogramDef, { B, K, accumulate }, { labels, hist }, `B=${B} K=${K}${accumulate ? ' +=' : ''}`);
}
