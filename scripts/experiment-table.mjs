// Summarises finished runs (runs/<dir>/final.json and metrics.jsonl) as the README's experiment tables.
// usage: node scripts/experiment-table.mjs runs/exp-daso-seed0 runs/exp-fixmatch-seed0 ...
// Arguments that are not run folders (a shell glob also matches log files beside them) are skipped; a run folder
// without final.json (unfinished) is an error naming it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

const pct = (x) => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
const dirs = process.argv.slice(2).filter((d) => statSync(d).isDirectory() && existsSync(join(d, 'config.json')));
if (!dirs.length) {
  console.error('usage: node scripts/experiment-table.mjs RUN_DIR [RUN_DIR...] (folders written by `daso train --out-dir`)');
  process.exit(2);
}
for (const d of dirs) {
  if (!existsSync(join(d, 'final.json'))) {
    console.error(`${d}: no final.json (the run has not finished; resume it with --resume)`);
    process.exit(1);
  }
}
const rows = dirs.map((dir) => {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const fin = JSON.parse(readFileSync(join(dir, 'final.json'), 'utf8'));
  const evals = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // Pseudo-label statistics accumulated over all logged steps after the warm-up (readbacks every log_every steps).
  const pl = evals.map((e) => e.pseudo_label).filter(Boolean);
  return { dir: basename(dir), cfg, fin, evals, pl };
});

console.log('| run | algorithm | seed | steps | test top-1 | balanced acc | top-1 with test-time LA | median of last evals (subset) |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  const t = r.fin.final.test;
  console.log(`| ${r.dir} | ${r.cfg.algorithm} | ${r.cfg.train.seed} | ${r.cfg.max_iter} | ${pct(t.top1)} | ${pct(t.balanced)} | ${pct(t.top1_la)} | ${pct(r.fin.median.top1)} |`);
}
console.log('\nPer-class test recall, class 0 (head) to 9 (tail), final EMA model on the full test set:\n');
console.log('| run | ' + Array.from({ length: rows[0]?.fin.final.test.recall.length ?? 0 }, (_, k) => `c${k}`).join(' | ') + ' |');
console.log('|---|' + (rows[0]?.fin.final.test.recall.map(() => '---:').join('|') ?? '') + '|');
for (const r of rows) console.log(`| ${r.dir} | ${r.fin.final.test.recall.map(pct).join(' | ')} |`);
console.log('\nPseudo-labels on the unlabeled batches read back in the last evaluation period (all / confident = mask 1):\n');
console.log('| run | mask ratio | PL accuracy | per-class recall (all) | per-class precision (confident) |');
console.log('|---|---:|---:|---|---|');
for (const r of rows) {
  const p = r.pl[r.pl.length - 1];
  if (!p) continue;
  console.log(`| ${r.dir} | ${p.mask_ratio.toFixed(2)} | ${pct(p.top1)} | ${p.recall.map(pct).join(' ')} | ${p.confident.precision.map(pct).join(' ')} |`);
}

// Mean +- sample standard deviation over seeds, per algorithm (the paper's way of reporting).
// Grouped by algorithm and by the unlabeled set's order (data.reverse_unlabeled: the reversed runs of issue 14.3).
const byAlgo = new Map();
for (const r of rows) {
  const key = `${r.cfg.algorithm}${r.cfg.data?.reverse_unlabeled ? ' (reversed unlabeled)' : ''}`;
  byAlgo.set(key, [...(byAlgo.get(key) ?? []), r]);
}
const ms = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : NaN;
  return `${(100 * m).toFixed(1)}${Number.isNaN(sd) ? '' : ` ± ${(100 * sd).toFixed(1)}`}`;
};
console.log('\nMean ± standard deviation over seeds (full test set, final EMA model):\n');
// Head / medium / tail: the first 3 classes, the middle ones, the last 3 (c0-c2, c3-c6, c7-c9 for 10 classes).
console.log('| algorithm | seeds | test top-1 | balanced acc | top-1 with test-time LA | recall, head (first 3) | recall, medium | recall, tail (last 3) |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const [algo, rs] of byAlgo) {
  const t = rs.map((r) => r.fin.final.test);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`| ${algo} | ${rs.map((r) => r.cfg.train.seed).join(', ')} | ${ms(t.map((x) => x.top1))} | ${ms(t.map((x) => x.balanced))} | ` +
    `${ms(t.map((x) => x.top1_la))} | ${ms(t.map((x) => mean(x.recall.slice(0, 3))))} | ${ms(t.map((x) => mean(x.recall.slice(3, -3))))} | ` +
    `${ms(t.map((x) => mean(x.recall.slice(-3))))} |`);
}
