// `daso step`: exactly one training step from files, in headless Chromium. Writes the updated checkpoint (`--out`,
// a valid `--checkpoint` for the next step) and the step's outputs and gradients (`--outputs`).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readSafetensors } from '../nn/safetensors.js';
import { validateCheckpoint, validateStepBatch } from '../train/checkpoint-check.js';
import { parseStepFileConfig, type StepFileConfig } from '../train/step-config.js';
import { browserGone } from './browser.js';
import { launchOnAdapter, type GpuMode } from './gpu-choice.js';
import { stopSignal, throwIfStopped } from './lifecycle.js';
import { fsError, writeAtomic } from './files.js';
import { startServer, type StaticServer } from './server.js';
import type { Page } from 'puppeteer-core';

export interface StepOptions {
  config: string;
  checkpoint: string;
  batch: string;
  out: string;
  /** The outputs and gradients; default: outputsPathFor(out). */
  outputs?: string;
  verbose?: boolean;
  /** Which adapter (cli/gpu-choice.ts); default auto. */
  gpu?: GpuMode;
}

/** `run.safetensors` -> `run.outputs.safetensors` (any other name: `<name>.outputs.safetensors`). */
export function outputsPathFor(out: string): string {
  return `${out.endsWith('.safetensors') ? out.slice(0, -'.safetensors'.length) : out}.outputs.safetensors`;
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw fsError(e, `read the ${what} file`, path);
  }
}

export async function runStep(root: string, o: StepOptions): Promise<{ loss: number; dispatches: number; outputs: string }> {
  const outputs = o.outputs ?? outputsPathFor(o.out);
  // Refused before anything runs: one file cannot hold both results, and the outputs file is not a checkpoint, so
  // writing it over an input is a mistake (--out over --checkpoint is allowed: that advances a checkpoint in place).
  if (resolve(outputs) === resolve(o.out)) {
    throw new Error(`--outputs and --out are the same file '${outputs}': the checkpoint and the outputs need two files (drop --outputs for the default ${outputsPathFor(o.out)})`);
  }
  for (const [flag, p] of [['--config', o.config], ['--checkpoint', o.checkpoint], ['--batch', o.batch]] as const) {
    if (resolve(outputs) === resolve(p)) throw new Error(`--outputs '${outputs}' is the ${flag} file: it would be overwritten by the outputs; choose another --outputs`);
    if (flag !== '--checkpoint' && resolve(o.out) === resolve(p)) throw new Error(`--out '${o.out}' is the ${flag} file: it would be overwritten by the checkpoint; choose another --out`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(readInput(o.config, 'config')));
  } catch (e) {
    throw new Error(`config '${o.config}': ${(e as Error).message}`);
  }
  let config: StepFileConfig;
  try {
    config = parseStepFileConfig(json);
  } catch (e) {
    throw new Error(`config '${o.config}': ${(e as Error).message}`);
  }
  // Everything is checked here, before a browser starts: the page checks again (it is also reachable without us).
  const ckBytes = readInput(o.checkpoint, 'checkpoint');
  const batchBytes = readInput(o.batch, 'batch');
  const ck = readSafetensors(ckBytes, o.checkpoint);
  validateCheckpoint(ck.tensors, ck.metadata, config, o.checkpoint);
  validateStepBatch(readSafetensors(batchBytes, o.batch).tensors, config, o.batch);
  throwIfStopped('before starting the browser');
  const server = await startServer(root);
  server.io.files.set('checkpoint', ckBytes);
  server.io.files.set('batch', batchBytes);
  const { chromium, page, summary } = await launchOnAdapter(o.gpu ?? 'auto', server.url, !!o.verbose, (m) => process.stderr.write(`${m}\n`))
    .catch(async (e) => { await server.close(); throw e; });
  try {
    if (o.verbose) process.stderr.write(`${summary}\n`);
    const stopped = new Promise<{ ok: false; error: string }>((ok) => stopSignal.addEventListener('abort', () => ok({ ok: false, error: 'stopped by a signal before the step finished; nothing was written' })));
    const res = await stepInPage(page, server.io, json, [browserGone(chromium.browser), stopped]);
    const { out, outputs: outs } = res;
    // The promise of --out: it loads as --checkpoint with this config. A failure here is a bug in the step, and
    // nothing is written.
    const back = readSafetensors(out, 'the step\'s new checkpoint');
    validateCheckpoint(back.tensors, back.metadata, config, 'the step\'s new checkpoint (not written)');
    // Outputs first: if that write fails, an --out that replaces --checkpoint has not been touched yet.
    writeAtomic(outputs, outs);
    writeAtomic(o.out, out);
    return { loss: res.loss, dispatches: res.dispatches, outputs };
  } finally {
    await chromium.close();
    await server.close();
  }
}

type PageAnswer = { ok: true; loss: number; dispatches: number } | { ok: false; error: string };

/** One step in a harness page, its bytes through the server's io exchange: `io.files` must hold 'checkpoint' and
 * 'batch'; returns the new checkpoint ('out') and the outputs the page uploaded. `stops` race the step (a browser
 * that went away, a signal): the first to settle with an error ends it. Shared by `daso step` and the parity tests,
 * so that the tests exercise the CLI's own exchange. */
export async function stepInPage(page: Page, io: StaticServer['io'], config: unknown, stops: Promise<PageAnswer>[] = []):
  Promise<{ loss: number; dispatches: number; out: Uint8Array; outputs: Uint8Array }> {
  io.received.delete('out');
  io.received.delete('outputs');
  const run = page.evaluate(
    (req) => (window as unknown as { daso: { step: (r: unknown) => Promise<unknown> } }).daso.step(req),
    { config, checkpointUrl: io.url('checkpoint'), batchUrl: io.url('batch'), outUrl: io.url('out'), outputsUrl: io.url('outputs') } as never,
  ) as Promise<PageAnswer>;
  const res = await Promise.race([run, ...stops]);
  if (!res.ok) throw new Error(res.error);
  const out = io.received.get('out');
  const outputs = io.received.get('outputs');
  if (!out || !outputs) throw new Error(`the page returned no ${out ? 'outputs' : 'checkpoint'}; nothing was written`);
  return { loss: res.loss, dispatches: res.dispatches, out, outputs };
}
