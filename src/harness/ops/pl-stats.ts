// Ops for the pseudo-label statistics tests: the pl_confusion kernel alone, a training run whose every step's
// pseudo-labels are also read back (the recount), and a run on the same images with other unlabeled true labels.
import type { StTensor } from '../../nn/safetensors.js';
import { plConfusion } from '../../kernels/pl-stats.js';
import { input, readAll, releaseAll, type OpFn } from '../op-table.js';

export const plStatsOps: Record<string, OpFn> = {
  /** inputs.counts (optional): the prior counts the kernel adds to. */
  async pl_confusion(rt, p: { BU: number; K: number }, inp) {
    const pl = input(rt, inp, 'pseudoLabel', [p.BU], 'i32');
    const mask = input(rt, inp, 'mask', [p.BU]);
    const truth = input(rt, inp, 'truth', [p.BU], 'i32');
    const counts = inp.counts ? input(rt, inp, 'counts', [2, p.K, p.K], 'i32') : rt.upload(new Int32Array(2 * p.K * p.K), [2, p.K, p.K], 'i32', 'counts');
    try {
      await rt.run(plConfusion(pl, mask, truth, counts));
      return await readAll(rt, { counts });
    } finally {
      releaseAll(pl, mask, truth, counts);
    }
  },

  /**
   * Trains a tiny run (synthetic data, explicit split: every 4th image labeled) twice, the second time with the
   * unlabeled images' true labels replaced by (label + relabel) mod K: returns both runs' log windows (step,
   * first_step, all counts, confident counts) and the largest difference of their final checkpoints (must be 0: the
   * true labels are read by the statistics kernel only).
   */
  async pl_stats_run(rt, p: { config: unknown; relabel: number }) {
    const { parseTrainConfig } = await import('../../train/train-config.js');
    const { train } = await import('../../train/trainer.js');
    const { syntheticDataset } = await import('../../data/synthetic.js');
    const c = parseTrainConfig(p.config);
    const m = c.model, K = m.num_classes;
    const o = { numClasses: K, channels: m.in_channels, height: m.image_size, width: m.image_size };
    const base = syntheticDataset({ ...o, perClass: 16, seed: 21 });
    const n = base.n;
    const labeled = Int32Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 === 0);
    const unlabeled = Int32Array.from({ length: n }, (_, i) => i).filter((i) => i % 4 !== 0);
    const relabeled = { ...base, labels: Int32Array.from(base.labels, (y, i) => (i % 4 === 0 ? y : (y + p.relabel) % K)) };
    const run = async (data: typeof base) => {
      const logs: number[][] = [];
      let last: Record<string, StTensor> = {};
      await train(rt, c, { train: data, test: null, split: { labeled, unlabeled, unlabeledLabelsKnown: true } }, {
        emit: (e) => { if (e.type === 'progress' && e.pl) logs.push([e.step, e.pl.first_step, ...e.pl.confusion.flat(), ...e.pl.confusion_confident.flat()]); },
        saveCheckpoint: async (t) => { last = t; },
      }, null, null);
      return { logs, last };
    };
    const a = await run(base);
    const b = await run(relabeled);
    let maxDiff = 0, tensors = 0;
    for (const k of Object.keys(a.last)) {
      const x = a.last[k].data as ArrayLike<number | bigint>, y = b.last[k].data as ArrayLike<number | bigint>;
      tensors++;
      for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(Number(x[i]) - Number(y[i])));
    }
    return { logsA: a.logs.flat(), logsB: b.logs.flat(), windows: [a.logs.length], maxDiff: [maxDiff], tensors: [tensors] };
  },

  /**
   * The trainer's wiring without its loop: data feed -> recorded DASO/FixMatch step with a PlCounter; after every
   * step the pseudo-labels, mask and true labels are read back and recounted in TypeScript (plConfusionRef); the
   * counter is taken (read and cleared) after `windows[0]` steps, then after `windows[1]` more, ...
   */
  async pl_stats_recount(rt, p: { config: unknown; windows: number[] }) {
    const { parseTrainConfig } = await import('../../train/train-config.js');
    const { syntheticDataset } = await import('../../data/synthetic.js');
    const { TrainState } = await import('../../train/model-state.js');
    const { DasoState } = await import('../../ssl/daso-state.js');
    const { buildSslStep } = await import('../../ssl/ssl-step.js');
    const { DataFeed } = await import('../../train/data-feed.js');
    const { PlCounter } = await import('../../ssl/pl-stats.js');
    const { plConfusionRef } = await import('../../kernels/pl-stats.ref.js');
    const c = parseTrainConfig(p.config);
    const m = c.model, K = m.num_classes, B = c.train.batch_size, Bu = B * c.train.unlabeled_ratio;
    const data = syntheticDataset({ numClasses: K, channels: m.in_channels, height: m.image_size, width: m.image_size, perClass: 16, seed: 21 });
    const idx = Int32Array.from({ length: data.n }, (_, i) => i);
    const st = new TrainState(rt, m);
    st.initialise(c.train.seed);
    const daso = c.algorithm === 'daso' ? new DasoState(rt, K, c.daso.queue_size, st.spec.featureDim) : null;
    daso?.reset();
    const feed = new DataFeed(rt, data, idx.filter((i) => i % 4 === 0), idx.filter((i) => i % 4 !== 0), B, Bu, c.train.seed, { mean: [0.5], std: [0.25] });
    const counter = new PlCounter(rt, Bu, K);
    const step = await buildSslStep(st, c, B, Bu, daso, { prelude: (io) => feed.prelude(io), plCounter: counter });
    const gpu: number[] = [], ref: number[] = [];
    let t = 0;
    try {
      for (const w of p.windows) {
        let expected: Int32Array = new Int32Array(2 * K * K);
        for (let s = 0; s < w; s++, t++) {
          feed.next(step.io, counter.truth);
          step.run(t);
          const pl = await rt.read(step.io.pseudoLabel!), mk = await rt.read(step.io.mask!);
          expected = plConfusionRef(pl, mk, feed.lastUnlabeledLabels, K, expected);
        }
        gpu.push(...(await counter.take()));
        ref.push(...expected);
      }
    } finally {
      step.dispose();
      counter.dispose();
      feed.dispose();
      daso?.dispose();
      st.dispose();
    }
    return { gpu, ref };
  },
};
