// Runs one comparison case in the page: check first, then time both implementations in alternating order.
//
// Ours: wall = CommandList.run() (one submit -> queue.onSubmittedWorkDone()); GPU = CommandList.timed() (timestamp
// queries, one pass per dispatch, summed), as src/harness/bench.ts does.
// tfjs: wall = the op's tfjs calls (which record into tfjs's command encoder and submit every 15 dispatches) plus a
// flush of tfjs's pending command encoder (backend.submitQueue(), after ending the open compute pass) and
// `await backend.device.queue.onSubmittedWorkDone()` on tfjs's own device. GPU = tf.time()'s kernelMs (timestamp
// queries around every program). Completion check: a readback right after the timed wait (readbackAfterDoneMs) and
// one end-to-end run waited with `await t.data()` (dataWallMs).
import * as tf from '@tensorflow/tfjs-core';
import { Runtime } from '../../src/gpu/runtime.js';
import { buildSslStep, type SslStep } from '../../src/ssl/ssl-step.js';
import { DEFAULT_STEP_CONFIG, type StepConfig } from '../../src/train/config.js';
import { TrainState } from '../../src/train/model-state.js';
import { normal, rngFromSeed } from '../../src/train/random.js';
import type { WrnConfig } from '../../src/nn/wrn-spec.js';
import { buildOurs, buildTfjs, opInputs, opNote, type OpCase, type OursOp, type TfjsOp } from './ops.js';
import type { CompareCase, CompareRow, OutputCheck, TfjsTimes } from './types.js';
import { check, emptyTimes, errorText, nchwToNhwc, summarise } from './util.js';
import { TfWrn } from './wrn-tfjs.js';

/** The parts of tfjs-backend-webgpu's WebGPUBackend the timing uses (public methods of the class). */
interface WebgpuBackendInternals {
  device: GPUDevice;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

export function tfBackend(): WebgpuBackendInternals {
  return tf.backend() as unknown as WebgpuBackendInternals;
}

/** Submits whatever tfjs has recorded but not submitted, then waits until tfjs's queue has finished it all. */
export async function tfjsDone(): Promise<void> {
  const b = tfBackend();
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  b.submitQueue();
  await b.device.queue.onSubmittedWorkDone();
}

type Log = (s: string) => void;

function emptyTfjs(): TfjsTimes {
  return { ...emptyTimes(), readbackAfterDoneMs: [], dataWallMs: null, numTensorsBefore: null, numTensorsAfter: null };
}

function baseRow(c: CompareCase): CompareRow {
  return {
    kind: c.kind, op: c.op, shape: c.shape, flops: 0, ours: emptyTimes(), tfjs: emptyTfjs(),
    ratio: null, oursGflops: null, tfjsGflops: null, checks: [], maxAbsErr: null, maxAbsRef: null, status: 'ok', note: '',
  };
}

/** Runs `f` inside validation and out-of-memory error scopes of `device`; a captured GPU error becomes a throw. */
async function scoped<T>(device: GPUDevice, what: string, f: () => Promise<T>): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let out: T | undefined, thrown: unknown = null;
  try {
    out = await f();
  } catch (e) {
    thrown = e;
  }
  const v = await device.popErrorScope();
  const m = await device.popErrorScope();
  if (thrown) throw thrown;
  const err = v ?? m;
  if (err) throw new Error(`${what}: WebGPU ${v ? 'validation' : 'out-of-memory'} error: ${err.message}`);
  return out as T;
}

function finish(row: CompareRow): CompareRow {
  summarise(row.ours);
  summarise(row.tfjs);
  const ow = row.ours.wallMsMedian, tw = row.tfjs.wallMsMedian;
  row.ratio = ow && tw ? tw / ow : null;
  row.oursGflops = ow && row.flops ? row.flops / (ow * 1e6) : null;
  row.tfjsGflops = tw && row.flops ? row.flops / (tw * 1e6) : null;
  if (row.checks.length) {
    const worst = row.checks.reduce((a, b) => (b.maxAbsErr / (b.tol || 1) > a.maxAbsErr / (a.tol || 1) ? b : a));
    row.maxAbsErr = worst.maxAbsErr;
    row.maxAbsRef = worst.maxAbsRef;
  }
  if (row.ours.error) row.status = 'ours error';
  else if (row.tfjs.error) row.status = 'tfjs error';
  else if (!row.checks.length || row.checks.some((k) => !k.ok)) row.status = 'mismatch';
  else row.status = 'ok';
  return row;
}

