// Reading metrics.jsonl text into the plain data every chart takes, and the few derived numbers more than one chart or
// the report needs (pseudo-label recall / precision of the last evaluation period, class thirds). Pure: no fs, no DOM,
// so the live page can use it on records it holds in memory and `daso report` on files.
import type { EvalRecordV2, LogRecord, StartRecord } from '../train/metrics-record.js';

/** A run's records, split by kind. Format-1 files (eval records without `kind`) give evals only. */
export interface RunRecords {
  /** 2 when any record has `kind`, else 1. */
  format: 1 | 2;
  /** The first start record (a resume repeats it with the same split), or null (format 1). */
  start: StartRecord | null;
  /** Log records by step (a step written twice, e.g. around a resume, keeps the later record). */
  logs: LogRecord[];
  /** Eval records by step; format-1 records get `kind: 'eval'` and `features: null`. */
  evals: EvalRecordV2[];
}

/** One run as the charts see it: a unique display name, its algorithm, its records. */
export interface VizRun {
  name: string;
  algorithm: string;
  records: RunRecords;
}

/** Options every chart takes: a DOM to build on (Node: linkedom's document; default: the page's) and a width. */
export interface ChartOptions {
  document?: Document;
  width?: number;
}

/** JSON's null stands for NaN inside number arrays (recall of an absent class); object fields keep their null. */
function reviveNaN(this: unknown, _key: string, value: unknown): unknown {
  return value === null && Array.isArray(this) ? NaN : value;
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Parses metrics.jsonl text. A line that is not JSON (a torn last write) or not a record is skipped and named in
 * `problems` (1-based line numbers); the records before and after it are kept. */
export function parseMetrics(text: string): { records: RunRecords; problems: string[] } {
  const problems: string[] = [];
  let start: StartRecord | null = null, format: 1 | 2 = 1;
  const logs = new Map<number, LogRecord>(), evals = new Map<number, EvalRecordV2>();
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let r: unknown;
    try {
      r = JSON.parse(line, reviveNaN);
    } catch {
      const last = lines.slice(i + 1).every((l) => !l.trim());
      problems.push(`line ${i + 1} is not JSON${last ? ' (a truncated last write?)' : ''}; skipped`);
      return;
    }
    if (!isObj(r) || typeof r.step !== 'number') {
      problems.push(`line ${i + 1} is not a metrics record (no numeric 'step'); skipped`);
      return;
    }
    if (r.kind !== undefined) format = 2;
    if (r.kind === 'start') {
      start ??= r as unknown as StartRecord;
    } else if (r.kind === 'log') {
      logs.set(r.step, r as unknown as LogRecord);
    } else if (r.kind === undefined || r.kind === 'eval') {
      const t = r.test;
      if (!isObj(t) || !Array.isArray(t.recall)) {
        problems.push(`line ${i + 1}: eval record without test.recall; skipped`);
        return;
      }
      evals.set(r.step, { kind: 'eval', features: null, valid: null, pseudo_label: null, full_test: false, ...r } as unknown as EvalRecordV2);
    } else {
      problems.push(`line ${i + 1}: unknown record kind '${String(r.kind)}'; skipped`);
    }
  });
  const byStep = <T extends { step: number }>(m: Map<number, T>) => [...m.values()].sort((a, b) => a.step - b.step);
  return { records: { format, start, logs: byStep(logs), evals: byStep(evals) }, problems };
}

/** Class labels in index order, which is head to tail for the long-tailed presets. */
export function classLabels(K: number): string[] {
  return Array.from({ length: K }, (_, k) => `c${k}`);
}

/** Head / medium / tail thirds of K classes by index: [0, round(K/3)), [round(K/3), round(2K/3)), the rest. */
export function classThirds(K: number): { head: number[]; medium: number[]; tail: number[] } {
  const a = Math.round(K / 3), b = Math.round((2 * K) / 3);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  return { head: range(0, a), medium: range(a, b), tail: range(b, K) };
}

/** Mean of the defined (finite) values; NaN when none. */
export function meanDefined(xs: ArrayLike<number | null>): number {
  let s = 0, n = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    if (typeof x === 'number' && Number.isFinite(x)) { s += x; n++; }
  }
  return n ? s / n : NaN;
}

/** Element-wise sum of K x K matrices. */
export function sumMatrices(ms: number[][][], K: number): number[][] {
  const out = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (const m of ms) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) out[i][j] += m[i]?.[j] ?? 0;
  return out;
}

/** Recall (diagonal / row sum) and precision (diagonal / column sum) of a [true][predicted] confusion matrix. */
export function recallPrecision(c: number[][]): { recall: number[]; precision: number[] } {
  const K = c.length;
  const col = Array.from({ length: K }, (_, j) => c.reduce((s, row) => s + row[j], 0));
  return {
    recall: c.map((row, k) => { const n = row.reduce((a, b) => a + b, 0); return n ? row[k] / n : NaN; }),
    precision: c.map((row, k) => (col[k] ? row[k] / col[k] : NaN)),
  };
}

/** Pseudo-label recall / precision per class of the last evaluation period. Format 2: the log windows after the
 * previous evaluation up to the last one (the last windows when no evaluation ran), their `confusion` matrices summed;
 * otherwise the last eval record's `pseudo_label` (format 1 has only that). Null when neither exists. */
export function lastPeriodPseudoLabels(r: RunRecords): { recall: number[]; precision: number[]; source: 'windows' | 'eval'; from: number; to: number } | null {
  const withPl = r.logs.filter((l) => l.pl && Array.isArray(l.pl.confusion));
  if (withPl.length) {
    const lastEval = r.evals.at(-1)?.step ?? Infinity;
    const prevEval = r.evals.filter((e) => e.step < lastEval).at(-1)?.step ?? 0;
    let win = withPl.filter((l) => l.step > prevEval && l.step <= lastEval);
    if (!win.length) win = withPl.slice(-1);
    const K = win[0].pl!.confusion.length;
    const rp = recallPrecision(sumMatrices(win.map((l) => l.pl!.confusion), K));
    return { ...rp, source: 'windows', from: win[0].pl!.first_step, to: win.at(-1)!.step };
  }
  const e = [...r.evals].reverse().find((x) => x.pseudo_label && Array.isArray(x.pseudo_label.recall));
  if (!e) return null;
  const prev = r.evals.filter((x) => x.step < e.step).at(-1)?.step ?? 0;
  return { recall: e.pseudo_label!.recall, precision: e.pseudo_label!.precision, source: 'eval', from: prev + 1, to: e.step };
}

/** Normalises counts to shares (all zero stays zero). */
export function shares(counts: number[]): number[] {
  const s = counts.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  return counts.map((c) => (s ? c / s : 0));
}

/** The number of classes a run's records show (test recall length), or null. */
export function recordClasses(r: RunRecords): number | null {
  return r.evals.at(-1)?.test.recall.length ?? r.start?.split.labeled.length ?? null;
}
