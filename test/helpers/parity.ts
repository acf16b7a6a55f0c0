// Comparison of a `daso step` output with PyTorch's expected tensors, tensor by tensor, with stated tolerances.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, type StTensor } from '../../src/nn/safetensors.js';

export function loadSt(path: string): Record<string, StTensor> {
  return readSafetensors(new Uint8Array(readFileSync(path)), path).tensors;
}

export interface StepRun {
  /** The `--out` file: the new checkpoint. */
  outPath: string;
  /** The outputs file (`--outputs`, or the default next to `--out`). */
  outputsPath: string;
  checkpoint: Record<string, StTensor>;
  checkpointMeta: Record<string, string>;
  outputs: Record<string, StTensor>;
}

export interface StepFiles {
  /** Default: <fixture>/checkpoint.safetensors. */
  checkpoint?: string;
  /** Default: <fixture>/batch.safetensors. */
  batch?: string;
  /** Passed as --outputs; without it the CLI's default path is used (and checked to be the one documented). */
  outputs?: string;
}

/** Runs the real CLI (`node dist/cli.js step ...`: its own server and Chromium) on a fixture folder. */
export function runDasoStep(fixture: string, files: StepFiles = {}): StepRun {
  const dir = mkdtempSync(join(tmpdir(), 'daso-step-'));
  const outPath = join(dir, 'out.safetensors');
  const args = ['dist/cli.js', 'step', '--config', join(fixture, 'config.json'), '--checkpoint', files.checkpoint ?? join(fixture, 'checkpoint.safetensors'),
    '--batch', files.batch ?? join(fixture, 'batch.safetensors'), '--out', outPath];
  if (files.outputs) args.push('--outputs', files.outputs);
  execFileSync(process.execPath, args, { stdio: 'pipe' });
  const outputsPath = files.outputs ?? join(dir, 'out.outputs.safetensors');
  if (!existsSync(outputsPath)) throw new Error(`daso step wrote no outputs file at ${outputsPath}`);
  const ck = readSafetensors(new Uint8Array(readFileSync(outPath)), outPath);
  return { outPath, outputsPath, checkpoint: ck.tensors, checkpointMeta: ck.metadata, outputs: loadSt(outputsPath) };
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
