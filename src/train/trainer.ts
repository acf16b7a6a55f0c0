// The training loop: data feed -> recorded step (one submission) -> periodic readback of losses and pseudo-label
// statistics (every log_every steps), evaluation of the EMA model (every eval_every), atomic checkpoints (every
// checkpoint_every) carrying everything a resume needs: model, EMA, momentum, step, DASO state, sampler and
// generator states. A NaN or Inf loss stops the run with a message; the last good checkpoint stays on disk.
// An aborted `signal` (the page's Stop button) ends the run between steps with a checkpoint of the current step.
import type { Runtime } from '../gpu/runtime.js';
import type { ImageDataset } from '../data/dataset.js';
import { classCounts } from '../data/dataset.js';
import { longTailSplit, type LongTailSplit } from '../data/split.js';
import { CIFAR10_NORM, CIFAR100_NORM, FASHION_MNIST_NORM, type Normalisation } from '../kernels/augment.js';
import type { StTensor } from '../nn/safetensors.js';
import { DasoState } from '../ssl/daso-state.js';
import { addCounts, confusionRows, PlCounter, windowRecord } from '../ssl/pl-stats.js';
import { buildSslStep, switches, type SslStep, type StepExtras } from '../ssl/ssl-step.js';
import { convUseLines } from '../tune/choices.js';
import { prepareConvChoices, type TuneOutcome, type TuneRequest } from '../tune/prepare.js';
import { plConfusionRef } from '../kernels/pl-stats.ref.js';
import { featuresTensors } from './features-file.js';
import { exportCheckpoint, loadCheckpoint } from './checkpoint.js';
import { validateCheckpoint } from './checkpoint-check.js';
import { dasoActive } from './config.js';
import { DataFeed, type FeedState } from './data-feed.js';
import { balancedSubset, classMetrics, Evaluator, metricsFromConfusion, testMetrics, type ClassMetrics } from './evaluate.js';
import { featuresFileName, FINAL_FEATURES, type EvalRecordV2, type PseudoLabelWindow } from './metrics-record.js';
import { TrainState } from './model-state.js';
import type { TrainConfig } from './train-config.js';

export type TrainEvent =
  | { type: 'start'; split: { labeled: number[]; unlabeled: number[]; valid: number[] }; dispatches: number; params: number; startStep: number;
      /** The conv rungs: the tune outcome (mode, new cache entries), key -> rung of every conv kernel of the step
       * (stored in checkpoints, reused on resume), one line per conv. */
      tune: TuneOutcome; convChoices: Record<string, string>; convs: string[] }
  /** At each log step; `pl`: the pseudo-label statistics of the steps since the previous log step (metrics-record.ts). */
  | { type: 'progress'; step: number; loss: number; loss_cls: number; loss_u: number; loss_align: number; mask_ratio: number; steps_per_s: number; eta_s: number; daso_active: boolean; pl: PseudoLabelWindow | null }
  | { type: 'eval'; record: EvalRecord }
  | { type: 'checkpoint'; step: number; name: string }
  | { type: 'done'; final: EvalRecord; median: Record<string, number> }
  /** Every step is done and there is no test set (`TrainData.test` null): nothing to evaluate. */
  | { type: 'finished'; step: number }
  /** The run was stopped through `TrainHooks.signal`; a checkpoint of `step` (steps done) was saved just before. */
  | { type: 'stopped'; step: number };

/** What metrics.jsonl stores for an evaluation (src/train/metrics-record.ts). */
export type EvalRecord = EvalRecordV2;

export interface TrainData {
  train: ImageDataset;
  /** null: no evaluations at all (no `eval` events; the run ends with `finished` instead of `done`). */
  test: ImageDataset | null;
  /** The labeled / unlabeled index sets, given by the caller instead of drawn by the long-tailed split (the library
   * API's own images); there is then no validation set, and data.n1 / m1 / gamma_* are not used. */
  split?: ExplicitSplit;
  /** Per-channel normalisation; default: the dataset's (normalisationFor). */
  norm?: Normalisation;
}

export interface ExplicitSplit {
  labeled: Int32Array;
  unlabeled: Int32Array;
  /** false: the unlabeled images' labels are unknown (placeholders in train.labels), so the pseudo-label
   * precision/recall statistics are skipped. */
  unlabeledLabelsKnown: boolean;
}

