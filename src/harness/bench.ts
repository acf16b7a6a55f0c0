// In-page kernel benchmark: for each case, compile, warm up, then time `reps` runs. GPU time comes from timestamp
// queries around each dispatch; wall time is submit -> onSubmittedWorkDone. Medians are reported.
import { benchCases } from '../../bench/cases/index.js';
import type { Runtime } from '../gpu/runtime.js';

export type { BenchRow } from './bench-table.js';
import { matchesFilter, type BenchRow } from './bench-table.js';


function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchKernels(rt: Runtime, opts: { filter?: string; reps: number }, onRow?: (r: BenchRow) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const adapter = `${rt.info?.vendor ?? '?'}/${rt.info?.architecture ?? '?'}${rt.info?.isFallbackAdapter ? ' (fallback)' : ''}`;
  for (const c of benchCases) {
    if (!matchesFilter(opts.filter, `${c.kernel} ${c.shape}`)) continue;
    const ds = c.build(rt);
    const list = rt.commands(c.kernel);
    list.add(...ds);
    await list.compile();
    await list.run(); // warm-up (first-run costs are not kernel costs)
    const gpu: number[] = [];
    const wall: number[] = [];
    for (let r = 0; r < opts.reps; r++) {
      const t0 = performance.now();
      await list.run();
      wall.push(performance.now() - t0);
      if (rt.info?.timestamps) {
        const t = await list.timed();
        gpu.push(t.reduce((s, x) => s + x.gpuNs, 0) / 1e6);
      }
    }
    const flops = ds.reduce((s, d) => s + d.flops, 0);
    const bytes = ds.reduce((s, d) => s + d.bytes, 0);
    const gpuMs = gpu.length ? median(gpu) : null;
    const wallMs = median(wall);
    const ms = gpuMs ?? wallMs;
    const row: BenchRow = {
      kernel: c.kernel,
      shape: c.shape,
      dispatches: ds.length,
      gpuMs,
      gpuMsMin: gpu.length ? Math.min(...gpu) : null,
      gpuMsMax: gpu.length ? Math.max(...gpu) : null,
      wallMs,
      gflops: flops ? flops / (ms * 1e6) : null,
      gbps: bytes ? bytes / (ms * 1e6) : null,
      adapter,
    };
    rows.push(row);
    onRow?.(row);
    list.dispose();
    for (const d of ds) for (const t of Object.values(d.tensors)) t.release();
  }
  return rows;
}

