// `daso bench-step`: the training-step benchmark in headless Chromium. For each configuration: wall time per step,
// images/s, dispatches and submissions per step, peak GPU memory, and a per-kernel GPU profile (timestamp queries,
// one pass per dispatch). Prints markdown tables and writes JSON atomically (after every case, so a long run that is
// stopped keeps the cases it finished).
import { launchOnAdapter, type GpuMode } from './gpu-choice.js';
import { writeAtomic } from './files.js';
import { startServer } from './server.js';
import { saveTuneEntries } from './tune-file.js';
import type { TuneRequest } from '../tune/prepare.js';
import type { StepBenchCase, StepBenchRow } from '../harness/step-bench.js';
import { DEFAULT_STEP_CONFIG, type Algorithm, type StepConfig } from '../train/config.js';
import { PRESETS } from '../train/presets.js';
import type { WrnConfig } from '../nn/wrn-spec.js';

export interface StepBenchOptions {
  /** Case names; empty: the default cases. */
  configs: string[];
  /** Timed steps per case (after one warm-up step); 0: build only (dispatches and peak memory, no times). */
  reps: number;
  out: string;
  verbose: boolean;
  /** Which adapter (cli/gpu-choice.ts); default auto. */
  gpu?: GpuMode;
  /** --tune: the page's request (mode, cache content, budget) and the cache file fresh entries are merged into. */
  tune?: { request: TuneRequest; path: string };
}

function stepConfig(base: StepConfig, algorithm: Algorithm, model?: WrnConfig): StepConfig {
  return {
    algorithm, model: { ...(model ?? base.model) }, optim: { ...base.optim }, ema_decay: base.ema_decay,
    max_iter: base.max_iter, ssl: { ...base.ssl }, daso: { ...base.daso },
  };
}

const FMNIST = PRESETS['fashion-mnist-lt'];
/** WebGPU's default buffer limits (the spec's defaults; a device gets them unless it asks for more). */
const WEBGPU_DEFAULT_LIMITS = { maxBufferSize: 256 * 2 ** 20, maxStorageBufferBindingSize: 128 * 2 ** 20 };
const WRN28_2: WrnConfig = { depth: 28, width: 2, in_channels: 3, num_classes: 10, image_size: 32 };

export const STEP_BENCH_CASES: StepBenchCase[] = [
  { name: 'fmnist-daso', label: 'WRN-10-1 1x28x28 K=10', cfg: stepConfig(FMNIST, 'daso'), B: 16, Bu: 32 },
  // The same step with BN + leaky ReLU unfused (the code before the fusion): A/B in one run.
  { name: 'fmnist-daso-unfused', label: 'WRN-10-1 1x28x28 K=10, BN+LReLU unfused', cfg: stepConfig(FMNIST, 'daso'), B: 16, Bu: 32, unfusedBnLrelu: true },
  { name: 'fmnist-fixmatch', label: 'WRN-10-1 1x28x28 K=10', cfg: stepConfig(FMNIST, 'fixmatch'), B: 16, Bu: 32 },
  { name: 'wrn28-2-sup-b64', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'supervised', WRN28_2), B: 64, Bu: 0 },
  { name: 'wrn28-2-sup-b320', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'supervised', WRN28_2), B: 320, Bu: 0 },
  // The paper's batch (B=64 labeled, Bu=128 unlabeled: mu=2) and smaller rungs of the same ratio, so that time and
  // memory growth with the batch can be read off one run (bench/results/step-paper-batch-*).
  { name: 'wrn28-2-daso-b64', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'daso', WRN28_2), B: 64, Bu: 128 },
  { name: 'wrn28-2-fixmatch-b64', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'fixmatch', WRN28_2), B: 64, Bu: 128 },
  { name: 'wrn28-2-daso-b32', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'daso', WRN28_2), B: 32, Bu: 64 },
  { name: 'wrn28-2-fixmatch-b32', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'fixmatch', WRN28_2), B: 32, Bu: 64 },
  { name: 'wrn28-2-daso-b16', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'daso', WRN28_2), B: 16, Bu: 32 },
  { name: 'wrn28-2-fixmatch-b16', label: 'WRN-28-2 3x32x32 K=10', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'fixmatch', WRN28_2), B: 16, Bu: 32 },
  // Under WebGPU's default limits (what a device requested without requiredLimits gets): the paper's batch fits
  // (largest tensor: a [320, 32, 32, 32] stage-1 activation, 40 MiB); mu=8 (B + 2*Bu = 1088 images) does not, and
  // the case fails while the step is built, naming the tensor (run them with --reps 0: build only).
  { name: 'wrn28-2-daso-b64-webgpu-defaults', label: 'WRN-28-2 3x32x32 K=10, default limits', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'daso', WRN28_2), B: 64, Bu: 128, limits: WEBGPU_DEFAULT_LIMITS },
  { name: 'wrn28-2-daso-mu8-webgpu-defaults', label: 'WRN-28-2 3x32x32 K=10, default limits', cfg: stepConfig(DEFAULT_STEP_CONFIG, 'daso', WRN28_2), B: 64, Bu: 512, limits: WEBGPU_DEFAULT_LIMITS },
];
export const DEFAULT_STEP_BENCH = ['fmnist-daso', 'fmnist-fixmatch'];

