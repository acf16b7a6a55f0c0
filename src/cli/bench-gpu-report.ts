// The report of `daso bench-gpu` (src/cli/bench-gpu.ts runs it): its JSON shape (schema daso-bench-gpu/1, documented
// in bench/README.md) and the markdown written beside it. Apart from the runner so the format can be read in one place.
import { compareTable, COMPARE_NOTE } from '../../bench/compare/table.js';
import type { CompareRow } from '../../bench/compare/types.js';
import { benchTable, type BenchRow } from '../harness/bench-table.js';
import type { StepBenchRow } from '../harness/step-bench.js';
import type { GpuEnvironment } from './gpu-choice.js';
import { stepKernelTable, stepSummaryTable } from './step-bench.js';

export type PartStatus = 'done' | 'partial' | 'skipped' | 'error';
export interface Skip { case: string; reason: string }
export interface PartReport<R> {
  status: PartStatus;
  /** Why the part was skipped, cut short or failed (null when done). */
  reason: string | null;
  budgetS: number;
  wallS: number;
  settings: Record<string, unknown>;
  rows: R[];
  skipped: Skip[];
}

export interface AdapterAttempt {
  flagSet: string;
  flags: string[];
  ok: boolean;
  /** The harness page's adapter report (src/gpu/device.ts AdapterReport) when it got a device. */
  adapter: Record<string, unknown> | null;
  /** navigator.gpu.requestAdapter() for each power preference, every adapter.info field (more of them with
   * --enable-webgpu-developer-features: backend, type, driver). */
  probe: Record<string, unknown> | null;
  error: string | null;
  chromium: string | null;
}

export interface BenchGpuReport {
  schema: 'daso-bench-gpu/1';
  date: string;
  command: string;
  dryRun: boolean;
  scaledDown: boolean;
  scaledDownReason: string | null;
  budgetS: number;
  wallS: number;
  adapter: {
    /** vendor/architecture as the harness page reports it, e.g. 'nvidia/hopper', 'google/swiftshader'. */
    name: string;
    isFallbackAdapter: boolean;
    /** A plain sentence: whether these are GPU numbers. */
    verdict: string;
    flagSet: string;
    flags: string[];
    report: Record<string, unknown> | null;
    probe: Record<string, unknown> | null;
    chromium: string | null;
    attempts: AdapterAttempt[];
  };
  environment: GpuEnvironment;
  autotune: string;
  parts: { conv: PartReport<BenchRow>; step: PartReport<StepBenchRow>; compare: PartReport<CompareRow> };
}

export function markdown(r: BenchGpuReport): string {
  const p = r.parts;
  const partHead = (title: string, x: PartReport<unknown>) => `## ${title}: ${x.status}${x.reason ? ` — ${x.reason}` : ''}\n\n` +
    `budget ${x.budgetS} s, took ${x.wallS} s; settings ${JSON.stringify(x.settings)}\n`;
  const skipped = (x: PartReport<unknown>) => !x.skipped.length ? '' :
    `\nSkipped (${x.skipped.length}):\n\n${x.skipped.map((s) => `- ${s.case}: ${s.reason}`).join('\n')}\n`;
  return [
    `# bench-gpu ${r.date}`,
    '',
    `**Adapter: ${r.adapter.name}${r.adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}.** ${r.adapter.verdict}`,
    '',
    `- command: \`${r.command}\`${r.dryRun ? ' (dry run)' : ''}`,
    `- Chromium ${r.adapter.chromium ?? '?'}, flag set '${r.adapter.flagSet}': \`${r.adapter.flags.join(' ') || '(none beyond the defaults)'}\``,
    `- attempts: ${r.adapter.attempts.map((a) => `${a.flagSet} -> ${a.ok ? `${a.adapter?.vendor}/${a.adapter?.architecture}${a.adapter?.isFallbackAdapter ? ' (fallback)' : ''}` : `failed: ${a.error}`}`).join('; ')}`,
    `- scaled down: ${r.scaledDown ? `yes (${r.scaledDownReason})` : 'no'}`,
    `- budget ${r.budgetS} s, took ${r.wallS} s`,
    `- nvidia-smi: ${r.environment.nvidiaSmi ?? 'absent'}; libvulkan.so.1: ${r.environment.libvulkan ?? '?'}; Vulkan ICDs: ${r.environment.vulkanIcds.join(', ') || 'none'}; VK_DRIVER_FILES: ${r.environment.vkDriverFiles ?? 'unset'}`,
    `- autotune: ${r.autotune}`,
    '',
    partHead('conv ladder (daso bench, conv2d rows, batch 64)', p.conv),
    p.conv.rows.length ? benchTable(p.conv.rows) : '(no rows)',
    skipped(p.conv),
    partHead('training step (daso bench-step)', p.step),
    p.step.rows.length ? [stepSummaryTable(p.step.rows), ...p.step.rows.map((x) => stepKernelTable(x))].join('\n\n') : '(no rows)',
    skipped(p.step),
    partHead('ours vs tfjs-backend-webgpu (daso bench-compare ops)', p.compare),
    p.compare.rows.length ? `${compareTable(p.compare.rows)}\n\n${COMPARE_NOTE}` : '(no rows)',
    skipped(p.compare),
  ].join('\n');
}

