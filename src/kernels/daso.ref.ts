// Plain TypeScript reference of daso_pseudo_label, written the way the official code computes it (normalise m by
// its sum, ^(1/T), by the sum again, by the max), so the test also checks the kernel's algebraic shortcut.
import type { PseudoLabelSwitches } from './daso.js';

function softmaxRow(x: ArrayLike<number>, off: number, K: number): number[] {
  let m = -Infinity;
  for (let k = 0; k < K; k++) m = Math.max(m, x[off + k]);
  const e = Array.from({ length: K }, (_, k) => Math.exp(x[off + k] - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

function argmaxFirst(p: number[]): number {
  let j = 0;
  for (let k = 1; k < p.length; k++) if (p[k] > p[j]) j = k;
  return j;
}

export function dasoPseudoLabelRef(logitsW: ArrayLike<number>, simW: ArrayLike<number>, plHist: ArrayLike<number>, BU: number, K: number, s: PseudoLabelSwitches) {
  const qHat = new Float64Array(BU * K);
  const pseudoLabel = new Int32Array(BU);
  const mask = new Float64Array(BU);
  const blendWeight = new Float64Array(BU);
  const confidence = new Float64Array(BU);
  // current_pl_dist = counts/sum; **(1/T); /sum; /max
  const sum = Array.from(plHist).reduce((a, b) => a + b, 0);
  let dist = Array.from(plHist, (c) => (sum > 0 ? c / sum : 0)).map((d) => Math.pow(d, 1 / s.tDist));
  const s2 = dist.reduce((a, b) => a + b, 0);
  dist = dist.map((d) => (s2 > 0 ? d / s2 : 0));
  const mx = Math.max(...dist);
  dist = dist.map((d) => (mx > 0 ? d / mx : 0));
  for (let i = 0; i < BU; i++) {
    const p = softmaxRow(logitsW, i * K, K);
    const q = softmaxRow(simW, i * K, K);
    const k1 = argmaxFirst(p);
    const v = s.active ? (s.distAware ? dist[k1] : s.interpAlpha) : 0;
    const pb = p.map((pk, k) => (1 - v) * pk + v * q[k]);
    const y = argmaxFirst(pb);
    for (let k = 0; k < K; k++) qHat[i * K + k] = q[k];
    pseudoLabel[i] = y;
    confidence[i] = pb[y];
    mask[i] = pb[y] >= s.tau ? 1 : 0;
    blendWeight[i] = v;
  }
  return { qHat, pseudoLabel, mask, blendWeight, confidence };
}
