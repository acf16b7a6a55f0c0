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
  eval: { batch_size: 8, per_class_limit: 3, median_of: 2 },
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
    const lines = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([2, 4]);
    expect(lines[1].test.recall).toHaveLength(3);
    const ck = readSafetensors(new Uint8Array(readFileSync(join(run, 'checkpoint.safetensors'))), 'checkpoint');
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
