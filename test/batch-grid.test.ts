// The harness page's "what the model sees" view (src/harness/batch-grid.ts): GPU weak/strong augmentation of a few
// images, read back and drawn; here its summary (the static server's tests are in server.test.ts).
import { afterAll, describe, expect, it } from 'vitest';
import { closeHarness, inPage } from './helpers/harness.js';

afterAll(closeHarness);

interface Stats { mean: number; std: number }
interface Summary {
  rows: number; n: number; images: number; channels: number; height: number; width: number;
  views: { original: Stats; weak: Stats; strong: Stats };
  weakStrongMeanAbsDiff: number;
  strongOps: string[][];
  indices: number[];
}

describe('batch grid', () => {
  it('summarises 3 rows x 8 images of the synthetic set', async () => {
    const s = await inPage((d) => d.batchGrid({ dataset: 'synthetic', n: 8, seed: 1 })) as Summary;
    expect(s.rows).toBe(3);
    expect(s.n).toBe(8);
    expect(s.images).toBe(24);
    expect([s.channels, s.height, s.width]).toEqual([3, 32, 32]);
    expect(new Set(s.indices).size).toBe(8);
    // Normalised data: mean near 0 (within a std or so), std of order 1.
    for (const v of [s.views.original, s.views.weak, s.views.strong]) {
      expect(Math.abs(v.mean)).toBeLessThan(1.5);
      expect(v.std).toBeGreaterThan(0.3);
      expect(v.std).toBeLessThan(3);
    }
    // Weak = flip + reflect-padded crop: pixel statistics close to the original's.
    expect(Math.abs(s.views.weak.mean - s.views.original.mean)).toBeLessThan(0.25);
    // Strong adds RandAugment and a gray cutout: a different batch.
    expect(s.weakStrongMeanAbsDiff).toBeGreaterThan(0.1);
    expect(s.strongOps).toHaveLength(8);
    for (const ops of s.strongOps) expect(ops).toHaveLength(2);
    // Same seed, same batch; another seed, other images.
    const again = await inPage((d) => d.batchGrid({ dataset: 'synthetic', n: 8, seed: 1 })) as Summary;
    expect(again.views).toEqual(s.views);
    const other = await inPage((d) => d.batchGrid({ dataset: 'synthetic', n: 8, seed: 2 })) as Summary;
    expect(other.indices).not.toEqual(s.indices);
  });

  it('rejects a bad n', async () => {
    const err = await inPage((d) => d.batchGrid({ n: 0 }).then(() => 'no error', (e: Error) => e.message));
    expect(err).toMatch(/batchGrid: n is 0/);
  });
});
