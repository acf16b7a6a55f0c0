// DASO's state on the GPU: K per-class feature queues (ring buffers), prototypes, and the pseudo-label histograms
// (counts in force, counts of the current window). Checkpoints store the queues oldest first ([K,L,D], rows past
// each queue's length zero), which is the official FeatureQueue's order; on load the ring starts at slot 0.
import type { Runtime } from '../gpu/runtime.js';
import type { Tensor } from '../gpu/tensor.js';
import { ringToOldestFirst } from '../kernels/queue.js';
import type { StTensor, TensorSpec } from '../nn/safetensors.js';
import { dasoCheckpointSpec } from '../train/checkpoint-check.js';

export class DasoState {
  readonly queue: Tensor;
  readonly queueLen: Tensor;
  readonly queueHead: Tensor;
  readonly touched: Tensor;
  readonly prototypes: Tensor;
  readonly plHist: Tensor;
  readonly plWindow: Tensor;

  constructor(readonly rt: Runtime, readonly K: number, readonly L: number, readonly D: number) {
    this.queue = rt.tensor([K, L, D], 'f32', 'daso.queue');
    this.queueLen = rt.tensor([K], 'i32', 'daso.queue_len');
    this.queueHead = rt.tensor([K], 'i32', 'daso.queue_head');
    this.touched = rt.tensor([K], 'i32', 'daso.touched');
    this.prototypes = rt.tensor([K, D], 'f32', 'daso.prototypes');
    this.plHist = rt.tensor([K], 'i32', 'daso.pl_hist');
    this.plWindow = rt.tensor([K], 'i32', 'daso.pl_window');
  }

  /** Empty queues, zero prototypes (never-filled classes stay zero: cosine similarity 0), zero histograms. */
  reset(): void {
    const p = this.rt.pool;
    p.write(this.queue, new Float32Array(this.queue.size));
    for (const t of [this.queueLen, this.queueHead, this.touched, this.plHist, this.plWindow]) p.write(t, new Int32Array(this.K));
    p.write(this.prototypes, new Float32Array(this.prototypes.size));
  }

  spec(): Record<string, TensorSpec> {
    return dasoCheckpointSpec(this.K, this.L, this.D);
  }

  load(t: Record<string, StTensor>, what: string): void {
    const ints = (name: string) => Int32Array.from(t[name].data as ArrayLike<number | bigint>, (v) => Number(v));
    const len = ints('daso.queue_len');
    for (let k = 0; k < this.K; k++) {
      if (!(len[k] >= 0 && len[k] <= this.L)) throw new Error(`${what}: daso.queue_len[${k}] = ${len[k]} is outside 0..${this.L} (daso.queue_size)`);
    }
    for (const n of ['daso.pl_hist', 'daso.pl_window']) {
      const v = ints(n);
      if (v.some((x) => x < 0)) throw new Error(`${what}: ${n} has negative counts`);
    }
    const p = this.rt.pool;
    p.write(this.queue, t['daso.queue'].data as Float32Array);
    p.write(this.queueLen, len);
    p.write(this.queueHead, new Int32Array(this.K));
    p.write(this.touched, new Int32Array(this.K));
    p.write(this.prototypes, t['daso.prototypes'].data as Float32Array);
    p.write(this.plHist, ints('daso.pl_hist'));
    p.write(this.plWindow, ints('daso.pl_window'));
  }

  async export(): Promise<Record<string, StTensor>> {
    const { K, L, D } = this;
    const rd = async (x: Tensor) => this.rt.read(x);
    const len = (await rd(this.queueLen)) as Int32Array;
    const head = (await rd(this.queueHead)) as Int32Array;
    const ring = (await rd(this.queue)) as Float32Array;
    const i64 = (a: Int32Array) => BigInt64Array.from(a, (v) => BigInt(v));
    return {
      'daso.queue': { dtype: 'F32', shape: [K, L, D], data: ringToOldestFirst(ring, len, head, K, L, D) },
      'daso.queue_len': { dtype: 'I64', shape: [K], data: i64(len) },
      'daso.prototypes': { dtype: 'F32', shape: [K, D], data: (await rd(this.prototypes)) as Float32Array },
      'daso.pl_hist': { dtype: 'I64', shape: [K], data: i64((await rd(this.plHist)) as Int32Array) },
      'daso.pl_window': { dtype: 'I64', shape: [K], data: i64((await rd(this.plWindow)) as Int32Array) },
    };
  }

  dispose(): void {
    for (const t of [this.queue, this.queueLen, this.queueHead, this.touched, this.prototypes, this.plHist, this.plWindow]) t.release();
  }
}
