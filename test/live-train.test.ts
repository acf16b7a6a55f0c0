// The harness page's "Train live" section (src/harness/live-train.ts), driven through the DOM like a person would:
// a bad value shows parseTrainConfig's error, a 2-step Fashion-MNIST-LT run fills the eval table and leaves a
// downloadable checkpoint that parses, Stop ends a longer run with a checkpoint of the steps done, and that first
// checkpoint resumes (config from its metadata) to the final evaluation. Evaluations use 10 test images per class
// (the section's "test images per class"): the whole test set takes minutes on SwiftShader.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/nn/safetensors.js';
import { closeHarness, harnessPage } from './helpers/harness.js';

afterAll(closeHarness);

const HAVE_DATA = existsSync('/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz');
const WAIT_MS = 840_000; // SwiftShader on 2 shared cores: compiling the step plus a few evaluation batches
const TEST_MS = 900_000;

async function setValue(p: Page, id: string, value: string): Promise<void> {
  await p.$eval(`#${id}`, (el, v) => { (el as HTMLInputElement).value = v; }, value);
}

const state = (p: Page) => p.$eval('#lt-status', (el) => (el as HTMLElement).dataset.state ?? '');
const statusText = (p: Page) => p.$eval('#lt-status', (el) => el.textContent ?? '');

async function waitState(p: Page, states: string[]): Promise<string> {
  await p.waitForFunction((s: string[]) => s.includes(document.getElementById('lt-status')?.dataset.state ?? ''),
    { timeout: WAIT_MS, polling: 500 }, states);
  return state(p);
}

/** The latest checkpoint's bytes, through window.daso.liveCheckpoint (what the download button saves). */
async function latestCheckpoint(p: Page) {
  const r = await p.evaluate(() => {
    const ck = (window as unknown as { daso: { liveCheckpoint(): { name: string; step: number; bytes: Uint8Array } | null } }).daso.liveCheckpoint();
    if (!ck) return null;
    let s = '';
    for (let i = 0; i < ck.bytes.length; i += 0x8000) s += String.fromCharCode(...ck.bytes.subarray(i, i + 0x8000));
    return { name: ck.name, step: ck.step, b64: btoa(s) };
  });
  if (!r) return null;
  const bytes = new Uint8Array(Buffer.from(r.b64, 'base64'));
  return { name: r.name, step: r.step, bytes, ...readSafetensors(bytes, r.name) };
}

const download = (p: Page) => p.$eval('#lt-download', (el) => {
  const b = el as HTMLButtonElement;
  return { disabled: b.disabled, name: b.dataset.name, step: b.dataset.step, bytes: b.dataset.bytes };
});

