// One validator for a checkpoint's whole content (src/train/checkpoint-check.ts), and the CLI refusing bad
// checkpoints, batches, keys and paths before any browser starts.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fsError, removeStaleTemps, writeAtomic } from '../src/cli/files.js';
import { writeSafetensors, type StTensor } from '../src/nn/safetensors.js';
import { checkpointSpecFor, validateCheckpoint, validateStepBatch } from '../src/train/checkpoint-check.js';
import { parseTrainConfig } from '../src/train/train-config.js';
import { daso, tempDir, tinyConfig, writeJson } from './helpers/cli.js';

const config = parseTrainConfig(tinyConfig());
const sampler = { poolSize: 21, batchSize: 4, poolHash: 123, epoch: 0, pos: 4, rngAtEpochStart: { s: [1, 2, 3, 4] } };
const META = {
  config: JSON.stringify(config), format: 'daso-webgpu/1', history: '[]',
  feed: JSON.stringify({ labeled: sampler, unlabeled: sampler, augment: { s: [5, 6, 7, 8] } }),
  pl_pending: JSON.stringify({ pred: [0, 1], true: [0, 2], mask: [1, 0] }),
};

/** A checkpoint every check accepts: the right names and shapes, zeros (variances 1), step 2. */
function validCheckpoint(): Record<string, StTensor> {
  const out: Record<string, StTensor> = {};
  for (const [name, spec] of Object.entries(checkpointSpecFor(config))) {
    const dtype = Array.isArray(spec.dtype) ? spec.dtype[0] : spec.dtype;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const data = dtype === 'I64' ? new BigInt64Array(n) : dtype === 'I32' ? new Int32Array(n) : new Float32Array(n).fill(name.endsWith('running_var') ? 1 : 0);
    out[name] = { dtype, shape: spec.shape, data };
  }
  out.step.data = BigInt64Array.of(2n);
  return out;
}

const check = (t: Record<string, StTensor>, meta: Record<string, string> | null = META) =>
  () => validateCheckpoint(t, meta, config, 'ck.safetensors', { training: true });

