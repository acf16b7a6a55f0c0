// Plain TypeScript references for global average pooling (shaders/pool.wgsl), in float64. Layout [N,C,H,W] -> [N,C].
export function globalAvgPoolRef(x: ArrayLike<number>, N: number, C: number, HW: number): Float64Array {
  const y = new Float64Array(N * C);
  for (let r = 0; r < N * C; r++) {
    let s = 0;
    for (let k = 0; k < HW; k++) s += x[r * HW + k];
    y[r] = s / HW;
  }
  return y;
}

export function globalAvgPoolBackwardRef(dy: ArrayLike<number>, N: number, C: number, HW: number): Float64Array {
  const dx = new Float64Array(N * C * HW);
  for (let i = 0; i < dx.length; i++) dx[i] = dy[Math.floor(i / HW)] / HW;
  return dx;
}
