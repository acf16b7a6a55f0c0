// Pseudo-label statistics of a training run, counted on the GPU (pl_confusion in every recorded step) and read back
// only at log steps: the (true class, pseudo-label) confusion of every unlabeled image and of the confident ones,
// summed over the logging window, then turned into the log record's window (src/train/metrics-record.ts) and summed
// again over the evaluation period for the eval record's per-class pseudo-label recall and precision.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import type { PseudoLabelSwitches } from '../kernels/daso.js';
import type { PseudoLabelWindow } from '../train/metrics-record.js';

/** [all | confident][true][pseudo] counts, flat (2*K*K). */
export type ConfusionCounts = Int32Array;

export class PlCounter {
  /** The unlabeled batch's true labels, written by the data feed; bound by pl_confusion only. */
  readonly truth: Tensor;
  /** Counts of the current logging window, [2, K, K]. */
  readonly counts: Tensor;

  constructor(readonly rt: Runtime, readonly Bu: number, readonly K: number) {
    this.truth = rt.tensor([Bu], 'i32', 'y_ulb (statistics only)');
    this.counts = rt.tensor([2, K, K], 'i32', 'pl_counts');
    rt.pool.write(this.counts, new Int32Array(2 * K * K));
  }

  /** The window's counts, then zero on the GPU (ordered before the next submission). */
  async take(): Promise<ConfusionCounts> {
    const c = Int32Array.from((await this.rt.read(this.counts)) as Int32Array);
    this.rt.pool.write(this.counts, new Int32Array(2 * this.K * this.K));
    return c;
  }

  /** Restores a window in progress (a resumed run continues the window its checkpoint was in). */
  restore(c: ArrayLike<number>): void {
    this.rt.pool.write(this.counts, Int32Array.from(c));
  }

  dispose(): void {
    this.truth.release();
    this.counts.release();
  }
}

/** The K x K matrix `which` (0: all, 1: confident) of flat counts, as nested rows. */
export function confusionRows(c: ArrayLike<number>, K: number, which: 0 | 1): number[][] {
  return Array.from({ length: K }, (_, t) => Array.from({ length: K }, (_, p) => c[which * K * K + t * K + p]));
}

/** Per-class blend weight DASO's pseudo-label kernel uses at the given histogram: (m_k / max m)^(1/T_dist), or
 * interp_alpha without dist_aware, 0 while the blend is off (warm-up) or before the histogram has counts. */
export function blendWeightsPerClass(plHist: ArrayLike<number>, s: PseudoLabelSwitches): number[] {
  const m = Array.from(plHist);
  if (!s.active) return m.map(() => 0);
  if (!s.distAware) return m.map(() => s.interpAlpha);
  const mx = Math.max(...m);
  return m.map((x) => (mx > 0 ? Math.pow(x / mx, 1 / s.tDist) : 0));
}

/** The log record's window from its counts and (DASO) the histogram in force with the blend switches. */
export function windowRecord(counts: ConfusionCounts, K: number, firstStep: number, daso: { plHist: ArrayLike<number>; switches: PseudoLabelSwitches } | null): PseudoLabelWindow {
  const all = confusionRows(counts, K, 0), conf = confusionRows(counts, K, 1);
  const sum = (r: number[]) => r.reduce((a, b) => a + b, 0);
  const images = all.reduce((a, r) => a + sum(r), 0);
  let mHat: number[] | null = null;
  if (daso) {
    const total = Array.from(daso.plHist).reduce((a, b) => a + b, 0);
    mHat = Array.from(daso.plHist, (x) => (total > 0 ? x / total : 0));
  }
  return {
    first_step: firstStep, images, confusion: all, confusion_confident: conf,
    mask_ratio_per_class: all.map((r, t) => (sum(r) ? sum(conf[t]) / sum(r) : NaN)),
    m_hat: mHat,
    v: daso ? blendWeightsPerClass(daso.plHist, daso.switches) : null,
  };
}

/** Adds b into a (same length). */
export function addCounts(a: Int32Array, b: ArrayLike<number>): void {
  for (let i = 0; i < a.length; i++) a[i] += b[i];
}
