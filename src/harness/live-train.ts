// "Train live": the harness page's training section for a person with a browser. It loads Fashion-MNIST from the dev
// server's read-only /datasets/ folder, builds the config from a preset and the form through parseTrainConfig (bad
// values show its error), runs train() on the page's GPU device and shows what `daso train` prints: a progress line,
// a loss / mask-ratio chart and one table row per evaluation. Checkpoints stay in memory as safetensors bytes (the
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

interface Point {
  step: number;
  loss: number;
  loss_u: number;
  loss_align: number;
  mask_ratio: number;
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

const SERIES: { key: keyof Point; label: string; color: string; right?: boolean }[] = [
  { key: 'loss', label: 'loss', color: '#1f77b4' },
  { key: 'loss_u', label: 'loss_u', color: '#ff7f0e' },
  { key: 'loss_align', label: 'loss_align', color: '#2ca02c' },
  { key: 'mask_ratio', label: 'mask ratio (right axis)', color: '#d62728', right: true },
];

/** Losses on the left axis (0..max), the mask ratio on the right (0..1); plain 2D canvas. */
function drawChart(canvas: HTMLCanvasElement, pts: Point[]): void {
  const g = canvas.getContext('2d');
  if (!g) return;
  const W = canvas.width, H = canvas.height, L = 48, R = 40, T = 24, B = 22;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, W, H);
  g.strokeStyle = '#999';
  g.lineWidth = 1;
  g.strokeRect(L, T, W - L - R, H - T - B);
  g.font = '11px ui-monospace, monospace';
  g.textBaseline = 'middle';
  let lx = L;
  for (const s of SERIES) {
    g.fillStyle = s.color;
    g.fillRect(lx, 8, 12, 3);
    g.fillStyle = '#333';
    g.fillText(s.label, lx + 16, 10);
    lx += 24 + g.measureText(s.label).width;
  }
  if (!pts.length) {
    g.fillStyle = '#999';
    g.fillText('no progress yet', L + 8, T + 14);
    return;
  }
  const s0 = pts[0].step, s1 = pts[pts.length - 1].step;
  const lo = s0 === s1 ? s0 - 1 : s0, hi = s0 === s1 ? s1 + 1 : s1;
  const finite = pts.flatMap((p) => [p.loss, p.loss_u, p.loss_align]).filter(Number.isFinite);
  const yMax = Math.max(1e-6, ...finite) * 1.05;
  const x = (step: number) => L + ((step - lo) / (hi - lo)) * (W - L - R);
  const y = (v: number, right: boolean) => H - B - (Math.max(0, v) / (right ? 1 : yMax)) * (H - T - B);
  g.fillStyle = '#333';
  g.textAlign = 'right';
  g.fillText(yMax.toPrecision(3), L - 4, T);
  g.fillText('0', L - 4, H - B);
  g.textAlign = 'left';
  g.fillText('1', W - R + 4, T);
  g.fillText('0', W - R + 4, H - B);
  g.textAlign = 'center';
  g.fillText(`step ${s0}`, x(s0), H - B + 12);
  if (s1 !== s0) g.fillText(`${s1}`, x(s1), H - B + 12);
  g.textAlign = 'left';
  for (const s of SERIES) {
    g.strokeStyle = g.fillStyle = s.color;
    g.setLineDash(s.right ? [4, 3] : []);
    g.beginPath();
    let started = false;
    for (const p of pts) {
      const v = p[s.key];
      if (!Number.isFinite(v)) { started = false; continue; }
      if (started) g.lineTo(x(p.step), y(v, !!s.right));
      else g.moveTo(x(p.step), y(v, !!s.right));
      started = true;
    }
    g.stroke();
    for (const p of pts) if (Number.isFinite(p[s.key])) g.fillRect(x(p.step) - 1.5, y(p[s.key], !!s.right) - 1.5, 3, 3);
  }
  g.setLineDash([]);
}

/** Wires the "Train live" section of harness.html; returns access to the latest checkpoint (for window.daso). */
export function wireLiveTrain(rt: Runtime): LiveTrain {
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T | null;
  const preset = $<HTMLSelectElement>('lt-preset'), algorithm = $<HTMLSelectElement>('lt-algorithm');
  const steps = $<HTMLInputElement>('lt-steps'), evalEvery = $<HTMLInputElement>('lt-eval-every'), seed = $<HTMLInputElement>('lt-seed');
  const testLimit = $<HTMLInputElement>('lt-test-limit'), resumeInput = $<HTMLInputElement>('lt-resume');
  const startBtn = $<HTMLButtonElement>('lt-start'), stopBtn = $<HTMLButtonElement>('lt-stop'), download = $<HTMLButtonElement>('lt-download');
  const status = $('lt-status'), info = $('lt-info'), ckNote = $('lt-checkpoint');
  const canvas = $<HTMLCanvasElement>('lt-chart'), table = $<HTMLTableElement>('lt-evals');
  let latest: LiveCheckpoint | null = null;
  const api: LiveTrain = { latest: () => latest };
  if (!preset || !algorithm || !steps || !evalEvery || !seed || !testLimit || !resumeInput || !startBtn || !stopBtn || !download ||
    !status || !info || !ckNote || !canvas || !table) return api;

  const configInputs = [preset, algorithm, steps, evalEvery, seed];
  let resume: Resume | null = null;
  let controller: AbortController | null = null;
  let points: Point[] = [];
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
        train: { ...PRESETS[preset.value]?.train, eval_every: evalEvery.valueAsNumber, seed: seed.valueAsNumber },
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
    points = [];
    drawChart(canvas, points);
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
            info.textContent = `${run}: ${config.algorithm} on ${trainSet.name} (${trainSet.n} train, ${test.n} test), ` +
              `WRN-${config.model.depth}-${config.model.width}, ${config.max_iter} steps | labeled per class ${e.split.labeled.join(' ')} | ` +
              `unlabeled per class ${e.split.unlabeled.join(' ')} | ${e.params} parameters, ${e.dispatches} dispatches per step in one ` +
              `submission, starting at step ${e.startStep}`;
            say('running', `step ${e.startStep}/${config.max_iter} | running (progress every ${config.train.log_every} steps)…`);
            break;
          case 'progress':
            points.push({ step: e.step, loss: e.loss, loss_u: e.loss_u, loss_align: e.loss_align, mask_ratio: e.mask_ratio });
            drawChart(canvas, points);
            say('running', `step ${e.step}/${config.max_iter} | loss ${e.loss.toFixed(4)} (cls ${e.loss_cls.toFixed(4)} u ${e.loss_u.toFixed(4)} ` +
              `align ${e.loss_align.toFixed(4)}) | mask ${e.mask_ratio.toFixed(2)}${e.daso_active ? ' | DASO on' : ''} | ` +
              `${e.steps_per_s.toFixed(3)} steps/s | ETA ${fmtTime(e.eta_s)}`);
            break;
          case 'eval':
            addRow(e.record, false);
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
        signal: ac.signal,
      }, from?.tensors ?? null, from?.metadata ?? null);
    } catch (e) {
      setStatus('error', `failed: ${(e as Error).message ?? String(e)}`);
    } finally {
      controller = null;
      setIdle(false);
    }
  };

  drawChart(canvas, points);
  setIdle(false);
  setStatus('idle', '');
  return api;
}
