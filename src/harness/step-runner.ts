// `daso step` in the page: one training step from a config, a checkpoint and a batch (all validated before any
// GPU work), uploading two safetensors files: the updated checkpoint (a valid `--checkpoint` for the next step) and
// the step's outputs and gradients.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { readSafetensors, writeSafetensors, type StTensor } from '../nn/safetensors.js';
import { validateCheckpoint, validateStepBatch } from '../train/checkpoint-check.js';
import { DasoState } from '../ssl/daso-state.js';
import { buildSslStep } from '../ssl/ssl-step.js';
import { exportCheckpoint, exportGrads, loadCheckpoint } from '../train/checkpoint.js';
import { dasoActive } from '../train/config.js';
import { logitAdjustVector, parseStepFileConfig } from '../train/step-config.js';
import { TrainState } from '../train/model-state.js';

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`cannot fetch ${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

export interface StepRequest {
  config: unknown;
  checkpointUrl: string;
  batchUrl: string;
  /** PUT target of the updated checkpoint. */
  outUrl: string;
  /** PUT target of the outputs (out.*) and gradients (grad.*). */
  outputsUrl: string;
}

const f32 = (shape: number[], data: Float32Array): StTensor => ({ dtype: 'F32', shape, data });

export async function runStepFromFiles(rt: Runtime, req: StepRequest): Promise<{ loss: number; dispatches: number }> {
  const cfg = parseStepFileConfig(req.config);
  const ckpt = readSafetensors(await fetchBytes(req.checkpointUrl), 'checkpoint');
  const batch = readSafetensors(await fetchBytes(req.batchUrl), 'batch');
  const m = cfg.model;
  const K = m.num_classes;
  const ssl = cfg.algorithm !== 'supervised';
  // One validator for checkpoints and batches (train/checkpoint-check.ts), before any GPU work.
  validateCheckpoint(ckpt.tensors, ckpt.metadata, cfg, 'checkpoint');
  const { B, Bu } = validateStepBatch(batch.tensors, cfg, 'batch');
  const labels = Int32Array.from(batch.tensors.y_lb.data as ArrayLike<number | bigint>, (v) => Number(v));

  const st = new TrainState(rt, m);
  const daso = cfg.algorithm === 'daso' ? new DasoState(rt, K, cfg.daso.queue_size, st.spec.featureDim) : null;
  try {
    loadCheckpoint(st, ckpt.tensors, 'checkpoint', daso ? ['daso.'] : []);
    if (daso) daso.load(ckpt.tensors, 'checkpoint');
    const t = st.step;
    if (daso && dasoActive(cfg, t)) {
      const hist = ckpt.tensors['daso.pl_hist'].data as ArrayLike<number | bigint>;
      if (Array.from(hist, Number).every((c) => c === 0)) {
        throw new Error(`checkpoint: DASO is active at step ${t} (warmup ${cfg.daso.warmup}) but daso.pl_hist is all zero: ` +
          `the reference would divide 0 by 0 here; the first histogram refresh must come before the warm-up ends`);
      }
    }
    const step = await buildSslStep(st, cfg, B, Bu, daso, { logitAdjust: logitAdjustVector(cfg) });
    const io = step.io;
    rt.pool.write(io.xLb, batch.tensors.x_lb.data as Float32Array);
    rt.pool.write(io.yLb, labels);
    if (ssl) {
      rt.pool.write(io.xUw!, batch.tensors.x_ulb_w.data as Float32Array);
      rt.pool.write(io.xUs!, batch.tensors.x_ulb_s.data as Float32Array);
    }
    step.run(t);
    const losses = await step.readLosses(t);
    if (![losses.loss, losses.lossCls, losses.lossU, losses.lossAlign].every(Number.isFinite)) {
      throw new Error(`the step's loss is not finite (loss ${losses.loss}, cls ${losses.lossCls}, u ${losses.lossU}, align ${losses.lossAlign}); ` +
        `nothing was written. Check the checkpoint's weights and optim.lr.`);
    }
    const ckptOut: Record<string, StTensor> = { ...(await exportCheckpoint(st)), ...(daso ? await daso.export() : {}) };
    const out: Record<string, StTensor> = await exportGrads(st);
    const read = async (x: Tensor) => rt.read(x);
    const scalar = (v: number) => f32([], Float32Array.of(v));
    // Each loss under its plain name unweighted, the weighted parts beside them, and the total (what was
    // differentiated). io.lossU / io.lossAlign hold the unweighted means; L_align counts only while DASO is active
    // (in warm-up it is computed with gradient scale 0 and is not part of the loss, as in the reference).
    const active = dasoActive(cfg, t);
    const lossU = ssl ? (await read(io.lossU!))[0] : 0;
    const lossAlign = daso && active ? (await read(io.lossAlign!))[0] : 0;
    out['out.logits_lb'] = f32([B, K], (await read(io.logitsLb)) as Float32Array);
    out['out.loss'] = scalar(losses.loss);
    out['out.loss_cls'] = scalar(losses.lossCls);
    out['out.loss_u'] = scalar(lossU);
    out['out.loss_u_weighted'] = scalar(losses.lossU);
    out['out.loss_align'] = scalar(lossAlign);
    out['out.loss_align_weighted'] = scalar(losses.lossAlign);
    if (ssl) {
      out['out.logits_ulb_w'] = f32([Bu, K], (await read(io.logitsUw!)) as Float32Array);
      out['out.logits_ulb_s'] = f32([Bu, K], (await read(io.logitsUs!)) as Float32Array);
      out['out.feat_ulb_w'] = f32([Bu, st.spec.featureDim], (await read(io.featUw!)) as Float32Array);
      out['out.mask'] = f32([Bu], (await read(io.mask!)) as Float32Array);
      out['out.blend_weight'] = f32([Bu], (await read(io.blendWeight!)) as Float32Array);
      // FixMatch has no semantic pseudo-label: q_hat is reported as zeros.
      out['out.q_hat'] = f32([Bu, K], daso ? ((await read(io.qHat!)) as Float32Array) : new Float32Array(Bu * K));
      const pl = (await read(io.pseudoLabel!)) as Int32Array;
      out['out.pseudo_label'] = { dtype: 'I64', shape: [Bu], data: BigInt64Array.from(pl, (v) => BigInt(v)) };
    }
    // Node writes the files only once both have arrived.
    for (const [url, tensors, what] of [[req.outputsUrl, out, 'outputs'], [req.outUrl, ckptOut, 'checkpoint']] as const) {
      const r = await fetch(url, { method: 'PUT', body: new Blob([writeSafetensors(tensors) as Uint8Array<ArrayBuffer>]) });
      if (!r.ok) throw new Error(`cannot upload the ${what}: HTTP ${r.status}`);
    }
    const dispatches = step.dispatches;
    step.dispose();
    return { loss: losses.loss, dispatches };
  } finally {
    daso?.dispose();
    st.dispose();
  }
}
