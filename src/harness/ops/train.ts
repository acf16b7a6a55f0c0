// Whole-step ops for tests: repeated supervised steps on one fixed batch (loss must fall; memory must stay flat).
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
