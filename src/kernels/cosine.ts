// cosine_similarity_forward / cosine_similarity_backward launchers: shape checks, then Dispatches of
// shaders/cosine.wgsl (formula, eps clamp and the zero-norm choice are documented there).
import source from '../../shaders/cosine.wgsl';
import { ceilDiv, expectRank, expectShape, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';

export interface CosineParams {
  B: number;
  K: number;
  D: number;
  invTemp: number;
  accumulate: boolean;
}

const WG = 64;

export const cosineSimilarityForwardDef: KernelDef<CosineParams> = {
  name: 'cosine_similarity_forward',
  source,
  bindings: ['z', 'protos', 'sim'],
  constants: (p) => ({ B: p.B, K: p.K, D: p.D, INV_TEMP: p.invTemp, WG }),
  entryPoint: () => 'forward',
  dispatch: (p) => grid1d(ceilDiv(p.B * p.K, WG)),
  flops: (p) => 6 * p.B * p.K * p.D,
  bytes: (p) => 4 * (p.B * p.D + p.K * p.D + p.B * p.K),
};

export const cosineSimilarityBackwardDef: KernelDef<CosineParams> = {
  name: 'cosine_similarity_backward',
  source,
  bindings: ['z', 'protos', 'dsim', 'dz'],
  constants: (p) => ({ B: p.B, K: p.K, D: p.D, INV_TEMP: p.invTemp, ACCUMULATE: +p.accumulate, WG }),
  entryPoint: () => 'backward',
  dispatch: (p) => grid1d(ceilDiv(p.B, WG)),
  flops: (p) => p.B * (2 * p.D + 6 * p.K * p.D),
  bytes: (p) => 4 * (2 * p.B * p.D + p.K * p.D + p.B * p.K),
};

function check(k: string, z: Tensor, protos: Tensor, invTemp: number): { B: number; K: number; D: number } {
  expectRank(k, 'z', z, 2, 'f32');
  expectRank(k, 'protos', protos, 2, 'f32');
  const [B, D] = z.shape;
  const K = protos.shape[0];
  if (protos.shape[1] !== D) throw new Error(`${k}: argument 'protos' has shape ${shapeStr(protos.shape)}, expected [${K}, ${D}] (feature size of z ${shapeStr(z.shape)})`);
  if (!Number.isFinite(invTemp)) throw new Error(`${k}: invTemp must be finite, given ${invTemp}`);
  return { B, K, D };
}

/** sim[i,k] = invTemp * cos(z_i, protos_k); z [B,D], protos [K,D], sim [B,K], all f32. Zero vectors give 0. */
export function cosineSimilarityForward(z: Tensor, protos: Tensor, sim: Tensor, invTemp: number): Dispatch {
  const k = 'cosine_similarity_forward';
  const { B, K, D } = check(k, z, protos, invTemp);
  expectShape(k, 'sim', sim, [B, K], 'f32');
  return makeDispatch(cosineSimilarityForwardDef, { B, K, D, invTemp, accumulate: false }, { z, protos, sim }, `B=${B} K=${K} D=${D}`);
}

/**
 * dz = d(sum dsim * sim)/dz for sim = cosineSimilarityForward(z, protos, ., invTemp); no gradient to protos.
 * dsim [B,K], dz [B,D] f32. Rows with |z_i| <= 1e-8 get 0. With `accumulate` dz += the gradient (z also feeds the
 * classifier, whose input gradient can be written first).
 */
export function cosineSimilarityBackward(z: Tensor, protos: Tensor, dsim: Tensor, dz: Tensor, invTemp: number, accumulate = false): Dispatch {
  const k = 'cosine_similarity_backward';
  const { B, K, D } = check(k, z, protos, invTemp);
  expectShape(k, 'dsim', dsim, [B, K], 'f32');
  expectShape(k, 'dz', dz, [B, D], 'f32');
  if (dz.buffer === z.buffer) throw new Error(`${k}: arguments 'z' and 'dz' share a buffer (in place is not supported)`);
  return makeDispatch(cosineSimilarityBackwardDef, { B, K, D, invTemp, accumulate }, { z, protos, dsim, dz }, `B=${B} K=${K} D=${D}${accumulate ? ' +=' : ''}`);
}
