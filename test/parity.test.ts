// `daso step` against PyTorch 1.13's step on the same checkpoint and batch (fixtures made by scripts/torch_reference.py;
// see scripts/README-parity.md): single steps and logit-adjusted steps (the page function the CLI calls, in one shared
// page so that steps of one shape compile once), and a chain of 3 steps through the real CLI (its own server and
// Chromium) where each step's --out checkpoint is the next step's --checkpoint.
//
// Tolerances: PyTorch's own f32-vs-f64 error is ~5e-7 on logits and ~6e-6 x max|g| on gradients (README-parity).
// Measured here (SwiftShader, 2026-11-28): logits 4.7e-7 / 3.7e-7 / 5.6e-7 (WRN-10-1 / WRN-28-1 / WRN-28-2), worst
// gradient 3.0e-6 / 3.3e-6 / 5.5e-6 x max|g|, updated
// tensors within 2e-4 of their step movement. The bounds (logits 2e-5, gradients 1e-4) leave ~30x room for other
// summation orders (split-K, two-stage BN) and stay far below what a wrong formula gives. The optimizer is also
// checked from our own gradients, so an SGD bug cannot hide behind gradient noise.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StTensor } from '../src/nn/safetensors.js';
import { checkpointSpecFor, validateCheckpoint } from '../src/train/checkpoint-check.js';
import { logitAdjustVector, parseStepFileConfig, type StepFileConfig } from '../src/train/step-config.js';
import { closeStepPage, loadSt, relMaxErr, runDasoStep, runStepInPage, toNumbers, type StepRun } from './helpers/parity.js';

afterAll(closeStepPage);

const FIXTURES = ['supervised-wrn10-1', 'supervised-wrn28-1', 'supervised-wrn28-2', 'fixmatch-wrn10-1', 'daso-warmup', 'daso-active', 'daso-refresh',
  'daso-constant-v', 'supervised-la-wrn10-1', 'daso-la'];
const LOSSES = ['out.loss', 'out.loss_cls', 'out.loss_u', 'out.loss_align', 'out.loss_u_weighted', 'out.loss_align_weighted'];

function group(names: string[], prefix: string): string[] {
  return names.filter((n) => n.startsWith(prefix));
}

interface StepCase {
  name: string;
  cfg: StepFileConfig;
  run: StepRun;
  /** The checkpoint and the outputs together, as PyTorch's expected file holds them. */
  got: Record<string, StTensor>;
  want: Record<string, StTensor>;
  /** PyTorch's input state of this step: the scale of how far the step moved each tensor. */
  base: Record<string, StTensor>;
  /** Our input state of this step (the SGD update is recomputed from it and our own gradients). */
  ownInput: Record<string, StTensor>;
}

function readConfig(dir: string): StepFileConfig {
  return parseStepFileConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
}

function makeCase(name: string, cfg: StepFileConfig, run: StepRun, want: Record<string, StTensor>, base: Record<string, StTensor>, ownInput: Record<string, StTensor>): StepCase {
  return { name, cfg, run, got: { ...run.checkpoint, ...run.outputs }, want, base, ownInput };
}

/** The two files' layout: --out is a checkpoint for this config and nothing else; the outputs file holds only
 * outputs and gradients; together they hold every tensor PyTorch wrote. */
function checkFiles(c: StepCase): void {
  validateCheckpoint(c.run.checkpoint, c.run.checkpointMeta, c.cfg, c.run.outPath);
  expect(Object.keys(c.run.checkpoint).sort()).toEqual(Object.keys(checkpointSpecFor(c.cfg)).sort());
  expect(Object.keys(c.run.outputs).filter((k) => !k.startsWith('out.') && !k.startsWith('grad.'))).toEqual([]);
  expect(Object.keys(c.want).filter((k) => !(k in c.got))).toEqual([]);
}