export interface TrainHooks {
  emit(e: TrainEvent): void;
  /** Stores checkpoint tensors (atomically, on the Node side) under `name`. */
  saveCheckpoint(tensors: Record<string, StTensor>, metadata: Record<string, string>, name: string): Promise<void>;
  /** Stores an evaluation's penultimate features (the fixed class-balanced test subset) under `name`, a run-folder
   * path (featuresFileName); without this hook no features are kept and eval records say `features: null`. */
  saveFeatures?(tensors: Record<string, StTensor>, name: string): Promise<void>;
  /** Checked between steps (never inside a recorded step); once aborted, train() saves a checkpoint of the steps done,
   * emits `stopped` and returns. The page only sees the abort when it next awaits (the first step, log steps,
   * evaluations, checkpoints): steps already submitted to the GPU finish first. */
  signal?: AbortSignal;
  /** The conv rungs (src/tune/prepare.ts); absent: the fixed rule. A resumed checkpoint's stored choices win. */
  tune?: TuneRequest;
  /** Stop as `signal` does once this many steps are done (the library's `run({ steps })`), if before max_iter. */
  stopAfter?: number;
}

export function normalisationFor(c: TrainConfig): Normalisation {
  return c.data.dataset === 'fashion_mnist' ? FASHION_MNIST_NORM : c.data.dataset === 'cifar100' ? CIFAR100_NORM
    : c.data.dataset === 'cifar10' ? CIFAR10_NORM : { mean: new Array(c.model.in_channels).fill(0.5), std: new Array(c.model.in_channels).fill(0.25) };
}

function checkDataShape(c: TrainConfig, train: ImageDataset): void {
  if (train.numClasses !== c.model.num_classes) {
    throw new Error(`dataset ${train.name} has ${train.numClasses} classes but model.num_classes is ${c.model.num_classes}`);
  }
  if (train.channels !== c.model.in_channels || train.width !== c.model.image_size) {
    throw new Error(`dataset ${train.name} has ${train.channels}x${train.height}x${train.width} images; the model expects ` +
      `${c.model.in_channels}x${c.model.image_size}x${c.model.image_size} (model.in_channels, model.image_size)`);
  }
}

export function splitFor(c: TrainConfig, train: ImageDataset): LongTailSplit {
  checkDataShape(c, train);
  return longTailSplit(train.labels, {
    numClasses: c.model.num_classes, numValidPerClass: c.data.num_valid_per_class, n1: c.data.n1, m1: c.data.m1,
    gammaL: c.data.gamma_l, gammaU: c.data.gamma_u, reverseUnlabeled: c.data.reverse_unlabeled, seed: c.train.seed,
  });
}

/** A caller's split in the LongTailSplit form: labeled labels checked against K, no validation set; unlabeled
 * counts per class only when their labels are known (else []). */
export function explicitSplit(c: TrainConfig, train: ImageDataset, s: ExplicitSplit): LongTailSplit {
  checkDataShape(c, train);
  const K = c.model.num_classes;
  for (const [name, idx] of [['labeled', s.labeled], ['unlabeled', s.unlabeled]] as const) {
    const bad = idx.findIndex((i) => !(Number.isInteger(i) && i >= 0 && i < train.n));
    if (bad >= 0) throw new Error(`split.${name}[${bad}] = ${idx[bad]} is not an image index of ${train.name} (0..${train.n - 1})`);
  }
  if (!s.labeled.length) throw new Error(`split.labeled is empty: training needs labeled images`);
  if (c.algorithm !== 'supervised' && !s.unlabeled.length) throw new Error(`split.unlabeled is empty: ${c.algorithm} needs unlabeled images`);
  return {
    labeled: s.labeled, unlabeled: s.unlabeled, valid: new Int32Array(0),
    labeledCounts: classCounts(Array.from(s.labeled, (i) => train.labels[i]), K, `${train.name} labeled images`),
    unlabeledCounts: s.unlabeledLabelsKnown ? classCounts(Array.from(s.unlabeled, (i) => train.labels[i]), K, `${train.name} unlabeled images`) : [],
    validCounts: new Array<number>(K).fill(0),
  };
}

