// Comparison of a `daso step` output with PyTorch's expected tensors, tensor by tensor, with stated tolerances.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { openHarness } from '../../src/cli/browser.js';
import { startServer, type StaticServer } from '../../src/cli/server.js';
import { stepInPage } from '../../src/cli/step.js';
import { connectTestBrowser } from './harness.js';
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

let shared: { server: StaticServer; browser: Browser; page: Page } | undefined;

/** Runs a fixture's step in one harness page shared by every call (the test run's Chromium, a server of our own for
 * the byte exchange): the page function `daso step` calls (src/harness/step-runner.ts), without the CLI around it.
 * Steps of one shape then compile their pipelines once, not once per CLI process (~15-30 s each on SwiftShader).
 * The CLI's own part (argument and file checks, writing --out and --outputs) is tested by the chained steps. */
export async function runStepInPage(fixture: string): Promise<StepRun> {
  if (!shared) {
    const server = await startServer(process.cwd());
    const browser = await connectTestBrowser();
    shared = { server, browser, page: await openHarness(browser, server.url) };
  }
  const { server, page } = shared;
  server.io.files.set('checkpoint', new Uint8Array(readFileSync(join(fixture, 'checkpoint.safetensors'))));
  server.io.files.set('batch', new Uint8Array(readFileSync(join(fixture, 'batch.safetensors'))));
  const config = JSON.parse(readFileSync(join(fixture, 'config.json'), 'utf8'));
  const { out, outputs: outs } = await stepInPage(page, server.io, config).catch((e: Error) => { throw new Error(`${fixture}: ${e.message}`); });
  const dir = mkdtempSync(join(tmpdir(), 'daso-step-page-'));
  const outPath = join(dir, 'out.safetensors');
  const outputsPath = join(dir, 'out.outputs.safetensors');
  writeFileSync(outPath, out);
  writeFileSync(outputsPath, outs);
  const ck = readSafetensors(out, outPath);
  return { outPath, outputsPath, checkpoint: ck.tensors, checkpointMeta: ck.metadata, outputs: readSafetensors(outs, outputsPath).tensors };
}

export async function closeStepPage(): Promise<void> {
  if (!shared) return;
  await shared.page.close().catch(() => undefined);
  await shared.browser.disconnect();
  await shared.server.close();
  shared = undefined;
}
