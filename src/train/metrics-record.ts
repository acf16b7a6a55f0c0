// The records of a run's metrics.jsonl (one JSON object a line), the format the live page and `daso report` read.
// Version 2 (this file) adds `kind` and the log records; version 1 files (runs before 2026-12-02) hold only eval
// records without `kind`, `confusion`, `recall_la`, `precision_la` or `features`: readers treat a record without
// `kind` as an eval record and draw what it has. Numbers that are undefined (recall of a class with no images,
// precision of a class never predicted) are NaN in memory and null in the file (JSON has no NaN).
import type { ClassMetrics } from './evaluate.js';

export const METRICS_FORMAT = 2;

/** Pseudo-label statistics of one logging window, counted on the GPU for every unlabeled image of every step of the
 * window (the unlabeled images' true labels are read by the counting kernel only, never by the training math). */
export interface PseudoLabelWindow {
  /** Steps first_step..step (1-based, inclusive) are counted. */
  first_step: number;
  /** Unlabeled images counted (steps x Bu). */
  images: number;
  /** K x K counts, [true class][pseudo-label], every unlabeled image. */
  confusion: number[][];
  /** K x K counts, [true class][pseudo-label], the confident images (mask = 1) only. */
  confusion_confident: number[][];
  /** Per true class: confident / all (NaN where the window had no image of the class). */
  mask_ratio_per_class: number[];
  /** The pseudo-label histogram DASO's blend uses for the step after the window (m_hat, normalised; the counts of
   * the last complete pl_update_period window; zeros before the first one), null for FixMatch. */
  m_hat: number[] | null;
  /** DASO's per-class blend weight for the step after the window: v_k = (m_k / max_j m_j)^(1/T_dist) when dist_aware, else
   * interp_alpha; 0 for every class before the warm-up ends; null for FixMatch. */
  v: number[] | null;
}

/** Log records hold nothing that depends on timing (the step rate goes to stdout only), so a resumed run's file
 * equals an uninterrupted run's. */
export interface LogRecord {
  kind: 'log';
  step: number;
  /** Weighted loss parts of the last step of the window (loss = loss_cls + loss_u + loss_align). */
  loss: number;
  loss_cls: number;
  loss_u: number;
  loss_align: number;
  /** Mask ratio over the whole window (all images of all steps), or of the last step when no labels are known. */
  mask_ratio: number;
  daso_active: boolean;
  /** null: supervised, or the unlabeled images' labels are unknown (the library's own images). */
  pl: PseudoLabelWindow | null;
}

/** Test metrics with the evaluation extras. */
export interface TestMetrics extends ClassMetrics {
  /** K x K counts [true][predicted] (argmax of the logits). */
  confusion?: number[][];
  /** Per-class recall / precision of the test-time logit-adjusted prediction (argmax of logits - log pi). */
  recall_la?: number[];
  precision_la?: number[];
}

export interface EvalRecordV2 {
  kind: 'eval';
  step: number;
  test: TestMetrics;
  valid: ClassMetrics | null;
  /** Pseudo-label recall/precision per class over every unlabeled image since the last evaluation (summed GPU windows). */
  pseudo_label: (ClassMetrics & { mask_ratio: number; confident: ClassMetrics }) | null;
  full_test: boolean;
  /** Run-folder path of the penultimate features of the fixed class-balanced test subset (safetensors: `features`
   * F32 [n, D], `labels` I64 [n], `indices` I64 [n] (test-set indices), `pred` I64 [n]), or null when not saved. */
  features: string | null;
}

/** First record of a run (and again, with the resume step, after each resume): the split's class counts. */
export interface StartRecord {
  kind: 'start';
  format: number;
  /** Steps done when this (re)start began. */
  step: number;
  algorithm: string;
  /** Images per class: labeled, unlabeled ([] when the unlabeled labels are unknown), validation. */
  split: { labeled: number[]; unlabeled: number[]; valid: number[] };
  /** The conv rungs the step runs: how they were chosen (--tune off|cached|fresh, or resumed) and conv key
   * (direction:N,C,H,W,K,R,stride,pad) -> rung. Absent in runs made before the autotuner. */
  tune?: string;
  conv_choices?: Record<string, string>;
}

export type MetricsRecord = StartRecord | LogRecord | EvalRecordV2;

/** Run-folder name of the features of the final evaluation (final.json's `final.features`). */
export const FINAL_FEATURES = 'features/final.safetensors';

/** Run-folder name of the features file of the periodic evaluation after `step` steps. */
export function featuresFileName(step: number): string {
  return `features/step-${String(step).padStart(6, '0')}.safetensors`;
}
