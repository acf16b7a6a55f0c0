// Plain TypeScript references for BatchNorm2d (shaders/batchnorm.wgsl), in float64, two-pass statistics.
// Layout [N,C,HW] (HW = H*W; 1 for [N,C] inputs); per-channel statistics over n = N*HW values.
export interface BatchNormRefOptions {
  momentum?: number;
  eps?: number;
  updateRunning?: boolean;
}

export interface BatchNormForwardRef {
  y: Float64Array;
  mean: Float64Array;
  invstd: Float64Array;
  runningMean: Float64Array;
  runningVar: Float64Array;
}

/** Calls f(c, index) for every value of channel c. */
function eachOfChannel(N: number, C: number, HW: number, c: number, f: (i: number) => void): void {
  for (let n = 0; n < N; n++) for (let k = 0; k < HW; k++) f((n * C + c) * HW + k);
}

/** PyTorch BatchNorm2d in training mode: biased variance normalises; running_var gets the unbiased one
 * (n = 1 uses 0, where PyTorch refuses to train). */
export function batchnormForwardTrainRef(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, N: number, C: number, HW: number, o: BatchNormRefOptions = {}): BatchNormForwardRef {
  const m = o.momentum ?? 0.1, eps = o.eps ?? 1e-5, n = N * HW;
  const y = new Float64Array(N * C * HW);
  const mean = new Float64Array(C), invstd = new Float64Array(C);
  const rm = Float64Array.from(runningMean), rv = Float64Array.from(runningVar);
  for (let c = 0; c < C; c++) {
    let s = 0;
    eachOfChannel(N, C, HW, c, (i) => { s += x[i]; });
    const mu = s / n;
    let ss = 0;
    eachOfChannel(N, C, HW, c, (i) => { ss += (x[i] - mu) ** 2; });
    mean[c] = mu;
    invstd[c] = 1 / Math.sqrt(ss / n + eps);
    eachOfChannel(N, C, HW, c, (i) => { y[i] = (x[i] - mu) * invstd[c] * gamma[c] + beta[c]; });
    if (o.updateRunning ?? true) {
      rm[c] = (1 - m) * rm[c] + m * mu;
      rv[c] = (1 - m) * rv[c] + m * (n > 1 ? ss / (n - 1) : 0);
    }
  }
  return { y, mean, invstd, runningMean: rm, runningVar: rv };
}

export function batchnormForwardEvalRef(x: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>,
  runningMean: ArrayLike<number>, runningVar: ArrayLike<number>, N: number, C: number, HW: number, eps = 1e-5): Float64Array {
  const y = new Float64Array(N * C * HW);
  for (let c = 0; c < C; c++) {
    const s = gamma[c] / Math.sqrt(runningVar[c] + eps);
    eachOfChannel(N, C, HW, c, (i) => { y[i] = (x[i] - runningMean[c]) * s + beta[c]; });
  }
  return y;
}

/** Training-mode backward from the forward's batch mean and invstd: dbeta = sum dy, dgamma = sum dy*xhat,
 * dx = gamma*invstd/n * (n*dy - dbeta - xhat*dgamma). */
export function batchnormBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>,
  mean: ArrayLike<number>, invstd: ArrayLike<number>, N: number, C: number, HW: number): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const n = N * HW;
  const dx = new Float64Array(N * C * HW), dgamma = new Float64Array(C), dbeta = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let sb = 0, sg = 0;
    eachOfChannel(N, C, HW, c, (i) => { sb += dy[i]; sg += dy[i] * (x[i] - mean[c]) * invstd[c]; });
    dbeta[c] = sb;
    dgamma[c] = sg;
    const k = (gamma[c] * invstd[c]) / n;
    eachOfChannel(N, C, HW, c, (i) => { dx[i] = k * (n * dy[i] - sb - (x[i] - mean[c]) * invstd[c] * sg); });
  }
  return { dx, dgamma, dbeta };
}

/** a = leaky_relu(y, slope), PyTorch's leaky_relu (y > 0 ? y : slope*y). */
export function leakyReluRef(y: ArrayLike<number>, slope: number): Float64Array {
  return Float64Array.from(y, (v) => (v > 0 ? v : slope * v));
}

/** Fused BN + leaky ReLU backward (src/kernels/batchnorm-lrelu.ts), composed from its parts: dy = da masked by the
 * sign of the activation a (= the sign of BN(x) for slope > 0), then batchnormBackwardRef. */
export function batchnormLreluBackwardRef(x: ArrayLike<number>, a: ArrayLike<number>, da: ArrayLike<number>, gamma: ArrayLike<number>,
  mean: ArrayLike<number>, invstd: ArrayLike<number>, N: number, C: number, HW: number, slope: number): { dx: Float64Array; dgamma: Float64Array; dbeta: Float64Array } {
  const dy = Float64Array.from(da, (g, i) => (a[i] > 0 ? g : slope * g));
  return batchnormBackwardRef(x, dy, gamma, mean, invstd, N, C, HW);
}
