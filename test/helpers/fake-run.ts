// A small deterministic format-2 run folder (config.json, metrics.jsonl, final.json, one features file) for the report
// tests, without training: K classes with long-tailed unlabeled counts, log windows whose confusion matrices follow a
// FixMatch-like bias (tail images pseudo-labelled as head classes; DASO's flatter), eval records with plausible
// per-class recall, and class-clustered penultimate features. Same arguments, same bytes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../../src/nn/safetensors.js';
import { featuresFileName } from '../../src/train/metrics-record.js';
import { recallPrecision, seededRandom, sumMatrices } from '../../src/viz/index.js';

export interface FakeRunOptions {
  algorithm: 'fixmatch' | 'daso';
  seed: number;
  K?: number;
  steps?: number;
  logEvery?: number;
  evalEvery?: number;
  /** Feature images per class in the saved features file. */
  perClass?: number;
  /** Feature dimension. */
  D?: number;
}

export interface FakeRun {
  dir: string;
  K: number;
  /** Images in the features file. */
  n: number;
  evals: number;
  logs: number;
}

const nul = (x: number) => (Number.isFinite(x) ? x : null);
const nuls = (xs: number[]) => xs.map(nul);

export function writeFakeRun(dir: string, o: FakeRunOptions): FakeRun {
  const K = o.K ?? 10, steps = o.steps ?? 200, logEvery = o.logEvery ?? 20, evalEvery = o.evalEvery ?? 100;
  const perClass = o.perClass ?? 6, D = o.D ?? 16, daso = o.algorithm === 'daso';
  const rnd = seededRandom(1000 * o.seed + (daso ? 7 : 3) + K);
  const bu = 32;
  const labeled = Array.from({ length: K }, (_, k) => Math.max(1, Math.round(100 * 0.01 ** (k / (K - 1)))));
  const unlabeled = labeled.map((n) => 4 * n);
  const prior = unlabeled.map((u) => u / unlabeled.reduce((a, b) => a + b, 0));
  const config = {
    name: `fake-${o.algorithm}-seed${o.seed}`, algorithm: o.algorithm, max_iter: steps,
    model: { depth: 10, width: 1, in_channels: 1, num_classes: K, image_size: 8 },
    data: { dataset: 'synthetic', num_valid_per_class: 0, n1: 100, m1: 400, gamma_l: 100, gamma_u: 100 },
    train: { batch_size: 16, unlabeled_ratio: 2, seed: o.seed, log_every: logEvery, eval_every: evalEvery },
    daso: { warmup: 60, pl_update_period: 10, t_dist: 1.5 },
  };
  mkdirSync(join(dir, 'features'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const lines: string[] = [JSON.stringify({ kind: 'start', format: 2, step: 0, algorithm: o.algorithm, split: { labeled, unlabeled, valid: [] } })];
  const windows: number[][][] = [];
  let logs = 0, evals = 0, lastEvalStep = 0;
  let finalTest: Record<string, unknown> = {};
  for (let step = logEvery; step <= steps; step += logEvery) {
    const t = step / steps;
    // Pseudo-label recall per class: FixMatch falls steeply towards the tail, DASO (once active) much less.
    const active = daso && step > config.daso.warmup;
    const plRecall = Array.from({ length: K }, (_, k) => Math.min(0.98, (0.5 + 0.45 * t) * (1 - (active ? 0.35 : 0.8) * (k / (K - 1))) + 0.02 * rnd()));
    const images = logEvery * bu;
    const conf = Array.from({ length: K }, () => new Array<number>(K).fill(0));
    for (let k = 0; k < K; k++) {
      const nk = Math.max(1, Math.round(images * prior[k]));
      const right = Math.round(nk * plRecall[k]);
      conf[k][k] += right;
      // The wrong ones go to the head classes (0, 1, 2), in proportion 3:2:1, the bias the charts must show.
      for (let w = 0, left = nk - right; left > 0; w = (w + 1) % 6) {
        const j = [0, 0, 0, 1, 1, 2][w] === k ? (k + 1) % K : [0, 0, 0, 1, 1, 2][w];
        conf[k][j]++;
        left--;
      }
    }
    windows.push(conf);
    const confident = conf.map((row) => row.map((c, j) => Math.round(c * (0.3 + 0.5 * t) * (j === 0 ? 1 : 0.8))));
    const colSums = conf[0].map((_, j) => conf.reduce((s, row) => s + row[j], 0));
    const mHat = colSums.map((c) => c / colSums.reduce((a, b) => a + b, 0));
    const maxM = Math.max(...mHat);
    const loss_cls = 2 * Math.exp(-2 * t) + 0.05 * rnd(), loss_u = 0.3 * t + 0.05 * rnd(), loss_align = active ? 0.4 * (1.2 - t) : 0;
    lines.push(JSON.stringify({
      kind: 'log', step, loss: loss_cls + loss_u + loss_align, loss_cls, loss_u, loss_align, mask_ratio: 0.3 + 0.5 * t, daso_active: active,
      steps_per_s: 20,
      pl: {
        first_step: step - logEvery + 1, images, confusion: conf, confusion_confident: confident,
        mask_ratio_per_class: confident.map((row, k) => row.reduce((a, b) => a + b, 0) / conf[k].reduce((a, b) => a + b, 0)),
        m_hat: daso ? mHat : null,
        v: daso ? mHat.map((m) => (active ? (m / maxM) ** (1 / config.daso.t_dist) : 0)) : null,
      },
    }));
    logs++;
    if (step % evalEvery === 0) {
      const recall = Array.from({ length: K }, (_, k) => Math.max(0, Math.min(1, (0.4 + 0.5 * t) * (1 - (daso ? 0.5 : 0.7) * (k / (K - 1))) + 0.05 * rnd())));
      const precision = recall.map((r, k) => Math.min(1, r + 0.2 * (k / K)));
      const recallLa = recall.map((r, k) => Math.min(1, r + 0.1 * (k / K)));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const period = windows.slice(-Math.round(evalEvery / logEvery));
      const pl = recallPrecision(sumMatrices(period, K));
      const plN = period.reduce((s, m) => s + m.flat().reduce((a, b) => a + b, 0), 0);
      const plCorrect = period.reduce((s, m) => s + m.reduce((a, row, k) => a + row[k], 0), 0);
      const last = step + evalEvery > steps;
      finalTest = { top1: mean(recall), balanced: mean(recall), top1_la: mean(recallLa), recall, precision, n: K * 50 };
      lines.push(JSON.stringify({
        kind: 'eval', step,
        test: { ...finalTest, recall_la: recallLa, precision_la: precision, confusion: null },
        valid: null,
        pseudo_label: {
          top1: plCorrect / plN, balanced: mean(pl.recall), top1_la: null, recall: nuls(pl.recall), precision: nuls(pl.precision), n: plN,
          mask_ratio: 0.3 + 0.5 * t, confident: { top1: 0.9, balanced: 0.8, top1_la: null, recall: nuls(pl.recall), precision: nuls(pl.precision), n: plN / 2 },
        },
        full_test: false,
        features: last ? featuresFileName(step) : null,
      }));
      evals++;
      lastEvalStep = step;
    }
  }
  writeFileSync(join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n`);
  // Features: class centroids in D dimensions plus noise; predictions right for about 80% of the images.
  const n = perClass * K;
  const centroids = Array.from({ length: K }, () => Array.from({ length: D }, () => 4 * (rnd() - 0.5)));
  const features = new Float32Array(n * D), labels = new BigInt64Array(n), pred = new BigInt64Array(n), indices = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const y = i % K;
    for (let d = 0; d < D; d++) features[i * D + d] = centroids[y][d] + 0.6 * (rnd() - 0.5);
    labels[i] = BigInt(y);
    pred[i] = BigInt(rnd() < 0.8 ? y : 0);
    indices[i] = BigInt(i);
  }
  writeFileSync(join(dir, featuresFileName(lastEvalStep)), writeSafetensors({
    features: { dtype: 'F32', shape: [n, D], data: features },
    labels: { dtype: 'I64', shape: [n], data: labels },
    indices: { dtype: 'I64', shape: [n], data: indices },
    pred: { dtype: 'I64', shape: [n], data: pred },
  }));
  writeFileSync(join(dir, 'final.json'), JSON.stringify({
    final: { step: steps, test: finalTest, valid: null, pseudo_label: null, full_test: true },
    median: { top1: finalTest.top1, balanced: finalTest.balanced, top1_la: finalTest.top1_la },
  }, null, 2));
  return { dir, K, n, evals, logs };
}
