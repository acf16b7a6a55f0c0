// Seeded PRNG for the data pipeline: xoshiro128** (Blackman & Vigna), 128-bit state as four u32 words.
// Why our own: the split and the samplers must be reproducible across browser and Node and resumable from a
// checkpoint, so the whole state is a small JSON-serialisable object (`getState()/setState()`).
// Seeding matches `src/train/random.ts` (splitmix32 expansion of `seed >>> 0`): same seed, same u32 stream.
// We cannot reproduce numpy's RandomState / torch.randperm streams, so only the *structure* of the reference
// pipeline is ported, not its exact draws.

export interface RngState {
  /** The four xoshiro128** state words, each a u32. */
  s: [number, number, number, number];
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** splitmix32 stream from a u32 seed: expands one word into well-mixed state words. */
function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function checkSeed(seed: number): void {
  if (!Number.isSafeInteger(seed)) throw new Error(`rng: seed must be an integer, got ${seed}`);
}

/**
 * A seed for an independent sub-stream ("split", "labeled-sampler", ...), so that one run seed drives several
 * generators whose draws do not depend on how many numbers the others consumed.
 */
export function deriveSeed(seed: number, stream: string): number {
  checkSeed(seed);
  // FNV-1a over the stream name, then mixed with the seed through splitmix32.
  let h = 0x811c9dc5;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
  return splitmix32((seed >>> 0) ^ h)();
}

export class Rng {
  private s = new Uint32Array(4);

  /** Seeds are taken modulo 2^32 (negative integers wrap like `>>> 0`). */
  constructor(seed: number) {
    checkSeed(seed);
    const next = splitmix32(seed);
    for (let i = 0; i < 4; i++) this.s[i] = next();
    if ((this.s[0] | this.s[1] | this.s[2] | this.s[3]) === 0) this.s[0] = 1; // all-zero is a fixed point
  }

  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  getState(): RngState {
    return { s: [this.s[0], this.s[1], this.s[2], this.s[3]] };
  }

  setState(state: RngState): void {
    const w = state?.s;
    if (!Array.isArray(w) || w.length !== 4 || !w.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) {
      throw new Error(`rng: bad state ${JSON.stringify(state)} (expected {s: [four u32]})`);
    }
    if (w.every((x) => x === 0)) throw new Error('rng: bad state: all-zero xoshiro128** state');
    this.s.set(w);
  }

  /** Uniform u32. */
  nextU32(): number {
    const s = this.s;
    const r = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return r;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), unbiased (rejection of the incomplete last block). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new Error(`rng: nextInt bound must be in 1..2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** Standard normal (Box-Muller; one value per call so the state stays just the four words). */
  normal(): number {
    const u = Math.max(this.nextFloat(), 1e-12);
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle, from the end like numpy's `shuffle`. Returns the array. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** A uniformly random permutation of 0..n-1 (torch.randperm's role). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }
}
