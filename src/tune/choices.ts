// The conv choices a step is built with: conv key (direction + shape) -> rung name. The graph op `conv2d` asks
// `rt.convChoices` for the launcher options of each of its three kernels (a miss: no options, the fixed rule of
// src/kernels/conv2d-tiles.ts) and records what it got, so the step can say which rung each conv runs and a run can
// store the choices it used (a resumed run must run the same rungs: they sum in different orders).
import type { Dispatch } from '../gpu/kernel.js';
import { convKey, findRung, rungOf, type ConvDirection, type ConvShape, type RungOpts } from './candidates.js';

/** One conv kernel as recorded: the graph op's label, the direction, the key, the rung its dispatches run, and
 * whether the rung came from the choices table or from the fixed rule. */
export interface ConvUse {
  label: string;
  dir: ConvDirection;
  key: string;
  rung: string;
  from: 'choice' | 'rule';
}

export class ConvChoices {
  /** Every conv kernel recorded since this object was made, in recording order. */
  readonly used: ConvUse[] = [];

  constructor(readonly table: Readonly<Record<string, string>> = {}) {}

  /** The launcher options for this conv, or undefined (the rule) when the table has no usable entry. A name the
   * ladder no longer offers for this shape (an old cache) is a miss too. */
  opts<D extends ConvDirection>(dir: D, s: ConvShape): RungOpts[D] | undefined {
    const name = this.table[convKey(dir, s)];
    return name === undefined ? undefined : findRung(dir, s, name)?.opts;
  }

  /** Called by the graph op with the dispatches it recorded. */
  record(label: string, dir: ConvDirection, s: ConvShape, ds: readonly Dispatch[]): void {
    const key = convKey(dir, s);
    this.used.push({ label, dir, key, rung: rungOf(dir, ds), from: this.opts(dir, s) ? 'choice' : 'rule' });
  }

  /** key -> rung of every conv kernel recorded (rule ones too): what a run stores and a resume reuses. */
  usedTable(): Record<string, string> {
    const t: Record<string, string> = {};
    for (const u of this.used) t[u.key] = u.rung;
    return t;
  }

  /** Distinct (direction, shape) keys recorded, in recording order. */
  usedKeys(): string[] {
    return [...new Set(this.used.map((u) => u.key))];
  }
}

/** One line per conv of a recorded step: `label  fwd v4 8x16 | dgrad v4 8x16 (tuned) | wgrad v3`. */
export function convUseLines(used: readonly ConvUse[]): string[] {
  const byLabel = new Map<string, Partial<Record<ConvDirection, ConvUse>>>();
  for (const u of used) byLabel.set(u.label, { ...byLabel.get(u.label), [u.dir]: u });
  const part = (tag: string, u?: ConvUse) => `${tag} ${u ? `${u.rung}${u.from === 'choice' ? ' (tuned)' : ''}` : '-'}`;
  return [...byLabel].map(([label, m]) => `conv ${label}: ${part('fwd', m.forward)} | ${part('dgrad', m.input)} | ${part('wgrad', m.weight)}`);
}
