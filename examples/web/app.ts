// The example web app: pick or drop a folder of images (one subfolder per class, plus `unlabeled/`), train
// FixMatch + DASO on this page's WebGPU device with live progress and charts (daso-webgpu/viz's LivePanel: losses,
// pseudo-label statistics, the class distributions; with a test/ subfolder also accuracies, per-class recall and the
// feature embedding), then classify a dropped image.
import { acquireGpu, createDataSource, createTrainer, describeAdapter, type DataSource, type Trainer, type TrainerConfig } from 'daso-webgpu';
import { LivePanel } from 'daso-webgpu/viz';
import { decodeImage, filesFromDrop, filesFromInput, scanFolder, type FolderFile } from './folder.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const status = $('status'), summary = $('summary'), result = $('result'), adapter = $('adapter');
const folderInput = $<HTMLInputElement>('folder'), queryInput = $<HTMLInputElement>('query');
const trainBtn = $<HTMLButtonElement>('train'), stopBtn = $<HTMLButtonElement>('stop'), saveBtn = $<HTMLButtonElement>('save');
const steps = $<HTMLInputElement>('steps'), algorithm = $<HTMLSelectElement>('algorithm'), resize = $<HTMLSelectElement>('resize');
const bar = $<HTMLProgressElement>('bar'), preview = $<HTMLCanvasElement>('preview');
const panel = new LivePanel($('charts'));

let device: GPUDevice | null = null;
let files: { files: FolderFile[]; dirs: string[] } | null = null;
let data: DataSource | null = null;
let trainer: Trainer | null = null;
let controller: AbortController | null = null;

function say(text: string, error = false): void {
  status.textContent = text;
  status.className = error ? 'error' : '';
}

const fail = (e: unknown) => say((e as Error)?.message ?? String(e), true);

function setBusy(busy: boolean): void {
  trainBtn.disabled = busy || !files || !device;
  stopBtn.disabled = !busy;
  saveBtn.disabled = busy || !trainer || trainer.step === 0;
  queryInput.disabled = busy || !trainer;
  for (const el of [folderInput, steps, algorithm, resize]) el.disabled = busy;
}

/** Reads the folder into a data source: every problem (layout, non-images, sizes) ends up in the status line. */
async function loadData(): Promise<{ data: DataSource; test?: { images: (ImageBitmap | OffscreenCanvas)[]; labels: number[] }; skipped: string[] }> {
  const scan = scanFolder(files!.files, files!.dirs);
  const size = resize.value === 'off' ? null : Number(resize.value);
  const all = [...scan.labeled, ...scan.unlabeled, ...scan.test];
  const nL = scan.labeled.length, nU = scan.unlabeled.length;
  const images = [];
  for (let i = 0; i < all.length; i++) {
    if (i % 50 === 0) say(`decoding images ${i}/${all.length}…`);
    images.push(await decodeImage(all[i].file, all[i].path, size));
  }
  try {
    const d = createDataSource({
      labeled: { images: images.slice(0, nL), labels: scan.labeled.map((x) => x.label), names: scan.labeled.map((x) => x.path) },
      unlabeled: nU ? { images: images.slice(nL, nL + nU), names: scan.unlabeled.map((x) => x.path), labels: scan.unlabeledLabels ?? undefined } : undefined,
      classNames: scan.classNames,
    });
    const test = scan.test.length ? { images: images.slice(nL + nU), labels: scan.test.map((x) => x.label) } : undefined;
    return { data: d, test, skipped: scan.skipped };
  } catch (e) {
    const m = (e as Error).message;
    throw new Error(/one size|square/.test(m) && size === null ? `${m} — or choose a size under "resize to"` : m);
  } finally {
    // The test images stay open until createTrainer has read them (train() closes them).
    for (const im of images.slice(0, nL + nU)) if (im instanceof ImageBitmap) im.close();
  }
}

function showData(d: DataSource, skipped: string[]): void {
  const max = Math.max(...d.classCounts);
  summary.replaceChildren();
  const head = document.createElement('p');
  head.textContent = d.describe() + (skipped.length ? ` — skipped ${skipped.length} file(s) that are not images: ${skipped.slice(0, 5).join(', ')}` +
    `${skipped.length > 5 ? ', ...' : ''}` : '');
  summary.append(head);
  d.classNames.forEach((name, k) => {
    const row = document.createElement('div');
    row.className = 'row';
    row.innerHTML = `<span class="name"></span><span class="bar"><i style="width:${(100 * d.classCounts[k]) / max}%"></i></span><span>${d.classCounts[k]}</span>`;
    row.querySelector('.name')!.textContent = name;
    summary.append(row);
  });
}

