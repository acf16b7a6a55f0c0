// Plain-TypeScript references for queue_push / queue_average: the FIFO as arrays of arrays (no ring), as the
// official FeatureQueue does it (spec §1.2 step 2): append the class's rows, drop the oldest beyond L, mean of raw rows.

export class QueueRef {
  /** Per class, the held rows oldest first. */
  readonly q: number[][][];
  /** Per class, entries ever dropped (the ring keeps head = evicted % L when it starts from head 0). */
  readonly evicted: number[];
  touched: number[];
  readonly prototypes: Float64Array;

  constructor(readonly K: number, readonly L: number, readonly D: number) {
    this.q = Array.from({ length: K }, () => []);
    this.evicted = new Array(K).fill(0);
    this.touched = new Array(K).fill(0);
    this.prototypes = new Float64Array(K * D);
  }

  push(feat: ArrayLike<number>, labels: ArrayLike<number>): void {
    const B = labels.length;
    this.touched = new Array(this.K).fill(0);
    for (let b = 0; b < B; b++) {
      const k = labels[b];
      if (!(Number.isInteger(k) && k >= 0 && k < this.K)) continue; // the GPU ignores such labels too
      this.q[k].push(Array.from({ length: this.D }, (_, d) => feat[b * this.D + d]));
      this.touched[k] = 1;
    }
    for (let k = 0; k < this.K; k++) {
      while (this.q[k].length > this.L) {
        this.q[k].shift();
        this.evicted[k]++;
      }
    }
  }

  /** Recomputes the prototypes of the classes touched by the last push. */
  average(): void {
    for (let k = 0; k < this.K; k++) {
      const rows = this.q[k];
      if (!this.touched[k] || rows.length === 0) continue;
      for (let d = 0; d < this.D; d++) {
        let s = 0;
        for (const r of rows) s += r[d];
        this.prototypes[k * this.D + d] = s / rows.length;
      }
    }
  }

  lengths(): number[] {
    return this.q.map((r) => r.length);
  }

  /** [K,L,D] oldest first, zeros after each class's held rows (the checkpoint layout). */
  oldestFirst(): Float64Array {
    const out = new Float64Array(this.K * this.L * this.D);
    this.q.forEach((rows, k) => rows.forEach((r, j) => out.set(r, (k * this.L + j) * this.D)));
    return out;
  }
}

/** queue_average on a ring state directly (arbitrary heads, wrapped partly filled queues). */
export function queueAverageRef(
  ring: ArrayLike<number>, len: ArrayLike<number>, head: ArrayLike<number>, touched: ArrayLike<number>,
  prototypes: ArrayLike<number>, K: number, L: number, D: number,
): Float64Array {
  const out = Float64Array.from(prototypes);
  for (let k = 0; k < K; k++) {
    if (!touched[k] || len[k] === 0) continue;
    for (let d = 0; d < D; d++) {
      let s = 0;
      for (let j = 0; j < len[k]; j++) s += ring[(k * L + ((head[k] + j) % L)) * D + d];
      out[k * D + d] = s / len[k];
    }
  }
  return out;
}