describe('validateCheckpoint', () => {
  it('accepts a valid training checkpoint', () => {
    expect(check(validCheckpoint())).not.toThrow();
  });

  const cases: [string, (t: Record<string, StTensor>) => void, RegExp][] = [
    ['a missing DASO tensor', (t) => delete t['daso.queue_len'], /missing tensor 'daso.queue_len'/],
    ['a wrong prototype shape', (t) => { t['daso.prototypes'] = { dtype: 'F32', shape: [3, 32], data: new Float32Array(96) }; }, /'daso.prototypes' has shape \[3, 32\], expected \[3, 64\]/],
    ['an unknown daso tensor', (t) => { t['daso.foo'] = { dtype: 'F32', shape: [1], data: new Float32Array(1) }; }, /unexpected tensor 'daso.foo'/],
    ['step past max_iter', (t) => { t.step.data = BigInt64Array.of(9n); }, /'step' = 9 is past max_iter 8/],
    ['a negative step', (t) => { t.step.data = BigInt64Array.of(-1n); }, /'step' = -1 is not a step index/],
    ['NaN in a weight', (t) => { (t['model.encoder.init_conv.weight'].data as Float32Array)[5] = NaN; }, /'model.encoder.init_conv.weight' has a non-finite value \(NaN at index 5\)/],
    ['Inf in the momentum', (t) => { (t['optim.momentum.classifier.classifier.bias'].data as Float32Array)[0] = Infinity; }, /optim.momentum.classifier.classifier.bias' has a non-finite value/],
    ['a negative running variance', (t) => { (t['ema.encoder.unit4.0.running_var'].data as Float32Array)[1] = -1; }, /negative variance/],
    ['a queue longer than its capacity', (t) => { t['daso.queue_len'].data = BigInt64Array.of(1n, 5n, 0n); }, /daso.queue_len\[1\] = 5 is outside 0..4/],
    ['a negative histogram count', (t) => { t['daso.pl_hist'].data = BigInt64Array.of(1n, -2n, 0n); }, /'daso.pl_hist' has a negative or non-finite count/],
    ['a tensor named __proto__', (t) => { Object.defineProperty(t, '__proto__', { value: t.step, enumerable: true }); }, /unexpected tensor '__proto__'/],
  ];
  for (const [what, mutate, re] of cases) {
    it(`refuses ${what}, naming it`, () => {
      const t = validCheckpoint();
      mutate(t);
      expect(check(t)).toThrow(re);
    });
  }

  it('checks the training metadata: sampler and generator states, history, unknown keys', () => {
    const t = validCheckpoint();
    expect(check(t, null)).toThrow(/no metadata/);
    expect(check(t, { ...META, extra: '1' })).toThrow(/unknown metadata key 'extra'/);
    expect(check(t, { ...META, feed: '{' })).toThrow(/metadata 'feed' is not JSON/);
    expect(check(t, { ...META, feed: JSON.stringify({ labeled: { ...sampler, pos: 99 }, unlabeled: null, augment: { s: [1, 2, 3, 4] } }) })).toThrow(/labeled.pos is past poolSize/);
    expect(check(t, { ...META, feed: JSON.stringify({ labeled: sampler, unlabeled: null, augment: { s: [1, 2, 3] } }) })).toThrow(/augment is not \{s: \[four u32\]\}/);
    expect(check(t, { ...META, history: '{}' })).toThrow(/'history' is not a list of evaluation records/);
    expect(check(t, { ...META, pl_pending: JSON.stringify({ pred: [1], true: [], mask: [1] }) })).toThrow(/pl_pending/);
    // Metrics format 2: the counts of [2, K, K] (K = 3 here) for the evaluation period and the log window in progress.
    const counts = new Array(18).fill(0);
    expect(check(t, { ...META, pl_pending: JSON.stringify({ eval: counts, log: counts, log_first_step: 3 }) })).not.toThrow();
    expect(check(t, { ...META, pl_pending: JSON.stringify({ eval: counts.slice(1), log: counts, log_first_step: 3 }) })).toThrow(/pl_pending' eval is not 2 x 3 x 3 = 18 counts/);
    expect(check(t, { ...META, pl_pending: JSON.stringify({ eval: counts, log: [-1, ...counts.slice(1)], log_first_step: 3 }) })).toThrow(/pl_pending' log is not/);
    expect(check(t, { ...META, pl_pending: JSON.stringify({ eval: counts, log: counts, log_first_step: 0 }) })).toThrow(/log_first_step is not a step number/);
    expect(check(t, { ...META, pl_pending: JSON.stringify({ eval: counts, log: counts, log_first_step: 1, extra: 1 }) })).toThrow(/unknown key 'extra'/);
  });

  it('checks a step batch: finite images, labels in range', () => {
    const img = (n: number) => ({ dtype: 'F32' as const, shape: [n, 1, 8, 8], data: new Float32Array(n * 64) });
    const batch = () => ({ x_lb: img(2), y_lb: { dtype: 'I64' as const, shape: [2], data: BigInt64Array.of(0n, 2n) }, x_ulb_w: img(3), x_ulb_s: img(3) });
    expect(validateStepBatch(batch(), config, 'b')).toEqual({ B: 2, Bu: 3 });
    const nan = batch();
    nan.x_ulb_s.data[7] = NaN;
    expect(() => validateStepBatch(nan, config, 'b')).toThrow(/'x_ulb_s' has a non-finite value \(NaN at index 7\)/);
    const y = batch();
    y.y_lb.data = BigInt64Array.of(0n, 3n);
    expect(() => validateStepBatch(y, config, 'b')).toThrow(/y_lb\[1\] = 3 is outside 0..2/);
  });
});

describe('the CLI refuses bad input before starting a browser', () => {
  const dir = tempDir('daso-refuse-');

  it('train --resume with a checkpoint the validator refuses', () => {
    for (const [name, mutate, re] of [
      ['no-len', (t: Record<string, StTensor>) => delete t['daso.queue_len'], /missing tensor 'daso.queue_len'/],
      ['past', (t: Record<string, StTensor>) => { t.step.data = BigInt64Array.of(100n); }, /'step' = 100 is past max_iter 8/],
    ] as const) {
      const run = join(dir, name);
      mkdirSync(run);
      const t = validCheckpoint();
      mutate(t);
      writeFileSync(join(run, 'checkpoint.safetensors'), writeSafetensors(t, META));
      const r = daso(['train', '--resume', run]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).toContain(join(run, 'checkpoint.safetensors'));
      expect(r.stdout).not.toMatch(/labeled per class/);
    }
  });

  it('step with NaN in x_lb: refused, nothing written', () => {
    const { max_iter, algorithm, model, optim, ema_decay, ssl, daso: d } = config;
    const cfg = writeJson(join(dir, 'step.json'), { max_iter, algorithm, model, optim, ema_decay, ssl, daso: d });
    writeFileSync(join(dir, 'ck.safetensors'), writeSafetensors(validCheckpoint()));
    const x = new Float32Array(2 * 64);
    x[3] = NaN;
    const u = { dtype: 'F32' as const, shape: [2, 1, 8, 8], data: new Float32Array(128) };
    writeFileSync(join(dir, 'b.safetensors'), writeSafetensors({ x_lb: { dtype: 'F32', shape: [2, 1, 8, 8], data: x }, y_lb: { dtype: 'I64', shape: [2], data: BigInt64Array.of(0n, 1n) }, x_ulb_w: u, x_ulb_s: u }));
    const out = join(dir, 'out.safetensors');
    const r = daso(['step', '--config', cfg, '--checkpoint', join(dir, 'ck.safetensors'), '--batch', join(dir, 'b.safetensors'), '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/b\.safetensors: tensor 'x_lb' has a non-finite value \(NaN at index 3\)/);
    expect(readdirSync(dir)).not.toContain('out.safetensors');
  });

  it('--set with a prototype key', () => {
    const cfg = writeJson(join(dir, 'tiny.json'), tinyConfig());
    for (const key of ['__proto__.x', 'constructor.prototype.x', 'model.__proto__']) {
      const r = daso(['train', '--config', cfg, '--set', `${key}=1`, '--out-dir', join(dir, 'p')]);
      expect(r.status, key).toBe(1);
      expect(r.stderr).toMatch(/is not a config key/);
    }
  });

  it('an --out-dir under a file names the path', () => {
    writeFileSync(join(dir, 'afile'), '');
    const r = daso(['train', '--config', writeJson(join(dir, 't2.json'), tinyConfig()), '--out-dir', join(dir, 'afile', 'run')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`'${join(dir, 'afile', 'run')}': ENOTDIR`);
  });
});

describe('files', () => {
  const dir = tempDir('daso-files-');

  it('errors name the path and the fix (EISDIR, ENOSPC)', () => {
    mkdirSync(join(dir, 'sub'));
    expect(() => writeAtomic(join(dir, 'sub'), 'x')).toThrow(new RegExp(`cannot write '${join(dir, 'sub')}': EISDIR \\(a folder is in the way`));
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(fsError(full, 'write', '/runs/x/checkpoint.safetensors').message).toBe(
      "cannot write '/runs/x/checkpoint.safetensors': ENOSPC (the disk is full: free space or choose another folder)");
  });

  it('removes the temp files of dead writers only', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const stale = `.checkpoint.safetensors.${dead}.0123456789ab.tmp`;
    const mine = `.checkpoint.safetensors.${process.pid}.0123456789ab.tmp`;
    for (const f of [stale, mine, 'final.json.tmp-1', `metrics.jsonl`]) writeFileSync(join(dir, f), '');
    const removed = removeStaleTemps(dir);
    expect(removed).toContain(stale);
    expect(readdirSync(dir)).toContain(mine);
    expect(readdirSync(dir)).toContain('metrics.jsonl');
  });
});
