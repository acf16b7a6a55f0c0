// FixMatch + DASO on images held in typed arrays, from Node: the library runs in headless Chromium with WebGPU
// (CHROMIUM_PATH or /usr/bin/chromium). Usage: node train-arrays.mjs [steps] [predictions.json]
import { writeFileSync } from 'node:fs';
import { launchWebGpuPage } from 'daso-webgpu/node';

const steps = Number(process.argv[2] ?? 60), out = process.argv[3] ?? 'predictions.json', S = 8;
// A toy long-tailed set of 8x8 grayscale images: class k is a bright band of rows 2k+2..2k+3, plus noise.
const images = (labels) => {
  const data = new Uint8Array(labels.length * S * S);
  labels.forEach((k, i) => { for (let p = 0; p < S * S; p++) data[i * S * S + p] = ((p / S) >> 1 === k + 1 ? 190 : 40) + Math.random() * 60; });
  return { data, layout: 'nchw', channels: 1, height: S, width: S };
};
const labels = [...Array(24).fill(0), ...Array(8).fill(1), ...Array(3).fill(2)]; // 24 / 8 / 3: the long tail
const arg = { labeled: images(labels), labels, unlabeled: images(Array.from({ length: 60 }, (_, i) => i % 3)), query: images([0, 1, 2]), steps };

const gpu = await launchWebGpuPage({ log: true }); // the page's console.log lines go to stderr
try {
  const probs = await gpu.evaluate(async (daso, a) => {
    const data = daso.createDataSource({ labeled: { images: a.labeled, labels: a.labels }, unlabeled: a.unlabeled, classNames: ['upper', 'middle', 'lower'] });
    console.log(data.describe());
    const trainer = await daso.createTrainer({ data, config: { steps: a.steps } });
    await trainer.run({ onProgress: (p) => console.log(`step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)}${p.dasoActive ? ' (DASO on)' : ''}`) });
    const probabilities = await trainer.predict(a.query);
    trainer.dispose();
    return probabilities;
  }, arg);
  const rows = [0, 1, 2].map((i) => Array.from(probs.subarray(i * 3, i * 3 + 3)));
  writeFileSync(out, JSON.stringify({ adapter: gpu.adapter.vendor, steps, truth: [0, 1, 2], probabilities: rows }, null, 2));
  console.log(`wrote ${out}: predicted ${rows.map((r) => r.indexOf(Math.max(...r))).join(' ')} for classes 0 1 2`);
} finally {
  await gpu.close();
}
