// CPU data pipeline: IDX / CIFAR loaders, synthetic data, the reference long-tailed split, epoch samplers. Node only.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR100_CLASSES, encodeCifar, parseCifar10, parseCifar100 } from '../src/data/cifar.js';
import { classCounts, subset, validateDataset } from '../src/data/dataset.js';
import { gunzipIfNeeded, loadIdxDataset, parseIdxImages, parseIdxLabels } from '../src/data/idx.js';
import { DEBIAN_FASHION_MNIST_DIR, loadCifar10Dir, loadFashionMnistDir } from '../src/data/node-files.js';
import { deriveSeed, Rng } from '../src/data/rng.js';
import { EpochSampler } from '../src/data/sampler.js';
import { longTailCounts, longTailSplit, type LongTailConfig } from '../src/data/split.js';
import { syntheticDataset } from '../src/data/synthetic.js';
import { idx } from './helpers/idx.js';

const seq = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe('IDX', () => {
  const pixels = seq(3 * 2 * 4, (i) => (i * 7) % 256);
  it('parses images and labels', () => {
    const im = parseIdxImages(idx(0x803, [3, 2, 4], pixels), 'x/img');
    expect([im.n, im.rows, im.cols]).toEqual([3, 2, 4]);
    expect(Array.from(im.pixels)).toEqual(pixels);
    expect(Array.from(parseIdxLabels(idx(0x801, [3], [9, 0, 4]), 'x/lab'))).toEqual([9, 0, 4]);
  });
  it('names the file and the problem', () => {
    expect(() => parseIdxLabels(idx(0x801, [60000], new Uint8Array(59990)), 'fashion-mnist/train-labels-idx1-ubyte.gz'))
      .toThrow('fashion-mnist/train-labels-idx1-ubyte.gz: truncated: header says 60000 labels, file has 59990');
    expect(() => parseIdxImages(idx(0x803, [3, 2, 4], pixels.slice(0, 20)), 'a/img')).toThrow(/a\/img: truncated: header says 3 images of 2x4.*2 whole images/);
    expect(() => parseIdxImages(idx(0x801, [3], [1, 2, 3]), 'a/img')).toThrow(/a\/img: bad magic 0x00000801, expected 0x00000803/);
    expect(() => parseIdxLabels(idx(0x803, [1, 1, 1], [1]), 'a/lab')).toThrow(/bad magic/);
    expect(() => parseIdxLabels(new Uint8Array([0, 0, 8, 1, 0]), 'a/lab')).toThrow(/a\/lab: truncated: 5 bytes.*needs 8/);
    expect(() => parseIdxLabels(new Uint8Array([0, 0]), 'a/lab')).toThrow(/truncated/);
    expect(() => parseIdxLabels(idx(0x801, [3], [1, 10, 2]), 'a/lab')).toThrow('a/lab: label 10 at index 1 out of range 0..9');
    expect(() => parseIdxLabels(idx(0x801, [2], [1, 2, 3]), 'a/lab')).toThrow(/1 bytes after the 2 labels/);
    expect(() => parseIdxImages(gzipSync(idx(0x803, [3, 2, 4], pixels)), 'a/img')).toThrow(/gzip data/);
  });
  it('gunzips and checks image/label counts', async () => {
    const raw = idx(0x801, [3], [1, 2, 3]);
    expect(Array.from(await gunzipIfNeeded(new Uint8Array(gzipSync(raw))))).toEqual(Array.from(raw));
    expect(await gunzipIfNeeded(raw)).toBe(raw);
    await expect(gunzipIfNeeded(new Uint8Array([0x1f, 0x8b, 1, 2, 3]), 'bad.gz')).rejects.toThrow(/bad.gz: gzip decompression failed/);
    const img = new Uint8Array(gzipSync(idx(0x803, [3, 2, 4], pixels)));
    const d = await loadIdxDataset(img, raw, { name: 't', images: 'i', labels: 'l' });
    expect([d.n, d.channels, d.height, d.width, d.numClasses]).toEqual([3, 1, 2, 4, 10]);
    validateDataset(d);
    await expect(loadIdxDataset(img, idx(0x801, [2], [1, 2]), { name: 't', images: 'i', labels: 'l' }))
      .rejects.toThrow('i: 3 images but l has 2 labels');
  });
  const haveFm = existsSync(join(DEBIAN_FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
  it.skipIf(!haveFm)(`loads the real Fashion-MNIST t10k files (${DEBIAN_FASHION_MNIST_DIR}; skipped if absent: apt-get install dataset-fashion-mnist)`, async () => {
    const d = await loadFashionMnistDir(DEBIAN_FASHION_MNIST_DIR, 't10k');
    expect([d.name, d.n, d.channels, d.height, d.width]).toEqual(['fashion-mnist/t10k', 10000, 1, 28, 28]);
    expect(classCounts(d.labels, 10)).toEqual(new Array(10).fill(1000));
    expect(d.classNames?.[9]).toBe('Ankle boot');
    validateDataset(d);
  });
});

describe('CIFAR binary', () => {
  const img = (n: number, seed: number) => Uint8Array.from(seq(n * 3072, (i) => (i * 31 + seed) % 251));
  it('CIFAR-10: batches concatenate in order, pixels channel-major as stored', () => {
    const a = img(3, 1), b = img(2, 2);
    const d = parseCifar10([{ name: 'data_batch_1.bin', bytes: encodeCifar(a, [0, 9, 3]) }, { name: 'data_batch_2.bin', bytes: encodeCifar(b, [5, 5]) }]);
    expect([d.n, d.channels, d.height, d.width, d.numClasses]).toEqual([5, 3, 32, 32, 10]);
    expect(Array.from(d.labels)).toEqual([0, 9, 3, 5, 5]);
    expect(d.images.subarray(0, 3 * 3072)).toEqual(a);
    expect(d.images.subarray(3 * 3072)).toEqual(b);
    const s = subset(d, [4, 0]);
    expect(Array.from(s.labels)).toEqual([5, 0]);
    expect(s.images.subarray(3072)).toEqual(a.subarray(0, 3072));
  });
  it('CIFAR-100: fine labels, 100 classes', () => {
    const d = parseCifar100([{ name: 'train.bin', bytes: encodeCifar(img(3, 3), [99, 0, 42], [19, 4, 0]) }]);
    expect(Array.from(d.labels)).toEqual([99, 0, 42]);
    expect(d.numClasses).toBe(100);
    expect(CIFAR100_CLASSES.length).toBe(100);
    expect(d.images).toEqual(img(3, 3));
  });
  it('rejects bad files', () => {
    const good = encodeCifar(img(2, 0), [1, 2]);
    expect(() => parseCifar10([{ name: 'data_batch_3.bin', bytes: good.subarray(0, 6000) }]))
      .toThrow('data_batch_3.bin: 6000 bytes is not a whole number of 3073-byte records (1 records + 2927 bytes');
    expect(() => parseCifar10([{ name: 'b.bin', bytes: encodeCifar(img(2, 0), [1, 10]) }])).toThrow('b.bin: record 1: label byte 0 is 10, out of range 0..9');
    expect(() => parseCifar100([{ name: 't.bin', bytes: encodeCifar(img(1, 0), [100], [0]) }])).toThrow(/t.bin: record 0: label byte 1 is 100/);
    expect(() => parseCifar100([{ name: 't.bin', bytes: encodeCifar(img(1, 0), [3], [20]) }])).toThrow(/label byte 0 is 20, out of range 0..19/);
    expect(() => parseCifar100([{ name: 't.bin', bytes: good }])).toThrow(/not a whole number of 3074-byte records/);
    expect(() => parseCifar10([])).toThrow(/no files/);
    expect(() => parseCifar10([{ name: 'e.bin', bytes: new Uint8Array(0) }])).toThrow('e.bin: empty file');
  });
  const tmp = mkdtempSync(join(tmpdir(), 'daso-cifar-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  it('loads a CIFAR-10 test batch from disk', () => {
    const sub = join(tmp, 'cifar-10-batches-bin');
    rmSync(sub, { recursive: true, force: true });
    mkdirSync(sub);
    writeFileSync(join(sub, 'test_batch.bin'), encodeCifar(img(4, 5), [1, 2, 3, 4]));
    const d = loadCifar10Dir(tmp, 'test');
    expect(Array.from(d.labels)).toEqual([1, 2, 3, 4]);
    expect(d.images).toEqual(img(4, 5));
    expect(() => loadCifar10Dir(tmp, 'train')).toThrow(/data_batch_1.bin not found/);
  });
});

describe('synthetic data', () => {
  it('is seeded, sized as asked, and learnable by nearest centroid', () => {
    const o = { numClasses: 5, perClass: 40, channels: 3, height: 12, width: 10, seed: 3 };
    const a = syntheticDataset(o), b = syntheticDataset(o), c = syntheticDataset({ ...o, seed: 4 });
    validateDataset(a);
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(c.images);
    expect(classCounts(a.labels, 5)).toEqual([40, 40, 40, 40, 40]);
    const size = 3 * 12 * 10;
    const cent = seq(5, () => new Float64Array(size));
    for (let i = 0; i < a.n; i++) for (let p = 0; p < size; p++) cent[a.labels[i]][p] += a.images[i * size + p] / 40;
    let right = 0;
    for (let i = 0; i < c.n; i++) {
      let best = -1, bestD = Infinity;
      for (let y = 0; y < 5; y++) {
        let d = 0;
        for (let p = 0; p < size; p++) d += (c.images[i * size + p] - cent[y][p]) ** 2;
        if (d < bestD) { bestD = d; best = y; }
      }
      if (best === c.labels[i]) right++;
    }
    expect(right / c.n).toBeGreaterThan(0.9);
    const lt = syntheticDataset({ numClasses: 3, perClass: [5, 2, 1], channels: 1, height: 4, width: 4, seed: 1 });
    expect(classCounts(lt.labels, 3)).toEqual([5, 2, 1]);
    expect(() => syntheticDataset({ numClasses: 3, perClass: [1, 2], seed: 1 })).toThrow(/perClass/);
  });
});

describe('long-tailed split', () => {
  it('longTailCounts equals the spec table', () => {
    expect(longTailCounts(500, 100, 10)).toEqual([500, 299, 179, 107, 64, 38, 23, 13, 8, 5]);
    expect(longTailCounts(4000, 100, 10)).toEqual([4000, 2397, 1437, 861, 516, 309, 185, 111, 66, 40]);
    expect(longTailCounts(1500, 100, 10)).toEqual([1500, 899, 539, 323, 193, 116, 69, 41, 25, 15]);
    expect(longTailCounts(3000, 100, 10)).toEqual([3000, 1798, 1078, 646, 387, 232, 139, 83, 50, 30]);
    expect(longTailCounts(1500, 150, 10)).toEqual([1500, 859, 492, 282, 161, 92, 53, 30, 17, 10]);
    expect(longTailCounts(500, 150, 10)).toEqual([500, 286, 164, 94, 53, 30, 17, 10, 5, 3]);
    expect(longTailCounts(450, 20, 10)).toEqual([450, 322, 231, 165, 118, 85, 61, 43, 31, 22]);
    const c100 = longTailCounts(150, 10, 100);
    expect(c100.slice(0, 5)).toEqual([150, 146, 143, 139, 136]);
    expect(c100.slice(-5)).toEqual([16, 16, 15, 15, 15]);
    const sum = (a: number[]) => a.reduce((s, x) => s + x, 0);
    expect(sum(c100)).toBe(5835);
    expect(sum(longTailCounts(300, 10, 100))).toBe(11720);
    expect(sum(longTailCounts(50, 10, 100))).toBe(1911);
    expect(sum(longTailCounts(400, 10, 100))).toBe(15651);
    expect(sum(longTailCounts(150, 20, 100))).toBe(4741);
    expect(longTailCounts(7, 1, 4)).toEqual([7, 7, 7, 7]);
    expect(() => longTailCounts(7, 0.5, 4)).toThrow(/>= 1/);
  });

  // A CIFAR-10-sized train label array (5000 per class, classes interleaved); indices only.
  const labels = Int32Array.from(seq(50000, (i) => i % 10));
  const cfg: LongTailConfig = { numClasses: 10, numValidPerClass: 500, n1: 500, m1: 4000, gammaL: 100, gammaU: 100, seed: 0 };
  const L = [500, 299, 179, 107, 64, 38, 23, 13, 8, 5];
  const U = [4000, 2397, 1437, 861, 516, 309, 185, 111, 66, 40];

  it('gives the table counts, disjoint sets, determinism per seed', () => {
    const s = longTailSplit(labels, cfg);
    expect(s.labeledCounts).toEqual(L);
    expect(s.unlabeledCounts).toEqual(U);
    expect(s.validCounts).toEqual(new Array(10).fill(500));
    expect(classCounts(Array.from(s.labeled, (i) => labels[i]), 10)).toEqual(L);
    expect([s.labeled.length, s.unlabeled.length, s.valid.length]).toEqual([1236, 9922, 5000]);
    const seen = new Set<number>();
    for (const a of [s.labeled, s.unlabeled, s.valid]) for (const i of a) {
      expect(i >= 0 && i < 50000).toBe(true);
      seen.add(i);
    }
    expect(seen.size).toBe(1236 + 9922 + 5000);
    // Rank order: labeled indices come class by class, head first.
    expect(labels[s.labeled[0]]).toBe(0);
    expect(labels[s.labeled[s.labeled.length - 1]]).toBe(9);
    const again = longTailSplit(labels, cfg);
    expect(again.labeled).toEqual(s.labeled);
    expect(again.unlabeled).toEqual(s.unlabeled);
    expect(again.valid).toEqual(s.valid);
    const other = longTailSplit(labels, { ...cfg, seed: 1 });
    expect(other.labeledCounts).toEqual(L);
    expect(other.labeled).not.toEqual(s.labeled);
    expect(other.unlabeled).not.toEqual(s.unlabeled);
    expect(other.valid).not.toEqual(s.valid);
  });

  it('reversed unlabeled order, gamma_u = 1, exhausting N1 + M1', () => {
    const r = longTailSplit(labels, { ...cfg, reverseUnlabeled: true });
    expect(r.labeledCounts).toEqual(L);
    expect(r.unlabeledCounts).toEqual([...U].reverse());
    expect(labels[r.unlabeled[0]]).toBe(9);
    const u = longTailSplit(labels, { ...cfg, n1: 1500, m1: 3000, gammaU: 1 });
    expect(u.labeledCounts).toEqual([1500, 899, 539, 323, 193, 116, 69, 41, 25, 15]);
    expect(u.unlabeledCounts).toEqual(new Array(10).fill(3000));
    const bal = longTailSplit(labels, { ...cfg, gammaL: 1, gammaU: 1 });
    expect(bal.labeledCounts).toEqual(new Array(10).fill(500));
  });

  it('rejects bad configs before splitting', () => {
    expect(() => longTailSplit(labels, { ...cfg, m1: 4001 })).toThrow(
      'longTailSplit: class 0: N1 + M1 = 500 + 4001 = 4501 exceeds the 4500 images left after holding out 500 for validation (5000 in the class)');
    const short = labels.map((y, i) => (y === 3 && i > 40000 ? 4 : y));
    expect(() => longTailSplit(short, cfg)).toThrow(/class 3: N1 \+ M1 = 500 \+ 4000 = 4500 exceeds the 3500 images/);
    expect(() => longTailSplit(labels, { ...cfg, gammaL: 0.5 })).toThrow(/gammaL must be a finite ratio >= 1, got 0.5/);
    expect(() => longTailSplit(labels, { ...cfg, gammaU: NaN })).toThrow(/gammaU/);
    expect(() => longTailSplit(labels, { ...cfg, numValidPerClass: 5001 })).toThrow(/class 0: 5001 validation images asked, the class has only 5000/);
    expect(() => longTailSplit(labels, { ...cfg, numClasses: 100 })).toThrow(/class 10 has no images but the config says 100 classes/);
    expect(() => longTailSplit(labels, { ...cfg, numClasses: 5 })).toThrow(/the dataset has label 9 but the config says 5 classes/);
  });
});

describe('rng and epoch sampler', () => {
  it('rng state round trip and derived streams', () => {
    const r = new Rng(42);
    for (let i = 0; i < 5; i++) r.nextU32();
    const st = JSON.parse(JSON.stringify(r.getState()));
    const a = seq(10, () => r.nextU32());
    const r1 = Rng.fromState(st);
    expect(seq(10, () => r1.nextU32())).toEqual(a);
    const r2 = new Rng(0);
    r2.setState(st);
    expect(seq(10, () => r2.nextU32())).toEqual(a);
    expect(deriveSeed(1, 'a')).not.toBe(deriveSeed(1, 'b'));
    expect(() => r2.setState({ s: [0, 0, 0, 0] })).toThrow(/all-zero/);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[r.nextInt(3)]++;
    expect(Math.min(...counts)).toBeGreaterThan(900);
  });

  const pool = Int32Array.from(seq(23, (i) => 100 + 3 * i));
  it('every index once per epoch; same seed same batches; state resumes mid-epoch', () => {
    const s = new EpochSampler(pool, 5, 7);
    const stream = seq(20, () => Array.from(s.next())).flat(); // 100 items: 4 whole epochs + 8
    for (let e = 0; e < 4; e++) expect(stream.slice(e * 23, (e + 1) * 23).sort((x, y) => x - y)).toEqual(Array.from(pool));
    expect(stream.slice(0, 23)).not.toEqual(stream.slice(23, 46));
    const t = new EpochSampler(pool, 5, 7);
    expect(seq(20, () => Array.from(t.next())).flat()).toEqual(stream);
    const u = new EpochSampler(pool, 5, 8);
    expect(Array.from(u.next())).not.toEqual(stream.slice(0, 5));

    const a = new EpochSampler(pool, 5, 7);
    for (let i = 0; i < 6; i++) a.next(); // 30 items: mid second epoch
    const state = JSON.parse(JSON.stringify(a.getState()));
    expect(state.epoch).toBe(1);
    const b = new EpochSampler(pool, 5, 999);
    b.setState(state);
    expect(seq(14, () => Array.from(b.next())).flat()).toEqual(stream.slice(30));
    expect(() => new EpochSampler(pool.subarray(1), 5, 7).setState(state)).toThrow(/pool of 23/);
    expect(() => new EpochSampler(pool, 4, 7).setState(state)).toThrow(/batch size 5/);
  });
  it('batches larger than the pool wrap across epochs', () => {
    const small = Int32Array.from([4, 8, 15]);
    const s = new EpochSampler(small, 7, 1);
    const stream = seq(3, () => Array.from(s.next())).flat(); // 21 items = 7 epochs
    for (let e = 0; e < 7; e++) expect(stream.slice(e * 3, e * 3 + 3).sort((x, y) => x - y)).toEqual([4, 8, 15]);
    expect(() => new EpochSampler(new Int32Array(0), 2, 1)).toThrow(/empty/);
    expect(() => new EpochSampler(small, 0, 1)).toThrow(/batch size/);
  });
});
