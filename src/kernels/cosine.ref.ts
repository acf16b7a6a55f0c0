// Plain TypeScript references for cosine_similarity_forward/backward (see shaders/cosine.wgsl for the formula, the
// per-norm eps clamp and the zero-gradient choice for zero-norm features). Float64.

export const COSINE_EPS = 1e-8;

function norm(v: ArrayLike<number>, off: number, D: number): number {
  let s = 0;
  for (let d = 0; d < D; d++) s += v[off + d] * v[off + d];
  return Math.sqrt(s);
}

/** sim[i,k] = invTemp * <z_i, c_k> / (max(|z_i|, eps) * max(|c_k|, eps)); z [B,D], protos [K,D]. */
export function cosineForwardRef(z: ArrayLike<number>, protos: ArrayLike<number>, B: number, K: number, D: number, invTemp: number): Float64Array {
  const sim = new Float64Array(B * K);
  for (let i = 0; i < B; i++) {
    const nz = Math.max(norm(z, i * D, D), COSINE_EPS);
    for (let k = 0; k < K; k++) {
      const nc = Math.max(norm(protos, k * D, D), COSINE_EPS);
      let dot = 0;
      for (let d = 0; d < D; d++) dot += z[i * D + d] * protos[k * D + d];
      sim[i * K + k] = (invTemp * dot) / (nz * nc);
    }
  }
  return sim;
}

/** dz[i] = sum_k dsim[i,k] * d sim[i,k] / d z_i; 0 for rows with |z_i| <= eps. */
export function cosineBackwardRef(z: ArrayLike<number>, protos: ArrayLike<number>, dsim: ArrayLike<number>, B: number, K: number, D: number, invTemp: number): Float64Array {
  const dz = new Float64Array(B * D);
  for (let i = 0; i < B; i++) {
    const nz = norm(z, i * D, D);
    if (nz <= COSINE_EPS) continue;
    for (let k = 0; k < K; k++) {
      const nc = Math.max(norm(protos, k * D, D), COSINE_EPS);
      let dot = 0;
      for (let d = 0; d < D; d++) dot += z[i * D + d] * protos[k * D + d];
      const g = dsim[i * K + k];
      const cos = dot / (nz * nc);
      for (let d = 0; d < D; d++) {
        dz[i * D + d] += g * invTemp * (protos[k * D + d] / (nz * nc) - (cos * z[i * D + d]) / (nz * nz));
      }
    }
  }
  return dz;
}
