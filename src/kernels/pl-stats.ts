// pl_confusion launcher: shape checks, then the Dispatch of shaders/pl_stats.wgsl (pseudo-label statistics counted
// on the GPU over a logging window; see src/ssl/pl-stats.ts for the trainer's side).
import source from '../../shaders/pl_stats.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type KernelDef } from '../gpu/kernel.js';
import type { Dispatch } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';

const WG = 64;

export interface PlConfusionParams {
  BU: number;
  K: number;
}

export const plConfusionDef: KernelDef<PlConfusionParams> = {
  name: 'pl_confusion',
  source,
  bindings: ['pseudo_label', 'mask', 'truth', 'counts'],
  constants: (p) => ({ BU: p.BU, K: p.K, WG }),
  dispatch: (p) => grid1d(ceilDiv(p.BU, WG)),
  bytes: (p) => 12 * p.BU + 8 * p.BU,
};

/**
 * counts[0, t, p] += #{i : truth[i] = t, pseudoLabel[i] = p}; counts[1, t, p] += the same over mask[i] > 0.
 * pseudoLabel [BU] i32, mask [BU] f32, truth [BU] i32 (outside [0, K): not counted), counts [2, K, K] i32 (never
 * cleared here: it accumulates over steps until the caller clears it).
 */
export function plConfusion(pseudoLabel: Tensor, mask: Tensor, truth: Tensor, counts: Tensor): Dispatch {
  const k = 'pl_confusion';
  expectRank(k, 'pseudo_label', pseudoLabel, 1, 'i32');
  const BU = pseudoLabel.shape[0];
  expectShape(k, 'mask', mask, [BU], 'f32');
  expectShape(k, 'truth', truth, [BU], 'i32');
  expectRank(k, 'counts', counts, 3, 'i32');
  const K = counts.shape[1];
  expectShape(k, 'counts', counts, [2, K, K], 'i32');
  return makeDispatch(plConfusionDef, { BU, K }, { pseudo_label: pseudoLabel, mask, truth, counts }, `Bu=${BU} K=${K}`);
}
