// matmul_forward launcher: shape checks, then a Dispatch of shaders/matmul.wgsl.
import source from '../../shaders/matmul.wgsl';
import { ceilDiv, expectRank, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';

export interface MatmulParams {
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  hasBias: boolean;
  beta: number;
  /** 0: naive (one output per thread); 1: register-blocked 4x4; 2: 4x8 in named registers (default); 3: 8x8
   * (the matmul probe; the training step's matmuls are tiny, where v2's smaller block leaves fewer threads idle);
   * 4: workgroup-memory tiles (64 x 64 outputs, 4 x 4 per thread, K slices of 16), for GPUs, not chosen by default. */
  version: MatmulVersion;
}

const WG = 8;
export type MatmulVersion = 0 | 1 | 2 | 3 | 4;
/** Outputs per thread along [rows, cols] for each version. */
const PER_THREAD: Record<MatmulVersion, [number, number]> = { 0: [1, 1], 1: [4, 4], 2: [4, 8], 3: [8, 8], 4: [4, 4] };
/** v4: 16 x 16 threads and K slices of 16: 2 slices x 16 x (64 + 64) f32 = 16384 bytes of workgroup memory, WebGPU's
 * default maxComputeWorkgroupStorageSize (every adapter offers it), and 256 invocations, its default maximum. */
const TILE_WG = 16, TILE_BK = 16;
const wgOf = (p: MatmulParams): number => (p.version === 4 ? TILE_WG : WG);

export const matmulForward: KernelDef<MatmulParams> = {
  name: 'matmul_forward',
  source,
  bindings: ['a', 'b', 'bias', 'c'],
  constants: (p) => ({
    M: p.M, N: p.N, K: p.K,
    TRANS_A: +p.transA, TRANS_B: +p.transB, HAS_BIAS: +p.hasBias, BETA: p.beta,
    WG_X: wgOf(p), WG_Y: wgOf(p), ...(p.version === 4 ? { BK: TILE_BK } : {}),
  }),
  entryPoint: (p) => ['main_v0', 'main', 'main_v2', 'main_v3', 'main_v4'][p.version],
  dispatch: (p) => [ceilDiv(p.N, wgOf(p) * PER_THREAD[p.version][1]), ceilDiv(p.M, wgOf(p) * PER_THREAD[p.version][0]), 1],
  flops: (p) => 2 * p.M * p.N * p.K,
};

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: Tensor;
  /** Adds beta·C to the result (beta 1: gradient accumulation). */
  beta?: number;
  version?: MatmulVersion;
}

/** c = op(a)·op(b) (+ bias) (+ beta·c). a: [M,K] ([K,M] if transA); b: [K,N] ([N,K] if transB); c: [M,N]. */
export function matmul(a: Tensor, b: Tensor, c: Tensor, o: MatmulOptions = {}): Dispatch {
  const k = 'matmul_forward';
  expectRank(k, 'a', a, 2, 'f32');
  expectRank(k, 'b', b, 2, 'f32');
  expectRank(k, 'c', c, 2, 'f32');
  const [M, K] = o.transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [Kb, N] = o.transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (Kb !== K) {
    throw new Error(`${k}: inner dimensions differ: a ${shapeStr(a.shape)}${o.transA ? '^T' : ''} has K=${K}, ` +
      `b ${shapeStr(b.shape)}${o.transB ? '^T' : ''} has K=${Kb}`);
  }
  if (c.shape[0] !== M || c.shape[1] !== N) throw new Error(`${k}: argument 'c' has shape ${shapeStr(c.shape)}, expected [${M}, ${N}]`);
  if (o.bias && (o.bias.shape.length !== 1 || o.bias.shape[0] !== N)) {
    throw new Error(`${k}: argument 'bias' has shape ${shapeStr(o.bias.shape)}, expected [${N}]`);
  }
  const version = o.version ?? 2;
  const p: MatmulParams = { M, N, K, transA: !!o.transA, transB: !!o.transB, hasBias: !!o.bias, beta: o.beta ?? 0, version };
  // Without a bias the binding is never read (HAS_BIAS folds the branch away); `a` fills it because a read-only
  // alias is legal and no extra buffer is needed.
  return makeDispatch(matmulForward, p, { a, b, bias: o.bias ?? a, c }, `M=${M} N=${N} K=${K}${o.transA ? ' At' : ''}${o.transB ? ' Bt' : ''}`);
}
