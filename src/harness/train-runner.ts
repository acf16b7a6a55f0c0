// `daso train` in the page: datasets arrive as raw bytes over /io (parsed and validated in Node first), progress and
// checkpoints go back through functions the CLI exposes (window.dasoReport / window.dasoCheckpoint).
import type { ImageDataset } from '../data/dataset.js';
import type { Runtime } from '../gpu/runtime.js';
import { readSafetensors, writeSafetensors } from '../nn/safetensors.js';
import { parseTrainConfig } from '../train/train-config.js';
import { train, type TrainEvent } from '../train/trainer.js';
import type { TuneRequest } from '../tune/prepare.js';

export interface DatasetRef {
  name: string;
  n: number;
  channels: number;
  height: number;
  width: number;
  numClasses: number;
  imagesUrl: string;
  labelsUrl: string;
}

export interface TrainRequest {
  config: unknown;
  train: DatasetRef;
  test: DatasetRef;
  resumeUrl: string | null;
  /** The server's /io/<token>/ prefix: checkpoints are PUT to `${ioBase}<name>`, liveness probed at `${ioBase}alive`. */
  ioBase: string;
  /** --tune: mode, the cache file's content, budget (src/tune/prepare.ts); absent: the rule. */
  tune?: TuneRequest;
}

/** How often the page checks that the Node process behind the server is still there. */
const PROBE_MS = 2000;

async function bytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function dataset(ref: DatasetRef): Promise<ImageDataset> {
  const images = await bytes(ref.imagesUrl);
  const lb = await bytes(ref.labelsUrl);
  const labels = new Int32Array(lb.buffer, lb.byteOffset, lb.byteLength / 4);
  return { name: ref.name, images, labels, n: ref.n, channels: ref.channels, height: ref.height, width: ref.width, numClasses: ref.numClasses };
}

interface Bridge {
  dasoReport(e: TrainEvent): Promise<void>;
  dasoCheckpoint(name: string): Promise<void>;
  /** Moves the uploaded 'features' file to the run-folder path `path` (featuresFileName). */
  dasoFeatures(path: string): Promise<void>;
}

/** Aborts the running training (the CLI calls it on SIGINT/SIGTERM): it stops at the next step boundary with a
 * checkpoint. */
let stopController: AbortController | null = null;
export function stopTraining(reason: string): void {
  stopController?.abort(new Error(reason));
}

export async function runTraining(rt: Runtime, req: TrainRequest): Promise<void> {
  const c = parseTrainConfig(req.config);
  const w = window as unknown as Bridge;
  const controller = new AbortController();
  stopController = controller;
  // If the Node side dies (its server with it), nobody would receive checkpoints: stop rather than train on blind.
  const probe = setInterval(() => {
    fetch(`${req.ioBase}alive`, { cache: 'no-store' }).then((r) => {
      if (!r.ok) controller.abort(new Error(`the CLI's server answers HTTP ${r.status}`));
    }, () => controller.abort(new Error('lost the connection to the CLI')));
  }, PROBE_MS);
  try {
    await trainWith(rt, c, req, w, controller.signal);
  } catch (e) {
    // After a lost connection the checkpoint upload fails too; say why the run stopped, not just 'Failed to fetch'.
    if (controller.signal.aborted && controller.signal.reason instanceof Error && controller.signal.reason.message !== 'signal') {
      throw new Error(`${controller.signal.reason.message}: the run stopped (${(e as Error).message})`);
    }
    throw e;
  } finally {
    clearInterval(probe);
    stopController = null;
  }
}

async function trainWith(rt: Runtime, c: ReturnType<typeof parseTrainConfig>, req: TrainRequest, w: Bridge, signal: AbortSignal): Promise<void> {
  let resume = null, meta = null;
  if (req.resumeUrl) {
    const r = readSafetensors(await bytes(req.resumeUrl), 'resume checkpoint');
    resume = r.tensors;
    meta = r.metadata;
  }
  await train(rt, c, { train: await dataset(req.train), test: await dataset(req.test) }, {
    emit: (e) => void w.dasoReport(e),
    async saveCheckpoint(tensors, metadata, name) {
      const r = await fetch(`${req.ioBase}${name}`, { method: 'PUT', body: new Blob([writeSafetensors(tensors, metadata) as Uint8Array<ArrayBuffer>]) });
      if (!r.ok) throw new Error(`checkpoint upload failed: HTTP ${r.status}`);
      await w.dasoCheckpoint(name);
    },
    async saveFeatures(tensors, path) {
      const r = await fetch(`${req.ioBase}features`, { method: 'PUT', body: new Blob([writeSafetensors(tensors, {}) as Uint8Array<ArrayBuffer>]) });
      if (!r.ok) throw new Error(`features upload failed: HTTP ${r.status}`);
      await w.dasoFeatures(path);
    },
    signal,
    tune: req.tune,
  }, resume, meta);
}
