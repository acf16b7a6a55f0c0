// scripts/experiment-table.mjs: the README's experiment tables come from it, so it is checked on the committed runs
// (the summary rows the README shows), on a reversed-unlabeled copy (summarised apart), and on an unfinished run.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/cli.js';

const RUNS = resolve('bench/results/experiment-fashion-mnist-lt-runs');
const SEEDS = ['daso-seed0', 'daso-seed1', 'daso-seed2', 'fixmatch-seed0', 'fixmatch-seed1', 'fixmatch-seed2'].map((s) => join(RUNS, `exp-${s}`));
const work = tempDir('daso-exptable-');
afterAll(() => rmSync(work, { recursive: true, force: true }));
const table = (dirs: string[]) => spawnSync(process.execPath, ['scripts/experiment-table.mjs', ...dirs], { encoding: 'utf8' });

describe('experiment-table', () => {
  it('prints the summary rows of the committed 300-step runs as the README has them', () => {
    const r = table(SEEDS);
    expect(r.status, r.stderr).toBe(0);
    const readme = readFileSync('README.md', 'utf8');
    for (const algo of ['daso', 'fixmatch']) {
      const row = r.stdout.split('\n').find((l) => l.startsWith(`| ${algo} | 0, 1, 2 |`));
      expect(row, r.stdout).toBeDefined();
      expect(readme).toContain(row!);
    }
    expect(r.stdout).toMatch(/\| daso \| 0, 1, 2 \| 39\.1 ± 1\.4 \|/);
  });

  it('prints the summary rows of every finished 1500-step run as the README has them', () => {
    // The issue-14.3 experiment spans sittings: only runs with final.json count, and each summary row the script
    // prints for them (in-order and reversed-unlabeled groups) must be the README's, so the README cannot lag the runs.
    const root = resolve('bench/results/experiment-lt1500-runs');
    const dirs = readdirSync(root).map((d) => join(root, d)).filter((d) => existsSync(join(d, 'final.json')));
    expect(dirs.length).toBeGreaterThanOrEqual(4);
    const r = table(dirs);
    expect(r.status, r.stderr).toBe(0);
    const readme = readFileSync('README.md', 'utf8');
    const rows = r.stdout.split('\n').filter((l) => /^\| (daso|fixmatch)( \(reversed unlabeled\))? \| [\d, ]+ \|/.test(l));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    for (const row of rows) expect(readme).toContain(row);
  });

  it('summarises reversed-unlabeled runs apart from the others', () => {
    const copy = join(work, 'rev-daso-seed0');
    cpSync(SEEDS[0], copy, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(copy, 'config.json'), 'utf8'));
    writeFileSync(join(copy, 'config.json'), JSON.stringify({ ...cfg, data: { ...cfg.data, reverse_unlabeled: true } }));
    const r = table([SEEDS[0], SEEDS[1], copy]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\| daso \| 0, 1 \|/);
    expect(r.stdout).toMatch(/\| daso \(reversed unlabeled\) \| 0 \|/);
  });

  it('names an unfinished run and how to continue it', () => {
    const copy = join(work, 'unfinished');
    cpSync(SEEDS[3], copy, { recursive: true });
    rmSync(join(copy, 'final.json'));
    const r = table([SEEDS[3], copy]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${copy}: no final.json`);
    expect(r.stderr).toMatch(/--resume/);
  });
});
