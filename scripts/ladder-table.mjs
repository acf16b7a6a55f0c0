#!/usr/bin/env node
// The kernel ladders as markdown, from `daso bench` JSON files: for every WRN-28-2 conv shape, GFLOP/s of each
// version of conv2d_forward / conv2d_backward_input / conv2d_backward_weight, the best version's fraction of the
// matmul probe (the fastest matmul_forward row in the inputs), and the matmul ladder itself.
//   npm run bench -- --filter conv2d_ --out bench/results/kernels-conv.json
//   npm run bench -- --filter matmul_forward --out bench/results/kernels-matmul.json
//   node scripts/ladder-table.mjs bench/results/kernels-conv.json bench/results/kernels-matmul.json
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node scripts/ladder-table.mjs BENCH.json [BENCH.json...]');
  process.exit(2);
}
const rows = files.flatMap((f) => JSON.parse(readFileSync(f, 'utf8')).rows);
const f2 = (x) => (x === null || x === undefined ? '-' : x.toFixed(2));

const mm = rows.filter((r) => r.kernel.startsWith('matmul_forward'));
const probe = mm.reduce((b, r) => (r.gflops > (b?.gflops ?? 0) ? r : b), null);
if (mm.length) {
  console.log('| matmul | shape | GPU ms | GFLOP/s |\n|---|---|---:|---:|');
  for (const r of mm) console.log(`| ${r.kernel} | ${r.shape} | ${r.gpuMs?.toFixed(1)} | ${f2(r.gflops)} |`);
  console.log(`\nProbe: ${probe.kernel} ${probe.shape}, ${f2(probe.gflops)} GFLOP/s.\n`);
}

const FAMILIES = [
  ['conv2d_forward', ['v0', 'v1', 'v2', 'v3', 'v4']],
  ['conv2d_backward_input', ['v1', 'v2', 'v3', 'v4']],
  ['conv2d_backward_weight', ['v1', 'v2', 'v3', 'v4', 'v5']],
];
for (const [fam, versions] of FAMILIES) {
  const mine = rows.filter((r) => r.kernel.startsWith(`${fam}.v`));
  if (!mine.length) continue;
  const shapes = [...new Set(mine.map((r) => r.shape))];
  console.log(`| ${fam} (GFLOP/s) | ${versions.join(' | ')} | best / v1 | best / probe |\n|---|${versions.map(() => '---:').join('|')}|---:|---:|`);
  for (const s of shapes) {
    const g = Object.fromEntries(versions.map((v) => [v, mine.find((r) => r.shape === s && r.kernel === `${fam}.${v}`)?.gflops ?? null]));
    const best = Math.max(...Object.values(g).filter((x) => x !== null));
    const probeFrac = probe ? `${(100 * best / probe.gflops).toFixed(0)}%` : '-';
    console.log(`| ${s} | ${versions.map((v) => f2(g[v])).join(' | ')} | ${g.v1 ? (best / g.v1).toFixed(2) + 'x' : '-'} | ${probeFrac} |`);
  }
  console.log('');
}
