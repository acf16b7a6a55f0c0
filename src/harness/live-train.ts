// "Train live": the harness page's training section for a person with a browser. It loads Fashion-MNIST from the dev
// server's read-only /datasets/ folder, builds the config from a preset and the form through parseTrainConfig (bad
// values show its error), runs train() on the page's GPU device and shows what `daso train` prints: a progress line,
// the charts of `daso report` drawn live (src/viz/live-panel.ts: losses, accuracies, per-class recall, pseudo-label
// recall/precision, m_hat, v, the feature embedding; a second run's metrics.jsonl can be loaded beside it) and one
// table row per evaluation. Checkpoints stay in memory as safetensors bytes (the
// latest one is downloadable); Stop aborts between steps with a checkpoint of the steps done; a downloaded checkpoint
// resumes like `daso train --resume` (the config comes from the checkpoint's metadata).
import type { ImageDataset } from '../data/dataset.js';
import type { Runtime } from '../gpu/runtime.js';
import { readSafetensors, writeSafetensors, type StTensor } from '../nn/safetensors.js';
import { balancedSubset } from '../train/evaluate.js';
import { PRESETS } from '../train/presets.js';
import { validateCheckpoint } from '../train/checkpoint-check.js';
import { parseTrainConfig, type TrainConfig } from '../train/train-config.js';
import { train, type EvalRecord, type TrainEvent } from '../train/trainer.js';
import { loadFashionMnist } from './batch-grid.js';
import { LivePanel } from '../viz/live-panel.js';
import type { FeatureSet } from '../viz/embedding-chart.js';
import { METRICS_FORMAT } from '../train/metrics-record.js';
import { pageTuneRequest } from '../tune/page-store.js';

/** The latest checkpoint of the page's run, as the download button would save it. */
export interface LiveCheckpoint {
  /** Download file name: `<run>-step<N>.safetensors`. */
  name: string;
  step: number;
  bytes: Uint8Array<ArrayBuffer>;
  tensors: string[];
}

export interface LiveTrain {
  latest(): LiveCheckpoint | null;
}

/** Status states, on the status line's data-state: what the tests (and styles) read. */
export type LiveState = 'idle' | 'loading' | 'running' | 'stopping' | 'done' | 'stopped' | 'error';

interface Resume {
  file: string;
  tensors: Record<string, StTensor>;
  metadata: Record<string, string>;
  config: TrainConfig;
  step: number;
}

const STOPPING = 'stopping at the next step boundary (steps already queued on the GPU finish first)…';

/** Presets whose dataset the page can load (Fashion-MNIST, served under /datasets/fashion-mnist/). */
export function livePresets(): string[] {
  return Object.keys(PRESETS).filter((k) => PRESETS[k].data.dataset === 'fashion_mnist');
}

/** As `daso train` prints it (src/cli/train.ts). */
function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const pct1 = (x: number) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '–');

function stepOf(tensors: Record<string, StTensor>): number {
  const v = tensors.step?.data[0];
  return typeof v === 'bigint' ? Number(v) : Number(v ?? NaN);
}

/** At most `perClass` images of each class of `ds` (a copy), for a quicker evaluation. */
function testSubset(ds: ImageDataset, perClass: number): ImageDataset {
  const idx = balancedSubset(ds.labels, ds.numClasses, perClass);
  const size = ds.channels * ds.height * ds.width;
  const images = new Uint8Array(idx.length * size);
  idx.forEach((src, i) => images.set(ds.images.subarray(src * size, (src + 1) * size), i * size));
  return { ...ds, name: `${ds.name} (${perClass} per class)`, images, labels: Int32Array.from(idx, (i) => ds.labels[i]), n: idx.length };
}