export function selectCases(names: string[]): StepBenchCase[] {
  const want = names.length ? names : DEFAULT_STEP_BENCH;
  return want.map((n) => {
    const c = STEP_BENCH_CASES.find((x) => x.name === n);
    if (!c) throw new Error(`bench-step: unknown config '${n}' (known: ${STEP_BENCH_CASES.map((x) => x.name).join(', ')})`);
    return c;
  });
}

/** A case that did not finish, with the reason (e.g. a tensor over an adapter limit). */
export interface StepBenchFailure {
  name: string;
  algorithm: string;
  B: number;
  Bu: number;
  error: string;
}

const f = (x: number | null, d = 1) => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));

/** The summary table: one row per case. */
export function stepSummaryTable(rows: StepBenchRow[]): string {
  const head = '| config | model | algorithm | B | Bu | dispatches | submissions/step | wall ms/step (median; all) | images/s | images incl. EMA fwd /s | GPU ms (sum of timed dispatches) | GPU sum / wall | peak GPU MiB |\n' +
    '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  return [head, ...rows.map((r) => {
    const subs = `${f(r.submissionsPerStep, 2)}${r.refreshEvery ? ` (+1 every ${r.refreshEvery} steps)` : ''}`;
    const ema = r.imagesInclEma !== r.images ? `${f(r.imagesInclEmaPerSec, 2)} (${r.imagesInclEma} img)` : '-';
    const ratio = r.gpuMsSum === null ? '-' : f(r.gpuMsSum / r.wallMsMedian, 2);
    return `| ${r.name} | ${r.label} | ${r.algorithm} | ${r.B} | ${r.Bu} | ${r.dispatches} | ${subs} | ${r.buildOnly ? 'build only' : `${f(r.wallMsMedian)} (${r.wallMs.map((x) => f(x)).join(', ')})`} | ` +
      `${f(r.imagesPerSec, 2)} (${r.images} img) | ${ema} | ${f(r.gpuMsSum)} | ${ratio} | ${f(r.peakAllocatedBytes / 2 ** 20)} |`;
  })].join('\n');
}

/** The top-`n` kernels of one case by total GPU time. */
export function stepKernelTable(r: StepBenchRow, n = 10): string {
  if (r.buildOnly) return `${r.name}: built only (--reps 0): ${r.dispatches} dispatches, peak ${f(r.peakAllocatedBytes / 2 ** 20)} MiB allocated`;
  if (r.gpuMsSum === null) return `${r.name}: no per-kernel profile (the adapter has no timestamp-query)`;
  const head = `**${r.name}**: top ${Math.min(n, r.kernels.length)} of ${r.kernels.length} kernels by GPU time (one timed() step: ${f(r.gpuMsSum)} ms summed over ${r.dispatches} dispatches, each in its own pass; median wall step ${f(r.wallMsMedian)} ms)\n\n` +
    '| # | kernel | dispatches | GPU ms | share | cum. share | GFLOP/s | slowest dispatch ms | its shape |\n|---:|---|---:|---:|---:|---:|---:|---:|---|';
  let cum = 0;
  return [head, ...r.kernels.slice(0, n).map((k, i) => {
    cum += k.share;
    return `| ${i + 1} | ${k.kernel} | ${k.dispatches} | ${f(k.gpuMs)} | ${f(100 * k.share)}% | ${f(100 * cum)}% | ${f(k.gflops, 2)} | ${f(k.maxMs, 2)} | ${k.maxShape} |`;
  })].join('\n');
}

