// Training index streams (official lib/dataset/loader/build.py::RandomSampler + DataLoader(drop_last=True)):
// the stream is the concatenation of independent random permutations of the pool (without replacement within an
// epoch), and batch t is items [t*B, (t+1)*B) of it. The reference pre-builds max_iter*B items, a multiple of B, so
// drop_last never drops anything there; here the stream is endless and every batch is full. A batch larger than
// the pool, or one straddling an epoch end, simply continues into the next permutation, as in the reference.
// Labeled and unlabeled samplers are independent objects with their own seeds (see deriveSeed).
//
// State for resuming: the generator state at the start of the current permutation, plus the position in it. On
// setState the permutation is regenerated from that state, so the state stays a few numbers whatever the pool size.
import { Rng, type RngState } from './rng.js';

export interface EpochSamplerState {
  /** Pool size and batch size the state belongs to (checked on restore). */
  poolSize: number;
  batchSize: number;
  /** FNV-1a hash of the pool indices: a resumed run must sample the same pool. */
  poolHash: number;
  /** Completed permutations before the current one. */
  epoch: number;
  /** Items of the current permutation already handed out (0..poolSize). */
  pos: number;
  /** Generator state just before the current permutation was drawn. */
  rngAtEpochStart: RngState;
}

function hashIndices(a: Int32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < a.length; i++) h = Math.imul(h ^ a[i], 0x01000193) >>> 0;
  return h;
}

export class EpochSampler {
  private readonly indices: Int32Array;
  private readonly hash: number;
  private rng: Rng;
  private rngAtEpochStart!: RngState;
  private perm!: Int32Array;
  private pos = 0;
  private epochCount = 0;

  constructor(indices: Int32Array, readonly batchSize: number, seed: number) {
    if (indices.length === 0) throw new Error('EpochSampler: empty index pool');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`EpochSampler: batch size must be an integer >= 1, got ${batchSize}`);
    this.indices = indices.slice();
    this.hash = hashIndices(this.indices);
    this.rng = new Rng(seed);
    this.drawPermutation();
  }

  get poolSize(): number {
    return this.indices.length;
  }

  /** Index of the permutation the next item comes from (0-based). */
  get epoch(): number {
    return this.epochCount + (this.pos === this.indices.length ? 1 : 0);
  }

  /** Full batches per pass over the pool (for "iterations per epoch" bookkeeping). */
  get batchesPerEpoch(): number {
    return Math.floor(this.indices.length / this.batchSize);
  }

  private drawPermutation(): void {
    this.rngAtEpochStart = this.rng.getState();
    this.perm = this.rng.permutation(this.indices.length);
    this.pos = 0;
  }

  /** The next batch: `batchSize` pool indices, consecutive items of the permutation stream. */
  next(): Int32Array {
    const out = new Int32Array(this.batchSize);
    const n = this.indices.length;
    for (let k = 0; k < out.length; k++) {
      if (this.pos === n) {
        this.epochCount++;
        this.drawPermutation();
      }
      out[k] = this.indices[this.perm[this.pos++]];
    }
    return out;
  }

  getState(): EpochSamplerState {
    return {
      poolSize: this.indices.length,
      batchSize: this.batchSize,
      poolHash: this.hash,
      epoch: this.epochCount,
      pos: this.pos,
      rngAtEpochStart: { s: [...this.rngAtEpochStart.s] },
    };
  }

  setState(s: EpochSamplerState): void {
    if (s.poolSize !== this.indices.length || s.poolHash !== this.hash) {
      throw new Error(
        `EpochSampler: state is for a pool of ${s.poolSize} indices (hash ${s.poolHash}), ` +
          `this sampler has ${this.indices.length} (hash ${this.hash})`,
      );
    }
    if (s.batchSize !== this.batchSize) throw new Error(`EpochSampler: state has batch size ${s.batchSize}, sampler ${this.batchSize}`);
    if (!Number.isInteger(s.pos) || s.pos < 0 || s.pos > this.indices.length) throw new Error(`EpochSampler: bad state position ${s.pos}`);
    if (!Number.isInteger(s.epoch) || s.epoch < 0) throw new Error(`EpochSampler: bad state epoch ${s.epoch}`);
    this.rng = Rng.fromState(s.rngAtEpochStart);
    this.drawPermutation();
    this.pos = s.pos;
    this.epochCount = s.epoch;
  }
}
