// The reference long-tailed split (daso-reference.md §2.2; official lib/dataset/utils.py):
//   1. split_trainval: per class, shuffle, first `numValidPerClass` → validation, rest → train pool;
//   2. x_u_split:      per class of the train pool, shuffle, first N1 → labeled pool, next M1 → unlabeled pool;
//   3. make_imbalance: per class in rank order (0 = head; reversed for the unlabeled set if asked), shuffle and keep
//      the first N_r = trunc(N_head * (1/gamma)^(r/(K-1))), only when gamma > 1.
// Each stage has its own generator (the reference uses a fresh RandomState(seed) per stage); ours are derived
// sub-streams of the seed, since numpy's draws cannot be reproduced anyway. Outputs are indices into the train set,
// class by class in rank order like the reference's concatenation.
import { classCounts } from './dataset.js';
import { deriveSeed, Rng } from './rng.js';

export interface LongTailConfig {
  numClasses: number;
  /** Validation images held out per class before anything else (reference NUM_VALID / K: 500 C10, 50 C100). */
  numValidPerClass: number;
  /** Labeled images of the head class (N1). */
  n1: number;
  /** Unlabeled images of the head class (M1); 0 = no unlabeled set from the train split (STL-10 uses its own). */
  m1: number;
  /** Labeled imbalance ratio gamma_l >= 1 (1 = uniform). */
  gammaL: number;
  /** Unlabeled imbalance ratio gamma_u >= 1 (1 = uniform). */
  gammaU: number;
  /** Unlabeled class order reversed: class K-1 is the unlabeled head (REVERSE_UL_DISTRIBUTION). */
  reverseUnlabeled?: boolean;
  seed: number;
}

export interface LongTailSplit {
  labeled: Int32Array;
  unlabeled: Int32Array;
  valid: Int32Array;
  /** Per class (index = class id, not rank). */
  labeledCounts: number[];
  unlabeledCounts: number[];
  validCounts: number[];
}

/** N_r for ranks r = 0..K-1: `int(n1 * (1/gamma) ** (r / (K - 1)))`, the reference expression (truncation). */
export function longTailCounts(n1: number, gamma: number, numClasses: number): number[] {
  if (!Number.isInteger(n1) || n1 < 0) throw new Error(`longTailCounts: head count must be an integer >= 0, got ${n1}`);
  if (!(gamma >= 1) || !Number.isFinite(gamma)) throw new Error(`longTailCounts: imbalance ratio must be >= 1, got ${gamma}`);
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new Error(`longTailCounts: need at least 2 classes, got ${numClasses}`);
  }
  const counts: number[] = [];
  for (let r = 0; r < numClasses; r++) counts.push(Math.trunc(n1 * (1 / gamma) ** (r / (numClasses - 1))));
  return counts;
}

function checkConfig(c: LongTailConfig): void {
  const ints: [string, number][] = [['numClasses', c.numClasses], ['numValidPerClass', c.numValidPerClass], ['n1', c.n1], ['m1', c.m1]];
  for (const [k, v] of ints) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`longTailSplit: ${k} must be an integer >= 0, got ${v}`);
  }
  if (c.numClasses < 2) throw new Error(`longTailSplit: need at least 2 classes, got ${c.numClasses}`);
  if (c.n1 < 1) throw new Error(`longTailSplit: n1 (labeled head count) must be >= 1, got ${c.n1}`);
  for (const [k, g] of [['gammaL', c.gammaL], ['gammaU', c.gammaU]] as const) {
    if (!(g >= 1) || !Number.isFinite(g)) throw new Error(`longTailSplit: ${k} must be a finite ratio >= 1, got ${g}`);
  }
  if (!Number.isSafeInteger(c.seed)) throw new Error(`longTailSplit: seed must be an integer, got ${c.seed}`);
}

