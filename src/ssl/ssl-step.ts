// One training step of supervised / FixMatch / FixMatch+DASO, recorded once and replayed (one submission a step).
//
// Data flow (spec §1.2; DASO-only parts marked *):
//   * EMA encoder on x_lb (train-mode BN: its running stats move) -> queue push (labels) -> prototypes
//   concat [x_lb; x_ulb_w; x_ulb_s] -> online encoder (one BN batch) -> z, sliced (views) into z_l, z_w, z_s
//   logits_l/w/s = classifier(z_*)   (three matmuls on the slices; classifier gradients accumulate)
//   L_cls = CE(logits_l, y) / B
//   * sim_w = cos(z_w, C)/T_proto (no grad); pseudo-label kernel: p, q_hat, blend with v, mask = conf >= tau
//   L_u = sum(mask * CE(logits_s, y_hat)) / Bu * lambda_u;   histogram window += bincount(y_hat)
//   * L_align = soft CE(cos(z_s, C)/T_proto, q_hat) / Bu * lambda_align (gradient scale 0 during warm-up)
//   backward -> Nesterov SGD -> EMA of parameters and BN buffers
// Per-step switches (EMA decay, DASO on/off, the alignment weight) are uniforms written before each submit.
import type { CommandList } from '../gpu/commands.js';
import type { Dispatch } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { cosineSim, sliceRows } from '../graph/ops.js';
import { Tape, type Var } from '../graph/tape.js';
import { concatRows } from '../kernels/concat.js';
import { cosineSimilarityForward } from '../kernels/cosine.js';
import { dasoPseudoLabel, dasoRefreshHistogram, pseudoLabelUniforms, type PseudoLabelSwitches } from '../kernels/daso.js';
import { add, fill } from '../kernels/elementwise.js';
import { crossEntropyUniforms, softmaxCrossEntropyHard, softmaxCrossEntropySoft } from '../kernels/loss.js';
import { emaUniforms, emaUpdate, sgdUpdate } from '../kernels/optim.js';
import { queueAverage, queuePush } from '../kernels/queue.js';
import { plConfusion } from '../kernels/pl-stats.js';
import { histogram, sumReduce } from '../kernels/reduce.js';
import { classifierForward, encoderForward, ParamVars } from '../nn/wrn.js';
import { dasoActive, type StepConfig } from '../train/config.js';
import type { TrainState } from '../train/model-state.js';
import type { DasoState } from './daso-state.js';
import type { PlCounter } from './pl-stats.js';

export function emaDecay(t: number, rho: number): number {
  return Math.min(1 - 1 / (t + 1), rho);
}

/** Tensors a step reads (written by the data pipeline or by `daso step`) and writes (read back on demand). */
export interface StepTensors {
  xLb: Tensor;
  yLb: Tensor;
  xUw: Tensor | null;
  xUs: Tensor | null;
  logitsLb: Tensor;
  logitsUw: Tensor | null;
  logitsUs: Tensor | null;
  featUw: Tensor | null;
  lossCls: Tensor;
  lossU: Tensor | null;
  lossAlign: Tensor | null;
  qHat: Tensor | null;
  pseudoLabel: Tensor | null;
  mask: Tensor | null;
  blendWeight: Tensor | null;
  confidence: Tensor | null;
}

export interface SslStep {
  cfg: StepConfig;
  B: number;
  Bu: number;
  io: StepTensors;
  list: CommandList;
  dispatches: number;
  /** Runs step t: per-step uniforms, one submission, then (DASO) the histogram refresh when due. */
  run(t: number): void;
  /** The loss parts of the last step, weighted by their lambdas, read back (a sync point: call only when needed). */
  readLosses(t: number): Promise<{ loss: number; lossCls: number; lossU: number; lossAlign: number }>;
  dispose(): void;
}

export interface StepExtras {
  /** Dispatches that start the step (the data feed's augmentation); called with the step's input tensors. */
  prelude?: (io: StepTensors) => Dispatch[];
  /** Train-time logit adjustment of the labeled CE: tau * log(pi) per class (added to the labeled logits). */
  logitAdjust?: Float32Array;
  /** Pseudo-label statistics: the step counts (true class, pseudo-label) of its unlabeled images into the counter
   * (one dispatch after the pseudo-label kernel; it only reads, so training is unchanged). */
  plCounter?: PlCounter;
}

