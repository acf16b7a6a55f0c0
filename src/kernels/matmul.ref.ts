// Plain TypeScript reference for matmul_forward (see shaders/matmul.wgsl for the layouts).
export interface MatmulRefOptions {
  transA?: boolean;
  transB?: boolean;
  bias?: ArrayLike<number>;
  /** C to accumulate into (C_out = A·B + beta·C). */
  c?: ArrayLike<number>;
  beta?: number;
}

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, N: number, K: number, o: MatmulRefOptions = {}): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const av = o.transA ? a[k * M + m] : a[m * K + k];
        const bv = o.transB ? b[n * K + k] : b[k * N + n];
        acc += av * bv;
      }
      if (o.bias) acc += o.bias[n];
      if (o.c && o.beta) acc += o.beta * o.c[m * N + n];
      out[m * N + n] = acc;
    }
  }
  return out;
}
