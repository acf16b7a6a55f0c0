// In-page training-step benchmark (`daso bench-step`): for each case, build the state and one recorded step, write
// random inputs once, warm up one step, then time `reps` steps (wall: submit -> onSubmittedWorkDone) and profile one
// step with CommandList.timed() (timestamp queries, one compute pass per dispatch), grouped by kernel name.
//
// Each case gets its own MemoryPool and pipeline cache (a fresh Runtime on the same device) so that its peak memory
// and its compile time are its own; `sharePipelines` reuses the page's compiled pipelines instead (for callers that
// build many variants of one step and time none of the compiling: the autotuner's tests). Timed steps run at t = daso.warmup + i, i.e. with DASO active (blending and L_align on, the steady
// state of a run); the pseudo-label histogram is set to uniform counts first, since after reset() it is all zero and
// the active blend would divide 0 by 0 (a real run refreshes it before the warm-up ends).
import { Runtime } from '../gpu/runtime.js';
import { DasoState } from '../ssl/daso-state.js';
import { buildSslStep } from '../ssl/ssl-step.js';
import type { StepConfig } from '../train/config.js';
import { TrainState } from '../train/model-state.js';
import { normal, rngFromSeed } from '../train/random.js';
import { FUSE_BN_LRELU } from '../nn/wrn.js';
import { convUseLines } from '../tune/choices.js';
import { prepareConvChoices, type TuneOutcome, type TuneRequest } from '../tune/prepare.js';

export interface StepBenchCase {
  name: string;
  /** A short description of the case for the table, e.g. "WRN-10-1 1x28x28 K=10". */
  label: string;
  cfg: StepConfig;
  B: number;
  /** Unlabeled batch (0 for supervised). */
  Bu: number;
  /** Tighter buffer limits than the device's, e.g. WebGPU's defaults { maxBufferSize: 256 MiB,
   * maxStorageBufferBindingSize: 128 MiB }: to see whether a step fits a smaller adapter (and for tests). A tensor
   * over a limit fails the case while the step is built, naming the tensor, before anything is submitted. */
  limits?: { maxBufferSize?: number; maxStorageBufferBindingSize?: number };
  /** Record BN + leaky ReLU as two ops instead of the fused one (the A/B baseline of src/kernels/batchnorm-lrelu.ts). */
  unfusedBnLrelu?: boolean;
}

export interface KernelGroup {
  kernel: string;
  dispatches: number;
  gpuMs: number;
  /** Share of the summed GPU time of the profiled step. */
  share: number;
  gflops: number | null;
  /** The slowest single dispatch of this kernel. */
  maxMs: number;
  maxShape: string;
}

