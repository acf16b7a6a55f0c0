// The tensors of an evaluation's features file (metrics-record.ts, `features`): penultimate features of a fixed,
// class-balanced subset of the test set, with their labels, test-set indices and the model's predictions, for the
// 2-D embeddings of the page and the report. F32: 50 per class x 128 features (WRN-28-2) is 250 KiB for K = 10.
import type { StTensor } from '../nn/safetensors.js';

export interface FeaturePrediction {
  pred: Int32Array;
  features: Float32Array | null;
  D: number;
}

/** rows: positions (in the evaluated index list `indices`) of the images to keep. */
export function featuresTensors(rows: number[], indices: ArrayLike<number>, p: FeaturePrediction, labels: ArrayLike<number>): Record<string, StTensor> {
  if (!p.features) throw new Error('features file: the evaluation did not read the features back');
  const n = rows.length, D = p.D;
  const f = new Float32Array(n * D);
  rows.forEach((r, i) => f.set(p.features!.subarray(r * D, (r + 1) * D), i * D));
  const i64 = (g: (r: number) => number) => BigInt64Array.from(rows, (r) => BigInt(g(r)));
  return {
    features: { dtype: 'F32', shape: [n, D], data: f },
    labels: { dtype: 'I64', shape: [n], data: i64((r) => labels[indices[r]]) },
    indices: { dtype: 'I64', shape: [n], data: i64((r) => indices[r]) },
    pred: { dtype: 'I64', shape: [n], data: i64((r) => p.pred[r]) },
  };
}
