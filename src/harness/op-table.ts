// The op table the tests and the benchmark call through `window.daso.runOp(name, params, inputs)`:
// each entry uploads plain-number inputs, records the kernel's dispatches, runs them and reads the outputs back.
import type { Runtime } from '../gpu/runtime.js';
import type { DType, Tensor } from '../gpu/tensor.js';

export type Inputs = Record<string, number[]>;
export type Outputs = Record<string, number[]>;
export type OpFn = (rt: Runtime, params: any, inputs: Inputs) => Promise<Outputs>;

/** Upload helper: `input(rt, inputs, 'x', [2,3])` with a clear error when the test forgot an input. */
export function input(rt: Runtime, inputs: Inputs, name: string, shape: number[], dtype: DType = 'f32'): Tensor {
  const data = inputs[name];
  if (!data) throw new Error(`op input '${name}' is missing`);
  return rt.upload(data, shape, dtype, name);
}

export async function readAll(rt: Runtime, tensors: Record<string, Tensor>): Promise<Outputs> {
  const out: Outputs = {};
  for (const [k, t] of Object.entries(tensors)) out[k] = Array.from(await rt.read(t));
  return out;
}

/** Releases every tensor the op allocated (ops run many times per test file; the pool must not grow). */
export function releaseAll(...ts: (Tensor | undefined)[]): void {
  for (const t of ts) t?.release();
}
