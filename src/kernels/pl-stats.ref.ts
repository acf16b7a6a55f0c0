// Plain TypeScript reference of pl_confusion: the same counts from the same arrays, one image at a time.

/** counts (length 2*K*K, [all | confident][true][pseudo]) plus this step's images; a new array, `prior` untouched. */
export function plConfusionRef(pseudoLabel: ArrayLike<number>, mask: ArrayLike<number>, truth: ArrayLike<number>, K: number, prior?: ArrayLike<number>): Int32Array {
  const out = prior ? Int32Array.from(prior) : new Int32Array(2 * K * K);
  for (let i = 0; i < pseudoLabel.length; i++) {
    const t = truth[i], p = pseudoLabel[i];
    if (!(t >= 0 && t < K && p >= 0 && p < K)) continue;
    out[t * K + p] += 1;
    if (mask[i] > 0) out[K * K + t * K + p] += 1;
  }
  return out;
}
