// The harness page's script: acquires the GPU, shows the adapter, and exposes `window.daso` to the tests, the
// benchmarks (driven by puppeteer) and a person (buttons in harness.html).
import { describeAdapter } from '../gpu/device.js';
import { Runtime } from '../gpu/runtime.js';
import { benchKernels } from './bench.js';
import { benchTable, type BenchRow } from './bench-table.js';
import { batchGrid, wireBatchGrid, type BatchGridOptions, type BatchGridSummary } from './batch-grid.js';
import { ops } from './ops/index.js';
import { runStepFromFiles, type StepRequest } from './step-runner.js';
import { benchStep, type StepBenchCase, type StepBenchRow } from './step-bench.js';
import { runTraining, stopTraining, type TrainRequest } from './train-runner.js';
import type { TuneRequest } from '../tune/prepare.js';
import { wireLiveTrain, type LiveCheckpoint } from './live-train.js';

interface Daso {
  rt: Runtime;
  runOp(name: string, params: unknown, inputs: Record<string, number[]>): Promise<{ ok: true; outputs: Record<string, number[]> } | { ok: false; error: string }>;
  memory(): ReturnType<Runtime['pool']['report']>;
  bench(opts: { filter?: string; reps: number; verbose?: boolean }): Promise<BenchRow[]>;
  benchStep(opts: { case: StepBenchCase; reps: number; verbose?: boolean; tune?: TuneRequest; sharePipelines?: boolean }): Promise<{ ok: true; row: StepBenchRow } | { ok: false; error: string }>;
  step(req: StepRequest): Promise<{ ok: true; loss: number; dispatches: number } | { ok: false; error: string }>;
  train(req: TrainRequest): Promise<{ ok: true } | { ok: false; error: string }>;
  stopTrain(reason: string): void;
  /** The augmentation debug view's summary (draws into the page's canvas too); rejects on errors. */
  batchGrid(opts: Omit<BatchGridOptions, 'canvas'>): Promise<BatchGridSummary>;
  /** The "Train live" section's latest in-memory checkpoint (what its download button saves), or null. */
  liveCheckpoint(): LiveCheckpoint | null;
}

declare global {
  interface Window {
    daso: Daso;
    dasoInfo: unknown;
    dasoReady: Promise<unknown>;
  }
}

const status = document.getElementById('adapter');

window.dasoReady = (async () => {
  try {
    const rt = await Runtime.create({
      onLost: (msg) => { if (status) status.textContent = msg; },
    });
    window.dasoInfo = rt.info;
    if (status) status.textContent = describeAdapter(rt.info!);
    const live = wireLiveTrain(rt);
    window.daso = {
      rt,
      liveCheckpoint: () => live.latest(),
      async runOp(name, params, inputs) {
        const op = ops[name];
        try {
          if (!op) throw new Error(`unknown op '${name}' (known: ${Object.keys(ops).join(', ')})`);
          return { ok: true, outputs: await op(rt, params, inputs) };
        } catch (e) {
          return { ok: false, error: (e as Error).message ?? String(e) };
        }
      },
      memory: () => rt.pool.report(),
      async step(req) {
        try {
          return { ok: true, ...(await runStepFromFiles(rt, req)) };
        } catch (e) {
          return { ok: false, error: (e as Error).message ?? String(e) };
        }
      },
      stopTrain: (reason: string) => stopTraining(reason),
      async train(req) {
        try {
          await runTraining(rt, req);
          return { ok: true };
        } catch (e) {
          return { ok: false, error: (e as Error).message ?? String(e) };
        }
      },
      batchGrid: (opts) => batchGrid(rt, { ...opts, canvas: document.getElementById('grid-canvas') as HTMLCanvasElement | null }),
      bench: (opts) => benchKernels(rt, opts, opts.verbose ? (r) => console.log(`bench ${r.kernel} ${r.shape}: ${r.gpuMs?.toFixed(3)} ms`) : undefined),
      async benchStep(opts) {
        try {
          return { ok: true, row: await benchStep(rt, opts.case, { reps: opts.reps, tune: opts.tune, sharePipelines: opts.sharePipelines, log: opts.verbose ? (m) => console.log(`bench-step ${m}`) : undefined }) };
        } catch (e) {
          return { ok: false, error: (e as Error).message ?? String(e) };
        }
      },
    };
    wireBenchButton(rt);
    wireBatchGrid(rt);
    return rt.info;
  } catch (e) {
    if (status) status.textContent = `No WebGPU: ${(e as Error).message}`;
    throw e;
  }
})();

function wireBenchButton(rt: Runtime): void {
  const button = document.getElementById('run-bench') as HTMLButtonElement | null;
  const out = document.getElementById('bench-table');
  const note = document.getElementById('bench-status');
  if (!button || !out || !note) return;
  button.disabled = false;
  button.onclick = async () => {
    button.disabled = true;
    const rows: BenchRow[] = [];
    try {
      await benchKernels(rt, { reps: 3 }, (r) => {
        rows.push(r);
        note.textContent = `${rows.length} cases done…`;
        out.innerHTML = markdownToHtml(benchTable(rows));
      });
      note.textContent = `done: ${rows.length} cases`;
    } catch (e) {
      note.textContent = `failed: ${(e as Error).message}`;
    } finally {
      button.disabled = false;
    }
  };
}

function markdownToHtml(md: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const lines = md.split('\n').filter((l) => !/^\|[-:| ]+\|$/.test(l));
  const cells = (l: string) => l.split('|').slice(1, -1).map((c) => esc(c.trim()));
  const [head, ...body] = lines;
  return `<table><tr>${cells(head).map((c) => `<th>${c}</th>`).join('')}</tr>` +
    body.map((l) => `<tr>${cells(l).map((c) => `<td>${c}</td>`).join('')}</tr>`).join('') + '</table>';
}