export async function runCase(rt: Runtime, c: CompareCase, reps: number, log: Log): Promise<CompareRow> {
  return finish(c.kind === 'step' ? await runStep(rt, c, reps, log) : await runOp(rt, c, reps, log));
}

async function runOp(rt: Runtime, c: OpCase, reps: number, log: Log): Promise<CompareRow> {
  const row = baseRow(c);
  row.note = opNote(c);
  const inp = opInputs(c);
  const q = rt.device.queue;
  let ours: OursOp | null = null;
  let tfj: TfjsOp | null = null;
  let oursOut: Float32Array[] = [];
  try {
    // Ours: build, warm up, read the outputs.
    try {
      ours = await scoped(rt.device, 'ours', async () => {
        const o = await buildOurs(rt, c, inp);
        row.flops = o.flops;
        const t0 = performance.now();
        await o.list.run();
        row.ours.warmupMs = performance.now() - t0;
        oursOut = await Promise.all(o.outputs.map(async (x) => (await rt.read(x.t)) as Float32Array));
        return o;
      });
    } catch (e) {
      row.ours.error = errorText(e);
    }
    // tfjs: build, warm up, read the outputs and compare.
    try {
      const dev = tfBackend().device;
      tfj = await scoped(dev, 'tfjs', async () => {
        const t = buildTfjs(c, inp);
        try {
          await tfjsDone();
          const t0 = performance.now();
          const outs = tf.tidy(t.run);
          await tfjsDone();
          row.tfjs.warmupMs = performance.now() - t0;
          const vals = await Promise.all(outs.map((o) => o.data() as Promise<Float32Array>));
          tf.dispose(outs);
          if (ours) {
            if (vals.length !== oursOut.length) throw new Error(`tfjs gave ${vals.length} outputs, ours ${oursOut.length}`);
            row.checks = vals.map((v, i): OutputCheck => check(ours!.outputs[i].name, oursOut[i], t.toOurs[i](v)));
          }
          return t;
        } catch (e) {
          t.dispose();
          throw e;
        }
      });
    } catch (e) {
      row.tfjs.error = errorText(e);
    }
    if (row.checks.some((k) => !k.ok)) log(`MISMATCH ${c.op} ${c.shape}: ${row.checks.filter((k) => !k.ok).map((k) => `${k.name} err ${k.maxAbsErr} > tol ${k.tol}`).join('; ')}`);

    // Timed repetitions, alternating: ours (wall, then GPU), tfjs (wall, then kernel time).
    if (tfj) row.tfjs.numTensorsBefore = tf.memory().numTensors;
    for (let r = 0; r < reps; r++) {
      if (ours) {
        try {
          await q.onSubmittedWorkDone();
          const t0 = performance.now();
          await ours.list.run();
          row.ours.wallMs.push(performance.now() - t0);
          if (rt.info?.timestamps) {
            const tm = await ours.list.timed();
            row.ours.gpuMs.push(tm.reduce((s, x) => s + x.gpuNs, 0) / 1e6);
          }
        } catch (e) {
          row.ours.error = errorText(e);
          ours.release();
          ours = null;
        }
      }
      if (tfj) {
        try {
          await tfjsDone();
          const t0 = performance.now();
          const outs = tf.tidy(tfj.run);
          await tfjsDone();
          row.tfjs.wallMs.push(performance.now() - t0);
          const t1 = performance.now();
          await outs[0].data();
          row.tfjs.readbackAfterDoneMs.push(performance.now() - t1);
          tf.dispose(outs);
          const info = await tf.time(() => tf.dispose(tf.tidy(tfj!.run)));
          await tfjsDone();
          if (typeof info.kernelMs === 'number') row.tfjs.gpuMs.push(info.kernelMs);
        } catch (e) {
          row.tfjs.error = errorText(e);
          tfj.dispose();
          tfj = null;
        }
      }
      log(`${c.op} ${c.shape}: rep ${r + 1}/${reps}: ours ${row.ours.wallMs.at(-1)?.toFixed(2) ?? '-'} ms, tfjs ${row.tfjs.wallMs.at(-1)?.toFixed(2) ?? '-'} ms`);
    }
    if (tfj) {
      try {
        // End to end with a data() wait instead of onSubmittedWorkDone (includes the output's copy and map).
        await tfjsDone();
        const t0 = performance.now();
        const outs = tf.tidy(tfj.run);
        await outs[0].data();
        row.tfjs.dataWallMs = performance.now() - t0;
        tf.dispose(outs);
        await tfjsDone();
        row.tfjs.numTensorsAfter = tf.memory().numTensors;
      } catch (e) {
        row.tfjs.error = errorText(e);
      }
    }
    return row;
  } finally {
    ours?.release();
    tfj?.dispose();
    rt.pool.trim(); // every case has other sizes: give the freed buffers back instead of pooling them
  }
}

