// Comparison of a `daso step` output with PyTorch's expected tensors, tensor by tensor, with stated tolerances.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, type StTensor } from '../../src/nn/safetensors.js';

export function loadSt(path: string): Record<string, StTensor> {
  return readSafetensors(new Uint8Array(readFileSync(path)), path).tensors;
}

/** Runs the real CLI (`node dist/cli.js step ...`: its own server and Chromium) on a fixture folder. */
export function runDasoStep(fixture: string): Record<string, StTensor> {
  const out = join(mkdtempSync(join(tmpdir(), 'daso-step-')), 'out.safetensors');
  execFileSync(process.execPath, ['dist/cli.js', 'step', '--config', join(fixture, 'config.json'), '--checkpoint', join(fixture, 'checkpoint.safetensors'),
    '--batch', join(fixture, 'batch.safetensors'), '--out', out], { stdio: 'pipe' });
  return loadSt(out);
}

export function toNumbers(t: StTensor): Float64Array {
  return Float64Array.from(t.data as ArrayLike<number | bigint>, (v) => Number(v));
}

/** Error of `got` vs `want` relative to want's largest magnitude: max|got-want| / max(max|want|, floor). */
export function relMaxErr(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1e-6): number {
  let d = 0, m = 0;
  for (let i = 0; i < want.length; i++) {
    d = Math.max(d, Math.abs(got[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / Math.max(m, floor);
}
