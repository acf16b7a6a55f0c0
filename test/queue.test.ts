import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from '../src/gpu/tensor.js';
import { queueAverage, queuePush, ringToOldestFirst } from '../src/kernels/queue.js';
import { QueueRef, queueAverageRef } from '../src/kernels/queue.ref.js';
import { expectClose, randint, randn, rng } from './helpers/check.js';
import { closeHarness, runOp } from './helpers/harness.js';

afterAll(closeHarness);

/** Runs `pushes` successive GPU pushes (each followed by queue_average, as in a training step), carrying the ring
 * state between them, and checks every step against the arrays-of-arrays FIFO. */
async function checkPushes(K: number, L: number, D: number, batches: Int32Array[], seed: number): Promise<void> {
  const ref = new QueueRef(K, L, D);
  // Garbage in the unused slots and in the prototypes of never-filled classes: only held rows may be read.
  let queue: ArrayLike<number> = randn(K * L * D, seed, 1e6);
  let queueLen: ArrayLike<number> = new Int32Array(K);
  let queueHead: ArrayLike<number> = new Int32Array(K);
  let prototypes: ArrayLike<number> = new Float32Array(K * D);
  for (let s = 0; s < batches.length; s++) {
    const labels = batches[s];
    const B = labels.length;
    const feat = randn(B * D, seed * 100 + s);
    const what = `K=${K} L=${L} D=${D} B=${B} push ${s}`;
    const out = await runOp('queue_push', { K, L, D, B, average: true }, { feat, labels, queue, queueLen, queueHead, prototypes });
    ref.push(feat, labels);
    ref.average();
    expect(Array.from(out.queueLen), `${what}: len`).toEqual(ref.lengths());
    expect(Array.from(out.touched), `${what}: touched`).toEqual(ref.touched);
    // The exact ring layout: starting from head 0, the head has advanced by the number of evicted entries.
    expect(Array.from(out.queueHead), `${what}: head`).toEqual(ref.evicted.map((e) => e % L));
    const held = ringToOldestFirst(Float32Array.from(out.queue), Int32Array.from(out.queueLen), Int32Array.from(out.queueHead), K, L, D);
    expectClose(held, ref.oldestFirst(), `${what}: queue oldest first`, 0, 0);
    expectClose(out.prototypes, ref.prototypes, `${what}: prototypes`, 1e-5, 1e-5);
    [queue, queueLen, queueHead, prototypes] = [out.queue, out.queueLen, out.queueHead, out.prototypes];
  }
}

describe('queue_push + queue_average', () => {
  it('random labels with absent classes, over-full pushes and wrap-around, D prime', async () => {
    // K=7 with labels drawn from 0..4: classes 5 and 6 never appear (zero prototypes, len 0).
    const batches = Array.from({ length: 5 }, (_, s) => randint(13, 5, 40 + s));
    await checkPushes(7, 5, 13, batches, 1);
  });

  it('one class with more rows than L in one batch keeps only its last L rows', async () => {
    const a = Int32Array.from([2, 0, 2, 2, 1, 2, 2, 2, 0, 2, 2]); // class 2: 8 rows > L=3
    const b = Int32Array.from([1, 1, 1, 1, 1, 2]);               // class 1 overflows after 1 row from a
    await checkPushes(3, 3, 3, [a, b, a], 2);
  });

  it('L = 1, D = 1 and a single-row batch', async () => {
    await checkPushes(4, 1, 1, [Int32Array.from([3, 3, 0]), Int32Array.from([1]), Int32Array.from([0, 3, 3, 2, 0])], 3);
  });

  it('DASO-like: 10 classes, L=16, D=37, batches of 32 with a long-tailed label draw', async () => {
    const r = rng(9);
    const batches = Array.from({ length: 4 }, () => Int32Array.from({ length: 32 }, () => Math.min(9, Math.floor(-Math.log(1 - r()) * 2.5))));
    await checkPushes(10, 16, 37, batches, 4);
  });
});

