// Plain TypeScript references for sum_reduce, row_max and histogram (see shaders/reduce.wgsl).

/** scale * sum(x), in float64. */
export function sumRef(x: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return scale * s;
}

/** Max and first argmax of each row of x[B,K] (the first index wins ties, like torch.max on CPU). */
export function rowMaxRef(x: ArrayLike<number>, B: number, K: number): { max: Float64Array; argmax: Int32Array } {
  const max = new Float64Array(B);
  const argmax = new Int32Array(B);
  for (let i = 0; i < B; i++) {
    let best = x[i * K], arg = 0;
    for (let k = 1; k < K; k++) {
      if (x[i * K + k] > best) { best = x[i * K + k]; arg = k; }
    }
    max[i] = best;
    argmax[i] = arg;
  }
  return { max, argmax };
}

/** Counts of each class in [0, K) (labels outside are not counted), added to `prior` when given. */
export function histogramRef(labels: ArrayLike<number>, K: number, prior?: ArrayLike<number>): Int32Array {
  const h = prior ? Int32Array.from(prior) : new Int32Array(K);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (y >= 0 && y < K) h[y]++;
  }
  return h;
}
