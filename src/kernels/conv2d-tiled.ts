// conv2d_forward v5 (shaders/conv2d_tiled.wgsl): the implicit GEMM with workgroup-memory tiles, for GPUs. The
// tile is (4*WG_M pixels) x (4*WG_N channels) with reduction slices of BK, all override constants; the launcher picks
// it from K (a 64-channel tile would leave most of the stem's 16 channels idle) unless the caller gives one, and
// checks it against WebGPU's default limits, which every adapter offers.
import source from '../../shaders/conv2d_tiled.wgsl';
import { ceilDiv, grid1d, type KernelDef } from '../gpu/kernel.js';
import type { Conv2dParams } from './conv2d.js';

export interface GemmTile {
  /** Threads along the output pixels (each 4 pixels). */
  wgM: number;
  /** Threads along the output channels (each 4 channels). */
  wgN: number;
  /** Reduction rows (C*R*R) staged per slice. */
  bk: number;
}

/** WebGPU's default maxComputeWorkgroupStorageSize and maxComputeInvocationsPerWorkgroup (every adapter has them). */
export const MAX_WORKGROUP_STORAGE = 16384;
export const MAX_INVOCATIONS = 256;

/** Bytes of workgroup memory the tile uses: two slices (double buffer) of BK x (TILE_M + TILE_N) f32. */
export const gemmTileStorage = (t: GemmTile): number => 2 * t.bk * 4 * (t.wgM + t.wgN) * 4;

/** 64x64 outputs (16x16 threads, 4x4 each), slices of 16: exactly 16384 bytes. Narrow layers take narrower tiles
 * with as many threads along the pixels, so a workgroup still has 128-256 threads. */
export function defaultGemmTile(K: number): GemmTile {
  if (K <= 16) return { wgM: 32, wgN: 4, bk: 8 }; // 128 x 16 tile, 9216 bytes
  if (K <= 32) return { wgM: 16, wgN: 8, bk: 16 }; // 64 x 32, 12288 bytes
  return { wgM: 16, wgN: 16, bk: 16 }; // 64 x 64, 16384 bytes
}

/** Throws naming the tile and the limit it breaks. */
export function checkGemmTile(kernel: string, t: GemmTile): void {
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${kernel}: tile ${k}=${v} must be an integer >= 1`);
  }
  if (t.wgM * t.wgN > MAX_INVOCATIONS) {
    throw new Error(`${kernel}: tile ${t.wgM}x${t.wgN} threads is ${t.wgM * t.wgN} invocations, over WebGPU's default limit ` +
      `${MAX_INVOCATIONS}: make wgM*wgN smaller`);
  }
  const bytes = gemmTileStorage(t);
  if (bytes > MAX_WORKGROUP_STORAGE) {
    throw new Error(`${kernel}: tile wgM=${t.wgM} wgN=${t.wgN} bk=${t.bk} needs ${bytes} bytes of workgroup memory, over ` +
      `WebGPU's default limit ${MAX_WORKGROUP_STORAGE}: make bk or the tile smaller`);
  }
}

export const tileLabel = (t: GemmTile): string => `${4 * t.wgM}x${4 * t.wgN}/${t.bk}`;

/** Binds x (or dy for the input gradient), the packed weights (conv2dPackedForwardShape) and y, like v2-v3. */
export const conv2dForwardTiledKernel: KernelDef<Conv2dParams & { gemmTile: GemmTile }> = {
  name: 'conv2d_forward',
  source,
  bindings: ['x', 'wp', 'y'],
  constants: (p) => ({
    N: p.N, C: p.C, H: p.H, W: p.W, K: p.K, R: p.R, OH: p.OH, OW: p.OW, STRIDE: p.stride, PAD: p.pad, BETA: p.beta,
    WG_M: p.gemmTile.wgM, WG_N: p.gemmTile.wgN, BK: p.gemmTile.bk,
  }),
  entryPoint: () => 'main_v5',
  dispatch: (p) => grid1d(ceilDiv(p.N * p.OH * p.OW, 4 * p.gemmTile.wgM) * ceilDiv(p.K, 4 * p.gemmTile.wgN)),
  flops: (p) => 2 * p.N * p.OH * p.OW * p.K * p.C * p.R * p.R,
};