/** Indices of each class, ascending (np.where(labels == c)). */
function byClass(labels: ArrayLike<number>, k: number): Int32Array[] {
  const counts = classCounts(labels, k, 'longTailSplit');
  const out = counts.map((n) => new Int32Array(n));
  const fill = new Array<number>(k).fill(0);
  for (let i = 0; i < labels.length; i++) out[labels[i]][fill[labels[i]]++] = i;
  return out;
}

function concat(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Stage 3 for one set: per class in rank order, shuffle its pool and keep the first N_r (all when gamma = 1). */
function imbalance(pools: Int32Array[], head: number, gamma: number, reverse: boolean, rng: Rng): Int32Array[] {
  // The reference skips make_imbalance when gamma = 1: pools kept whole, in class order (reverse has no effect).
  if (gamma === 1) return pools.slice();
  const k = pools.length;
  const order = [...Array(k).keys()];
  if (reverse) order.reverse();
  const keep = longTailCounts(head, gamma, k);
  const out: Int32Array[] = [];
  order.forEach((c, rank) => out.push(rng.shuffle(pools[c].slice()).subarray(0, keep[rank])));
  return out;
}

/** The labeled / unlabeled / validation index sets of a train split with these labels. */
export function longTailSplit(labels: ArrayLike<number>, config: LongTailConfig): LongTailSplit {
  checkConfig(config);
  const { numClasses: k, numValidPerClass: nv, n1, m1, gammaL, gammaU, seed } = config;
  const reverse = config.reverseUnlabeled ?? false;

  // Validate everything before any shuffling: label range, every class present, pools large enough.
  let maxLabel = -1;
  for (let i = 0; i < labels.length; i++) if (labels[i] > maxLabel) maxLabel = labels[i];
  if (maxLabel >= k) throw new Error(`longTailSplit: the dataset has label ${maxLabel} but the config says ${k} classes`);
  const classes = byClass(labels, k);
  classes.forEach((idx, c) => {
    if (idx.length === 0) throw new Error(`longTailSplit: class ${c} has no images but the config says ${k} classes`);
    if (nv > idx.length) {
      throw new Error(`longTailSplit: class ${c}: ${nv} validation images asked, the class has only ${idx.length}`);
    }
    if (n1 + m1 > idx.length - nv) {
      throw new Error(
        `longTailSplit: class ${c}: N1 + M1 = ${n1} + ${m1} = ${n1 + m1} exceeds the ${idx.length - nv} images left ` +
          `after holding out ${nv} for validation (${idx.length} in the class)`,
      );
    }
  });

  // 1. split_trainval
  const rngValid = new Rng(deriveSeed(seed, 'split/valid'));
  const valid: Int32Array[] = [];
  const pool: Int32Array[] = [];
  for (const idx of classes) {
    const s = rngValid.shuffle(idx.slice());
    valid.push(s.subarray(0, nv));
    pool.push(s.subarray(nv));
  }
  // 2. x_u_split
  const rngXU = new Rng(deriveSeed(seed, 'split/x_u'));
  const lPool: Int32Array[] = [];
  const uPool: Int32Array[] = [];
  for (const idx of pool) {
    const s = rngXU.shuffle(idx.slice());
    lPool.push(s.subarray(0, n1));
    uPool.push(s.subarray(n1, n1 + m1));
  }
  // 3. make_imbalance, labeled then unlabeled, each with its own stream.
  const lParts = imbalance(lPool, n1, gammaL, false, new Rng(deriveSeed(seed, 'split/imbalance-labeled')));
  const uParts = imbalance(uPool, m1, gammaU, reverse, new Rng(deriveSeed(seed, 'split/imbalance-unlabeled')));

  const labeled = concat(lParts);
  const unlabeled = concat(uParts);
  return {
    labeled,
    unlabeled,
    valid: concat(valid),
    labeledCounts: classCounts(Array.from(labeled, (i) => labels[i]), k),
    unlabeledCounts: classCounts(Array.from(unlabeled, (i) => labels[i]), k),
    validCounts: valid.map((v) => v.length),
  };
}
