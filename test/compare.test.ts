// `daso bench-compare` (ours vs tfjs-backend-webgpu in one page) at a tiny shape: the stage-3 convolutions at batch
// 1, one repetition, no whole steps. Every row must agree with tfjs and have positive times; plus the pure helpers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, kcrsToRsck, nchwToNhwc, nhwcToNchw, rsckToKcrs, uniform } from '../bench/compare/util.js';
import type { CompareRow } from '../bench/compare/types.js';
import { markdownPath, parseStepBatches } from '../src/cli/compare.js';

describe('bench-compare helpers', () => {
  it('transposes layouts both ways', () => {
    const x = uniform(2 * 3 * 4 * 5, 7);
    const nhwc = nchwToNhwc(x, 2, 3, 4, 5);
    // element (n=1, c=2, h=3, w=4) in both layouts
    expect(nhwc[((1 * 4 + 3) * 5 + 4) * 3 + 2]).toBe(x[((1 * 3 + 2) * 4 + 3) * 5 + 4]);
    expect(Array.from(nhwcToNchw(nhwc, 2, 3, 4, 5))).toEqual(Array.from(x));
    const w = uniform(4 * 3 * 3 * 3, 8);
    const f = kcrsToRsck(w, 4, 3, 3);
    expect(f[((2 * 3 + 1) * 3 + 0) * 4 + 3]).toBe(w[((3 * 3 + 0) * 3 + 2) * 3 + 1]); // k=3 c=0 r=2 s=1
    expect(Array.from(rsckToKcrs(f, 4, 3, 3))).toEqual(Array.from(w));
  });

  it('checks against the reference with a relative tolerance and fails on NaN', () => {
    expect(check('a', [1, 2, 100.05], [1, 2, 100]).ok).toBe(true);
    expect(check('a', [1, 2, 100.2], [1, 2, 100]).ok).toBe(false);
    expect(check('a', [NaN], [1]).ok).toBe(false);
    expect(check('a', [1, 2], [1]).ok).toBe(false);
  });

  it('parses --step-batches and names the .md', () => {
    expect(parseStepBatches('16,64')).toEqual([16, 64]);
    expect(parseStepBatches('none')).toEqual([]);
    expect(() => parseStepBatches('16,x')).toThrow(/--step-batches/);
    expect(markdownPath('/a/b.json')).toBe('/a/b.md');
  });
});

describe('daso bench-compare (CLI)', () => {
  it('compares the stage-3 convs at batch 1 with tfjs: all agree, all timed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daso-compare-'));
    const out = join(dir, 'compare.json');
    const r = spawnSync(process.execPath, ['dist/cli.js', 'bench-compare', '--batch', '1', '--reps', '1', '--step-batches', 'none', '--filter', 'stage3', '--out', out], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/\| op \| shape \| GFLOP \|/);
    const j = JSON.parse(readFileSync(out, 'utf8')) as { tfjs: { tfjsBackend: string }; rows: CompareRow[] };
    expect(j.tfjs.tfjsBackend).toBe('webgpu');
    expect(j.rows).toHaveLength(9); // 3 stage-3 convs x forward / input grad / weight grad
    for (const row of j.rows) {
      expect(row.status, `${row.op} ${row.shape}: ${JSON.stringify(row.checks)} ${row.ours.error ?? ''} ${row.tfjs.error ?? ''}`).toBe('ok');
      expect(row.ours.wallMsMedian).toBeGreaterThan(0);
      expect(row.tfjs.wallMsMedian).toBeGreaterThan(0);
      expect(row.checks.length).toBeGreaterThan(0);
    }
    expect(existsSync(join(dir, 'compare.md'))).toBe(true);
  }, 120_000);
});
