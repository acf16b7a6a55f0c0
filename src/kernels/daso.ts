// daso_pseudo_label launcher (see shaders/daso.wgsl): shape checks, then one dispatch; switches are uniforms.
import source from '../../shaders/daso.wgsl';
import { ceilDiv, expectShape, expectRank, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';

export interface PseudoLabelSwitches {
  /** DASO blending on (after warm-up). */
  active: boolean;
  /** v from the pseudo-label distribution (true) or the constant interpAlpha (the paper's constant-v ablation). */
  distAware: boolean;
  tau: number;
  tDist: number;
  interpAlpha: number;
}

interface Params extends PseudoLabelSwitches {
  BU: number;
  K: number;
}

const WG = 64;

export function pseudoLabelUniforms(s: PseudoLabelSwitches): ArrayBuffer {
  const buf = new ArrayBuffer(32);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  u[0] = s.active ? 1 : 0;
  u[1] = s.distAware ? 1 : 0;
  f[2] = s.tau;
  f[3] = 1 / s.tDist;
  f[4] = s.interpAlpha;
  return buf;
}

export const dasoPseudoLabelDef: KernelDef<Params> = {
  name: 'daso_pseudo_label',
  source,
  bindings: ['logitsW', 'simW', 'plHist', 'qHat', 'pseudoLabel', 'mask', 'blendWeight', 'confidence', 'uniforms'],
  constants: (p) => ({ BU: p.BU, K: p.K, WG }),
  dispatch: (p) => grid1d(ceilDiv(p.BU, WG)),
  uniforms: (p) => pseudoLabelUniforms(p),
  flops: (p) => 12 * p.BU * p.K,
  bytes: (p) => 16 * p.BU * p.K + 20 * p.BU,
};

export interface PseudoLabelOutputs {
  qHat: Tensor;
  pseudoLabel: Tensor;
  mask: Tensor;
  blendWeight: Tensor;
  confidence: Tensor;
}

export function dasoPseudoLabel(logitsW: Tensor, simW: Tensor, plHist: Tensor, out: PseudoLabelOutputs, s: PseudoLabelSwitches): Dispatch {
  const k = 'daso_pseudo_label';
  expectRank(k, 'logitsW', logitsW, 2, 'f32');
  const [BU, K] = logitsW.shape;
  expectShape(k, 'simW', simW, [BU, K], 'f32');
  expectShape(k, 'plHist', plHist, [K], 'i32');
  expectShape(k, 'qHat', out.qHat, [BU, K], 'f32');
  expectShape(k, 'pseudoLabel', out.pseudoLabel, [BU], 'i32');
  expectShape(k, 'mask', out.mask, [BU], 'f32');
  expectShape(k, 'blendWeight', out.blendWeight, [BU], 'f32');
  expectShape(k, 'confidence', out.confidence, [BU], 'f32');
  if (!(s.tDist > 0)) throw new Error(`${k}: T_dist must be > 0, given ${s.tDist}`);
  return makeDispatch(dasoPseudoLabelDef, { ...s, BU, K }, { logitsW, simW, plHist, ...out }, `Bu=${BU} K=${K}`);
}

export const dasoRefreshHistogramDef: KernelDef<{ K: number }> = {
  name: 'daso_refresh_histogram',
  source,
  entryPoint: () => 'refresh',
  bindings: ['plHist', 'plWindow'],
  constants: (p) => ({ K: p.K, WG }),
  dispatch: (p) => [ceilDiv(p.K, WG), 1, 1],
};

/** plHist = plWindow; plWindow = 0 (both [K] i32). */
export function dasoRefreshHistogram(plHist: Tensor, plWindow: Tensor): Dispatch {
  const k = 'daso_refresh_histogram';
  expectRank(k, 'plHist', plHist, 1, 'i32');
  expectShape(k, 'plWindow', plWindow, plHist.shape, 'i32');
  return makeDispatch(dasoRefreshHistogramDef, { K: plHist.shape[0] }, { plHist, plWindow }, `K=${plHist.shape[0]}`);
}