export async function train(rt: Runtime, c: TrainConfig, data: TrainData, hooks: TrainHooks, resume: Record<string, StTensor> | null, resumeMeta: Record<string, string> | null): Promise<void> {
  const K = c.model.num_classes;
  const split = data.split ? explicitSplit(c, data.train, data.split) : splitFor(c, data.train);
  const ssl = c.algorithm !== 'supervised';
  // Pseudo-label precision/recall needs the unlabeled images' true labels.
  const plStats = ssl && (data.split?.unlabeledLabelsKnown ?? true);
  const B = c.train.batch_size, Bu = ssl ? B * c.train.unlabeled_ratio : 0;
  const norm = data.norm ?? normalisationFor(c);
  const prior = split.labeledCounts.map((n) => n / split.labeled.length);
  const logPrior = prior.map((p) => Math.log(Math.max(p, 1e-12)));
  // Before any GPU allocation: a bad checkpoint is refused with every problem named.
  if (resume) validateCheckpoint(resume, resumeMeta, c, 'resume checkpoint', { training: true });

  const st = new TrainState(rt, c.model);
  const daso = c.algorithm === 'daso' ? new DasoState(rt, K, c.daso.queue_size, st.spec.featureDim) : null;
  const feed = new DataFeed(rt, data.train, split.labeled, ssl ? split.unlabeled : null, B, Bu, c.train.seed, norm);
  let history: EvalRecord[] = [];
  // Pseudo-label statistics: counted on the GPU per log window (plCounter), summed here over the evaluation period.
  const plCounter = plStats ? new PlCounter(rt, Bu, K) : null;
  const plEval = new Int32Array(2 * K * K);
  let logFirst = st.step + 1;
  if (resume) {
    loadCheckpoint(st, resume, 'resume checkpoint', daso ? ['daso.'] : []);
    if (daso) daso.load(resume, 'resume checkpoint');
    if (!resumeMeta?.feed) throw new Error('resume checkpoint: metadata has no sampler/generator state (feed)');
    feed.setState(JSON.parse(resumeMeta.feed) as FeedState);
    history = resumeMeta.history ? (JSON.parse(resumeMeta.history) as EvalRecord[]) : [];
    // Pseudo-label statistics gathered since the last evaluation: restored so a resumed run's next evaluation
    // record equals the uninterrupted run's.
    if (resumeMeta.pl_pending) {
      const p = JSON.parse(resumeMeta.pl_pending) as { pred?: number[]; true?: number[]; mask?: number[]; eval?: number[]; log?: number[]; log_first_step?: number };
      // Checkpoints before metrics format 2 kept the read-back pseudo-labels themselves: counted here instead.
      if (p.pred && p.true && p.mask) plEval.set(plConfusionRef(p.pred, p.mask, p.true, K));
      if (p.eval) plEval.set(p.eval);
      if (p.log && plCounter) plCounter.restore(p.log);
      if (p.log_first_step) logFirst = p.log_first_step;
    }
  } else {
    st.initialise(c.train.seed);
    daso?.reset();
  }
  const logitAdjust = c.train.logit_adjust ? Float32Array.from(logPrior, (l) => c.train.logit_adjust_tau * l) : undefined;
  const extras = { prelude: (io: Parameters<NonNullable<StepExtras['prelude']>>[0]) => feed.prelude(io), logitAdjust, plCounter: plCounter ?? undefined };
  // The conv rungs are chosen before the step is recorded (fresh: one build with the rule collects the conv shapes).
  // A resumed run reuses the choices its checkpoint stored: other rungs sum in other orders, and a resumed run must
  // equal the uninterrupted one bit for bit.
  const fixed = resumeMeta?.conv_choices ? (JSON.parse(resumeMeta.conv_choices) as Record<string, string>) : null;
  const tune = await prepareConvChoices(rt, { ...(hooks.tune ?? { mode: 'off' }), fixed }, async () => (await buildSslStep(st, c, B, Bu, daso)).dispose());
  const step: SslStep = await buildSslStep(st, c, B, Bu, daso, extras);
  const convChoices = rt.convChoices.usedTable();
  const convs = convUseLines(rt.convChoices.used);
  const evaluator = await Evaluator.create(rt, st, c.eval.batch_size, norm);
  hooks.emit({
    type: 'start', dispatches: step.dispatches, params: st.paramLayout.count, startStep: st.step, tune, convChoices, convs,
    split: { labeled: split.labeledCounts, unlabeled: split.unlabeledCounts, valid: split.validCounts },
  });

  const testSet = data.test;
  const testIdx = testSet ? balancedSubset(testSet.labels, K, c.eval.per_class_limit) : new Int32Array(0);
  // Capped by per_class_limit so the final (full test set) evaluation keeps the same images as the periodic ones.
  const perFeat = !hooks.saveFeatures ? 0 : c.eval.per_class_limit ? Math.min(c.eval.features_per_class, c.eval.per_class_limit) : c.eval.features_per_class;
  const validIdx = split.valid.length ? balancedSubset(data.train.labels, K, c.eval.per_class_limit, split.valid) : null;
  const evaluate = async (t: number, full: boolean): Promise<EvalRecord> => {
    if (!testSet) throw new Error('evaluate: no test set');
    const ti = full ? Int32Array.from(testSet.labels.keys()) : testIdx;
    const tp = await evaluator.predict(testSet, ti, logPrior, perFeat > 0);
    const test = testMetrics(tp.pred, Array.from(ti, (i) => testSet.labels[i]), K, tp.predLa);
    let features: string | null = null;
    if (perFeat > 0 && tp.features) {
      // The first features_per_class images of each class of the evaluated set, in test-set order: the same images
      // at every evaluation (the subset and the full set list them in the same order), so embeddings compare.
      const taken = new Array<number>(K).fill(0);
      const rows = Array.from(ti.keys()).filter((r) => taken[testSet.labels[ti[r]]]++ < perFeat);
      features = full ? FINAL_FEATURES : featuresFileName(t + 1);
      await hooks.saveFeatures!(featuresTensors(rows, ti, tp, testSet.labels), features);
    }
    let valid: ClassMetrics | null = null;
    if (validIdx) {
      const vp = await evaluator.predict(data.train, validIdx, logPrior);
      valid = classMetrics(vp.pred, Array.from(validIdx, (i) => data.train.labels[i]), K, vp.predLa);
    }
    let pl: EvalRecord['pseudo_label'] = null;
    const all = metricsFromConfusion(confusionRows(plEval, K, 0));
    if (all.n) {
      const confident = metricsFromConfusion(confusionRows(plEval, K, 1));
      pl = { ...all, mask_ratio: confident.n / all.n, confident };
      plEval.fill(0);
    }
    return { kind: 'eval', step: t + 1, test, valid, pseudo_label: pl, full_test: full, features };
  };

  /** Counts of a log window in progress, read when a stop ends the run between log steps (else empty). */
  let pendingLog: Int32Array | null = null;
  const checkpoint = async (t: number) => {
    const tensors = { ...(await exportCheckpoint(st)), ...(daso ? await daso.export() : {}) };
    const meta = {
      config: JSON.stringify(c), feed: JSON.stringify(feed.getState()), history: JSON.stringify(history), format: 'daso-webgpu/1',
      conv_choices: JSON.stringify(convChoices),
      pl_pending: JSON.stringify({ eval: Array.from(plEval), log: Array.from(pendingLog ?? new Int32Array(2 * K * K)), log_first_step: logFirst }),
    };
    await hooks.saveCheckpoint(tensors, meta, 'checkpoint');
    hooks.emit({ type: 'checkpoint', step: t + 1, name: 'checkpoint' });
  };

  let t0 = performance.now(), tStart = st.step, timing = false;
  const firstStep = st.step;
  const inflight: Promise<void>[] = [];
  /** Stop requested before step t: the state is the one after step t - 1; checked like a periodic checkpoint. */
  const stopped = async (t: number) => {
    if (t > firstStep) {
      const l = await step.readLosses(t - 1);
      if (!Number.isFinite(l.loss)) {
        throw new Error(`step ${t - 1}: the loss is ${l.loss} (cls ${l.lossCls}, u ${l.lossU}, align ${l.lossAlign}); stopping. ` +
          `The last good checkpoint is kept; lower optim.lr or check the data.`);
      }
    }
    if (plCounter) pendingLog = await plCounter.take();
    await checkpoint(t - 1);
    hooks.emit({ type: 'stopped', step: t });
  };
  try {
    for (let t = st.step; t < c.max_iter; t++) {
      if (hooks.signal?.aborted || (hooks.stopAfter !== undefined && t >= hooks.stopAfter)) {
        await stopped(t);
        return;
      }
      feed.next(step.io, plCounter?.truth);
      step.run(t);
      // At most two steps in flight: the GPU always has the next step queued, and the page's event loop turns once a
      // step, so a stop request (or a lost connection) is seen within about one step instead of one log window.
      inflight.push(rt.device.queue.onSubmittedWorkDone());
      if (inflight.length > 1) await inflight.shift();
      const last = t + 1 === c.max_iter;
      const saving = (t + 1) % c.train.checkpoint_every === 0 || last;
      const evaluating = testSet !== null && ((t + 1) % c.train.eval_every === 0 || last);
      // The loss is always checked before a checkpoint, so a NaN state is never written over the last good one.
      // Evaluation steps are log steps too, so an evaluation's pseudo-label statistics are whole log windows.
      if ((t + 1) % c.train.log_every === 0 || last || saving || evaluating) {
        const l = await step.readLosses(t);
        if (!Number.isFinite(l.loss)) {
          throw new Error(`step ${t}: the loss is ${l.loss} (cls ${l.lossCls}, u ${l.lossU}, align ${l.lossAlign}); stopping. ` +
            `The last good checkpoint is kept; lower optim.lr or check the data.`);
        }
        let maskRatio = 0;
        let window: PseudoLabelWindow | null = null;
        if (plCounter) {
          const counts = await plCounter.take();
          addCounts(plEval, counts);
          const hist = daso ? { plHist: (await rt.read(daso.plHist)) as Int32Array, switches: switches(c, t + 1) } : null;
          window = windowRecord(counts, K, logFirst, hist);
          maskRatio = window.images ? window.confusion_confident.flat().reduce((a, b) => a + b, 0) / window.images : 0;
        } else if (ssl) {
          // Unknown unlabeled labels: no counts, the mask ratio of the last step.
          maskRatio = Array.from(await rt.read(step.io.mask!)).reduce((a, b) => a + b, 0) / Bu;
        }
        logFirst = t + 2;
        const done = t + 1 - tStart;
        const sps = done / ((performance.now() - t0) / 1000);
        hooks.emit({
          type: 'progress', step: t + 1, loss: l.loss, loss_cls: l.lossCls, loss_u: l.lossU, loss_align: l.lossAlign,
          mask_ratio: maskRatio, steps_per_s: sps, eta_s: (c.max_iter - t - 1) / sps, daso_active: dasoActive(c, t), pl: window,
        });
      }
      if (evaluating) {
        const rec = await evaluate(t, false);
        history.push(rec);
        hooks.emit({ type: 'eval', record: rec });
      }
      if (saving) await checkpoint(t);
      if (!timing && c.max_iter - t > 1) {
        // The first step includes one-time costs (pipeline warm-up); the rate is measured from the second step on.
        // (Steps are only submitted between readbacks, so the rate is exact at log steps, which wait for the GPU.)
        await rt.device.queue.onSubmittedWorkDone();
        t0 = performance.now();
        tStart = t + 1;
        timing = true;
      }
    }
    // Every step is done and the last one was checkpointed: a stop here only skips the final evaluation.
    if (hooks.signal?.aborted) {
      hooks.emit({ type: 'stopped', step: st.step });
      return;
    }
    if (!testSet) {
      hooks.emit({ type: 'finished', step: c.max_iter });
      return;
    }
    const final = await evaluate(c.max_iter - 1, true);
    const recent = history.slice(-c.eval.median_of);
    const med = (f: (r: EvalRecord) => number) => {
      const xs = recent.map(f).sort((a, b) => a - b);
      return xs.length ? (xs.length % 2 ? xs[xs.length >> 1] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2) : NaN;
    };
    hooks.emit({ type: 'done', final, median: { top1: med((r) => r.test.top1), balanced: med((r) => r.test.balanced), top1_la: med((r) => r.test.top1_la) } });
  } finally {
    evaluator.dispose();
    step.dispose();
    feed.dispose();
    plCounter?.dispose();
    daso?.dispose();
    st.dispose();
  }
}