/** The comparisons of one step with PyTorch (`get` is called when the tests run, after the step ran). */
function defineChecks(get: () => StepCase): void {
  it('logits and every loss (unweighted under the plain names, weighted parts, total)', () => {
    const { name, got, want, cfg } = get();
    const e = relMaxErr(toNumbers(got['out.logits_lb']), toNumbers(want['out.logits_lb']));
    console.log(`${name}: logits max|diff|/max|ref| ${e.toExponential(2)}`);
    expect(e).toBeLessThan(2e-5);
    const supervised = cfg.algorithm === 'supervised';
    // The supervised fixtures hold only out.loss (their files predate the loss parts and are kept as they are):
    // the classification loss is the whole loss, and there is no unlabeled or alignment loss.
    if (!supervised) expect(LOSSES.filter((k) => !want[k]), 'losses missing from the fixture').toEqual([]);
    const wantLoss = (k: string) => (want[k] ? Number(want[k].data[0]) : k === 'out.loss_cls' ? Number(want['out.loss'].data[0]) : 0);
    let worst = 0;
    for (const k of LOSSES) {
      const l = Number(got[k].data[0]), lw = wantLoss(k);
      worst = Math.max(worst, Math.abs(l - lw) / Math.max(Math.abs(lw), 1e-30));
      expect(Math.abs(l - lw), `${k}: ${l} vs PyTorch ${lw}`).toBeLessThanOrEqual(1e-4 * Math.abs(lw) + 1e-7);
    }
    console.log(`${name}: losses ${LOSSES.map((k) => `${k.slice(4)} ${Number(got[k].data[0]).toPrecision(6)}`).join(', ')}; worst relative error ${worst.toExponential(2)}`);
  });

  it('semi-supervised outputs: pseudo-labels and mask exactly, features, q_hat and blend weights closely', () => {
    const { got, want, cfg } = get();
    if (cfg.algorithm === 'supervised') {
      expect(Object.keys(got).filter((k) => /^out\.(mask|pseudo_label|q_hat|blend_weight|logits_ulb|feat_ulb)/.test(k))).toEqual([]);
      return;
    }
    expect(Array.from(toNumbers(got['out.pseudo_label']))).toEqual(Array.from(toNumbers(want['out.pseudo_label'])));
    expect(Array.from(toNumbers(got['out.mask']))).toEqual(Array.from(toNumbers(want['out.mask'])));
    for (const k of ['out.logits_ulb_w', 'out.logits_ulb_s', 'out.feat_ulb_w']) {
      expect(relMaxErr(toNumbers(got[k]), toNumbers(want[k])), k).toBeLessThan(2e-5);
    }
    for (const k of ['out.q_hat', 'out.blend_weight']) {
      const g = toNumbers(got[k]), w = toNumbers(want[k]);
      let e = 0;
      for (let i = 0; i < w.length; i++) e = Math.max(e, Math.abs(g[i] - w[i]));
      expect(e, k).toBeLessThan(2e-5);
    }
  });

  it('DASO state: queue contents (oldest first), lengths, prototypes and both histograms', () => {
    const { got, want, cfg } = get();
    if (cfg.algorithm !== 'daso') return;
    for (const k of ['daso.queue_len', 'daso.pl_hist', 'daso.pl_window']) {
      expect(Array.from(toNumbers(got[k])), k).toEqual(Array.from(toNumbers(want[k])));
    }
    for (const k of ['daso.queue', 'daso.prototypes']) {
      expect(relMaxErr(toNumbers(got[k]), toNumbers(want[k])), k).toBeLessThan(2e-5);
    }
  });

  it('every parameter gradient', () => {
    const { name, got, want } = get();
    const worst: [string, number][] = [];
    for (const k of group(Object.keys(want), 'grad.')) {
      const e = relMaxErr(toNumbers(got[k]), toNumbers(want[k]), 1e-8);
      worst.push([k, e]);
    }
    worst.sort((a, b) => b[1] - a[1]);
    console.log(`${name}: worst gradient errors (max|diff|/max|ref|): ${worst.slice(0, 3).map(([k, e]) => `${k} ${e.toExponential(2)}`).join(', ')}`);
    expect(worst[0][1], `worst gradient ${worst[0][0]}`).toBeLessThan(1e-4);
  });

  it('updated parameters, momentum, BN running statistics and EMA', () => {
    const { name, got, want, base: input } = get();
    let worstUpd = 0;
    for (const prefix of ['model.', 'ema.', 'optim.momentum.']) {
      for (const k of group(Object.keys(want), prefix)) {
        const g = toNumbers(got[k]), w = toNumbers(want[k]);
        if (k.endsWith('num_batches_tracked')) {
          // The model's counter is exact; the EMA's is a blend PyTorch keeps as a float (we store it rounded).
          expect(g[0], k).toBe(Math.round(w[0]));
          continue;
        }
        // Updated tensors are compared on the scale of how far the step moved them (plus a floor of f32 ulps).
        const base = toNumbers(input[k] ?? want[k]);
        let moved = 0, err = 0, mag = 0;
        for (let i = 0; i < w.length; i++) {
          moved = Math.max(moved, Math.abs(w[i] - base[i]));
          err = Math.max(err, Math.abs(g[i] - w[i]));
          mag = Math.max(mag, Math.abs(w[i]));
        }
        worstUpd = Math.max(worstUpd, err / (moved + 1e-12));
        expect(err, `${k}: max error ${err} vs movement ${moved}`).toBeLessThanOrEqual(2e-3 * moved + 1e-6 * mag + 1e-7);
      }
    }
    console.log(`${name}: worst updated-tensor error relative to its movement in the step: ${worstUpd.toExponential(2)}`);
    expect(Number(got.step.data[0])).toBe(Number(want.step.data[0]));
  });

  it('the SGD update recomputed from our own gradients (Nesterov, weight decay on every parameter)', () => {
    // w' = w - lr*(d + m*buf'), buf' = m*buf + d, d = g + wd*w  (PyTorch's formulation)
    const { got, want, cfg, ownInput: input } = get();
    expect(cfg.optim.nesterov).toBe(true);
    const { lr, momentum: m, weight_decay: wd } = cfg.optim;
    let worstBuf = 0, worstW = 0;
    for (const k of group(Object.keys(want), 'grad.')) {
      const p = k.slice(5);
      const w = toNumbers(input[`model.${p}`]), buf = toNumbers(input[`optim.momentum.${p}`]), g = toNumbers(got[k]);
      const w1 = toNumbers(got[`model.${p}`]), buf1 = toNumbers(got[`optim.momentum.${p}`]);
      for (let i = 0; i < w.length; i++) {
        const d = g[i] + wd * w[i];
        const b = m * buf[i] + d;
        worstBuf = Math.max(worstBuf, Math.abs(buf1[i] - b) - 1e-6 * Math.abs(b));
        worstW = Math.max(worstW, Math.abs(w1[i] - (w[i] - lr * (d + m * b))) - 1e-6 * Math.abs(w[i]));
      }
    }
    expect(worstBuf).toBeLessThanOrEqual(1e-7);
    expect(worstW).toBeLessThanOrEqual(1e-7);
  });
}

