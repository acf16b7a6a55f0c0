// `daso bench-gpu` (the prepared real-GPU command) as a dry run with a tiny budget: most cases cannot fit, so this
// checks the report's shape rather than numbers: the adapter is named (and a fallback said plainly), every part has
// a status, everything not run carries a reason, the autotuner's part in it is described, and the .md sits beside it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterSlug, convCaseNames, stepConvLowerBoundMs, stepRungNames } from '../src/cli/bench-gpu.js';
import type { BenchGpuReport } from '../src/cli/bench-gpu-report.js';

describe('bench-gpu helpers', () => {
  it('picks the rung the training step runs for each conv and direction', () => {
    const rungs = stepRungNames(convCaseNames());
    expect(rungs).toHaveLength(30); // 10 WRN-28-2 convs x forward / input grad / weight grad
    expect(rungs).toContain('conv2d_forward.v4 N=64 32->32 32x32->32x32 k3 s1 p1 (stage1)');
    expect(rungs).toContain('conv2d_forward.v3 N=64 32->64 32x32->16x16 k1 s2 p0 (stage2 shortcut)');
    // The weight gradient's rule: v5 on 3x3 stride-1 with rows >= 32, v4 on the other vector shapes.
    expect(rungs).toContain('conv2d_backward_weight.v5 N=64 32->32 32x32->32x32 k3 s1 p1 (stage1)');
    expect(rungs).toContain('conv2d_backward_weight.v4 N=64 128->128 8x8->8x8 k3 s1 p1 (stage3)');
    expect(rungs).toContain('conv2d_backward_weight.v4 N=64 32->64 32x32->16x16 k1 s2 p0 (stage2 shortcut)');
    expect(rungs.some((n) => /\.v5 /.test(n) && !n.startsWith('conv2d_backward_weight'))).toBe(false); // GPU tiles: not the rule
    expect(rungs.every((n) => !/\.v\d+-/.test(n))).toBe(true);
    expect(stepConvLowerBoundMs([])).toBeNull();
    expect(adapterSlug('NVIDIA/Hopper')).toBe('nvidia-hopper');
  });
});

describe('daso bench-gpu --dry-run (CLI)', () => {
  it('writes one JSON and one .md naming the adapter, with a reason for everything skipped', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daso-bench-gpu-'));
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['dist/cli.js', 'bench-gpu', '--dry-run', '--budget-s', '40', '--out-dir', dir], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^gpu-[a-z0-9-]+-\d{4}-\d{2}-\d{2}\.json$/);
    const j = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as BenchGpuReport;
    expect(j.schema).toBe('daso-bench-gpu/1');
    expect(j.command).toContain('bench-gpu --dry-run');
    expect(j.dryRun).toBe(true);
    expect(j.scaledDown).toBe(true);
    expect(j.adapter.name).toMatch(/^[^/]+\/[^/]+$/);
    expect(j.adapter.name).not.toMatch(/unknown|none/);
    expect(files[0]).toContain(adapterSlug(j.adapter.name));
    expect(j.adapter.attempts.length).toBeGreaterThan(0);
    if (j.adapter.isFallbackAdapter) expect(j.adapter.verdict).toMatch(/^NOT A GPU/);
    expect(j.autotune).toMatch(/^fresh before each step case/);
    expect(j.parts.step.settings.tuneBudgetS).toBeLessThanOrEqual(10); // scaled down
    for (const row of j.parts.step.rows) expect(row.tune.mode).toBe('fresh');
    for (const [name, part] of Object.entries(j.parts)) {
      expect(['done', 'partial', 'skipped', 'error'], name).toContain(part.status);
      if (part.status !== 'done') expect(part.reason, name).toBeTruthy();
      else expect(part.reason, name).toBeNull(); // a reason exactly when a part did not finish
      for (const s of part.skipped) expect(s.reason, `${name}: ${s.case}`).toMatch(/\S/);
    }
    // The scaled-down run never runs the DASO step, so the step part is never 'done' and must say why (this makes
    // the per-part reason check above run on at least one part).
    expect(j.parts.step.status).not.toBe('done');
    expect(j.parts.step.reason).toMatch(/scaled-down|budget/);
    expect(j.parts.step.skipped.find((s) => s.case === 'wrn28-2-daso-b64')?.reason).toMatch(/scaled-down/);
    expect(j.parts.conv.rows.length + j.parts.conv.skipped.length).toBe(30);
    const md = readFileSync(join(dir, files[1]), 'utf8');
    expect(files[1]).toBe(files[0].replace(/\.json$/, '.md'));
    expect(md).toContain(`Adapter: ${j.adapter.name}`);
    expect(md).toMatch(/autotune: fresh before each step case/);
  }, 120_000);
});
