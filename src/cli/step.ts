// `daso step`: exactly one training step from files, in headless Chromium.
import { readFileSync } from 'node:fs';
import { launchChromium, openHarness } from './browser.js';
import { writeAtomic } from './bench.js';
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
    throw new Error(`cannot read the ${what} file '${path}': ${(e as Error).message}`);
  }
}

export async function runStep(root: string, o: StepOptions): Promise<{ loss: number; dispatches: number }> {
  let config: unknown;
  try {
    config = JSON.parse(new TextDecoder().decode(readInput(o.config, 'config')));
  } catch (e) {
    throw new Error(`config '${o.config}': ${(e as Error).message}`);
  }
  const server = await startServer(root);
  server.io.files.set('checkpoint', readInput(o.checkpoint, 'checkpoint'));
  server.io.files.set('batch', readInput(o.batch, 'batch'));
  const chromium = await launchChromium();
  try {
    const page = await openHarness(chromium.browser, server.url, o.verbose);
    const res = (await page.evaluate(
      (cfg) => (window as unknown as { daso: { step: (r: unknown) => Promise<unknown> } }).daso.step({
        config: cfg, checkpointUrl: '/io/checkpoint', batchUrl: '/io/batch', outUrl: '/io/out',
      }),
      config as never,
    )) as { ok: true; loss: number; dispatches: number } | { ok: false; error: string };
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
