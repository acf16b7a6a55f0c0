// The autotuner: for each distinct (direction, shape) of a recorded step, time every rung the ladder offers for it
// (src/tune/candidates.ts) on this adapter and keep the fastest. Timing only: every rung is already tested against
// the reference on ragged shapes, so the tuner does not validate results.
//
// How: the conv's tensors are allocated once in a scratch pool (same device and pipeline cache as the caller: the
// winners' pipelines are then already compiled when the real step is built); each rung's dispatches (its weight
// pack / dy transpose included: they are part of its cost) go into one CommandList; one warm-up run; then `reps`
// rounds that time each rung in turn (round-robin, so a load change on a shared machine hits all rungs alike), GPU
// time from timestamp queries (wall time when the adapter has none); the median decides. The rule's rung wins ties:
// another rung must be faster by `margin` (default 3%) to replace it, so noise alone never changes a choice.
// Budget: wall time of the whole tuning, compiles included; the biggest convs (by FLOPs) go first; a conv whose
// rungs were not all timed when the budget ran out keeps the rule.
import type { Dispatch } from '../gpu/kernel.js';
import { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import {
  conv2dBackwardInputPacked, conv2dBackwardWeight, conv2dBackwardWeightDyShape, conv2dBackwardWeightScratchShape, conv2dForwardPacked,
  conv2dOutputSize, conv2dPackedBackwardInputShape, conv2dPackedForwardShape,
} from '../kernels/conv2d.js';
import type { TuneEntry } from './cache.js';
import { parseConvKey, ruleOpts, rungOf, rungsFor, type ConvDirection, type ConvShape, type RungOpts } from './candidates.js';

export interface TuneOptions {
  /** Wall-clock budget of the whole tuning in ms (compiles included). */
  budgetMs: number;
  /** Timed runs per rung (median); default 3. */
  reps?: number;
  /** Fraction by which a rung must beat the rule's median to replace it; default 0.03. */
  margin?: number;
  log?: (line: string) => void;
}

export interface TuneReport {
  /** Decided keys: the rung chosen and every rung's median ms. */
  entries: Record<string, TuneEntry>;
  /** Keys the budget did not reach (they keep the rule). */
  notReached: string[];
  elapsedMs: number;
  /** 'gpu' (timestamp queries) or 'wall'. */
  clock: 'gpu' | 'wall';
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const flopsOf = (s: ConvShape): number => {
  const [OH, OW] = conv2dOutputSize(s.H, s.W, s.R, s);
  return s.N * s.K * OH * OW * s.C * s.R * s.R;
};

interface ConvTensors { x: Tensor; w: Tensor; y: Tensor; packed: Tensor; scratch?: Tensor; dyT?: Tensor }

function allocate(rt: Runtime, dir: ConvDirection, s: ConvShape): ConvTensors {
  const [OH, OW] = conv2dOutputSize(s.H, s.W, s.R, s);
  const x = rt.tensor([s.N, s.C, s.H, s.W], 'f32', 'tune.x');
  const w = rt.tensor([s.K, s.C, s.R, s.R], 'f32', 'tune.w');
  const y = rt.tensor([s.N, s.K, OH, OW], 'f32', 'tune.y');
  const packed = rt.tensor(dir === 'input' ? conv2dPackedBackwardInputShape(w.shape) : conv2dPackedForwardShape(w.shape), 'f32', 'tune.packed');
  if (dir !== 'weight') return { x, w, y, packed };
  return { x, w, y, packed, scratch: rt.tensor(conv2dBackwardWeightScratchShape(x.shape, y.shape, s.R), 'f32', 'tune.partials'),
    dyT: rt.tensor(conv2dBackwardWeightDyShape(y.shape), 'f32', 'tune.dyT') };
}

/** The dispatches of one rung, as the graph op records them (src/graph/ops.ts). */
function launch<D extends ConvDirection>(dir: D, s: ConvShape, t: ConvTensors, opts: RungOpts[D]): Dispatch[] {
  const o = { stride: s.stride, pad: s.pad };
  if (dir === 'forward') return conv2dForwardPacked(t.x, t.w, t.packed, t.y, { ...(opts as RungOpts['forward']), ...o });
  if (dir === 'input') return conv2dBackwardInputPacked(t.y, t.w, t.packed, t.x, { ...(opts as RungOpts['input']), ...o });
  return conv2dBackwardWeight(t.x, t.y, t.w, t.scratch!, { ...(opts as RungOpts['weight']), ...o, dyT: t.dyT });
}

/** After the first round, rungs slower than this multiple of the rule are dropped (their one time is kept). */
const SLOW_PRUNE = 2;

export async function tuneConvs(rt: Runtime, keys: readonly string[], o: TuneOptions): Promise<TuneReport> {
  const t0 = performance.now();
  const elapsed = () => performance.now() - t0;
  const reps = Math.max(1, Math.floor(o.reps ?? 3));
  const margin = o.margin ?? 0.03;
  const clock: TuneReport['clock'] = rt.info?.timestamps && rt.device.features.has('timestamp-query') ? 'gpu' : 'wall';
  const convs = keys.map((key) => {
    const p = parseConvKey(key);
    if (!p) throw new Error(`tune: '${key}' is not a conv key (direction:N,C,H,W,K,R,stride,pad)`);
    return { key, ...p };
  }).sort((a, b) => flopsOf(b.shape) - flopsOf(a.shape));
  const entries: Record<string, TuneEntry> = {};
  const notReached: string[] = [];
  for (const c of convs) {
    if (elapsed() >= o.budgetMs) { notReached.push(c.key); continue; }
    const scratch = new Runtime(rt.device, rt.info, rt.pipelines);
    const lists: ReturnType<Runtime['commands']>[] = [];
    try {
      const t = allocate(scratch, c.dir, c.shape);
      const signature = (ds: Dispatch[]) => ds.map((d) => d.key).join(' ');
      const ruleDs = launch(c.dir, c.shape, t, ruleOpts(c.dir, c.shape));
      const rule = rungOf(c.dir, ruleDs);
      // Rungs that record the same dispatches (e.g. the rule's own rung) are timed once.
      const bySig = new Map<string, { names: string[]; ds: Dispatch[]; ms: number[] }>();
      bySig.set(signature(ruleDs), { names: [rule], ds: ruleDs, ms: [] });
      for (const r of rungsFor(c.dir, c.shape, { hardware: rt.info ? !rt.info.isFallbackAdapter : undefined })) {
        const ds = launch(c.dir, c.shape, t, r.opts);
        const g = bySig.get(signature(ds));
        if (g) { if (!g.names.includes(r.name)) g.names.push(r.name); } else bySig.set(signature(ds), { names: [r.name], ds, ms: [] });
      }
      // A rung whose pipeline does not build on this adapter is left out (with a line in the log); the rule's must build.
      const groups: { names: string[]; ds: Dispatch[]; ms: number[] }[] = [];
      await Promise.all([...bySig.values()].map(async (g, i) => {
        const l = scratch.commands(`tune ${c.key} ${g.names[0]}`).add(...g.ds);
        try {
          await l.compile();
        } catch (e) {
          l.dispose();
          if (i === 0) throw e;
          o.log?.(`tune ${c.key}: ${g.names.join(', ')} left out: ${(e as Error).message}`);
          return;
        }
        groups.push(g);
        lists.push(l);
      }));
      // Compiling a conv's rungs cannot be cut short (up to ~20 s for the 7 weight-gradient rungs on SwiftShader): when
      // it used up the budget, nothing is timed and the conv keeps the rule.
      if (elapsed() >= o.budgetMs) { notReached.push(c.key); continue; }
      for (const l of lists) await l.run(); // warm-up
      let complete = true;
      const live = groups.map((_, i) => i);
      for (let r = 0; r < reps && complete; r++) {
        for (const i of live) {
          if (elapsed() >= o.budgetMs) { complete = false; break; }
          if (clock === 'gpu') groups[i].ms.push((await lists[i].timed()).reduce((s, x) => s + x.gpuNs, 0) / 1e6);
          else {
            const w0 = performance.now();
            await lists[i].run();
            groups[i].ms.push(performance.now() - w0);
          }
        }
        // A rung over SLOW_PRUNE x the rule's first time cannot win on the median: it is not timed again (the GPU
        // rungs cost 2-20x the rule on SwiftShader, and would otherwise spend most of the budget; bench/README.md).
        if (r === 0 && complete) {
          const ruleMs = groups.find((g) => g.names.includes(rule))!.ms[0];
          for (let k = live.length - 1; k >= 0; k--) if (groups[live[k]].ms[0] > SLOW_PRUNE * ruleMs) live.splice(k, 1);
        }
      }
      if (!complete) { notReached.push(c.key); continue; }
      const ms: Record<string, number> = {};
      for (const g of groups) for (const n of g.names) ms[n] = median(g.ms);
      // The fastest of the rungs that beat the rule by the margin, else the rule.
      const beat = Object.entries(ms).filter(([, m]) => m < ms[rule] * (1 - margin)).sort((a, b) => a[1] - b[1]);
      const best = beat.length ? beat[0][0] : rule;
      entries[c.key] = { rung: best, ms, date: new Date().toISOString() };
      o.log?.(`tune ${c.key}: ${best}${best === rule ? ' (the rule)' : ` (rule ${rule})`}; ${Object.entries(ms).map(([n, m]) => `${n} ${m.toFixed(3)}`).join(', ')} ms`);
    } finally {
      for (const l of lists) l.dispose();
      scratch.dispose();
    }
  }
  return { entries, notReached, elapsedMs: elapsed(), clock };
}
