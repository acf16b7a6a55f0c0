// Helpers for benchmark cases: random-filled tensors (values do not matter for speed, but NaNs would).
import type { Runtime } from '../../src/gpu/runtime.js';
import type { Dispatch } from '../../src/gpu/kernel.js';
import type { DType, Tensor } from '../../src/gpu/tensor.js';
import { numel } from '../../src/gpu/tensor.js';

export interface BenchCase {
  /** Kernel name as in its record, e.g. 'conv2d_forward'. */
  kernel: string;
  /** Shapes in words, e.g. 'N=64 C=16->32 32x32 k3 s1'. */
  shape: string;
  /** Allocates inputs and records the dispatches to time (one case may need several, e.g. two-pass reductions). */
  build(rt: Runtime): Dispatch[];
}

let seed = 12345;
export function random(rt: Runtime, shape: number[], label = 'x', dtype: DType = 'f32', hi = 1): Tensor {
  const n = numel(shape);
  const data = dtype === 'f32' ? new Float32Array(n) : new Int32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const u = seed / 4294967296;
    data[i] = dtype === 'f32' ? u * 2 - 1 : Math.floor(u * hi);
  }
  return rt.upload(data, shape, dtype, label);
}