describe.each(FIXTURES)('daso step vs PyTorch: %s', (name) => {
  const dir = `test/fixtures/parity/${name}`;
  let c: StepCase | undefined;

  it('runs the step: the new checkpoint is valid, the outputs hold the rest, together every tensor PyTorch wrote', async () => {
    const cfg = readConfig(dir);
    // The logit-adjusted fixtures must really be adjusted (else they would test nothing new).
    expect(cfg.logit_adjust.enabled).toBe(name.includes('-la'));
    const input = loadSt(`${dir}/checkpoint.safetensors`);
    c = makeCase(name, cfg, await runStepInPage(dir), loadSt(`${dir}/expected.safetensors`), input, input);
    checkFiles(c);
  }, 600_000);

  defineChecks(() => {
    if (!c) throw new Error(`${name}: the step did not run (see the first test's failure)`);
    return c;
  });
});

describe('daso step chained 3 times vs PyTorch: daso-chain (each --out fed back as --checkpoint)', () => {
  // t = 3, 4, 5 with warmup 5 and pl_update_period 4: step 3 refreshes the histogram in warm-up, step 4 is warm-up,
  // step 5 is DASO's first active step, blending with the histogram step 3 made. PyTorch's chain carries its own
  // float32 state, ours carries ours; each step is compared with the same tolerances as a single step.
  const dir = 'test/fixtures/parity/daso-chain';
  const steps: StepCase[] = [];
  for (let i = 0; i < 3; i++) {
    describe(`step ${i}`, () => {
      it(i === 0 ? 'runs the CLI on the fixture checkpoint' : `runs the CLI on step ${i - 1}'s --out checkpoint`, () => {
        const cfg = readConfig(dir);
        const prev = steps[i - 1];
        if (i > 0 && !prev) throw new Error(`step ${i - 1} did not run (see its failure)`);
        const checkpoint = i === 0 ? `${dir}/checkpoint.safetensors` : prev.run.outPath;
        // One step passes --outputs explicitly; the others use the default path next to --out.
        const outputs = i === 1 ? join(mkdtempSync(join(tmpdir(), 'daso-step-outputs-')), 'step1-outputs.safetensors') : undefined;
        const run = runDasoStep(dir, { checkpoint, batch: `${dir}/batch-${i}.safetensors`, outputs });
        const want = loadSt(`${dir}/expected-${i}.safetensors`);
        const input = i === 0 ? loadSt(checkpoint) : prev.run.checkpoint;
        steps[i] = makeCase(`daso-chain step ${i}`, cfg, run, want, i === 0 ? input : prev.want, input);
        checkFiles(steps[i]);
        expect(Number(run.checkpoint.step.data[0])).toBe(3 + i + 1);
      }, 600_000);
      defineChecks(() => {
        if (!steps[i]) throw new Error(`daso-chain step ${i} did not run (see its failure)`);
        return steps[i];
      });
    });
  }
});