export interface StepBenchRow {
  name: string;
  label: string;
  algorithm: string;
  B: number;
  Bu: number;
  /** Images through the online encoder per step: B (+ 2*Bu for SSL). */
  images: number;
  /** Plus the DASO EMA forward over the labeled batch (B more, forward only). */
  imagesInclEma: number;
  dispatches: number;
  /** Submissions per timed step, averaged (1, plus the DASO histogram refresh when due). */
  submissionsPerStep: number;
  /** DASO only: the histogram refresh adds one submission every this many steps. */
  refreshEvery: number | null;
  /** The first t of the timed steps (DASO active from daso.warmup on). */
  tStart: number;
  buildMs: number;
  warmupMs: number;
  wallMs: number[];
  wallMsMedian: number;
  imagesPerSec: number;
  imagesInclEmaPerSec: number;
  peakAllocatedBytes: number;
  peakInUseBytes: number;
  /** Sum of per-dispatch GPU time of one timed() step (each dispatch in its own pass: an upper bound). */
  gpuMsSum: number | null;
  profileWallMs: number | null;
  /** All kernel groups, by total GPU ms, descending. */
  kernels: KernelGroup[];
  /** Every dispatch of the profiled step in execution order: kernel, shape, GPU ms. */
  timings: { kernel: string; shape: string; gpuMs: number }[];
  loss: number;
  adapter: string;
  /** The conv rungs (--tune): the mode, tuning time (not in the step times), the new cache entries, and one line
   * per conv saying which rung each of its kernels runs. */
  tune: TuneOutcome & { convs: string[] };
  /** Run with reps 0: the step was built (dispatches, peak memory) but not run; times are NaN (null in JSON). */
  buildOnly?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchStep(rt: Runtime, c: StepBenchCase, opts: { reps: number; seed?: number; log?: (s: string) => void; tune?: TuneRequest; sharePipelines?: boolean }): Promise<StepBenchRow> {
  const log = opts.log ?? (() => undefined);
  // reps 0: build only (dispatches and peak memory are known once the step is recorded; no step is run).
  const buildOnly = Math.floor(opts.reps) === 0;
  const reps = buildOnly ? 0 : Math.max(1, Math.floor(opts.reps));
  const cfg = c.cfg;
  const m = cfg.model;
  const K = m.num_classes;
  const ssl = cfg.algorithm !== 'supervised';
  const Bu = ssl ? c.Bu : 0;
  const adapter = `${rt.info?.vendor ?? '?'}/${rt.info?.architecture ?? '?'}${rt.info?.isFallbackAdapter ? ' (fallback)' : ''}`;
  const crt = new Runtime(rt.device, rt.info, opts.sharePipelines ? rt.pipelines : undefined, { limits: c.limits }); // own pool: the peak below is this case's
  const st = new TrainState(crt, m);
  const daso = cfg.algorithm === 'daso' ? new DasoState(crt, K, cfg.daso.queue_size, st.spec.featureDim) : null;
  let step: Awaited<ReturnType<typeof buildSslStep>> | null = null;
  try {
    const seed = opts.seed ?? 0;
    // Built before the state is written: a tensor over an adapter limit then fails the case before anything at all
    // is sent to the queue (the build reads no values).
    const tune = await prepareConvChoices(crt, opts.tune ?? { mode: 'off' }, async () => (await buildSslStep(st, cfg, c.B, Bu, daso)).dispose(), log);
    const tb = performance.now();
    FUSE_BN_LRELU.on = !c.unfusedBnLrelu;
    try {
      step = await buildSslStep(st, cfg, c.B, Bu, daso);
    } finally {
      FUSE_BN_LRELU.on = true;
    }
    const buildMs = performance.now() - tb;
    const convs = convUseLines(crt.convChoices.used);
    st.initialise(seed);
    daso?.reset();
    if (daso) crt.pool.write(daso.plHist, new Int32Array(K).fill(Math.max(1, Math.round((Bu * cfg.daso.pl_update_period) / K))));
    const mem = crt.pool.report();
    const rnd = rngFromSeed(seed + 1);
    const io = step.io;
    const per = m.in_channels * m.image_size * m.image_size;
    crt.pool.write(io.xLb, normal(rnd, c.B * per, 1));
    crt.pool.write(io.yLb, Int32Array.from({ length: c.B }, () => Math.floor(rnd() * K)));
    if (ssl) {
      crt.pool.write(io.xUw!, normal(rnd, Bu * per, 1));
      crt.pool.write(io.xUs!, normal(rnd, Bu * per, 1));
    }
    const q = rt.device.queue;
    await q.onSubmittedWorkDone();
    log(`${c.name}: built (${step.dispatches} dispatches, ${buildMs.toFixed(0)} ms)${buildOnly ? '' : ', warming up'}`);

    const period = daso ? cfg.daso.pl_update_period : 0;
    const refreshDue = (t: number) => daso !== null && (t + 1) % period === 0 && t + 1 < cfg.max_iter;
    const t0 = daso ? Math.max(cfg.daso.warmup, 1) : 0;
    let t = t0;
    const w0 = performance.now();
    if (!buildOnly) {
      step.run(t++);
      await q.onSubmittedWorkDone();
    }
    const warmupMs = buildOnly ? NaN : performance.now() - w0;
    const tStart = t;
    const wall: number[] = [];
    let submissions = 0;
    for (let r = 0; r < reps; r++) {
      submissions += 1 + (refreshDue(t) ? 1 : 0);
      const s0 = performance.now();
      step.run(t++);
      await q.onSubmittedWorkDone();
      wall.push(performance.now() - s0);
      log(`${c.name}: step ${r + 1}/${reps}: ${wall[r].toFixed(1)} ms`);
    }
    const loss = buildOnly ? NaN : (await step.readLosses(t - 1)).loss;

    let gpuMsSum: number | null = null;
    let profileWallMs: number | null = null;
    const kernels: KernelGroup[] = [];
    let timingList: StepBenchRow['timings'] = [];
    if (rt.info?.timestamps && !buildOnly) {
      log(`${c.name}: profiling one step (one pass per dispatch)`);
      const p0 = performance.now();
      const timings = await step.list.timed();
      profileWallMs = performance.now() - p0;
      const groups = new Map<string, { n: number; ns: number; flops: number; maxNs: number; maxShape: string }>();
      for (const k of timings) {
        const g = groups.get(k.name) ?? { n: 0, ns: 0, flops: 0, maxNs: -1, maxShape: '' };
        g.n++;
        g.ns += k.gpuNs;
        g.flops += k.flops;
        if (k.gpuNs > g.maxNs) { g.maxNs = k.gpuNs; g.maxShape = k.shape; }
        groups.set(k.name, g);
      }
      timingList = timings.map((k) => ({ kernel: k.name, shape: k.shape, gpuMs: k.gpuNs / 1e6 }));
      const totalNs = timings.reduce((s, k) => s + k.gpuNs, 0);
      gpuMsSum = totalNs / 1e6;
      for (const [kernel, g] of groups) {
        kernels.push({
          kernel, dispatches: g.n, gpuMs: g.ns / 1e6, share: totalNs > 0 ? g.ns / totalNs : 0,
          gflops: g.flops > 0 && g.ns > 0 ? g.flops / g.ns : null, maxMs: g.maxNs / 1e6, maxShape: g.maxShape,
        });
      }
      kernels.sort((a, b) => b.gpuMs - a.gpuMs);
    }
    const wallMsMedian = buildOnly ? NaN : median(wall);
    const images = c.B + (ssl ? 2 * Bu : 0);
    const imagesInclEma = images + (daso ? c.B : 0);
    return {
      name: c.name, label: c.label, algorithm: cfg.algorithm, B: c.B, Bu,
      images, imagesInclEma,
      dispatches: step.dispatches,
      submissionsPerStep: buildOnly ? 1 : submissions / reps,
      buildOnly,
      refreshEvery: daso ? period : null,
      tStart,
      buildMs, warmupMs, wallMs: wall, wallMsMedian,
      imagesPerSec: images / (wallMsMedian / 1e3),
      imagesInclEmaPerSec: imagesInclEma / (wallMsMedian / 1e3),
      peakAllocatedBytes: mem.peakAllocatedBytes,
      peakInUseBytes: mem.peakInUseBytes,
      gpuMsSum, profileWallMs, kernels, timings: timingList, loss, adapter, tune: { ...tune, convs },
    };
  } finally {
    step?.dispose();
    daso?.dispose();
    st.dispose();
    crt.dispose();
  }
}
