// Plain TypeScript references for the elementwise kernels (shaders/elementwise.wgsl), in float64.
export function leakyReluRef(x: ArrayLike<number>, slope: number): Float64Array {
  return Float64Array.from(x, (v) => (v > 0 ? v : slope * v));
}

/** dx = dy * (x > 0 ? 1 : slope), x being the forward input. */
export function leakyReluBackwardRef(x: ArrayLike<number>, dy: ArrayLike<number>, slope: number): Float64Array {
  return Float64Array.from(dy, (g, i) => (x[i] > 0 ? g : slope * g));
}

export function addRef(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  return Float64Array.from(a, (v, i) => v + b[i]);
}

/** y + alpha*x (the new y of `axpy`). */
export function axpyRef(x: ArrayLike<number>, y: ArrayLike<number>, alpha: number): Float64Array {
  return Float64Array.from(y, (v, i) => v + alpha * x[i]);
}