describe('daso step config: logit adjustment', () => {
  const base = { algorithm: 'supervised', model: { depth: 10, width: 1, in_channels: 1, num_classes: 3, image_size: 8 } };

  it('enabled without class_counts is an error naming the key and the fix', () => {
    expect(() => parseStepFileConfig({ ...base, logit_adjust: { enabled: true } }))
      .toThrow(/config key 'logit_adjust\.class_counts' is missing: .*3 positive integers, model\.num_classes.*set logit_adjust\.enabled to false/);
  });

  it('wrong lists and taus are errors naming the key', () => {
    const bad: [unknown, RegExp][] = [
      [{ enabled: true, class_counts: [5, 3] }, /'logit_adjust\.class_counts' has 2 entries; model\.num_classes is 3/],
      [{ enabled: false, class_counts: [5, 3, 2, 1] }, /'logit_adjust\.class_counts' has 4 entries/],
      [{ enabled: true, class_counts: [5, 0, 2] }, /'logit_adjust\.class_counts\[1\]' = 0 must be a positive integer/],
      [{ enabled: true, class_counts: [5, 2.5, 2] }, /'logit_adjust\.class_counts\[1\]' = 2\.5 must be a positive integer/],
      [{ enabled: true, class_counts: null }, /'logit_adjust\.class_counts' = null is not a list/],
      [{ enabled: true, tau: 11, class_counts: [1, 2, 3] }, /'logit_adjust\.tau' = 11 is out of range \[0, 10\]/],
      [{ enabled: 'yes' }, /'logit_adjust\.enabled': expected a boolean/],
      [{ enabled: true, class_counts: [1, 2, 3], prior: [1] }, /unknown config key 'logit_adjust\.prior'/],
    ];
    for (const [la, re] of bad) expect(() => parseStepFileConfig({ ...base, logit_adjust: la }), JSON.stringify(la)).toThrow(re);
  });

  it('the adjustment is tau * log(count / total) per class, off by default', () => {
    expect(logitAdjustVector(parseStepFileConfig(base))).toBeUndefined();
    const v = logitAdjustVector(parseStepFileConfig({ ...base, logit_adjust: { enabled: true, tau: 2, class_counts: [6, 3, 1] } }))!;
    expect(Array.from(v)).toEqual([Math.fround(2 * Math.log(0.6)), Math.fround(2 * Math.log(0.3)), Math.fround(2 * Math.log(0.1))]);
  });

  it('the CLI refuses such a config before starting a browser, naming the file and the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daso-step-la-'));
    const cfg = join(dir, 'la.json');
    writeFileSync(cfg, JSON.stringify({ ...base, logit_adjust: { enabled: true, tau: 1 } }));
    const r = spawnSync(process.execPath, ['dist/cli.js', 'step', '--config', cfg, '--checkpoint', join(dir, 'none.safetensors'), '--batch', join(dir, 'none.safetensors'),
      '--out', join(dir, 'out.safetensors')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`config '${cfg}': config key 'logit_adjust.class_counts' is missing`);
  });

  it('the CLI refuses --outputs equal to --out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daso-step-out-'));
    const out = join(dir, 'out.safetensors');
    const r = spawnSync(process.execPath, ['dist/cli.js', 'step', '--config', join(dir, 'c.json'), '--checkpoint', join(dir, 'ck.safetensors'), '--batch', join(dir, 'b.safetensors'),
      '--out', out, '--outputs', out], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--outputs and --out are the same file .*drop --outputs for the default .*out\.outputs\.safetensors/);
  });
});
