// `--tune off|cached|fresh` in the page: sets `rt.convChoices` before a step is built.
//   off     the fixed rule (src/kernels/conv2d-tiles.ts);
//   cached  the cache's choices for this adapter, the rule for shapes it lacks (no timing);
//   fresh   build the step once with the rule to collect its conv shapes, time their rungs (src/tune/tuner.ts),
//           use the winners; the caller writes the new entries to its cache.
// A resumed run passes the choices its checkpoint stored (`fixed`): the same rungs as before, whatever the mode.
import type { Runtime } from '../gpu/runtime.js';
import { adapterId, cachedChoices, type AdapterId, type TuneCache, type TuneEntry } from './cache.js';
import { ConvChoices } from './choices.js';
import { tuneConvs } from './tuner.js';

export const TUNE_MODES = ['off', 'cached', 'fresh'] as const;
export type TuneMode = (typeof TUNE_MODES)[number];
export const DEFAULT_TUNE_BUDGET_S = 60;

/** Checks a mode given by a person; `where` names the flag or option in the error. */
export function parseTuneMode(v: unknown, where = '--tune'): TuneMode {
  if (typeof v === 'string' && (TUNE_MODES as readonly string[]).includes(v)) return v as TuneMode;
  throw new Error(`${where}: '${String(v)}' is not a tune mode (use one of: ${TUNE_MODES.join(', ')}; default cached)`);
}

export function parseTuneBudget(v: unknown, where = '--tune-budget-s'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}: ${String(v)} must be a number of seconds >= 0`);
  return v;
}

export interface TuneRequest {
  mode: TuneMode;
  /** The cache as read by the caller (file or localStorage); absent: empty. */
  cache?: TuneCache | null;
  /** fresh: wall-clock budget in seconds (default 60). */
  budgetS?: number;
  reps?: number;
  /** A resumed run's stored choices (key -> rung): used as they are, no cache, no timing. */
  fixed?: Record<string, string> | null;
}

export interface TuneOutcome {
  mode: TuneMode | 'resumed';
  adapter: AdapterId;
  /** The table the step is built with (key -> rung). */
  table: Record<string, string>;
  /** fresh: the entries measured now (for the caller's cache). */
  entries: Record<string, TuneEntry>;
  /** fresh: keys the budget did not reach (rule). */
  notReached: string[];
  /** fresh: tuning wall time (the collecting build included). */
  tuneMs: number;
  clock: 'gpu' | 'wall' | null;
}

/** Sets rt.convChoices for the step `collect` builds (fresh mode calls it once, with the rule, to learn the conv
 * shapes; it must build and dispose the step). The caller builds the real step afterwards. */
export async function prepareConvChoices(rt: Runtime, req: TuneRequest, collect: () => Promise<void>, log?: (s: string) => void): Promise<TuneOutcome> {
  const adapter = adapterId(rt.info);
  const out: TuneOutcome = { mode: req.fixed ? 'resumed' : req.mode, adapter, table: {}, entries: {}, notReached: [], tuneMs: 0, clock: null };
  if (req.fixed) out.table = { ...req.fixed };
  else if (req.mode === 'cached') out.table = req.cache ? cachedChoices(req.cache, adapter) : {};
  else if (req.mode === 'fresh') {
    const t0 = performance.now();
    rt.convChoices = new ConvChoices();
    await collect();
    const keys = rt.convChoices.usedKeys();
    const budgetS = req.budgetS ?? DEFAULT_TUNE_BUDGET_S;
    const budgetMs = Math.max(0, budgetS * 1000 - (performance.now() - t0));
    log?.(`tune: ${keys.length} conv kernels (direction x shape) of the step, budget ${budgetS} s`);
    const r = await tuneConvs(rt, keys, { budgetMs, reps: req.reps, log });
    out.entries = r.entries;
    out.notReached = r.notReached;
    out.clock = r.clock;
    out.table = Object.fromEntries(Object.entries(r.entries).map(([k, e]) => [k, e.rung]));
    out.tuneMs = performance.now() - t0;
    log?.(`tune: ${Object.keys(r.entries).length} decided, ${r.notReached.length} left to the rule (budget), ${(out.tuneMs / 1000).toFixed(1)} s`);
  }
  rt.convChoices = new ConvChoices(out.table);
  return out;
}
