// Plain TypeScript references for the conv2d family (NCHW, weights [K, C, R, R], no bias, zero padding).
// Pure and float64 throughout: the tests run them in Node, and the finite-difference checks need the precision.
// The backward references are written as scatters (loop over the forward's terms and push each product to where it
// belongs), the opposite of the GPU kernels' gathers, so the two are independent formulations.

export interface Conv2dShape {
  N: number;
  C: number;
  H: number;
  W: number;
  /** Output channels. */
  K: number;
  /** Square kernel size. */
  R: number;
  stride: number;
  pad: number;
}

/** [OH, OW] of the forward output (PyTorch's floor rule). */
export function conv2dRefOutputSize(s: Conv2dShape): [number, number] {
  return [Math.floor((s.H + 2 * s.pad - s.R) / s.stride) + 1, Math.floor((s.W + 2 * s.pad - s.R) / s.stride) + 1];
}

/** Calls f(xIndex, wIndex, yIndex) for every multiply-add term of the forward convolution. */
function forEachTerm(s: Conv2dShape, f: (xi: number, wi: number, yi: number) => void): void {
  const { N, C, H, W, K, R, stride, pad } = s;
  const [OH, OW] = conv2dRefOutputSize(s);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          const yi = ((n * K + k) * OH + oh) * OW + ow;
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < R; kh++) {
              const ih = oh * stride - pad + kh;
              if (ih < 0 || ih >= H) continue;
              for (let kw = 0; kw < R; kw++) {
                const iw = ow * stride - pad + kw;
                if (iw < 0 || iw >= W) continue;
                f(((n * C + c) * H + ih) * W + iw, ((k * C + c) * R + kh) * R + kw, yi);
              }
            }
          }
        }
      }
    }
  }
}

/** out = result (+ beta * old when both are given). */
function accumulate(out: Float64Array, old: ArrayLike<number> | undefined, beta: number | undefined): Float64Array {
  if (old && beta) for (let i = 0; i < out.length; i++) out[i] += beta * old[i];
  return out;
}

/** y[N,K,OH,OW] = conv(x[N,C,H,W], w[K,C,R,R]) (+ beta * yOld). */
export function conv2dForwardRef(x: ArrayLike<number>, w: ArrayLike<number>, s: Conv2dShape, yOld?: ArrayLike<number>, beta?: number): Float64Array {
  const [OH, OW] = conv2dRefOutputSize(s);
  const y = new Float64Array(s.N * s.K * OH * OW);
  forEachTerm(s, (xi, wi, yi) => { y[yi] += x[xi] * w[wi]; });
  return accumulate(y, yOld, beta);
}

/** dx[N,C,H,W] = d(sum y*dy)/dx (+ beta * dxOld). */
export function conv2dBackwardInputRef(dy: ArrayLike<number>, w: ArrayLike<number>, s: Conv2dShape, dxOld?: ArrayLike<number>, beta?: number): Float64Array {
  const dx = new Float64Array(s.N * s.C * s.H * s.W);
  forEachTerm(s, (xi, wi, yi) => { dx[xi] += dy[yi] * w[wi]; });
  return accumulate(dx, dxOld, beta);
}

/** dw[K,C,R,R] = d(sum y*dy)/dw (+ beta * dwOld). */
export function conv2dBackwardWeightRef(x: ArrayLike<number>, dy: ArrayLike<number>, s: Conv2dShape, dwOld?: ArrayLike<number>, beta?: number): Float64Array {
  const dw = new Float64Array(s.K * s.C * s.R * s.R);
  forEachTerm(s, (xi, wi, yi) => { dw[wi] += x[xi] * dy[yi]; });
  return accumulate(dw, dwOld, beta);
}
