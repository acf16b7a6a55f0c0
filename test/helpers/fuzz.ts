// Seeded mutation fuzzing helpers for test/fuzz.test.ts: a small PRNG, byte and JSON mutators, and a tally that
// classifies each case as a clean parse, a clear Error, or a parser bug (an engine error, a bad message, pollution).
// Node only, no GPU.

/** mulberry32: tiny, fast, and the same sequence on every platform, so a failing case number reproduces. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Uint8Array {
    return Uint8Array.from({ length: n }, () => this.int(256));
  }
}

/** Byte values that tend to sit on boundaries (sign bits, all ones, ASCII structure). */
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x22, 0x2c, 0x3a, 0x5b, 0x5d, 0x7b, 0x7d, 0x30, 0x39, 0x2d];

/**
 * One random byte-level mutation of `b` (a new array; `b` is left as is). `hot` bytes at the start (a header) get
 * most of the point mutations, since that is where a parser decides how much to read and allocate.
 */
export function mutateBytes(b: Uint8Array, rng: Prng, hot = 0): { bytes: Uint8Array; how: string } {
  const at = () => (hot > 0 && rng.chance(0.7) ? rng.int(Math.min(hot, b.length)) : rng.int(b.length));
  const op = b.length === 0 ? 3 : rng.int(6);
  const out = b.slice();
  switch (op) {
    case 0: {
      const k = 1 + rng.int(4);
      for (let i = 0; i < k; i++) out[at()] ^= 1 << rng.int(8);
      return { bytes: out, how: `flip ${k} bits` };
    }
    case 1: {
      const k = 1 + rng.int(3);
      for (let i = 0; i < k; i++) out[at()] = rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256);
      return { bytes: out, how: `overwrite ${k} bytes` };
    }
    case 2: {
      const n = rng.int(b.length);
      return { bytes: b.slice(0, n), how: `truncate to ${n}` };
    }
    case 3: {
      const extra = rng.chance(0.5) ? rng.bytes(1 + rng.int(64)) : new Uint8Array(1 + rng.int(64));
      const e = new Uint8Array(b.length + extra.length);
      e.set(b);
      e.set(extra, b.length);
      return { bytes: e, how: `extend by ${extra.length}` };
    }
    case 4: {
      const i = at(), n = 1 + rng.int(8);
      const e = new Uint8Array(b.length + n);
      e.set(b.subarray(0, i));
      e.set(rng.bytes(n), i);
      e.set(b.subarray(i), i + n);
      return { bytes: e, how: `insert ${n} at ${i}` };
    }
    default: {
      const i = at(), n = Math.min(1 + rng.int(8), b.length - i);
      const e = new Uint8Array(b.length - n);
      e.set(b.subarray(0, i));
      e.set(b.subarray(i + n), i);
      return { bytes: e, how: `delete ${n} at ${i}` };
    }
  }
}

/** A plain array nested `depth` deep: deep enough, JSON.stringify in an error message overflows the stack. */
export function deepArray(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

/** Replacement values: wrong types, NaN-ish, huge, negative, fractional, empty, nested. JSON-safe unless `js`. */
export function valuePool(js: boolean): unknown[] {
  const pool: unknown[] = [
    -1, 0, 1, 0.5, -0.5, 2, 3, 7, 255, 256, 1e300, -1e300, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 2 ** 64, Number.MAX_VALUE,
    Number.MIN_VALUE, -(2 ** 31), '', 'NaN', 'Infinity', '1', '-1', 'F32', 'BF16', 'f32', 'U8', 'x'.repeat(5000), null, true,
    false, [], {}, [1, 2], [-1], [2 ** 53], [0, 2 ** 53], { x: 1 }, [[1]], deepArray(50),
  ];
  if (js) {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    pool.push(NaN, Infinity, -Infinity, -0, 1n, undefined, cyclic, Symbol('s'), () => 1, new Date(0), new Uint8Array(2));
  }
  return pool;
}

/** Every [container, key] in a JSON-like tree (plain objects and arrays; typed arrays, dates and cycles are leaves). */
export function slots(v: unknown, out: [Record<string, unknown>, string][] = [], seen = new Set<unknown>()): [Record<string, unknown>, string][] {
  const plain = v !== null && typeof v === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype);
  if (plain && !seen.has(v)) {
    seen.add(v);
    for (const k of Object.keys(v)) {
      out.push([v as Record<string, unknown>, k]);
      slots((v as Record<string, unknown>)[k], out, seen);
    }
  }
  return out;
}

/** Sets an own data property, even for '__proto__' (plain assignment would replace the prototype instead). */
export function setOwn(o: object, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

// What a JS engine says when a parser forgot a check: these must never reach a user.
const ENGINE =
  /Cannot read propert|Cannot convert|is not a function|is not iterable|is not defined|Invalid typed array length|Invalid array length|Array buffer allocation failed|Maximum call stack|Do not know how to serialize|circular structure|out of memory|Offset is outside|undefined is not|null is not|Invalid time value/i;

export interface Tally {
  name: string;
  cases: number;
  errors: number;
  valid: number;
  bugs: string[];
}

export function tally(name: string): Tally {
  return { name, cases: 0, errors: 0, valid: 0, bugs: [] };
}

const protoNames = Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** Why Object.prototype no longer looks pristine, or null. */
export function pollution(): string | null {
  const any = {} as Record<string, unknown>;
  if (any.x !== undefined || any.polluted !== undefined) return `Object.prototype polluted: x=${String(any.x)} polluted=${String(any.polluted)}`;
  const now = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  return now === protoNames ? null : `Object.prototype keys changed: ${now}`;
}

/** Why a thrown value is not an acceptable parser error (a plain Error naming `mustName`), or null. */
export function badError(e: unknown, mustName: string | RegExp): string | null {
  if (!(e instanceof Error)) return `threw a non-Error ${String(e)}`;
  if (e.constructor !== Error) return `${e.constructor.name} from the engine: ${e.message}`;
  if (typeof e.message !== 'string' || e.message.trim() === '') return 'empty error message';
  if (ENGINE.test(e.message)) return `engine message: ${e.message}`;
  if (e.message.length > 1500) return `message of ${e.message.length} characters`;
  const named = typeof mustName === 'string' ? e.message.includes(mustName) : mustName.test(e.message);
  if (!named) return `message does not name ${String(mustName)}: ${e.message}`;
  return null;
}

const MAX_CASE_MS = 2000;

/**
 * Runs one case. `fn` returns a violated invariant (string) or nothing for a clean parse, or throws. Anything
 * else (an engine error, an unnamed file, pollution, a slow case) is recorded as a bug with `label` to reproduce it.
 */
export async function runCase(t: Tally, label: string, mustName: string | RegExp, fn: () => unknown): Promise<void> {
  t.cases++;
  const t0 = performance.now();
  let problem: string | null = null;
  try {
    const r = await fn();
    if (typeof r === 'string') problem = `parsed, but ${r}`;
    else t.valid++;
  } catch (e) {
    t.errors++;
    problem = badError(e, mustName);
  }
  const ms = performance.now() - t0;
  problem ??= pollution();
  if (problem === null && ms > MAX_CASE_MS) problem = `took ${ms.toFixed(0)} ms`;
  const cut = (x: string) => (x.length > 300 ? `${x.slice(0, 297)}...` : x);
  if (problem !== null && t.bugs.length < 20) t.bugs.push(`${t.name} ${cut(label)}: ${cut(problem)}`);
}

export function report(t: Tally): void {
  console.log(`fuzz ${t.name}: ${t.cases} cases, ${t.errors} errors, ${t.valid} valid parses`);
}
