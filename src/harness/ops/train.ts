// Whole-step ops for tests: repeated supervised steps on one fixed batch (loss must fall; memory must stay flat).
import type { StTensor } from '../../nn/safetensors.js';
import { TrainState } from '../../train/model-state.js';
import { buildSslStep } from '../../ssl/ssl-step.js';
import { parseStepConfig } from '../../train/config.js';
import { normal, rngFromSeed } from '../../train/random.js';
import type { OpFn } from '../op-table.js';

export const trainOps: Record<string, OpFn> = {
  async train_overfit(rt, p: { config: unknown; batch: number; steps: number; seed: number }) {
    const cfg = parseStepConfig(p.config);
    const m = cfg.model;
    const st = new TrainState(rt, m);
    st.initialise(p.seed);
    const step = await buildSslStep(st, cfg, p.batch, 0, null);
    const rnd = rngFromSeed(p.seed + 1);
    rt.pool.write(step.io.xLb, normal(rnd, step.io.xLb.size, 1));
    rt.pool.write(step.io.yLb, Int32Array.from({ length: p.batch }, (_, i) => i % m.num_classes));
    const losses: number[] = [];
    const allocated: number[] = [];
    const inUse: number[] = [];
    const pipelines: number[] = [];
    for (let t = 0; t < p.steps; t++) {
      step.run(t);
      losses.push((await step.readLosses(t)).loss);
      const r = rt.pool.report();
      allocated.push(r.allocatedBytes);
      inUse.push(r.inUseBytes);
      pipelines.push(rt.pipelines.size);
    }
    const out = { losses, allocated, inUse, pipelines, dispatches: [step.dispatches] };
    step.dispose();
    st.dispose();
    return out;
  },
};

/** Trains a tiny DASO run on synthetic data twice: straight through, and stopped at a checkpoint then resumed from
 * it. Returns both final checkpoints' tensors summed per name plus the largest difference (resume must be exact). */
trainOps.train_resume_check = async (rt, p: { config: unknown; stopAt: number }) => {
  const { parseTrainConfig } = await import('../../train/train-config.js');
  const { train } = await import('../../train/trainer.js');
  const { syntheticDataset } = await import('../../data/synthetic.js');
  const c = parseTrainConfig(p.config);
  const m = c.model;
  const o = { numClasses: m.num_classes, channels: m.in_channels, height: m.image_size, width: m.image_size };
  const data = {
    train: syntheticDataset({ ...o, perClass: c.data.num_valid_per_class + c.data.n1 + c.data.m1, seed: 11 }),
    test: syntheticDataset({ ...o, perClass: 5, seed: 12 }),
  };
  type Ck = { tensors: Record<string, StTensor>; meta: Record<string, string> };
  const run = async (cfg: typeof c, resume: Ck | null) => {
    const saved: Ck[] = [];
    await train(rt, cfg, data, {
      emit: () => undefined,
      saveCheckpoint: async (tensors, meta) => { saved.push({ tensors, meta }); },
    }, resume?.tensors ?? null, resume?.meta ?? null);
    return saved;
  };
  const straight = await run(c, null);
  const first = await run({ ...c, max_iter: p.stopAt }, null);
  const resumed = await run(c, first[first.length - 1]);
  const a = straight[straight.length - 1].tensors, b = resumed[resumed.length - 1].tensors;
  let maxDiff = 0;
  const names = Object.keys(a).sort();
  for (const n of names) {
    const x = a[n].data as ArrayLike<number | bigint>, y = b[n].data as ArrayLike<number | bigint>;
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(Number(x[i]) - Number(y[i])));
  }
  const checksum = (t: Record<string, StTensor>) => names.map((n) => Array.from(t[n].data as ArrayLike<number | bigint>, Number).reduce((s, v) => s + Math.abs(v), 0));
  return { maxDiff: [maxDiff], checksumA: checksum(a), checksumB: checksum(b), steps: [Number(a.step.data[0]), Number(b.step.data[0])], tensors: [names.length] };
};

/** One supervised step with and without train-time logit adjustment from the same state and batch: returns both
 * labeled logits (they must differ by exactly tau*log(pi) per class) and the first step's gradient of the bias. */
trainOps.logit_adjust_check = async (rt, p: { config: unknown; batch: number; adjust: number[] }) => {
  const cfg = parseStepConfig(p.config);
  const out: Record<string, number[]> = {};
  for (const withLa of [false, true]) {
    const st = new TrainState(rt, cfg.model);
    st.initialise(1);
    const step = await buildSslStep(st, cfg, p.batch, 0, null, withLa ? { logitAdjust: Float32Array.from(p.adjust) } : {});
    const rnd = rngFromSeed(9);
    rt.pool.write(step.io.xLb, normal(rnd, step.io.xLb.size, 1));
    rt.pool.write(step.io.yLb, Int32Array.from({ length: p.batch }, (_, i) => i % cfg.model.num_classes));
    step.run(0);
    out[withLa ? 'logitsLa' : 'logits'] = Array.from(await rt.read(step.io.logitsLb));
    out[withLa ? 'lossLa' : 'loss'] = [(await step.readLosses(0)).lossCls];
    step.dispose();
    st.dispose();
  }
  return out;
};
