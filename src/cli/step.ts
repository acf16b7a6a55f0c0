// `daso step`: exactly one training step from files, in headless Chromium.
import { readFileSync } from 'node:fs';
import { readSafetensors } from '../nn/safetensors.js';
import { validateCheckpoint, validateStepBatch } from '../train/checkpoint-check.js';
import { parseStepConfig, type StepConfig } from '../train/config.js';
import { browserGone, launchChromium, openHarness } from './browser.js';
import { stopSignal, throwIfStopped } from './lifecycle.js';
import { fsError, writeAtomic } from './files.js';
import { startServer } from './server.js';

export interface StepOptions {
  config: string;
  checkpoint: string;
  batch: string;
  out: string;
  verbose?: boolean;
}

function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw fsError(e, `read the ${what} file`, path);
  }
}

export async function runStep(root: string, o: StepOptions): Promise<{ loss: number; dispatches: number }> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(readInput(o.config, 'config')));
  } catch (e) {
    throw new Error(`config '${o.config}': ${(e as Error).message}`);
  }
  let config: StepConfig;
  try {
    config = parseStepConfig(json);
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
  const chromium = await launchChromium().catch(async (e) => { await server.close(); throw e; });
  try {
    const page = await openHarness(chromium.browser, server.url, o.verbose);
    const run = page.evaluate(
      (req) => (window as unknown as { daso: { step: (r: unknown) => Promise<unknown> } }).daso.step(req),
      { config: json, checkpointUrl: server.io.url('checkpoint'), batchUrl: server.io.url('batch'), outUrl: server.io.url('out') } as never,
    ) as Promise<{ ok: true; loss: number; dispatches: number } | { ok: false; error: string }>;
    const stopped = new Promise<{ ok: false; error: string }>((ok) => stopSignal.addEventListener('abort', () => ok({ ok: false, error: 'stopped by a signal before the step finished; nothing was written' })));
    const res = await Promise.race([run, browserGone(chromium.browser), stopped]);
    if (!res.ok) throw new Error(res.error);
    const out = server.io.received.get('out');
    if (!out) throw new Error('the page returned no output');
    writeAtomic(o.out, out);
    return { loss: res.loss, dispatches: res.dispatches };
  } finally {
    await chromium.close();
    await server.close();
  }
}