export async function buildSslStep(st: TrainState, cfg: StepConfig, B: number, Bu: number, daso: DasoState | null, extras: StepExtras = {}): Promise<SslStep> {
  const rt = st.rt;
  const m = cfg.model;
  const K = m.num_classes;
  const D = st.spec.featureDim;
  const ssl = cfg.algorithm !== 'supervised';
  if (ssl && Bu < 1) throw new Error(`${cfg.algorithm} needs an unlabeled batch (Bu >= 1)`);
  if (cfg.algorithm === 'daso' && !daso) throw new Error('daso: the DASO state (queues, prototypes, histograms) is missing');
  const img = [m.in_channels, m.image_size, m.image_size];
  const owned: Tensor[] = [];
  const T = (shape: number[], label: string, dtype: 'f32' | 'i32' = 'f32') => {
    const t = rt.tensor(shape, dtype, label);
    owned.push(t);
    return t;
  };
  const ones = (n: number, label: string, shape = [n]) => {
    const t = rt.upload(new Float32Array(n).fill(1), shape, 'f32', label);
    owned.push(t);
    return t;
  };
  const N = B + (ssl ? 2 * Bu : 0);
  const io: StepTensors = {
    xLb: T([B, ...img], 'x_lb'), yLb: T([B], 'y_lb', 'i32'),
    xUw: ssl ? T([Bu, ...img], 'x_ulb_w') : null, xUs: ssl ? T([Bu, ...img], 'x_ulb_s') : null,
    logitsLb: null as unknown as Tensor, logitsUw: null, logitsUs: null, featUw: null,
    lossCls: T([1], 'loss_cls'), lossU: ssl ? T([1], 'loss_u') : null, lossAlign: daso ? T([1], 'loss_align') : null,
    qHat: ssl ? T([Bu, K], 'q_hat') : null, pseudoLabel: ssl ? T([Bu], 'pseudo_label', 'i32') : null,
    mask: ssl ? T([Bu], 'mask') : null, blendWeight: ssl ? T([Bu], 'blend_weight') : null,
    confidence: ssl ? T([Bu], 'confidence') : null,
  };
  const pre: Dispatch[] = extras.prelude ? extras.prelude(io) : [];
  const tapes: Tape[] = [];

  // 1. (DASO) the EMA encoder on the labeled batch, train-mode BN, then queue push and prototypes. Built first:
  //    tapes must be built in execution order (released buffers are only reused by later dispatches).
  if (daso) {
    const emaTape = new Tape(rt, 'ema');
    tapes.push(emaTape);
    const zl = encoderForward(emaTape, new ParamVars(emaTape, st.ema, null), emaTape.constant(io.xLb), { train: true, grads: null, label: 'ema' });
    pre.push(...emaTape.forward, ...queuePush(zl.t, io.yLb, daso.queue, daso.queueLen, daso.queueHead, daso.touched),
      queueAverage(daso.queue, daso.queueLen, daso.queueHead, daso.touched, daso.prototypes));
  }

  // 2. The online forward over the joint batch.
  const xAll = ssl ? T([N, ...img], 'x_joint') : io.xLb;
  if (ssl) pre.push(...concatRows([io.xLb, io.xUw!, io.xUs!], xAll));
  const tape = new Tape(rt, 'online');
  tapes.push(tape);
  const P = new ParamVars(tape, st.model, st.grads);
  const z = encoderForward(tape, P, tape.constant(xAll), { train: true, grads: st.grads, label: 'online' });
  const zl = ssl ? sliceRows(tape, z, 0, B, 'z_lb') : z;
  let biasLb: Tensor | undefined;
  if (extras.logitAdjust) {
    if (extras.logitAdjust.length !== K) throw new Error(`logit adjustment: ${extras.logitAdjust.length} values for ${K} classes`);
    const adj = rt.upload(extras.logitAdjust, [K], 'f32', 'logit_adjust');
    owned.push(adj);
    biasLb = T([K], 'classifier bias + tau log pi');
    pre.push(add(st.model.param('classifier.classifier.bias'), adj, biasLb));
  }
  const logitsL = classifierForward(tape, P, zl, ones(B, 'ones_b', [1, B]), 'lb', biasLb);
  io.logitsLb = logitsL.t;
  // A loss kernel writes d(loss)/d(v) straight into v's gradient buffer: that is the seed of the backward pass.
  const seed = (v: Var, label: string) => {
    const g = T([...v.shape], label);
    v.grad = g;
    v.gradWritten = true;
    return g;
  };
  const rowsB = T([B], 'loss_rows_cls');
  const loss: Dispatch[] = [
    softmaxCrossEntropyHard(logitsL.t, io.yLb, ones(B, 'w_lb'), rowsB, seed(logitsL, 'd(logits_lb)'), 1 / B),
    ...sumReduce(rowsB, io.lossCls, 1 / B),
  ];
  let plIndex = -1, alignIndex = -1;
  let refresh: CommandList | null = null;
  if (ssl) {
    const zw = sliceRows(tape, z, B, Bu, 'z_ulb_w');
    const zs = sliceRows(tape, z, B + Bu, Bu, 'z_ulb_s');
    io.featUw = zw.t;
    const onesBu = ones(Bu, 'ones_bu', [1, Bu]);
    const logitsW = classifierForward(tape, P, zw, onesBu, 'ulb_w');
    const logitsS = classifierForward(tape, P, zs, onesBu, 'ulb_s');
    io.logitsUw = logitsW.t;
    io.logitsUs = logitsS.t;
    const simW = T([Bu, K], 'sim_w');
    const plHist = daso ? daso.plHist : T([K], 'pl_hist (unused)', 'i32');
    if (daso) loss.push(cosineSimilarityForward(zw.t, daso.prototypes, simW, 1 / cfg.daso.t_proto));
    else loss.push(fill(simW, 0));
    const pl = dasoPseudoLabel(logitsW.t, simW, plHist, {
      qHat: io.qHat!, pseudoLabel: io.pseudoLabel!, mask: io.mask!, blendWeight: io.blendWeight!, confidence: io.confidence!,
    }, switches(cfg, 0));
    loss.push(pl);
    plIndex = loss.length - 1;
    if (extras.plCounter) {
      if (extras.plCounter.Bu !== Bu || extras.plCounter.K !== K) throw new Error(`pseudo-label statistics: counter for Bu=${extras.plCounter.Bu} K=${extras.plCounter.K}, step has Bu=${Bu} K=${K}`);
      loss.push(plConfusion(io.pseudoLabel!, io.mask!, extras.plCounter.truth, extras.plCounter.counts));
    }
    if (daso) loss.push(histogram(io.pseudoLabel!, daso.plWindow, true));
    const rowsU = T([Bu], 'loss_rows_u');
    loss.push(
      softmaxCrossEntropyHard(logitsS.t, io.pseudoLabel!, io.mask!, rowsU, seed(logitsS, 'd(logits_ulb_s)'), cfg.ssl.lambda_u / Bu),
      ...sumReduce(rowsU, io.lossU!, 1 / Bu),
    );
    if (daso) {
      const simS = cosineSim(tape, zs, daso.prototypes, 1 / cfg.daso.t_proto, 'sim_s');
      const rowsA = T([Bu], 'loss_rows_align');
      loss.push(softmaxCrossEntropySoft(simS.t, io.qHat!, ones(Bu, 'w_align'), rowsA, seed(simS, 'd(sim_s)'), 0));
      alignIndex = loss.length - 1;
      loss.push(...sumReduce(rowsA, io.lossAlign!, 1 / Bu));
      refresh = rt.commands('histogram refresh').add(dasoRefreshHistogram(daso.plHist, daso.plWindow));
      await refresh.compile();
    }
  }
  const backward = tape.backward(P.all());
  const sgd = sgdUpdate(st.model.params, st.grads, st.momentum, {
    lr: cfg.optim.lr, momentum: cfg.optim.momentum, weightDecay: cfg.optim.weight_decay, nesterov: cfg.optim.nesterov,
  });
  const emaP = emaUpdate(st.ema.params, st.model.params, 0);
  const emaB = emaUpdate(st.ema.buffers, st.model.buffers, 0);

  const list = rt.commands(`${cfg.algorithm} step`);
  list.add(...pre, ...tape.forward, ...loss, ...backward, sgd, emaP, emaB);
  await list.compile();
  const at = (d: Dispatch) => list.dispatches.indexOf(d);
  const iP = at(emaP), iB = at(emaB);
  const iPl = plIndex >= 0 ? at(loss[plIndex]) : -1;
  const iAlign = alignIndex >= 0 ? at(loss[alignIndex]) : -1;

  return {
    cfg, B, Bu, io, list,
    dispatches: list.dispatches.length,
    run(t: number) {
      const d = emaDecay(t, cfg.ema_decay);
      const u = emaUniforms(d);
      list.setUniforms(iP, u);
      list.setUniforms(iB, u);
      if (iPl >= 0) list.setUniforms(iPl, pseudoLabelUniforms(switches(cfg, t)));
      if (iAlign >= 0) list.setUniforms(iAlign, crossEntropyUniforms(dasoActive(cfg, t) ? cfg.daso.lambda_align / Bu : 0));
      list.submit();
      // num_batches_tracked: the online model's BNs ran once in train mode; the EMA's BNs too when DASO pushed
      // the queue with them; then the EMA blends every buffer (the official EMAModel does, counters included).
      st.model.numBatchesTracked += 1;
      if (daso) st.ema.numBatchesTracked += 1;
      st.ema.numBatchesTracked = d * st.ema.numBatchesTracked + (1 - d) * st.model.numBatchesTracked;
      if (refresh && (t + 1) % cfg.daso.pl_update_period === 0 && t + 1 < cfg.max_iter) refresh.submit();
      st.step = t + 1;
    },
    async readLosses(t: number) {
      const r = async (x: Tensor | null) => (x ? (await rt.read(x))[0] : 0);
      const lossCls = await r(io.lossCls);
      const lossU = cfg.ssl.lambda_u * (await r(io.lossU));
      const lossAlign = dasoActive(cfg, t) ? cfg.daso.lambda_align * (await r(io.lossAlign)) : 0;
      return { loss: lossCls + lossU + lossAlign, lossCls, lossU, lossAlign };
    },
    dispose() {
      list.dispose();
      refresh?.dispose();
      for (const tp of tapes) tp.dispose();
      for (const x of owned) x.release();
    },
  };
}

/** The pseudo-label kernel's switches at step t. */
export function switches(cfg: StepConfig, t: number): PseudoLabelSwitches {
  return {
    active: dasoActive(cfg, t),
    distAware: cfg.daso.dist_aware,
    tau: cfg.ssl.tau,
    tDist: cfg.daso.t_dist,
    interpAlpha: cfg.daso.interp_alpha,
  };
}
