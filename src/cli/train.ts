// `daso train`: a training run in headless Chromium. Datasets are read and validated here (before any GPU work),
// then handed to the page; progress lines go to stdout, evaluations to <run>/metrics.jsonl, checkpoints are written
// atomically to <run>/checkpoint.safetensors; `--resume <run>` continues exactly where the checkpoint stopped.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImageDataset } from '../data/dataset.js';
import { validateDataset } from '../data/dataset.js';
import { DEBIAN_FASHION_MNIST_DIR, loadCifar100Dir, loadCifar10Dir, loadFashionMnistDir } from '../data/node-files.js';
import { syntheticDataset } from '../data/synthetic.js';
import { readSafetensors } from '../nn/safetensors.js';
import { PRESETS, presetNames } from '../train/presets.js';
import { parseTrainConfig, type TrainConfig } from '../train/train-config.js';
import type { EvalRecord, TrainEvent } from '../train/trainer.js';
import { METRICS_FORMAT, type LogRecord, type StartRecord } from '../train/metrics-record.js';
import { validateCheckpoint } from '../train/checkpoint-check.js';
import { appendLine, fsError, removeStaleTemps, writeAtomic } from './files.js';
import { browserGone, chromiumPath } from './browser.js';
import { launchOnAdapter, type GpuMode } from './gpu-choice.js';
import { handleStopGracefully, StoppedBySignal, stopSignal, throwIfStopped, signalExitCode } from './lifecycle.js';
import { startServer } from './server.js';
import { saveTuneEntries, tuneRequestFromFlags, type TuneFlags } from './tune-file.js';

export interface TrainOptions {
  config?: string;
  set: string[];
  outDir?: string;
  resume?: string;
  verbose?: boolean;
  /** Which adapter (cli/gpu-choice.ts); default auto. */
  gpu?: GpuMode;
  /** --tune flags (validated here, before anything is written). */
  tune?: TuneFlags;
}

/** A preset name or a JSON file; `--set a.b=value` overrides (value parsed as JSON, else taken as a string). */
export function resolveConfig(spec: string | undefined, sets: string[]): TrainConfig {
  let json: Record<string, unknown>;
  if (!spec) throw new Error(`train: --config <preset|file.json> is required (presets: ${presetNames().join(', ')})`);
  if (PRESETS[spec]) json = structuredClone(PRESETS[spec]) as unknown as Record<string, unknown>;
  else if (existsSync(spec)) {
    try {
      json = JSON.parse(readFileSync(spec, 'utf8'));
    } catch (e) {
      throw new Error(`config '${spec}': ${(e as Error).message}`);
    }
  } else throw new Error(`config '${spec}' is neither a preset (${presetNames().join(', ')}) nor a file`);
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq < 1) throw new Error(`--set '${s}': expected key=value, e.g. --set train.seed=1`);
    const path = s.slice(0, eq).split('.');
    const bad = path.find((k) => k === '' || k === '__proto__' || k === 'constructor' || k === 'prototype');
    if (bad !== undefined) throw new Error(`--set '${s}': '${bad || '(empty)'}' is not a config key (see docs/CONFIG.md)`);
    let v: unknown = s.slice(eq + 1);
    try { v = JSON.parse(v as string); } catch { /* a plain string */ }
    let o = json as Record<string, unknown>;
    for (const k of path.slice(0, -1)) {
      if (!Object.prototype.hasOwnProperty.call(o, k) || typeof o[k] !== 'object' || o[k] === null) o[k] = {};
      o = o[k] as Record<string, unknown>;
    }
    o[path[path.length - 1]] = v;
  }
  return parseTrainConfig(json);
}

