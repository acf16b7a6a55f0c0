// Plain TypeScript references for softmax_forward and log_softmax_forward (rows of x[B,K]; float64, max-subtracted).

export function softmaxRef(x: ArrayLike<number>, B: number, K: number): Float64Array {
  const y = new Float64Array(B * K);
  for (let i = 0; i < B; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, x[i * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += (y[i * K + k] = Math.exp(x[i * K + k] - m));
    for (let k = 0; k < K; k++) y[i * K + k] /= s;
  }
  return y;
}

export function logSoftmaxRef(x: ArrayLike<number>, B: number, K: number): Float64Array {
  const y = new Float64Array(B * K);
  for (let i = 0; i < B; i++) {
    let m = -Infinity;
    for (let k = 0; k < K; k++) m = Math.max(m, x[i * K + k]);
    let s = 0;
    for (let k = 0; k < K; k++) s += Math.exp(x[i * K + k] - m);
    const ls = Math.log(s);
    for (let k = 0; k < K; k++) y[i * K + k] = x[i * K + k] - m - ls;
  }
  return y;
}
