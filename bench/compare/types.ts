// Shared types of `daso bench-compare` (the page in bench/compare/page.ts and the CLI in src/cli/compare.ts).

/** One side-by-side case. Plain JSON: the page lists them, the CLI filters and sends them back one at a time. */
export type CompareCase =
  | { kind: 'conv'; op: string; shape: string; dir: 'forward' | 'backward_input' | 'backward_weight'; N: number; C: number; K: number; H: number; R: number; stride: number; pad: number }
  | { kind: 'matmul'; op: string; shape: string; M: number; D: number; K: number }
  | { kind: 'bn_forward' | 'bn_forward_backward'; op: string; shape: string; dims: [number, number, number, number] }
  | { kind: 'ce'; op: string; shape: string; B: number; K: number }
  | { kind: 'step'; op: string; shape: string; B: number };

/** Timings of one implementation on one case (ms). Medians/min/max are over the timed repetitions. */
export interface SideTimes {
  /** First run (pipeline compilation, uploads); not part of the statistics. */
  warmupMs: number | null;
  wallMs: number[];
  wallMsMedian: number | null;
  wallMsMin: number | null;
  wallMsMax: number | null;
  /** GPU time from timestamp queries: ours CommandList.timed() (one pass per dispatch, summed); tfjs tf.time()'s
   * kernelMs (each program in its own pass). Empty where not measured. */
  gpuMs: number[];
  gpuMsMedian: number | null;
  gpuMsMin: number | null;
  gpuMsMax: number | null;
  /** The error text when this side failed (the row then has no comparison). */
  error: string | null;
}

export interface TfjsTimes extends SideTimes {
  /** Completion check: a readback (`await t.data()`) right after the timed flush + onSubmittedWorkDone(). If
   * onSubmittedWorkDone() had not waited for the work, this would be about as long as the wall time. */
  readbackAfterDoneMs: number[];
  /** The same op timed end to end with `await t.data()` on its (first) output instead of onSubmittedWorkDone()
   * (includes the copy and map of the output): one run per case, for comparison with wallMs. */
  dataWallMs: number | null;
  /** tf.memory().numTensors before the first and after the last timed repetition (a leak shows as growth). */
  numTensorsBefore: number | null;
  numTensorsAfter: number | null;
}

export interface OutputCheck {
  name: string;
  maxAbsErr: number;
  /** max |tfjs value| (tfjs is the reference). */
  maxAbsRef: number;
  tol: number;
  ok: boolean;
}

export type RowStatus = 'ok' | 'mismatch' | 'ours error' | 'tfjs error';

export interface CompareRow {
  kind: CompareCase['kind'];
  op: string;
  shape: string;
  /** FLOPs of one run (from our dispatch records; the same work for tfjs). */
  flops: number;
  ours: SideTimes;
  tfjs: TfjsTimes;
  /** tfjs wall / ours wall (medians); > 1 means ours is faster. */
  ratio: number | null;
  oursGflops: number | null;
  tfjsGflops: number | null;
  checks: OutputCheck[];
  /** The largest error over the checks, and the max |ref| of that output. */
  maxAbsErr: number | null;
  maxAbsRef: number | null;
  status: RowStatus;
  note: string;
}

export interface CompareInfo {
  ours: unknown;
  tfjsBackend: string;
  tfjsVersion: string;
  tfjsAdapter: { vendor?: string; architecture?: string } | null;
  tfjsTimestampQuery: boolean;
  tfjsFlags: Record<string, unknown>;
}

export interface CompareApi {
  cases(opts: { batch: number; stepBatches: number[] }): CompareCase[];
  run(c: CompareCase, opts: { reps: number; verbose: boolean }): Promise<CompareRow>;
}