const WRN28_2: WrnConfig = { depth: 28, width: 2, in_channels: 3, num_classes: 10, image_size: 32 };

function supervisedConfig(): StepConfig {
  const b = DEFAULT_STEP_CONFIG;
  return { algorithm: 'supervised', model: { ...WRN28_2 }, optim: { ...b.optim }, ema_decay: b.ema_decay, max_iter: b.max_iter, ssl: { ...b.ssl }, daso: { ...b.daso } };
}

/** The whole WRN-28-2 supervised step: ours through buildSslStep (as src/harness/step-bench.ts builds it), tfjs
 * through TfWrn loaded with our initial weights (transposed), on the same batch. The check compares the loss of the
 * first step (initial weights) and of the second (after one SGD update on the same batch: forward, gradients, weight
 * decay and the Nesterov update all agree or it differs). */
async function runStep(rt: Runtime, c: Extract<CompareCase, { kind: 'step' }>, reps: number, log: Log): Promise<CompareRow> {
  const row = baseRow(c);
  const cfg = supervisedConfig();
  row.note = 'ours: buildSslStep supervised (one submission; also EMA of params and BN buffers, 2 dispatches); ' +
    `tfjs: TfWrn + tf.variableGrads + tf.train.momentum(${cfg.optim.lr}, ${cfg.optim.momentum}, nesterov), weight decay ` +
    `${cfg.optim.weight_decay} as wd/2*sum(w^2) in the loss (all parameters), BN running stats assigned; no EMA. ` +
    'Checks: loss at step 0 (same initial weights, same batch) and at step 1 (after one update). GPU ms: ours one timed() step (one pass per dispatch); tfjs not measured for steps.';
  const B = c.B;
  const { in_channels: IC, image_size: S, num_classes: K } = WRN28_2;
  const crt = new Runtime(rt.device, rt.info); // own pool, as step-bench does
  // What this case owns (filled as it goes; released in `finally`).
  const own: { st?: TrainState; step?: SslStep; model?: TfWrn; opt?: tf.Optimizer; x?: tf.Tensor4D; onehot?: tf.Tensor2D } = {};
  const q = rt.device.queue;
  let loss0 = NaN, loss1 = NaN, tloss0 = NaN, tloss1 = NaN;
  try {
    const rnd = rngFromSeed(1);
    const x = normal(rnd, B * IC * S * S, 1);
    const y = Int32Array.from({ length: B }, () => Math.floor(rnd() * K));
    let params: Float32Array | null = null;
    try {
      params = await scoped(rt.device, 'ours', async () => {
        const st = own.st = new TrainState(crt, cfg.model);
        st.initialise(0);
        const tb = performance.now();
        const step = own.step = await buildSslStep(st, cfg, B, 0, null);
        log(`${c.op} B=${B}: ours built (${step.dispatches} dispatches, ${(performance.now() - tb).toFixed(0)} ms)`);
        row.flops = step.list.dispatches.reduce((sum, d) => sum + d.flops, 0);
        crt.pool.write(step.io.xLb, x);
        crt.pool.write(step.io.yLb, y);
        const p = (await crt.read(st.model.params)) as Float32Array;
        const t0 = performance.now();
        step.run(0);
        await q.onSubmittedWorkDone();
        row.ours.warmupMs = performance.now() - t0;
        loss0 = (await step.readLosses(0)).lossCls;
        log(`${c.op} B=${B}: ours warm-up step ${row.ours.warmupMs.toFixed(0)} ms, loss ${loss0}`);
        return p;
      });
    } catch (e) {
      row.ours.error = errorText(e);
    }
    if (params && own.st) {
      const st = own.st, p = params;
      try {
        await scoped(tfBackend().device, 'tfjs', async () => {
          const model = own.model = new TfWrn(st.spec, (name) => st.paramLayout.unpack(p, name));
          const xt = own.x = tf.tensor4d(nchwToNhwc(x, B, IC, S, S), [B, S, S, IC]);
          const oh = own.onehot = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(y, 'int32'), K), 'float32') as tf.Tensor2D);
          const opt = own.opt = tf.train.momentum(cfg.optim.lr, cfg.optim.momentum, cfg.optim.nesterov);
          await tfjsDone();
          const t0 = performance.now();
          const ce = model.trainStep(xt, oh, opt, cfg.optim.weight_decay);
          await tfjsDone();
          row.tfjs.warmupMs = performance.now() - t0;
          tloss0 = (await ce.data())[0];
          ce.dispose();
          log(`${c.op} B=${B}: tfjs warm-up step ${row.tfjs.warmupMs.toFixed(0)} ms, loss ${tloss0}`);
        });
      } catch (e) {
        row.tfjs.error = errorText(e);
      }
    } else row.tfjs.error = 'not run: our step failed, so there are no initial weights to load';
    if (!row.ours.error && !row.tfjs.error) row.checks.push(check('loss at step 0 (initial weights)', [loss0], [tloss0]));
    else if (!row.ours.error && Number.isFinite(loss0)) row.note += ` Ours loss at step 0: ${loss0} (ln 10 = ${Math.log(10).toFixed(4)}).`;

    if (own.model) row.tfjs.numTensorsBefore = tf.memory().numTensors;
    for (let r = 0; r < reps; r++) {
      if (own.step && !row.ours.error) {
        try {
          await q.onSubmittedWorkDone();
          const t0 = performance.now();
          own.step.run(r + 1);
          await q.onSubmittedWorkDone();
          row.ours.wallMs.push(performance.now() - t0);
          if (r === 0) loss1 = (await own.step.readLosses(1)).lossCls;
          log(`${c.op} B=${B}: ours step ${r + 1}/${reps}: ${row.ours.wallMs[r].toFixed(1)} ms`);
        } catch (e) {
          row.ours.error = errorText(e);
        }
      }
      if (own.model && own.opt && own.x && own.onehot && !row.tfjs.error) {
        try {
          await tfjsDone();
          const t0 = performance.now();
          const ce = own.model.trainStep(own.x, own.onehot, own.opt, cfg.optim.weight_decay);
          await tfjsDone();
          row.tfjs.wallMs.push(performance.now() - t0);
          if (r === 0) tloss1 = (await ce.data())[0];
          ce.dispose();
          log(`${c.op} B=${B}: tfjs step ${r + 1}/${reps}: ${row.tfjs.wallMs[r].toFixed(1)} ms`);
        } catch (e) {
          row.tfjs.error = errorText(e);
        }
      }
    }
    if (own.model) {
      await tfjsDone();
      row.tfjs.numTensorsAfter = tf.memory().numTensors;
    }
    if (!row.ours.error && !row.tfjs.error) row.checks.push(check('loss at step 1 (after one update)', [loss1], [tloss1]));
    if (own.step && !row.ours.error && rt.info?.timestamps) {
      try {
        log(`${c.op} B=${B}: ours: profiling one step (timed(), one pass per dispatch)`);
        const tm = await own.step.list.timed();
        row.ours.gpuMs.push(tm.reduce((sum, k) => sum + k.gpuNs, 0) / 1e6);
      } catch (e) {
        row.ours.error = errorText(e);
      }
    }
    return row;
  } finally {
    own.step?.dispose();
    own.st?.dispose();
    crt.dispose();
    own.model?.dispose();
    own.opt?.dispose();
    own.x?.dispose();
    own.onehot?.dispose();
  }
}
