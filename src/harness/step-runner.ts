// `daso step` in the page: one training step from a config, a checkpoint and a batch (all validated before any
// GPU work), returning the updated checkpoint plus the step's outputs and gradients as safetensors bytes.
import type { Runtime } from '../gpu/runtime.js';
import { readSafetensors, validateTensors, writeSafetensors, type StTensor } from '../nn/safetensors.js';
import { exportCheckpoint, exportGrads, loadCheckpoint } from '../train/checkpoint.js';
import { parseStepConfig } from '../train/config.js';
import { TrainState } from '../train/model-state.js';
import { buildSupervisedStep } from '../train/supervised-step.js';

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export interface StepRequest {
  config: unknown;
  checkpointUrl: string;
  batchUrl: string;
  outUrl: string;
}

export async function runStepFromFiles(rt: Runtime, req: StepRequest): Promise<{ loss: number; dispatches: number }> {
  const cfg = parseStepConfig(req.config);
  const ckpt = readSafetensors(await fetchBytes(req.checkpointUrl), 'checkpoint');
  const batch = readSafetensors(await fetchBytes(req.batchUrl), 'batch');
  const m = cfg.model;
  const xb = batch.tensors.x_lb;
  if (!xb) throw new Error(`batch: tensor 'x_lb' is missing`);
  const B = xb.shape[0];
  validateTensors(batch.tensors, {
    x_lb: { dtype: 'F32', shape: [B, m.in_channels, m.image_size, m.image_size] },
    y_lb: { dtype: ['I64', 'I32'], shape: [B] },
  }, 'batch');
  const labels = Int32Array.from(batch.tensors.y_lb.data as ArrayLike<number | bigint>, (v) => Number(v));
  for (let i = 0; i < B; i++) {
    if (!(labels[i] >= 0 && labels[i] < m.num_classes)) throw new Error(`batch: y_lb[${i}] = ${labels[i]} is outside 0..${m.num_classes - 1}`);
  }
  const st = new TrainState(rt, m);
  try {
    loadCheckpoint(st, ckpt.tensors, 'checkpoint');
    const step = await buildSupervisedStep(st, B, cfg.optim, cfg.ema_decay);
    rt.pool.write(step.x, xb.data as Float32Array);
    rt.pool.write(step.y, labels);
    step.run(st.step);
    const out: Record<string, StTensor> = { ...(await exportCheckpoint(st)), ...(await exportGrads(st)) };
    const logits = await rt.read(step.logits);
    const loss = (await rt.read(step.loss))[0];
    out['out.logits_lb'] = { dtype: 'F32', shape: [B, m.num_classes], data: logits as Float32Array };
    out['out.loss'] = { dtype: 'F32', shape: [], data: Float32Array.of(loss) };
    const r = await fetch(req.outUrl, { method: 'PUT', body: new Blob([writeSafetensors(out) as Uint8Array<ArrayBuffer>]) });
    if (!r.ok) throw new Error(`cannot upload the result: HTTP ${r.status}`);
    const dispatches = step.dispatches;
    step.dispose();
    return { loss, dispatches };
  } finally {
    st.dispose();
  }
}
