// The `daso train` command end to end (Node side included): datasets checked before the browser starts, a short
// synthetic DASO run writing metrics.jsonl, an atomic checkpoint and final.json, and the refusals.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/nn/safetensors.js';

const cfg = {
  name: 'cli-smoke', algorithm: 'daso', max_iter: 4,
  model: { depth: 10, width: 1, in_channels: 1, num_classes: 3, image_size: 8 },
  data: { dataset: 'synthetic', num_valid_per_class: 2, n1: 12, m1: 20, gamma_l: 4, gamma_u: 4 },
  ssl: { tau: 0.5 },
  daso: { warmup: 2, pl_update_period: 2, queue_size: 4 },
  train: { batch_size: 4, unlabeled_ratio: 1, log_every: 2, eval_every: 2, checkpoint_every: 2, seed: 3 },
  eval: { batch_size: 4, per_class_limit: 3, median_of: 2 },
};

function daso(args: string[]) {
  return spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8' });
}

describe('daso train (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daso-train-'));
  const cfgFile = join(dir, 'cfg.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const run = join(dir, 'run');

  it('runs, logs progress, writes metrics.jsonl, a loadable checkpoint and final.json', () => {
    const out = execFileSync(process.execPath, ['dist/cli.js', 'train', '--config', cfgFile, '--out-dir', run], { encoding: 'utf8' });
    expect(out).toMatch(/step 2\/4 \| loss [0-9.]+/);
    expect(out).toMatch(/DASO on/);
    expect(out).toMatch(/final \(EMA model, full test set, 300 images\)/);
    const records = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((l) => `${l.kind}@${l.step}`)).toEqual(['start@0', 'log@2', 'eval@2', 'log@4', 'eval@4']);
    expect(records[0].split).toEqual({ labeled: [12, 6, 3], unlabeled: [20, 10, 5], valid: [2, 2, 2] });
    const lines = records.filter((l) => l.kind === 'eval');
    expect(lines[1].test.recall).toHaveLength(3);
    // Evaluation extras: the confusion matrix counts the evaluated images; LA recall per class.
    expect(lines[1].test.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(lines[1].test.n);
    expect(lines[1].test.recall_la).toHaveLength(3);
    // Log windows: 2 steps x Bu = 4 unlabeled images each, and the evaluation's pseudo-label statistics are the sum.
    const logs = records.filter((l) => l.kind === 'log');
    expect(logs.map((l) => [l.pl.first_step, l.pl.images])).toEqual([[1, 8], [3, 8]]);
    expect(lines[1].pseudo_label.n).toBe(8);
    expect(logs[1].pl.m_hat).toHaveLength(3);
    const ck = readSafetensors(new Uint8Array(readFileSync(join(run, 'checkpoint.safetensors'))), 'checkpoint');
    // The saved features are the EMA model's penultimate features: the EMA classifier on them gives the saved
    // predictions (first 3 test images of each class: per_class_limit 3 caps features_per_class 50).
    expect(lines[1].features).toBe('features/step-000004.safetensors');
    const f = readSafetensors(new Uint8Array(readFileSync(join(run, lines[1].features))), 'features');
    const [n, D] = f.tensors.features.shape;
    expect(n).toBe(9);
    expect(Array.from(f.tensors.labels.data as BigInt64Array, Number).sort()).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const W = ck.tensors['ema.classifier.classifier.weight'].data as Float32Array, bias = ck.tensors['ema.classifier.classifier.bias'].data as Float32Array;
    const feat = f.tensors.features.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const logits = [0, 1, 2].map((k) => bias[k] + Array.from({ length: D }, (_, d) => feat[i * D + d] * W[k * D + d]).reduce((a, b) => a + b, 0));
      expect(logits.indexOf(Math.max(...logits))).toBe(Number(f.tensors.pred.data[i]));
    }
    // The final (full test set) evaluation keeps the same images, in a file of its own.
    const fin = JSON.parse(readFileSync(join(run, 'final.json'), 'utf8')).final;
    expect(fin.features).toBe('features/final.safetensors');
    const ff = readSafetensors(new Uint8Array(readFileSync(join(run, fin.features))), 'final features');
    expect(Array.from(ff.tensors.indices.data as BigInt64Array)).toEqual(Array.from(f.tensors.indices.data as BigInt64Array));
    expect(Number(ck.tensors.step.data[0])).toBe(4);
    expect(ck.tensors['daso.queue'].shape).toEqual([3, 4, 64]);
    expect(JSON.parse(ck.metadata.feed).labeled.batchSize).toBe(4);
    const final = JSON.parse(readFileSync(join(run, 'final.json'), 'utf8'));
    expect(final.final.test.n).toBe(300);
  }, 300_000);

  it('refuses to overwrite a run, and resumes a finished run to its final evaluation', () => {
    const again = daso(['train', '--config', cfgFile, '--out-dir', run]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/already holds a run \(.*checkpoint\.safetensors.*\): continue it with --resume/);
    const resumed = daso(['train', '--resume', run]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/starting at step 4/);
  }, 300_000);

  it('rejects an unknown key and a bad value before starting a browser', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...cfg, daso: { ...cfg.daso, tdist: 1 } }));
    const r = daso(['train', '--config', bad, '--out-dir', join(dir, 'x')]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown config key 'daso.tdist'/);
    const r2 = daso(['train', '--config', cfgFile, '--set', 'daso.warmup=1', '--out-dir', join(dir, 'y')]);
    expect(r2.stderr).toMatch(/daso.warmup \(1\) is shorter than daso.pl_update_period/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