async function train(): Promise<void> {
  setBusy(true);
  result.replaceChildren();
  try {
    trainer?.dispose();
    trainer = null;
    const loaded = await loadData();
    data = loaded.data;
    showData(data, loaded.skipped);
    say('compiling the training step (seconds without a GPU)…');
    try {
      trainer = await createTrainer({ device: device!, data, test: loaded.test, config: { steps: steps.valueAsNumber, algorithm: algorithm.value as TrainerConfig['algorithm'] } });
    } finally {
      for (const im of loaded.test?.images ?? []) if (im instanceof ImageBitmap) im.close();
    }
    controller = new AbortController();
    bar.max = trainer.config.steps;
    panel.begin(`${algorithm.value} on ${files!.files.length} files`, algorithm.value);
    const r = await trainer.run({
      signal: controller.signal,
      onStart: (s) => panel.start(s),
      onEval: (e) => panel.evaluation(e.record, e.features),
      onProgress: (p) => {
        panel.log(p.record);
        bar.value = p.step;
        say(`step ${p.step}/${p.totalSteps} | loss ${p.loss.toFixed(3)} (labeled ${p.lossLabeled.toFixed(3)}, unlabeled ` +
          `${p.lossUnlabeled.toFixed(3)}, align ${p.lossAlign.toFixed(3)}) | mask ${p.maskRatio.toFixed(2)}` +
          `${p.dasoActive ? ' | DASO on' : ` | FixMatch warm-up (DASO from step ${trainer!.config.warmup})`} | ${p.stepsPerSecond.toFixed(2)} steps/s`);
      },
    });
    say(`${r.stopped ? 'stopped' : 'trained'} at step ${r.step}/${r.totalSteps}: drop an image below to classify it`);
  } catch (e) {
    fail(e);
  } finally {
    controller = null;
    setBusy(false);
  }
}

async function classify(file: File): Promise<void> {
  if (!trainer || !data) return;
  setBusy(true);
  try {
    const size = data.imageSize;
    const img = await decodeImage(file, file.name, size);
    preview.width = preview.height = size;
    preview.getContext('2d')!.drawImage(img, 0, 0);
    const probs = await trainer.predict([img]);
    const adjusted = await trainer.predict([img], { logitAdjust: true });
    result.replaceChildren();
    const order = [...probs.keys()].sort((a, b) => probs[b] - probs[a]);
    for (const k of order) {
      const row = document.createElement('div');
      row.className = 'row';
      row.innerHTML = `<span class="name"></span><span class="bar"><i style="width:${100 * probs[k]}%"></i></span>` +
        `<span>${(100 * probs[k]).toFixed(1)}% (logit-adjusted ${(100 * adjusted[k]).toFixed(1)}%)</span>`;
      row.querySelector('.name')!.textContent = trainer.classNames[k];
      result.append(row);
    }
    say(`${file.name}: ${trainer.classNames[order[0]]} (resized to ${size}x${size}; EMA model after ${trainer.step} steps)`);
  } catch (e) {
    fail(e);
  } finally {
    setBusy(false);
  }
}

function useFolder(f: { files: FolderFile[]; dirs: string[] }): void {
  files = f;
  try {
    const scan = scanFolder(f.files, f.dirs);
    summary.textContent = `${scan.classNames.length} classes (${scan.classNames.join(', ')}), ${scan.labeled.length} labeled and ` +
      `${scan.unlabeled.length} unlabeled images${scan.skipped.length ? `, ${scan.skipped.length} other file(s) skipped` : ''}. Press Train.`;
    say('');
  } catch (e) {
    files = null;
    fail(e);
  }
  setBusy(false);
}

folderInput.onchange = () => folderInput.files && useFolder({ files: filesFromInput(folderInput.files), dirs: [] });
queryInput.onchange = () => queryInput.files?.[0] && classify(queryInput.files[0]);
trainBtn.onclick = () => void train();
stopBtn.onclick = () => controller?.abort();
saveBtn.onclick = () => {
  const a = Object.assign(document.createElement('a'), { download: `model-step${trainer!.step}.safetensors` });
  a.href = URL.createObjectURL(new Blob([trainer!.save()], { type: 'application/octet-stream' }));
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
};
for (const [zone, handle] of [[$('drop-folder'), 'folder'], [$('drop-image'), 'image']] as const) {
  zone.ondragover = (e) => { e.preventDefault(); zone.classList.add('over'); };
  zone.ondragleave = () => zone.classList.remove('over');
  zone.ondrop = async (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (!e.dataTransfer) return;
    if (handle === 'image') { if (e.dataTransfer.files[0] && trainer) await classify(e.dataTransfer.files[0]); return; }
    try { useFolder(await filesFromDrop(e.dataTransfer.items)); } catch (err) { fail(err); }
  };
}

acquireGpu().then((ctx) => {
  device = ctx.device;
  adapter.textContent = describeAdapter(ctx.info);
  setBusy(false);
}, (e) => { adapter.textContent = 'none'; fail(e); });
setBusy(false);