/** Wires the "Train live" section of harness.html; returns access to the latest checkpoint (for window.daso). */
export function wireLiveTrain(rt: Runtime): LiveTrain {
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;
  const preset = $<HTMLSelectElement>('lt-preset'), algorithm = $<HTMLSelectElement>('lt-algorithm');
  const steps = $<HTMLInputElement>('lt-steps'), evalEvery = $<HTMLInputElement>('lt-eval-every'), seed = $<HTMLInputElement>('lt-seed');
  const testLimit = $<HTMLInputElement>('lt-test-limit'), resumeInput = $<HTMLInputElement>('lt-resume');
  const logEvery = $<HTMLInputElement>('lt-log-every'), warmup = $<HTMLInputElement>('lt-warmup'), compareInput = $<HTMLInputElement>('lt-compare');
  const startBtn = $<HTMLButtonElement>('lt-start'), stopBtn = $<HTMLButtonElement>('lt-stop'), download = $<HTMLButtonElement>('lt-download');
  const status = $('lt-status'), info = $('lt-info'), ckNote = $('lt-checkpoint');
  const chartsDiv = $('lt-charts'), table = $<HTMLTableElement>('lt-evals'), compareNote = $('lt-compare-note');
  let latest: LiveCheckpoint | null = null;
  const api: LiveTrain = { latest: () => latest };
  if (!preset || !algorithm || !steps || !evalEvery || !seed || !testLimit || !resumeInput || !startBtn || !stopBtn || !download ||
    !status || !info || !ckNote || !chartsDiv || !table || !logEvery || !warmup || !compareInput || !compareNote) return api;

  const configInputs = [preset, algorithm, steps, evalEvery, seed, logEvery, warmup];
  const panel = new LivePanel(chartsDiv);
  // A software adapter (SwiftShader) evaluates about 100 images a second: a smaller default evaluation keeps the page
  // responsive there (the whole test set stays one edit away).
  if (rt.info?.isFallbackAdapter && testLimit.value === '0') testLimit.value = '20';
  let resume: Resume | null = null;
  let controller: AbortController | null = null;
  let classNames: string[] = [];

  const setStatus = (state: LiveState, text: string) => {
    status.dataset.state = state;
    status.textContent = text;
    status.style.color = state === 'error' ? '#b00' : '';
  };
  const setIdle = (running: boolean) => {
    startBtn.disabled = running;
    stopBtn.disabled = !running;
    resumeInput.disabled = running;
    testLimit.disabled = running;
    for (const el of configInputs) el.disabled = running || resume !== null;
  };
  const fillForm = (c: TrainConfig) => {
    if (!Array.from(preset.options).some((o) => o.value === c.name)) preset.add(new Option(c.name, c.name));
    preset.value = c.name;
    algorithm.value = c.algorithm;
    steps.value = String(c.max_iter);
    evalEvery.value = String(c.train.eval_every);
    seed.value = String(c.train.seed);
    logEvery.value = String(c.train.log_every);
    warmup.value = String(c.daso.warmup);
  };

  compareInput.onchange = async () => {
    const file = compareInput.files?.[0];
    if (!file) { panel.clearCompare(); compareNote.textContent = ''; return; }
    try {
      // Every run folder's file is called metrics.jsonl: name the run by its algorithm then (a renamed file: by its name).
      const base = file.name.replace(/\.jsonl$/, '');
      const skipped = panel.compare(base === 'metrics' ? '' : base, await file.text());
      compareNote.textContent = `comparing with ${file.name}${skipped.length ? ` (${skipped.length} line(s) skipped: ${skipped[0]})` : ''}`;
      compareNote.style.color = '';
    } catch (e) {
      compareInput.value = '';
      compareNote.textContent = `cannot compare: ${(e as Error).message}`;
      compareNote.style.color = '#b00';
    }
  };

  for (const k of livePresets()) preset.add(new Option(k, k));
  fillForm(PRESETS[preset.value]);
  preset.onchange = () => { if (PRESETS[preset.value]) fillForm(PRESETS[preset.value]); };

  // The table: one row per evaluation (and the final one).
  const headRow = (K: number) => {
    table.replaceChildren();
    const tr = table.createTHead().insertRow();
    const th = (text: string, title = '') => { const c = document.createElement('th'); c.textContent = text; c.title = title; tr.append(c); };
    th('step');
    th('test images');
    th('top-1 %');
    th('balanced %');
    th('top-1 LA %', 'top-1 with test-time logit adjustment (logits - log of the labeled class frequencies)');
    for (let k = 0; k < K; k++) th(`r${k}`, `recall % of class ${k}${classNames[k] ? ` (${classNames[k]})` : ''}`);
    table.createTBody();
  };
  const addRow = (r: EvalRecord, final: boolean) => {
    if (!table.tBodies.length) headRow(r.test.recall.length);
    const tr = table.tBodies[0].insertRow();
    tr.dataset.step = String(r.step);
    if (final) tr.dataset.final = '1';
    const td = (text: string) => { tr.insertCell().textContent = text; };
    td(final ? `${r.step} (final)` : String(r.step));
    td(String(r.test.n));
    td(pct1(r.test.top1));
    td(pct1(r.test.balanced));
    td(pct1(r.test.top1_la));
    for (const x of r.test.recall) td(pct1(x));
  };

  const setLatest = (ck: LiveCheckpoint | null) => {
    latest = ck;
    download.disabled = !ck;
    download.dataset.name = ck?.name ?? '';
    download.dataset.step = ck ? String(ck.step) : '';
    download.dataset.bytes = ck ? String(ck.bytes.byteLength) : '';
    ckNote.textContent = ck ? `${ck.name} (${(ck.bytes.byteLength / 1048576).toFixed(2)} MB, in memory)` : '';
  };
  download.onclick = () => {
    if (!latest) return;
    const url = URL.createObjectURL(new Blob([latest.bytes], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = latest.name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  };

  resumeInput.onchange = async () => {
    resume = null;
    setIdle(false);
    const file = resumeInput.files?.[0];
    if (!file) { setStatus('idle', ''); return; }
    try {
      const r = readSafetensors(new Uint8Array(await file.arrayBuffer()), file.name);
      if (!r.metadata.config) throw new Error(`${file.name}: no config in its metadata (not a daso-webgpu training checkpoint)`);
      const config = parseTrainConfig(JSON.parse(r.metadata.config));
      if (config.data.dataset !== 'fashion_mnist') {
        throw new Error(`${file.name}: a ${config.data.dataset} run; this page trains on Fashion-MNIST only (use daso train --resume)`);
      }
      validateCheckpoint(r.tensors, r.metadata, config, file.name, { training: true });
      resume = { file: file.name, tensors: r.tensors, metadata: r.metadata, config, step: stepOf(r.tensors) };
      fillForm(config);
      setIdle(false);
      setStatus('idle', `resume from ${file.name}: step ${resume.step} of ${config.max_iter}, ${config.algorithm}, seed ${config.train.seed}; ` +
        `the config comes from the checkpoint (as with daso train --resume): clear the file to start a new run`);
    } catch (e) {
      resumeInput.value = '';
      setIdle(false);
      setStatus('error', `cannot resume: ${(e as Error).message ?? String(e)}`);
    }
  };

  stopBtn.onclick = () => {
    if (!controller || controller.signal.aborted) return;
    controller.abort();
    stopBtn.disabled = true;
    setStatus('stopping', `${status.textContent} | ${STOPPING}`);
  };

  startBtn.onclick = async () => {
    let config: TrainConfig;
    let perClass: number;
    try {
      config = resume ? resume.config : parseTrainConfig({
        ...structuredClone(PRESETS[preset.value]),
        algorithm: algorithm.value,
        max_iter: steps.valueAsNumber,
        train: { ...PRESETS[preset.value]?.train, eval_every: evalEvery.valueAsNumber, seed: seed.valueAsNumber, log_every: logEvery.valueAsNumber },
        daso: { ...PRESETS[preset.value]?.daso, warmup: warmup.valueAsNumber },
      });
      perClass = testLimit.valueAsNumber;
      if (!Number.isInteger(perClass) || perClass < 0) {
        throw new Error(`test images per class = ${testLimit.value || '(empty)'} must be an integer >= 0 (0 = the whole test set)`);
      }
    } catch (e) {
      setStatus('error', (e as Error).message ?? String(e));
      return;
    }
    const ac = new AbortController();
    controller = ac;
    const run = `${config.name}-${config.algorithm}-seed${config.train.seed}`;
    const from = resume;
    setIdle(true);
    panel.begin(run, config.algorithm);
    let features: FeatureSet | null = null;
    table.replaceChildren();
    info.textContent = '';
    const say = (state: LiveState, text: string) =>
      (ac.signal.aborted ? setStatus('stopping', `${text} | ${STOPPING}`) : setStatus(state, text));
    try {
      say('loading', 'loading Fashion-MNIST (train and test)…');
      const [trainSet, fullTest] = await Promise.all([loadFashionMnist('train'), loadFashionMnist('t10k')]);
      classNames = trainSet.classNames ?? [];
      const test = perClass ? testSubset(fullTest, perClass) : fullTest;
      if (from?.metadata.history) {
        for (const r of JSON.parse(from.metadata.history) as EvalRecord[]) addRow(r, false);
      }
      if (ac.signal.aborted) {
        setStatus('stopped', 'stopped before training started (no new checkpoint)');
        return;
      }
      say('loading', `${from ? `resuming ${from.file} at step ${from.step}: ` : ''}building and compiling the training step…`);
      const emit = (e: TrainEvent) => {
        switch (e.type) {
          case 'start':
            panel.start({ kind: 'start', format: METRICS_FORMAT, step: e.startStep, algorithm: config.algorithm, split: e.split });
            info.textContent = `${run}: ${config.algorithm} on ${trainSet.name} (${trainSet.n} train, ${test.n} test), ` +
              `WRN-${config.model.depth}-${config.model.width}, ${config.max_iter} steps | labeled per class ${e.split.labeled.join(' ')} | ` +
              `unlabeled per class ${e.split.unlabeled.join(' ')} | ${e.params} parameters, ${e.dispatches} dispatches per step in one ` +
              `submission, starting at step ${e.startStep}`;
            say('running', `step ${e.startStep}/${config.max_iter} | running (progress every ${config.train.log_every} steps)…`);
            break;
          case 'progress':
            panel.log({ kind: 'log', step: e.step, loss: e.loss, loss_cls: e.loss_cls, loss_u: e.loss_u, loss_align: e.loss_align,
              mask_ratio: e.mask_ratio, daso_active: e.daso_active, pl: e.pl });
            say('running', `step ${e.step}/${config.max_iter} | loss ${e.loss.toFixed(4)} (cls ${e.loss_cls.toFixed(4)} u ${e.loss_u.toFixed(4)} ` +
              `align ${e.loss_align.toFixed(4)}) | mask ${e.mask_ratio.toFixed(2)}${e.daso_active ? ' | DASO on' : ''} | ` +
              `${e.steps_per_s.toFixed(3)} steps/s | ETA ${fmtTime(e.eta_s)}`);
            break;
          case 'eval':
            addRow(e.record, false);
            panel.evaluation(e.record, features);
            break;
          case 'checkpoint':
            break; // saveCheckpoint below keeps the bytes
          case 'done': {
            addRow(e.final, true);
            const t = e.final.test;
            setStatus('done', `done: final (EMA model, ${t.n} test images) top1 ${pct(t.top1)} balanced ${pct(t.balanced)} LA ${pct(t.top1_la)} | ` +
              `median of the last ${config.eval.median_of} evaluations (test subset): top1 ${pct(e.median.top1)}`);
            break;
          }
          case 'stopped':
            setStatus('stopped', `stopped at step ${e.step}/${config.max_iter}: checkpoint kept (download it; resume from it later)`);
            break;
        }
      };
      await train(rt, config, { train: trainSet, test }, {
        emit,
        async saveCheckpoint(tensors, metadata) {
          const step = stepOf(tensors);
          setLatest({ name: `${run}-step${step}.safetensors`, step, bytes: writeSafetensors(tensors, metadata), tensors: Object.keys(tensors) });
        },
        // Kept in memory for the embedding chart (the evaluation's event follows).
        async saveFeatures(t) {
          const [n, d] = t.features.shape;
          features = { features: t.features.data as Float32Array, n, d, labels: Array.from(t.labels.data as BigInt64Array, Number), pred: Array.from(t.pred.data as BigInt64Array, Number) };
        },
        signal: ac.signal,
        // The conv rungs this browser's adapter was tuned to (localStorage), the rule where none were stored.
        tune: pageTuneRequest('cached'),
      }, from?.tensors ?? null, from?.metadata ?? null);
    } catch (e) {
      setStatus('error', `failed: ${(e as Error).message ?? String(e)}`);
    } finally {
      controller = null;
      setIdle(false);
    }
  };

  setIdle(false);
  setStatus('idle', '');
  return api;
}