describe('queue_average', () => {
  it('empty, partly filled (wrapped head), full and untouched queues', async () => {
    const [K, L, D] = [6, 7, 11];
    const queue = randn(K * L * D, 5);
    // Unheld slots hold 1e30: reading one would wreck the mean.
    const len = Int32Array.from([0, 3, 7, 7, 1, 4]);
    const head = Int32Array.from([0, 5, 0, 4, 6, 2]);
    for (let k = 0; k < K; k++) {
      for (let j = len[k]; j < L; j++) queue.fill(1e30, (k * L + (head[k] + j) % L) * D, (k * L + (head[k] + j) % L + 1) * D);
    }
    const touched = Int32Array.from([1, 1, 1, 0, 1, 1]); // class 0: touched but empty; class 3: full but untouched
    const prototypes = randn(K * D, 6);
    const out = await runOp('queue_average', { K, L, D }, { queue, queueLen: len, queueHead: head, touched, prototypes });
    const want = queueAverageRef(queue, len, head, touched, prototypes, K, L, D);
    expectClose(out.prototypes, want, 'prototypes', 1e-5, 1e-5);
    // Guard against a vacuous reference: untouched/empty classes really kept their input, the others changed.
    expectClose(out.prototypes.subarray(0, D), prototypes.subarray(0, D), 'class 0 kept', 0, 0);
    expectClose(out.prototypes.subarray(3 * D, 4 * D), prototypes.subarray(3 * D, 4 * D), 'class 3 kept', 0, 0);
    expect(out.prototypes[D]).not.toBeCloseTo(prototypes[D], 3);
  });
});

describe('ringToOldestFirst', () => {
  it('round-trips through a ring with arbitrary heads (loading oldest-first data uses head 0)', () => {
    const [K, L, D] = [3, 5, 2];
    const ref = new QueueRef(K, L, D);
    ref.push(randn(12 * D, 7), Int32Array.from([0, 1, 0, 0, 2, 0, 0, 0, 1, 0, 2, 2]));
    const oldest = Float32Array.from(ref.oldestFirst());
    const len = Int32Array.from(ref.lengths());
    // Rotate each class into a ring with head h: slot (h + j) % L holds entry j.
    const head = Int32Array.from([3, 0, 4]);
    const ring = new Float32Array(K * L * D).fill(-99);
    for (let k = 0; k < K; k++) {
      for (let j = 0; j < len[k]; j++) ring.set(oldest.subarray((k * L + j) * D, (k * L + j + 1) * D), (k * L + (head[k] + j) % L) * D);
    }
    expect(Array.from(ringToOldestFirst(ring, len, head, K, L, D))).toEqual(Array.from(oldest));
    expect(Array.from(ringToOldestFirst(oldest, len, new Int32Array(K), K, L, D))).toEqual(Array.from(oldest));
    expect(() => ringToOldestFirst(ring, Int32Array.from([6, 0, 0]), head, K, L, D)).toThrow(/class 0 has len 6/);
  });
});

describe('queue launchers reject bad inputs', () => {
  // Launchers are pure: tensors without GPU memory are enough to check their shape errors.
  const t = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => new Tensor(null as never, null as never, shape, dtype, 'fake');
  const [K, L, D, B] = [10, 4, 8, 5];
  const state = () => [t([K, L, D]), t([K], 'i32'), t([K], 'i32'), t([K], 'i32')] as const;

  it('names the kernel, the argument and the shapes', async () => {
    const [q, len, head, touched] = state();
    expect(() => queuePush(t([B, D + 1]), t([B], 'i32'), q, len, head, touched)).toThrow("queue_push: argument 'feat' has shape [5, 9], expected [5, 8]");
    expect(() => queuePush(t([B, D]), t([B]), q, len, head, touched)).toThrow("queue_push: argument 'labels' has dtype f32, expected i32");
    expect(() => queuePush(t([B, D]), t([B + 1], 'i32'), q, len, head, touched)).toThrow("queue_push: argument 'labels' has shape [6], expected [5]");
    expect(() => queueAverage(q, len, t([K + 1], 'i32'), touched, t([K, D]))).toThrow("queue_average: argument 'queueHead' has shape [11], expected [10]");
    expect(() => queueAverage(q, len, head, touched, t([K, D - 1]))).toThrow("queue_average: argument 'prototypes' has shape [10, 7], expected [10, 8]");
    // Through the page as well: the error reaches the test intact.
    await expect(runOp('queue_push', { K: 2, L: 3, D: 4, B: 2 }, { feat: new Float32Array(8), labels: [0, 1], queue: new Float32Array(23), queueLen: [0, 0], queueHead: [0, 0] }))
      .rejects.toThrow(/upload 'queue': 23 values given for shape \[2, 3, 4\]/);
  });
});