export async function loadDatasets(c: TrainConfig): Promise<{ train: ImageDataset; test: ImageDataset }> {
  const d = c.data;
  let train: ImageDataset, test: ImageDataset;
  switch (d.dataset) {
    case 'fashion_mnist': {
      const dir = d.dir || DEBIAN_FASHION_MNIST_DIR;
      if (!existsSync(dir)) throw new Error(`Fashion-MNIST not found at ${dir}: apt-get install -y dataset-fashion-mnist, or set data.dir`);
      train = await loadFashionMnistDir(dir, 'train');
      test = await loadFashionMnistDir(dir, 't10k');
      break;
    }
    case 'cifar10':
    case 'cifar100': {
      if (!d.dir) throw new Error(`data.dir must name the folder with the CIFAR binary files (CIFAR is not bundled)`);
      const load = d.dataset === 'cifar10' ? loadCifar10Dir : loadCifar100Dir;
      train = load(d.dir, 'train');
      test = load(d.dir, 'test');
      break;
    }
    case 'synthetic': {
      const m = c.model;
      const o = { numClasses: m.num_classes, channels: m.in_channels, height: m.image_size, width: m.image_size };
      train = syntheticDataset({ ...o, perClass: d.num_valid_per_class + d.n1 + d.m1, seed: c.train.seed + 1000, name: 'synthetic/train' });
      test = syntheticDataset({ ...o, perClass: 100, seed: c.train.seed + 2000, name: 'synthetic/test' });
      break;
    }
  }
  validateDataset(train);
  validateDataset(test);
  return { train, test };
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** Files that make a folder a run folder: a fresh run refuses a folder holding any of them. */
export const RUN_FILES = ['config.json', 'metrics.jsonl', 'checkpoint.safetensors', 'final.json', 'features'];

/** Fault injection for the crash tests only: DASO_FAULT=<point>:<step> kills this process with SIGKILL there
 * (points: progress, eval, checkpoint-write). */
function fault(point: string, step: number): void {
  if (process.env.DASO_FAULT === `${point}:${step}`) process.kill(process.pid, 'SIGKILL');
}

function readFileNamed(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw fsError(e, `read the ${what}`, path);
  }
}

/** Keeps the metrics records up to `step` (those the resumed checkpoint has seen); later ones would be recorded again. */
function truncateMetrics(file: string, step: number): number {
  if (!existsSync(file)) return 0;
  const text = new TextDecoder().decode(readFileNamed(file, 'metrics log'));
  const lines = text.split('\n').filter((l) => l.trim());
  const keep: string[] = [];
  for (const l of lines) {
    let rec: { step?: unknown };
    try {
      rec = JSON.parse(l);
    } catch {
      break; // a torn last line of a crashed writer
    }
    if (typeof rec.step !== 'number' || rec.step > step) break;
    keep.push(l);
  }
  if (keep.length !== lines.length) writeAtomic(file, keep.map((l) => `${l}\n`).join(''));
  return lines.length - keep.length;
}

