// The example web app (examples/web) in headless Chromium, driven as a person would: pick a folder (class subfolders,
// unlabeled/, a stray text file), read its messages for a class folder without images and for mixed sizes, train a
// few steps with live progress, classify an image.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from '../src/cli/browser.js';
import { startServer, type StaticServer } from '../src/cli/server.js';

/** A 24-bit BMP (bottom-up rows padded to 4 bytes) of size w x h, pixel (x, y) = rgb(x, y). */
function bmp(w: number, h: number, rgb: (x: number, y: number) => [number, number, number]): Buffer {
  const row = Math.ceil((w * 3) / 4) * 4, size = 54 + row * h;
  const b = Buffer.alloc(size);
  b.write('BM', 0);
  b.writeUInt32LE(size, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [r, g, bl] = rgb(x, y);
      const o = 54 + (h - 1 - y) * row + 3 * x;
      b[o] = bl;
      b[o + 1] = g;
      b[o + 2] = r;
    }
  }
  return b;
}

/** Class k: a bright band of rows 2k+2..2k+3 on 8x8, with per-image noise. */
const bandImage = (k: number, seed: number, size = 8) =>
  bmp(size, size, (x, y) => {
    const v = ((y >> 1) === k + 1 ? 190 : 40) + ((seed * 31 + x * 7 + y * 13) % 40);
    return [v, v, v];
  });

const work = mkdtempSync(join(tmpdir(), 'daso-example-'));
let server: StaticServer;
let chromium: LaunchedBrowser;
let page: Page;

function folder(name: string, files: Record<string, Buffer | string>): string {
  const root = join(work, name);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), body);
  }
  return root;
}

async function pick(dir: string): Promise<string> {
  await page.evaluate(() => { for (const id of ['summary', 'status']) document.getElementById(id)!.textContent = ''; });
  const input = (await page.$('input#folder'))!;
  await input.uploadFile(dir);
  await page.waitForFunction(() => document.getElementById('summary')!.textContent || document.getElementById('status')!.textContent);
  return page.evaluate(() => `${document.getElementById('status')!.textContent}|${document.getElementById('summary')!.textContent}`);
}

beforeAll(async () => {
  await build({
    entryPoints: ['examples/web/app.ts'], outfile: 'examples/web/dist/app.js', bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    loader: { '.wgsl': 'text' }, alias: { 'daso-webgpu/viz': './src/viz/index.ts', 'daso-webgpu': './src/index.ts' }, logLevel: 'warning',
  });
  server = await startServer(process.cwd(), { datasets: {}, extraFiles: ['examples/web/index.html', 'examples/web/dist/app.js'] });
  chromium = await launchChromium();
  page = await chromium.browser.newPage();
  await page.goto(`${server.url}/examples/web/index.html`);
  await page.waitForFunction(() => !/acquiring/.test(document.getElementById('adapter')!.textContent!), { timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  await chromium?.close();
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const status = () => page.evaluate(() => document.getElementById('status')!.textContent!);

describe('example web app', () => {
  it('explains a class folder without images and mixed image sizes', async () => {
    const empty = folder('empty-class', { 'a/1.bmp': bandImage(0, 1), 'a/2.bmp': bandImage(0, 2), 'b/readme.txt': 'not an image' });
    expect(await pick(empty)).toMatch(/class folder 'b' has no images/);
    const mixed = folder('mixed', { 'a/1.bmp': bandImage(0, 1), 'a/2.bmp': bandImage(0, 2, 12), 'b/1.bmp': bandImage(1, 3) });
    expect(await pick(mixed)).toMatch(/2 classes \(a, b\), 3 labeled and 0 unlabeled images/);
    await page.click('#train');
    await page.waitForFunction(() => document.getElementById('status')!.className === 'error', { timeout: 60_000 });
    expect(await status()).toMatch(/labeled images: image 1 \(mixed\/a\/2\.bmp\) is 12x12 but image 0 \(mixed\/a\/1\.bmp\) is 8x8: all images must have one size; resize them first — or choose a size under "resize to"/);
  }, 120_000);

  it('trains on a picked folder with live progress and classifies a picked image', async () => {
    const files: Record<string, Buffer | string> = { 'notes.txt': 'skip me' };
    const counts = [12, 5, 2];
    counts.forEach((n, k) => { for (let i = 0; i < n; i++) files[`c${k}/${i}.bmp`] = bandImage(k, 10 * k + i); });
    // Unlabeled images in class folders (labels for the pseudo-label statistics only) and a test set: every chart.
    for (let i = 0; i < 12; i++) files[`unlabeled/c${i % 3}/${i}.bmp`] = bandImage(i % 3, 100 + i);
    for (let i = 0; i < 6; i++) files[`test/c${i % 3}/${i}.bmp`] = bandImage(i % 3, 200 + i);
    files['c0/notes.txt'] = 'skip me too';
    const dir = folder('dataset', files);
    expect(await pick(dir)).toMatch(/3 classes \(c0, c1, c2\), 19 labeled and 12 unlabeled images, 2 other file\(s\) skipped/);
    await page.evaluate(() => { (document.getElementById('steps') as HTMLInputElement).value = '3'; });
    await page.click('#train');
    await page.waitForFunction(() => /^(trained|stopped) at step|error/.test(document.getElementById('status')!.textContent! + document.getElementById('status')!.className),
      { timeout: 400_000, polling: 500 });
    expect(await status()).toBe('trained at step 3/3: drop an image below to classify it');
    // The live charts: loss lines, K pseudo-label recall bars, accuracy dots of the evaluations, 6 embedding dots.
    const n = (sel: string) => page.evaluate((q) => document.querySelectorAll(q).length, sel);
    await page.waitForFunction(() => document.querySelectorAll('[data-chart="embedding"] svg').length > 0, { timeout: 60_000 });
    expect(await n('[data-chart="loss"] svg')).toBeGreaterThan(0);
    expect(await n('[data-chart="pseudo-labels"] g.daso-pl-bars [aria-label*=" recall c"]')).toBe(3);
    expect(await n('[data-chart="accuracy"] g.daso-accuracy-dots [aria-label]')).toBe(3 * 3); // evaluations at steps 1, 2, 3
    expect(await n('[data-chart="embedding"] g.daso-embedding-dots circle')).toBe(6);
    const summary = await page.evaluate(() => document.getElementById('summary')!.textContent!);
    expect(summary).toMatch(/labeled per class 12 5 2 \(19 in all, imbalance 6\.0:1\); 12 unlabeled/);
    expect(summary).toMatch(/skipped 2 file\(s\) that are not images/);
    writeFileSync(join(work, 'query.bmp'), bandImage(1, 999));
    await (await page.$('input#query'))!.uploadFile(join(work, 'query.bmp'));
    await page.waitForFunction(() => document.querySelectorAll('#result .row').length === 3 || document.getElementById('status')!.className === 'error',
      { timeout: 120_000 });
    expect(await status()).toMatch(/^query\.bmp: c[012] \(resized to 8x8; EMA model after 3 steps\)$/);
  }, 600_000);
});