const NOTE = 'Wall: step.run(t) (one submission) -> onSubmittedWorkDone, after one warm-up step; DASO cases time steps with DASO active ' +
  '(t from daso.warmup). GPU ms: CommandList.timed() runs each dispatch in its own compute pass between timestamp queries; ' +
  'that serialises the step, so the summed GPU time is an upper bound of the real step\'s GPU time. On SwiftShader the "GPU" is the CPU.';

export async function runStepBench(root: string, o: StepBenchOptions): Promise<StepBenchRow[]> {
  const cases = selectCases(o.configs);
  // --reps 0: build each step only (dispatches and peak memory, exact; no step run, no times): seconds per case.
  if (!Number.isInteger(o.reps) || o.reps < 0) throw new Error(`bench-step: --reps must be an integer >= 0 (0: build only), got ${o.reps}`);
  const server = await startServer(root);
  const session = await launchOnAdapter(o.gpu ?? 'auto', server.url, o.verbose, (m) => process.stdout.write(`${m}\n`))
    .catch(async (e) => { await server.close(); throw e; });
  const { chromium } = session;
  const rows: StepBenchRow[] = [];
  // A case that fails (an adapter limit exceeded while the step is built, a WebGPU error, a lost page) is reported
  // with its name and reason, kept in the JSON, and the bench goes on with the next case; the exit code is 1 then.
  const failed: StepBenchFailure[] = [];
  try {
    const { page, adapter: info } = session;
    process.stdout.write(`${session.summary}\nadapter: ${JSON.stringify(info)}\n`);
    const save = () => writeAtomic(o.out, JSON.stringify({ date: new Date().toISOString(), adapter: info, reps: o.reps, note: NOTE, rows, failed }, null, 2));
    for (const c of cases) {
      process.stdout.write(`running ${c.name} (${c.label}, ${c.cfg.algorithm}, B=${c.B}${c.Bu ? `, Bu=${c.Bu}` : ''}, reps ${o.reps})...\n`);
      let res: { ok: true; row: StepBenchRow } | { ok: false; error: string };
      try {
        res = (await page.evaluate(
          (cs, reps, verbose, tune) => (window as unknown as { daso: { benchStep: (x: unknown) => Promise<unknown> } }).daso.benchStep({ case: cs, reps, verbose, tune }),
          c as never, o.reps, o.verbose, (o.tune?.request ?? { mode: 'off' }) as never,
        )) as typeof res;
      } catch (e) {
        res = { ok: false, error: `the page failed: ${(e as Error).message ?? String(e)}` };
      }
      if (!res.ok) {
        failed.push({ name: c.name, B: c.B, Bu: c.Bu, algorithm: c.cfg.algorithm, error: res.error });
        process.stdout.write(`bench-step ${c.name} FAILED (B=${c.B}, Bu=${c.Bu}, ${c.cfg.algorithm}): ${res.error}\n\n`);
        save();
        if (page.isClosed()) break;
        continue;
      }
      rows.push(res.row);
      const tn = res.row.tune;
      process.stdout.write(`tune ${tn.mode}: ${Object.keys(tn.table).length} conv kernel choice(s) applied` +
        (tn.mode === 'fresh' ? `, tuning ${(tn.tuneMs / 1000).toFixed(1)} s (not in the step times), ${tn.notReached.length} left to the rule by the budget` : '') + '\n');
      if (tn.mode === 'fresh' && o.tune) process.stdout.write(`tune cache: ${saveTuneEntries(o.tune.path, tn)} entries written to ${o.tune.path}\n`);
      if (o.verbose) process.stdout.write(`${tn.convs.join('\n')}\n`);
      process.stdout.write(`${stepKernelTable(res.row)}\n\n`);
      save();
    }
    process.stdout.write(`${stepSummaryTable(rows)}\n\n${NOTE}\n`);
    for (const x of failed) process.stdout.write(`failed: ${x.name}: ${x.error}\n`);
    process.stdout.write(`wrote ${o.out}\n`);
    if (failed.length) {
      process.stderr.write(`bench-step: ${failed.length} of ${cases.length} case(s) failed: ${failed.map((x) => x.name).join(', ')}\n`);
      process.exitCode = 1;
    }
    return rows;
  } finally {
    await chromium.close();
    await server.close();
  }
}