export async function runTrain(root: string, o: TrainOptions): Promise<void> {
  handleStopGracefully();
  // A resumed run reuses the conv choices its checkpoint stored (the page ignores the mode then).
  const tune = tuneRequestFromFlags(o.tune ?? {});
  let config: TrainConfig;
  let resumeBytes: Uint8Array | null = null;
  let runDir: string;
  if (o.resume) {
    if (o.config || o.set.length) throw new Error('--resume takes the config stored in the checkpoint; drop --config/--set');
    runDir = resolve(o.resume);
    const file = join(runDir, 'checkpoint.safetensors');
    if (!existsSync(file)) {
      throw new Error(`--resume ${o.resume}: no checkpoint.safetensors there` +
        (existsSync(join(runDir, 'config.json')) ? ' (the run stopped before its first checkpoint: delete the folder and start it again)' : ''));
    }
    resumeBytes = readFileNamed(file, 'checkpoint');
    const ck = readSafetensors(resumeBytes, file);
    if (!ck.metadata.config) throw new Error(`${file}: no config in its metadata (not a daso-webgpu training checkpoint)`);
    try {
      config = parseTrainConfig(JSON.parse(ck.metadata.config));
    } catch (e) {
      throw new Error(`${file}: the config in its metadata: ${(e as Error).message}`);
    }
    validateCheckpoint(ck.tensors, ck.metadata, config, file, { training: true });
    const step = Number(ck.tensors.step.data[0]);
    const dropped = truncateMetrics(join(runDir, 'metrics.jsonl'), step);
    if (dropped) process.stdout.write(`metrics.jsonl: dropped ${dropped} record(s) made after the checkpoint (step ${step}); they will be made again\n`);
  } else {
    config = resolveConfig(o.config, o.set);
    runDir = resolve(o.outDir ?? join(root, 'runs', `${config.name}-${config.algorithm}-seed${config.train.seed}`));
    let present: string[] = [];
    try {
      present = existsSync(runDir) ? readdirSync(runDir).filter((f) => RUN_FILES.includes(f)) : [];
    } catch (e) {
      throw fsError(e, 'list the run folder', runDir);
    }
    if (present.length) {
      throw new Error(`${runDir} already holds a run (${present.join(', ')}): ` +
        (present.includes('checkpoint.safetensors') ? `continue it with --resume ${runDir}, or ` : '') + 'choose another --out-dir, or delete the folder');
    }
  }
  try {
    mkdirSync(runDir, { recursive: true });
  } catch (e) {
    throw fsError(e, 'create the run folder', runDir);
  }
  const stale = removeStaleTemps(runDir);
  if (stale.length) process.stdout.write(`removed ${stale.length} temp file(s) of a writer that died: ${stale.join(', ')}\n`);
  const data = await loadDatasets(config);
  chromiumPath(); // a missing browser is reported before anything is written
  throwIfStopped('before starting the browser; nothing was written');
  const metrics = join(runDir, 'metrics.jsonl');
  process.stdout.write(`run ${runDir}\n${config.algorithm} on ${data.train.name} (${data.train.n} train, ${data.test.n} test), ` +
    `WRN-${config.model.depth}-${config.model.width}, ${config.max_iter} steps\n`);

  const server = await startServer(root);
  const io = server.io.files;
  const ref = (d: ImageDataset, key: string) => {
    io.set(`${key}_images`, d.images);
    io.set(`${key}_labels`, new Uint8Array(Int32Array.from(d.labels).buffer));
    return { name: d.name, n: d.n, channels: d.channels, height: d.height, width: d.width, numClasses: d.numClasses, imagesUrl: server.io.url(`${key}_images`), labelsUrl: server.io.url(`${key}_labels`) };
  };
  const trainRef = ref(data.train, 'train');
  const testRef = ref(data.test, 'test');
  if (resumeBytes) io.set('resume', resumeBytes);
  let final: { final: EvalRecord; median: Record<string, number> } | null = null;
  let stoppedAt: number | null = null;
  const session = await launchOnAdapter(o.gpu ?? 'auto', server.url, !!o.verbose, (m) => process.stdout.write(`${m}\n`))
    .catch(async (e) => { await server.close(); throw e; });
  const { chromium, page } = session;
  try {
    throwIfStopped('before the run started; nothing was trained');
    process.stdout.write(`${session.summary}\n`);
    // Written once the page has a GPU device: a run that could not start leaves no run files behind.
    writeAtomic(join(runDir, 'config.json'), JSON.stringify(config, null, 2));
    await page.exposeFunction('dasoCheckpoint', (name: string) => {
      const bytes = server.io.received.get(name);
      if (!bytes) throw new Error(`checkpoint '${name}' was not uploaded`);
      const step = Number(readSafetensors(bytes, name).tensors.step?.data[0] ?? -1);
      writeAtomic(join(runDir, `${name}.safetensors`), bytes, () => fault('checkpoint-write', step));
      server.io.received.delete(name);
    });
    await page.exposeFunction('dasoFeatures', (path: string) => {
      const bytes = server.io.received.get('features');
      if (!bytes) throw new Error(`features for '${path}' were not uploaded`);
      if (!/^features\/(step-\d{6,}|final)\.safetensors$/.test(path)) throw new Error(`features path '${path}' is not features/step-NNNNNN.safetensors or features/final.safetensors`);
      mkdirSync(join(runDir, 'features'), { recursive: true });
      writeAtomic(join(runDir, path), bytes);
      server.io.received.delete('features');
    });
    await page.exposeFunction('dasoReport', (e: TrainEvent) => {
      switch (e.type) {
        case 'start':
          // Once per run folder: a resumed run's file stays equal to an uninterrupted run's.
          if (!existsSync(metrics) || statSync(metrics).size === 0) {
            appendLine(metrics, JSON.stringify({
              kind: 'start', format: METRICS_FORMAT, step: e.startStep, algorithm: config.algorithm, split: e.split, tune: e.tune.mode, conv_choices: e.convChoices,
            } satisfies StartRecord));
          }
          process.stdout.write(`labeled per class ${e.split.labeled.join(' ')}\nunlabeled per class ${e.split.unlabeled.join(' ')}\n` +
            `${e.params} parameters, ${e.dispatches} dispatches per step in one submission, starting at step ${e.startStep}\n`);
          process.stdout.write(`conv rungs (--tune ${e.tune.mode}${e.tune.mode === 'resumed' ? ': the choices stored in the checkpoint' : ''}` +
            `${e.tune.mode === 'fresh' ? `, tuned in ${(e.tune.tuneMs / 1000).toFixed(1)} s, ${e.tune.notReached.length} left to the rule by the budget` : ''}):\n${e.convs.join('\n')}\n`);
          if (e.tune.mode === 'fresh') process.stdout.write(`tune cache: ${saveTuneEntries(tune.path, e.tune)} entries written to ${tune.path}\n`);
          break;
        case 'progress':
          process.stdout.write(`step ${e.step}/${config.max_iter} | loss ${e.loss.toFixed(4)} (cls ${e.loss_cls.toFixed(4)} u ${e.loss_u.toFixed(4)} ` +
            `align ${e.loss_align.toFixed(4)}) | mask ${e.mask_ratio.toFixed(2)}${e.daso_active ? ' | DASO on' : ''} | ${e.steps_per_s.toFixed(3)} steps/s | ETA ${fmtTime(e.eta_s)}\n`);
          appendLine(metrics, JSON.stringify({
            kind: 'log', step: e.step, loss: e.loss, loss_cls: e.loss_cls, loss_u: e.loss_u, loss_align: e.loss_align,
            mask_ratio: e.mask_ratio, daso_active: e.daso_active, pl: e.pl,
          } satisfies LogRecord));
          fault('progress', e.step);
          break;
        case 'eval':
          fault('eval', e.record.step);
          appendLine(metrics, JSON.stringify(e.record));
          process.stdout.write(`eval @${e.record.step}: test top1 ${pct(e.record.test.top1)} balanced ${pct(e.record.test.balanced)} ` +
            `LA ${pct(e.record.test.top1_la)}${e.record.valid ? ` | valid top1 ${pct(e.record.valid.top1)}` : ''}` +
            `${e.record.pseudo_label ? ` | PL acc ${pct(e.record.pseudo_label.top1)} mask ${e.record.pseudo_label.mask_ratio.toFixed(2)}` : ''}\n`);
          break;
        case 'checkpoint':
          process.stdout.write(`checkpoint @${e.step} -> ${join(runDir, `${e.name}.safetensors`)}\n`);
          break;
        case 'stopped':
          stoppedAt = e.step;
          break;
        case 'done':
          final = { final: e.final, median: e.median };
          break;
      }
    });
    // The run can last hours: start it and wait for the page to call back, rather than holding one CDP call open
    // (puppeteer's protocol timeout would end a long evaluate).
    type Result = { ok: true } | { ok: false; error: string };
    let finish: (r: Result) => void = () => undefined;
    const finished = new Promise<Result>((ok) => { finish = ok; });
    await page.exposeFunction('dasoFinished', (r: Result) => finish(r));
    const crashed = new Promise<Result>((ok) => page.once('error', (e) => ok({ ok: false, error: `the page crashed: ${e.message}` })));
    // A signal asks the page to stop at the next step boundary; it then saves a checkpoint and finishes.
    const onStop = () => void page.evaluate((why) => (window as unknown as { daso: { stopTrain(r: string): void } }).daso.stopTrain(why), 'signal').catch(() => undefined);
    stopSignal.addEventListener('abort', onStop);
    try {
      await page.evaluate(
        (req) => {
          const w = window as unknown as { daso: { train: (r: unknown) => Promise<unknown> }; dasoFinished: (r: unknown) => void };
          void w.daso.train(req).then((r) => w.dasoFinished(r));
        },
        { config, train: trainRef, test: testRef, resumeUrl: resumeBytes ? server.io.url('resume') : null, ioBase: server.io.url(''), tune: tune.request } as never,
      );
      if (stopSignal.aborted) onStop();
      const res = await Promise.race([finished, crashed, browserGone(chromium.browser)]);
      if (!res.ok) throw new Error(res.error);
    } finally {
      stopSignal.removeEventListener('abort', onStop);
    }
  } finally {
    await chromium.close();
    await server.close();
  }
  const code = signalExitCode();
  if (stoppedAt !== null) {
    const msg = `stopped after step ${stoppedAt}; checkpoint ${join(runDir, 'checkpoint.safetensors')} holds it: continue with daso train --resume ${runDir}`;
    if (code !== null) throw new StoppedBySignal(code, msg);
    process.stdout.write(`${msg}\n`);
    return;
  }
  if (final) {
    const f = final as { final: EvalRecord; median: Record<string, number> };
    writeAtomic(join(runDir, 'final.json'), JSON.stringify(f, null, 2));
    const t = f.final.test;
    process.stdout.write(`final (EMA model, full test set, ${t.n} images): top1 ${pct(t.top1)} balanced ${pct(t.balanced)} LA ${pct(t.top1_la)}\n` +
      `per-class recall (head to tail): ${t.recall.map((r) => (100 * r).toFixed(1)).join(' ')}\n` +
      `median of the last ${config.eval.median_of} evaluations (test subset): top1 ${pct(f.median.top1)}\nwrote ${join(runDir, 'final.json')}\n`);
  }
  if (code !== null) throw new StoppedBySignal(code, 'stopped by a signal after the last step; the run is complete');
}
