// CPU helpers of the comparison: seeded inputs, layout changes between our NCHW / [K,C,R,R] and tfjs's NHWC /
// [R,R,C,K], statistics and the output check.
import type { OutputCheck, SideTimes } from './types.js';

/** Uniform values in [lo, hi) from a 32-bit LCG (deterministic per seed). */
export function uniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = lo + (hi - lo) * (s / 4294967296);
  }
  return out;
}

export function randomInts(n: number, seed: number, hi: number): Int32Array {
  const u = uniform(n, seed, 0, 1);
  return Int32Array.from(u, (x) => Math.min(hi - 1, Math.floor(x * hi)));
}

/** [N,C,H,W] -> [N,H,W,C]. */
export function nchwToNhwc(a: ArrayLike<number>, N: number, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(N * C * H * W);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * H + h) * W + w) * C + c] = a[((n * C + c) * H + h) * W + w];
  }
  return out;
}

/** [N,H,W,C] -> [N,C,H,W]. */
export function nhwcToNchw(a: ArrayLike<number>, N: number, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(N * C * H * W);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * C + c) * H + h) * W + w] = a[((n * H + h) * W + w) * C + c];
  }
  return out;
}

/** Our conv weight [K,C,R,S] -> tfjs filter [R,S,C,K]. */
export function kcrsToRsck(a: ArrayLike<number>, K: number, C: number, R: number, S = R): Float32Array {
  const out = new Float32Array(K * C * R * S);
  for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
    out[((r * S + s) * C + c) * K + k] = a[((k * C + c) * R + r) * S + s];
  }
  return out;
}

/** tfjs filter [R,S,C,K] -> our [K,C,R,S]. */
export function rsckToKcrs(a: ArrayLike<number>, K: number, C: number, R: number, S = R): Float32Array {
  const out = new Float32Array(K * C * R * S);
  for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) for (let r = 0; r < R; r++) for (let s = 0; s < S; s++) {
    out[((k * C + c) * R + r) * S + s] = a[((r * S + s) * C + c) * K + k];
  }
  return out;
}

/** The tolerance of a check: relative to the largest reference value, plus an absolute floor. */
export const REL_TOL = 1e-3;
export const ABS_TOL = 1e-4;

/** Compares `ours` with the reference `ref` (tfjs) element by element. */
export function check(name: string, ours: ArrayLike<number>, ref: ArrayLike<number>): OutputCheck {
  if (ours.length !== ref.length) {
    return { name: `${name} (length ${ours.length} vs ${ref.length})`, maxAbsErr: Infinity, maxAbsRef: 0, tol: 0, ok: false };
  }
  let err = 0, mref = 0, nan = false;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(ours[i] - ref[i]);
    if (Number.isNaN(d)) nan = true; // NaN on either side fails the check
    else if (d > err) err = d;
    mref = Math.max(mref, Math.abs(ref[i]));
  }
  const tol = REL_TOL * mref + ABS_TOL;
  return { name, maxAbsErr: nan ? Infinity : err, maxAbsRef: mref, tol, ok: !nan && err <= tol };
}

export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function emptyTimes(): SideTimes {
  return { warmupMs: null, wallMs: [], wallMsMedian: null, wallMsMin: null, wallMsMax: null, gpuMs: [], gpuMsMedian: null, gpuMsMin: null, gpuMsMax: null, error: null };
}

/** Fills the medians and ranges from the raw lists. */
export function summarise<T extends SideTimes>(t: T): T {
  t.wallMsMedian = median(t.wallMs);
  t.wallMsMin = t.wallMs.length ? Math.min(...t.wallMs) : null;
  t.wallMsMax = t.wallMs.length ? Math.max(...t.wallMs) : null;
  t.gpuMsMedian = median(t.gpuMs);
  t.gpuMsMin = t.gpuMs.length ? Math.min(...t.gpuMs) : null;
  t.gpuMsMax = t.gpuMs.length ? Math.max(...t.gpuMs) : null;
  return t;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