describe.skipIf(!HAVE_DATA)('train live (harness page)', () => {
  let firstCheckpoint = '';

  it('shows parseTrainConfig errors, trains 2 steps with an evaluation and keeps a checkpoint that parses', async () => {
    const p = await harnessPage();
    const presets = await p.$$eval('#lt-preset option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(presets).toEqual(['fashion-mnist-lt']);
    expect(await p.$eval('#lt-steps', (el) => (el as HTMLInputElement).value)).toBe('300');
    expect((await download(p)).disabled).toBe(true);

    await setValue(p, 'lt-steps', '0');
    await p.click('#lt-start');
    expect(await waitState(p, ['error', 'loading', 'running'])).toBe('error');
    expect(await statusText(p)).toMatch(/config key 'max_iter' = 0 must be an integer >= 1/);

    await p.select('#lt-algorithm', 'daso');
    await setValue(p, 'lt-steps', '2');
    await setValue(p, 'lt-eval-every', '2');
    await setValue(p, 'lt-seed', '0');
    // A software adapter gets a small evaluation by default (the whole test set takes minutes on SwiftShader).
    expect(await p.$eval('#lt-test-limit', (el) => (el as HTMLInputElement).value)).toBe('20');
    await setValue(p, 'lt-test-limit', '10');
    await p.click('#lt-start');
    const end = await waitState(p, ['done', 'stopped', 'error']);
    expect(end, await statusText(p)).toBe('done');
    expect(await statusText(p)).toMatch(/^done: final \(EMA model, 100 test images\) top1 [0-9.]+%/);
    expect(await p.$eval('#lt-info', (el) => el.textContent)).toMatch(/labeled per class 1000 599 359 215 129 77 46 27 16 10 .*starting at step 0/);

    const rows = await p.$$eval('#lt-evals tbody tr', (trs) => trs.map((tr) => ({
      step: (tr as HTMLElement).dataset.step, final: (tr as HTMLElement).dataset.final ?? '', cells: Array.from((tr as HTMLTableRowElement).cells, (c) => c.textContent),
    })));
    expect(rows.map((r) => [r.step, r.final])).toEqual([['2', ''], ['2', '1']]);
    for (const r of rows) {
      expect(r.cells).toHaveLength(5 + 10); // step, images, top-1, balanced, top-1 LA, 10 recalls
      expect(r.cells[1]).toBe('100');
      for (const c of r.cells.slice(2)) expect(Number(c)).toBeGreaterThanOrEqual(0);
    }
    expect(await p.$$eval('#lt-evals thead th', (ths) => ths.length)).toBe(15);
    // The live charts (src/viz/live-panel.ts) drew this run: the loss window, 3 accuracy dots and 10 recall cells of
    // the evaluation at step 2, and the embedding of the 100 evaluated images' features.
    const n = (sel: string) => p.evaluate((q) => document.querySelectorAll(q).length, sel);
    await p.waitForFunction(() => document.querySelectorAll('[data-chart="embedding"] svg').length > 0, { timeout: 120_000 });
    expect(await n('[data-chart="loss"] svg')).toBeGreaterThan(0);
    expect(await n('[data-chart="accuracy"] g.daso-accuracy-dots [aria-label]')).toBe(3);
    expect(await n('[data-chart="recall"] g.daso-recall-strip rect')).toBe(10);
    expect(await n('[data-chart="embedding"] g.daso-embedding-dots circle')).toBe(100);
    // A second run's metrics.jsonl (a committed FixMatch run) is drawn beside it.
    const compare = (await p.$('#lt-compare')) as ElementHandle<HTMLInputElement>;
    await compare.uploadFile('bench/results/experiment-fashion-mnist-lt-runs/exp-fixmatch-seed0/metrics.jsonl');
    await p.waitForFunction(() => /comparing with metrics.jsonl/.test(document.getElementById('lt-compare-note')?.textContent ?? ''), { timeout: 30_000 });
    await p.waitForFunction(() => document.querySelectorAll('[data-chart="accuracy"] g.daso-accuracy-dots [aria-label]').length > 3, { timeout: 30_000 });
    expect(await n('[data-chart="accuracy"] g.daso-accuracy-dots [aria-label^="loaded run "]')).toBe(3 * 6); // format 1: no algorithm
    expect(await p.$eval('#lt-start', (el) => (el as HTMLButtonElement).disabled)).toBe(false);
    expect(await p.$eval('#lt-stop', (el) => (el as HTMLButtonElement).disabled)).toBe(true);

    const d = await download(p);
    expect(d).toMatchObject({ disabled: false, name: 'fashion-mnist-lt-daso-seed0-step2.safetensors', step: '2' });
    const ck = (await latestCheckpoint(p))!;
    expect(ck.name).toBe(d.name);
    expect(ck.bytes.byteLength).toBe(Number(d.bytes));
    expect(Number(ck.tensors.step.data[0])).toBe(2);
    expect(ck.tensors['model.classifier.classifier.weight'].shape).toEqual([10, 64]);
    expect(ck.tensors['daso.queue'].shape[0]).toBe(10);
    const cfg = JSON.parse(ck.metadata.config);
    expect([cfg.name, cfg.algorithm, cfg.max_iter, cfg.train.eval_every, cfg.train.seed]).toEqual(['fashion-mnist-lt', 'daso', 2, 2, 0]);
    expect(JSON.parse(ck.metadata.history)).toHaveLength(1);
    firstCheckpoint = join(mkdtempSync(join(tmpdir(), 'daso-live-')), ck.name);
    writeFileSync(firstCheckpoint, ck.bytes);
  }, TEST_MS);

  it('Stop ends a 50-step run between steps with a checkpoint of the steps done', async () => {
    const p = await harnessPage();
    await p.select('#lt-algorithm', 'fixmatch');
    await setValue(p, 'lt-steps', '50');
    await setValue(p, 'lt-eval-every', '25');
    await p.click('#lt-start');
    expect(await waitState(p, ['running', 'done', 'stopped', 'error']), await statusText(p)).toBe('running');
    expect(await p.$eval('#lt-start', (el) => (el as HTMLButtonElement).disabled)).toBe(true);
    await p.click('#lt-stop');
    expect(['stopping', 'stopped']).toContain(await waitState(p, ['stopping', 'stopped', 'done', 'error']));
    const end = await waitState(p, ['done', 'stopped', 'error']);
    const text = await statusText(p);
    expect(end, text).toBe('stopped');
    const m = /^stopped at step (\d+)\/50: checkpoint kept/.exec(text);
    expect(m, text).not.toBeNull();
    const step = Number(m![1]);
    // The stop is seen when the loop next awaits: after step 0 at the earliest, at the first log step (10) at the latest.
    expect(step).toBeGreaterThanOrEqual(1);
    expect(step).toBeLessThanOrEqual(10);
    const d = await download(p);
    expect(d).toMatchObject({ disabled: false, name: `fashion-mnist-lt-fixmatch-seed0-step${step}.safetensors`, step: String(step) });
    const ck = (await latestCheckpoint(p))!;
    expect(Number(ck.tensors.step.data[0])).toBe(step);
    expect(JSON.parse(ck.metadata.config).max_iter).toBe(50);
    // The samplers' state is in the checkpoint (resume needs it): the preset's labeled pool (1000 ... 10 images per
    // class, 2478 in all) drawn 16 at a time, and the unlabeled pool drawn 32 (mu = 2) at a time.
    const feed = JSON.parse(ck.metadata.feed);
    expect(feed.labeled).toMatchObject({ poolSize: 2478, batchSize: 16 });
    expect(feed.unlabeled).toMatchObject({ batchSize: 32 });
    expect(await p.$eval('#lt-start', (el) => (el as HTMLButtonElement).disabled)).toBe(false);
  }, TEST_MS);

  it('resumes from a checkpoint file with the config from its metadata', async () => {
    expect(firstCheckpoint).not.toBe('');
    const p = await harnessPage();
    const input = (await p.$('#lt-resume')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(firstCheckpoint);
    await p.waitForFunction(() => /^resume from /.test(document.getElementById('lt-status')?.textContent ?? ''), { timeout: 30_000 });
    expect(await statusText(p)).toMatch(/step 2 of 2, daso, seed 0; the config comes from the checkpoint/);
    expect(await p.$eval('#lt-steps', (el) => [(el as HTMLInputElement).value, (el as HTMLInputElement).disabled])).toEqual(['2', true]);
    expect(await p.$eval('#lt-algorithm', (el) => (el as HTMLSelectElement).value)).toBe('daso');
    await p.click('#lt-start');
    const end = await waitState(p, ['done', 'stopped', 'error']);
    expect(end, await statusText(p)).toBe('done');
    expect(await p.$eval('#lt-info', (el) => el.textContent)).toMatch(/starting at step 2/);
    // The checkpoint's evaluation history, then the final evaluation.
    expect(await p.$$eval('#lt-evals tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.final ?? ''))).toEqual(['', '1']);
  }, TEST_MS);
});
