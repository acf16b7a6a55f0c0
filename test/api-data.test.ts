// The library API's Node-side parts (no GPU): data sources from typed arrays (layouts, value ranges, labels, the
// errors), the config mapping onto the engine's validator, the example app's folder scan, and the Node <-> page
// value transfer.
import { describe, expect, it } from 'vitest';
import { createDataSource } from '../src/api/data-source.js';
import { resolveTrainerConfig } from '../src/api/config.js';
import { scanFolder } from '../examples/web/folder.js';
import { decodeValue, encodeValue } from '../src/node/transfer.js';

const arr = (data: Uint8Array | Float32Array, o: Partial<{ layout: 'nchw' | 'nhwc'; channels: number; height: number; width: number; count: number }> = {}) =>
  ({ data, layout: 'nchw' as const, channels: 1, height: 4, width: 4, ...o });

/** n images of c x s x s, pixel value = image index (so moves are visible). */
function ramp(n: number, c = 1, s = 4): Uint8Array {
  return Uint8Array.from({ length: n * c * s * s }, (_, i) => Math.floor(i / (c * s * s)));
}

const shape = { numClasses: 3, channels: 1, imageSize: 8, labeledCount: 10, unlabeledCount: 20, headCount: 6 };

describe('createDataSource (typed arrays)', () => {
  it('turns NHWC into NCHW, f32 0..1 into u8, and puts labeled images before unlabeled ones', () => {
    // 2 RGB images of 4x4, NHWC: pixel p of image i has (R, G, B) = (10i + 1, 10i + 2, 10i + 3).
    const nhwc = new Uint8Array(2 * 16 * 3);
    for (let i = 0; i < 2; i++) for (let p = 0; p < 16; p++) for (let c = 0; c < 3; c++) nhwc[(i * 16 + p) * 3 + c] = 10 * i + c + 1;
    const f32 = new Float32Array(3 * 16 * 3).fill(0.5);
    const d = createDataSource({
      labeled: { images: arr(nhwc, { layout: 'nhwc', channels: 3 }), labels: [0, 1] },
      unlabeled: arr(f32, { channels: 3 }),
    });
    expect(d.dataset.n).toBe(5);
    expect(Array.from(d.labeled)).toEqual([0, 1]);
    expect(Array.from(d.unlabeled)).toEqual([2, 3, 4]);
    expect(Array.from(d.dataset.labels)).toEqual([0, 1, -1, -1, -1]);
    expect(d.unlabeledLabelsKnown).toBe(false);
    const img1 = d.dataset.images.subarray(48, 96);
    expect(Array.from(img1.subarray(0, 16))).toEqual(new Array(16).fill(11)); // R plane of image 1
    expect(Array.from(img1.subarray(32, 48))).toEqual(new Array(16).fill(13)); // B plane
    expect(d.dataset.images[2 * 48]).toBe(128); // round(0.5 * 255)
  });

  it('reports the long tail and computes the normalisation over every image', () => {
    const n = 6 + 2 + 1;
    const d = createDataSource({
      labeled: { images: arr(ramp(n)), labels: [0, 0, 0, 0, 0, 0, 1, 1, 2] },
      unlabeled: { images: arr(ramp(3)), labels: [2, 1, 0] },
      classNames: ['a', 'b', 'c'],
    });
    expect(d.classCounts).toEqual([6, 2, 1]);
    expect(d.imbalanceRatio).toBe(6);
    expect(d.unlabeledLabelsKnown).toBe(true);
    expect(d.describe()).toMatch(/3 classes of 1x4x4 images; labeled per class 6 2 1 \(9 in all, imbalance 6\.0:1\); 3 unlabeled/);
    // Pixel values: 0..8 for the labeled images and 0..2 for the unlabeled ones, 16 pixels each.
    const vals = [...Array.from({ length: 9 }, (_, i) => i), 0, 1, 2].map((v) => v / 255);
    const mean = vals.reduce((a, b) => a + b) / vals.length;
    const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    expect(d.normalisation.mean[0]).toBeCloseTo(mean, 10);
    expect(d.normalisation.std[0]).toBeCloseTo(std, 10);
  });

  it('refuses bad input with a message naming the problem and the fix', () => {
    const ok = arr(ramp(3));
    const bad = (o: Parameters<typeof createDataSource>[0]) => () => createDataSource(o);
    expect(bad({ labeled: { images: arr(new Uint8Array(40)), labels: [0, 1] } })).toThrow(/data has 40 values, not a multiple of one image's 16/);
    expect(bad({ labeled: { images: arr(new Uint8Array(48), { count: 2 }), labels: [0, 1] } })).toThrow(/data has 48 values but 2 images of 1x4x4 need 32/);
    expect(bad({ labeled: { images: arr(new Uint8Array(60), { height: 5 }), labels: [0, 1, 1] } })).toThrow(/are 4x5 \(width x height\): the model takes square images/);
    expect(bad({ labeled: { images: arr(new Uint8Array(64), { channels: 4 }), labels: [0] } })).toThrow(/4 channels \(RGBA\?\)/);
    expect(bad({ labeled: { images: { ...ok, data: new Float64Array(48) as never }, labels: [0, 1, 2] } })).toThrow(/data is a Float64Array; pass a Uint8Array/);
    const f = new Float32Array(48);
    f[17] = 1.5;
    expect(bad({ labeled: { images: arr(f), labels: [0, 1, 2] } })).toThrow(/data\[17\] = 1.5 \(image 1\) is outside 0\.\.1/);
    expect(bad({ labeled: { images: ok, labels: [0, 1] } })).toThrow(/2 labels for 3 images/);
    expect(bad({ labeled: { images: ok, labels: [0, 1.5, 2] } })).toThrow(/label 1 is 1.5; labels are integer class ids/);
    expect(bad({ labeled: { images: ok, labels: [0, -1, 2] } })).toThrow(/label 1 is -1/);
    expect(bad({ labeled: { images: ok, labels: [0, 1, 3], names: ['a.png', 'b.png', 'c.png'] }, numClasses: 3 })).toThrow(/label 2 \(c.png\) is 3, outside 0\.\.2/);
    expect(bad({ labeled: { images: ok, labels: [0, 2, 2] }, classNames: ['cat', 'dog', 'owl'] })).toThrow(/class 1 \('dog'\) has no labeled images/);
    expect(bad({ labeled: { images: ok, labels: [0, 0, 0] } })).toThrow(/at least 2 classes/);
    expect(bad({ labeled: { images: ok, labels: [0, 1, 1] }, unlabeled: arr(ramp(1, 1, 8), { height: 8, width: 8 }) }))
      .toThrow(/unlabeled images are 1x8x8 .* but labeled images are 1x4x4/);
    expect(bad({ labeled: { images: ok, labels: [0, 1, 1] }, normalisation: { mean: [0.5], std: [0] } })).toThrow(/std: \[1 numbers > 0\]/);
  });
});

describe('trainer config', () => {
  it('scales warm-up, histogram window and EMA to the run length, and maps onto the engine config', () => {
    const { api, engine } = resolveTrainerConfig({ steps: 300 }, shape);
    expect(api).toMatchObject({ algorithm: 'daso', steps: 300, histogramWindow: 10, warmup: 100, emaDecay: 1 - 10 / 300 });
    expect(engine).toMatchObject({ algorithm: 'daso', max_iter: 300, daso: { warmup: 100, pl_update_period: 10 }, model: { num_classes: 3, image_size: 8 } });
    expect(resolveTrainerConfig({ steps: 6 }, shape).api).toMatchObject({ histogramWindow: 1, warmup: 2, emaDecay: 0.5 });
    // A warm-up shorter than the automatic window pulls the window down with it.
    expect(resolveTrainerConfig({ steps: 3000, warmup: 20 }, shape).api).toMatchObject({ histogramWindow: 20, warmup: 20 });
  });

  it('names this API\'s keys in errors', () => {
    expect(() => resolveTrainerConfig({ step: 5 } as never, shape)).toThrow(/unknown config key 'step' \(known: algorithm, steps,/);
    expect(() => resolveTrainerConfig({ batchSize: 0 }, shape)).toThrow(/config key 'batchSize' = 0 must be an integer >= 1/);
    expect(() => resolveTrainerConfig({ steps: '10' } as never, shape)).toThrow(/config key 'steps': expected a number/);
    expect(() => resolveTrainerConfig({ warmup: 2, histogramWindow: 5 }, shape)).toThrow(/warmup \(2\) is shorter than histogramWindow \(5\)/);
    expect(() => resolveTrainerConfig({ algorithm: 'daso' }, { ...shape, unlabeledCount: 0 })).toThrow(/has none: pass unlabeled images .* or set config.algorithm to 'supervised'/);
    expect(resolveTrainerConfig({ algorithm: 'supervised' }, { ...shape, unlabeledCount: 0 }).engine.algorithm).toBe('supervised');
  });
});

describe('example app: folder scan', () => {
  const f = (path: string) => ({ path, file: new Blob([path]) });

  it('takes subfolders as classes (sorted), unlabeled/ as unlabeled, skips other files', () => {
    const s = scanFolder([f('pets/dog/1.png'), f('pets/cat/a.JPG'), f('pets/cat/notes.txt'), f('pets/unlabeled/x.webp'), f('pets/.DS_Store')]);
    expect(s.classNames).toEqual(['cat', 'dog']);
    expect(s.labeled.map((x) => [x.path, x.label])).toEqual([['pets/cat/a.JPG', 0], ['pets/dog/1.png', 1]]);
    expect(s.unlabeled.map((x) => x.path)).toEqual(['pets/unlabeled/x.webp']);
    expect(s.skipped).toEqual(['pets/cat/notes.txt']);
    expect([s.unlabeledLabels, s.test]).toEqual([null, []]);
  });

  it('reads unlabeled/<class>/ as labels for the statistics only, and test/<class>/ as the test set', () => {
    const s = scanFolder([f('p/dog/1.png'), f('p/cat/2.png'), f('p/unlabeled/dog/3.png'), f('p/unlabeled/cat/4.png'), f('p/test/cat/5.png'), f('p/test/dog/6.png')]);
    expect(s.classNames).toEqual(['cat', 'dog']);
    expect(s.unlabeled.map((x) => x.path)).toEqual(['p/unlabeled/cat/4.png', 'p/unlabeled/dog/3.png']);
    expect(s.unlabeledLabels).toEqual([0, 1]);
    expect(s.test.map((x) => [x.path, x.label])).toEqual([['p/test/cat/5.png', 0], ['p/test/dog/6.png', 1]]);
    // A picked folder named 'test' is not the test set.
    expect(scanFolder([f('test/dog/1.png'), f('test/cat/2.png'), f('test/unlabeled/dog/3.png')]).unlabeledLabels).toEqual([1]);
    // One unlabeled image outside a class folder: no labels at all (statistics off), not an error.
    expect(scanFolder([f('p/dog/1.png'), f('p/cat/2.png'), f('p/unlabeled/dog/3.png'), f('p/unlabeled/4.png')]).unlabeledLabels).toBeNull();
    expect(() => scanFolder([f('p/dog/1.png'), f('p/cat/2.png'), f('p/test/owl/5.png')])).toThrow(/1 test image\(s\) are not in a class folder under 'test\/' \(p\/test\/owl\/5.png\): use test\/<class>\/ with the class folder names \(cat, dog\)/);
  });

  it('explains a class folder without images, loose files and a single class', () => {
    expect(() => scanFolder([f('p/dog/1.png'), f('p/cat/readme.txt')])).toThrow(/class folder 'cat' has no images/);
    expect(() => scanFolder([f('p/dog/1.png'), f('p/cat/2.png')], ['p/owl'])).toThrow(/class folder 'owl' has no images/);
    expect(() => scanFolder([f('dog/1.png'), f('cat.png')])).toThrow(/1 image\(s\) are not inside a class folder \(cat.png\)/);
    // A picked folder's name comes first; a README beside the class folders is skipped.
    const s = scanFolder([f('pets/README.md'), f('pets/dog/1.png'), f('pets/cat/2.png')]);
    expect([s.classNames, s.skipped]).toEqual([['cat', 'dog'], ['pets/README.md']]);
    expect(() => scanFolder([f('p/dog/1.png'), f('p/unlabeled/2.png')])).toThrow(/found 1 class folder\(s\) \('dog'\): a classifier needs at least 2/);
  });
});

describe('Node <-> page transfer', () => {
  it('moves typed arrays as bytes, keeping their type, inside JSON values', async () => {
    const store = new Map<string, Uint8Array>();
    const v = { a: new Float32Array([1.5, -2]), b: [new Uint8Array([1, 2, 3]), 'x'], c: { d: new Int32Array([-7]) }, e: null };
    const enc = await encodeValue(v, (bytes) => { const k = `k${store.size}`; store.set(k, bytes); return k; });
    expect(JSON.parse(JSON.stringify(enc))).toEqual(enc);
    const dec = (await decodeValue(enc, (k) => store.get(k)!)) as typeof v;
    expect(dec.a).toBeInstanceOf(Float32Array);
    expect(Array.from(dec.a)).toEqual([1.5, -2]);
    expect(Array.from(dec.b[0] as Uint8Array)).toEqual([1, 2, 3]);
    expect(Array.from(dec.c.d)).toEqual([-7]);
    await expect(encodeValue({ m: new Map() }, () => '')).rejects.toThrow(/value\.m: a \[object Map\] cannot cross/);
  });
});
