// The library API on the GPU, in a headless-Chromium page from daso-webgpu/node (launchWebGpuPage): a DASO run on an
// app-owned device with default limits, progress and evaluations, run({ steps }) and resuming, prediction (EMA,
// online, logit-adjusted), evaluate, save/load (a loaded step-3 state trained to the end equals the uninterrupted run
// bit for bit), browser image inputs, and each misuse's error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchWebGpuPage, type WebGpuPage } from '../src/node/index.js';

let gpu: WebGpuPage;

beforeAll(async () => {
  gpu = await launchWebGpuPage();
}, 120_000);

afterAll(async () => {
  await gpu?.close();
});

const rowSums = (p: number[], K: number) => Array.from({ length: p.length / K }, (_, i) => p.slice(i * K, i * K + K).reduce((a, b) => a + b, 0));

describe('library API (GPU)', () => {
  it('trains FixMatch + DASO on typed arrays, predicts, evaluates, saves and loads', async () => {
    const out = await gpu.evaluate(async (lib) => {
      const err = (p: Promise<unknown> | (() => unknown)) => (typeof p === 'function' ? Promise.resolve().then(p) : p).then(() => 'no error', (e: Error) => e.message);
      const adapter = (await navigator.gpu.requestAdapter())!;
      const device = await adapter.requestDevice(); // an app's own device, default limits
      const syn = (perClass: number | number[], seed: number) => lib.syntheticDataset({ numClasses: 3, perClass, channels: 1, height: 8, width: 8, seed });
      const img = (d: { images: Uint8Array }) => ({ data: d.images, layout: 'nchw' as const, channels: 1, height: 8, width: 8 });
      const lab = syn([12, 6, 3], 1), unl = syn(10, 2), test = syn(4, 3);
      const data = lib.createDataSource({ labeled: { images: img(lab), labels: lab.labels }, unlabeled: { images: img(unl), labels: unl.labels } });
      const config = { steps: 6, warmup: 2, histogramWindow: 2, batchSize: 4, unlabeledRatio: 1, queueSize: 4, tau: 0.5, logEvery: 1, evalEvery: 3, evalBatchSize: 16 };
      const testSet = { images: img(test), labels: test.labels };
      const a = await lib.createTrainer({ device, data, config, test: testSet });
      const untrained = { step: a.step, probs: Array.from(await a.predict(img(test))) };
      const progress: [number, boolean, boolean][] = [];
      const evals: { step: number; n: number; mask: number | null }[] = [];
      const hooks = {
        onProgress: (p: { step: number; dasoActive: boolean; loss: number }) => progress.push([p.step, p.dasoActive, Number.isFinite(p.loss)]),
        onEval: (e: { step: number; test: { n: number }; pseudoLabels: { maskRatio: number } | null }) =>
          evals.push({ step: e.step, n: e.test.n, mask: e.pseudoLabels?.maskRatio ?? null }),
      };
      const r1 = await a.run({ ...hooks, steps: 3 });
      const saved3 = a.save();
      const running = a.run(hooks);
      const twice = await err(a.run());
      const predictDuring = await err(a.predict(img(test)));
      const r2 = await running;
      const complete = await err(a.run());
      const pa = Array.from(await a.predict(img(test)));
      const paLa = Array.from(await a.predict(img(test), { logitAdjust: true }));
      const paOnline = Array.from(await a.predict(img(test), { model: 'online' }));
      const metrics = await a.evaluate(testSet);
      // b continues a's step-3 state; c loads a's final state.
      const b = await lib.createTrainer({ device, data, config });
      b.load(saved3);
      const bStep = b.step;
      await b.run();
      const pb = Array.from(await b.predict(img(test)));
      const c = await lib.createTrainer({ device, data, config });
      c.load(a.save());
      const pc = Array.from(await c.predict(img(test)));
      const errors = {
        garbage: await err(() => c.load(new Uint8Array(10))),
        wrongSize: await err(c.predict({ data: new Uint8Array(256), layout: 'nchw', channels: 1, height: 16, width: 16 })),
        badSteps: await err(b.run({ steps: 0 })),
        saveUntrained: await err(async () => (await lib.createTrainer({ device, data, config })).save()),
      };
      // dispose() during a run stops it at the next step boundary, then frees everything.
      const e = await lib.createTrainer({ device, data, config });
      const eRun = e.run();
      e.dispose();
      const disposedRun = await eRun;
      const runAfterDispose = await err(e.run());
      a.dispose();
      a.dispose(); // twice is harmless
      const afterDispose = await err(a.predict(img(test)));
      b.dispose();
      c.dispose();
      const d2 = await (await navigator.gpu.requestAdapter())!.requestDevice(); // an adapter gives one device
      const onD2 = await lib.createTrainer({ device: d2, data, config });
      d2.destroy();
      await new Promise((ok) => setTimeout(ok, 50));
      const lostLater = await err(onD2.predict(img(test)));
      const destroyedAtStart = await err(lib.createTrainer({ device: d2, data, config }));
      const notADevice = await err(lib.createTrainer({ device: {} as GPUDevice, data, config }));
      device.destroy();
      return {
        untrained, r1, r2, twice, predictDuring, complete, progress, evals, pa, paLa, paOnline, metrics, bStep, pb, pc, errors,
        afterDispose, disposedRun, runAfterDispose, lostLater, destroyedAtStart, notADevice, classNames: a.classNames, steps: a.config.steps,
      };
    });
    expect(out.untrained.step).toBe(0);
    for (const s of rowSums(out.untrained.probs, 3)) expect(s).toBeCloseTo(1, 5);
    expect(out.r1).toEqual({ step: 3, totalSteps: 6, stopped: true });
    expect(out.r2).toEqual({ step: 6, totalSteps: 6, stopped: false });
    expect(out.twice).toMatch(/^run\(\): run\(\) is still in progress; await it first \(or stop it through its signal\)/);
    expect(out.predictDuring).toMatch(/^predict\(\): run\(\) is still in progress/);
    expect(out.complete).toMatch(/training is complete \(6 of 6 steps, config\.steps\)/);
    expect(out.progress.map((p) => p[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.progress.every((p) => p[2])).toBe(true);
    expect(out.progress.map((p) => p[1])).toEqual([false, false, true, true, true, true]); // DASO from step 2 (warmup 2)
    expect(out.evals.map((e) => [e.step, e.n])).toEqual([[3, 12], [6, 12]]);
    expect(out.evals.every((e) => e.mask !== null && e.mask >= 0 && e.mask <= 1)).toBe(true); // unlabeled labels given: stats on
    expect(out.pa).toHaveLength(12 * 3);
    for (const s of [...rowSums(out.pa, 3), ...rowSums(out.paLa, 3), ...rowSums(out.paOnline, 3)]) expect(s).toBeCloseTo(1, 5);
    expect(out.paLa).not.toEqual(out.pa);
    expect(out.paOnline).not.toEqual(out.pa);
    expect(out.metrics.n).toBe(12);
    expect(out.metrics.recall).toHaveLength(3);
    expect(out.bStep).toBe(3);
    expect(out.pb).toEqual(out.pa); // resumed from the saved step-3 state: bit-exact
    expect(out.pc).toEqual(out.pa);
    expect(out.errors.garbage).toMatch(/^checkpoint: header is not valid JSON/);
    expect(out.errors.wrongSize).toMatch(/predict\(\) images are 16x16; the model takes 8x8 images: resize them first/);
    expect(out.errors.badSteps).toMatch(/options\.steps is 0; it must be an integer >= 1/);
    expect(out.errors.saveUntrained).toMatch(/save\(\): nothing trained yet: call run\(\) \(or load\(\)\) first/);
    expect(out.afterDispose).toMatch(/^predict\(\): this trainer was disposed; create a new one/);
    expect(out.disposedRun).toEqual({ step: 0, totalSteps: 6, stopped: true });
    expect(out.runAfterDispose).toMatch(/^run\(\): this trainer was disposed/);
    expect(out.lostLater).toMatch(/^predict\(\): the GPUDevice is not usable: it was destroyed/);
    expect(out.destroyedAtStart).toMatch(/^createTrainer: the GPUDevice is not usable: it was destroyed/);
    expect(out.notADevice).toMatch(/options\.device is not a GPUDevice/);
    expect(out.classNames).toEqual(['class0', 'class1', 'class2']);
  }, 600_000);

  it('daso-webgpu/node: evaluate() carries typed arrays both ways and the page\'s errors back', async () => {
    const r = await gpu.evaluate((lib, a: { x: Float32Array; k: number }) => ({ y: a.x.map((v) => v * a.k), keys: lib.TRAINER_CONFIG_KEYS.length }), { x: new Float32Array([1, 2.5]), k: 2 });
    expect(r.y).toBeInstanceOf(Float32Array);
    expect(Array.from(r.y)).toEqual([2, 5]);
    expect(r.keys).toBeGreaterThan(10);
    await expect(gpu.evaluate((lib) => lib.createDataSource({ labeled: { images: [], labels: [] } }))).rejects.toThrow(/labeled images: no images \(the list is empty\)/);
    await expect(gpu.evaluate(() => new Map())).rejects.toThrow(/result: a \[object Map\] cannot cross to or from the page/);
  });

  it('reads browser images: gray or colour, and refuses mixed sizes, non-square and unloaded images', async () => {
    const out = await gpu.evaluate(async (lib) => {
      const err = (f: () => unknown) => { try { f(); return 'no error'; } catch (e) { return (e as Error).message; } };
      const solid = (w: number, h: number, rgb: number[]) => {
        const d = new ImageData(w, h);
        for (let p = 0; p < w * h; p++) d.data.set([...rgb, 255], 4 * p);
        return d;
      };
      const canvas = new OffscreenCanvas(8, 8);
      const g = canvas.getContext('2d')!;
      g.fillStyle = 'rgb(0, 0, 255)';
      g.fillRect(0, 0, 8, 8);
      const gray = lib.createDataSource({ labeled: { images: [solid(8, 8, [10, 10, 10]), solid(8, 8, [200, 200, 200])], labels: [0, 1] } });
      const colour = lib.createDataSource({ labeled: { images: [solid(8, 8, [255, 0, 0]), canvas], labels: [0, 1] } });
      const forced = lib.createDataSource({ labeled: { images: [solid(8, 8, [255, 0, 0]), canvas], labels: [0, 1] }, channels: 1 });
      const px = (d: { dataset: { images: Uint8Array } }, i: number) => d.dataset.images[i];
      return {
        gray: [gray.channels, px(gray, 0), px(gray, 64)],
        colour: [colour.channels, px(colour, 0), px(colour, 64), px(colour, 3 * 64 + 128)],
        forced: [forced.channels, px(forced, 0), px(forced, 64)],
        mixed: err(() => lib.createDataSource({ labeled: { images: [solid(8, 8, [1, 1, 1]), solid(6, 6, [1, 1, 1])], labels: [0, 1], names: ['a.png', 'b.png'] } })),
        nonSquare: err(() => lib.createDataSource({ labeled: { images: [solid(8, 6, [1, 1, 1]), solid(8, 6, [1, 1, 1])], labels: [0, 1] } })),
        unloaded: err(() => lib.createDataSource({ labeled: { images: [new Image(), new Image()], labels: [0, 1] } })),
        notImages: err(() => lib.createDataSource({ labeled: { images: [{} as ImageData, {} as ImageData], labels: [0, 1] } })),
      };
    });
    expect(out.gray).toEqual([1, 10, 200]);
    // Image 0 red: R plane 255, G plane 0; image 1 (the canvas) blue: its B plane (offset 64*3 + 128) is 255.
    expect(out.colour).toEqual([3, 255, 0, 255]);
    expect(out.forced).toEqual([1, 76, 29]); // luma of pure red and pure blue: (19595 * 255 + 0x8000) >> 16 = 76, (7471 * 255 + 0x8000) >> 16 = 29
    expect(out.mixed).toBe('labeled images: image 1 (b.png) is 6x6 but image 0 (a.png) is 8x8: all images must have one size; resize them first');
    expect(out.nonSquare).toMatch(/labeled images are 8x6 \(width x height\): the model takes square images/);
    expect(out.unloaded).toMatch(/image 0 is a HTMLImageElement with no size \(not loaded yet: await img.decode\(\) first\)/);
    expect(out.notImages).toMatch(/image 0 is a Object with no size/);
  }, 120_000);
});
