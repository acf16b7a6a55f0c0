// The package as a web developer gets it: `npm pack` (its prepack builds the bundles and the declarations), the file
// list and size, an install into a fresh app outside the repo, `tsc --strict` of a small app against the installed
// types (bundler and NodeNext resolution; a misuse must fail to compile), an esbuild bundle of that app and of the
// example web app with no puppeteer in them, and training + prediction in headless Chromium twice: the Node example
// (examples/node/train-arrays.mjs, through daso-webgpu/node) and the app's browser bundle.
// The install uses the npm cache first and the registry for what the cache lacks (--prefer-offline).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = process.cwd();
const tsc = join(repo, 'node_modules/typescript/bin/tsc');
const work = mkdtempSync(join(tmpdir(), 'daso-pkg-'));
const app = join(work, 'app');
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

interface PackInfo {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

let pack: PackInfo;
let installStart = 0;
const timings: Record<string, number> = {};

/** What an installed package needs besides its declarations (dist/types/**.d.ts). */
const FILES = [
  'LICENSE', 'README.md', 'bin/daso.mjs', 'dist/cli.js', 'dist/harness.js', 'dist/index.js', 'dist/index.js.map', 'dist/node-page.html',
  'dist/node-page.js', 'dist/node.js', 'dist/node.js.map', 'dist/viz.js', 'harness.html', 'package.json',
  // `daso convert` runs these with the system's PyTorch (docs: README, "Official PyTorch checkpoints").
  'scripts/convert_official.py', 'scripts/safetensors_io.py', 'scripts/torch_reference.py',
];

beforeAll(() => {
  let t = performance.now();
  // Same JSON as `npm pack --dry-run --json`, and the tarball the install needs.
  pack = (JSON.parse(npm(['pack', '--json', '--pack-destination', work], repo)) as PackInfo[])[0];
  timings.pack = performance.now() - t;
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const typesNode = (JSON.parse(readFileSync(join(repo, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;
  installStart = t = performance.now();
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', join(work, pack.filename), `@types/node@${typesNode}`], app);
  timings.install = performance.now() - t;
}, 300_000);

afterAll(() => {
  process.stdout.write(`package test timings (s): ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}; ` +
    `tarball ${(pack?.size / 1024).toFixed(0)} KiB packed, ${(pack?.unpackedSize / 1024).toFixed(0)} KiB unpacked\n`);
  rmSync(work, { recursive: true, force: true });
});

describe('npm package', () => {
  it('packs the bundles, declarations, CLI, the converter scripts, README and LICENSE only, under 2 MB', () => {
    const paths = pack.files.map((f) => f.path).sort();
    for (const f of FILES) expect(paths).toContain(f);
    const types = paths.filter((p) => p.startsWith('dist/types/'));
    expect(types).toEqual(expect.arrayContaining(['dist/types/index.d.ts', 'dist/types/node/index.d.ts', 'dist/types/viz/index.d.ts', 'dist/types/api/trainer.d.ts']));
    expect(types.every((p) => p.endsWith('.d.ts'))).toBe(true);
    expect(paths.filter((p) => !FILES.includes(p) && !p.startsWith('dist/types/'))).toEqual([]);
    expect(pack.size).toBeLessThan(2 * 1024 * 1024);
  });

  it('installs: both entries import, the CLI runs, puppeteer-core came as a dependency', async () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e',
      "const m = await import('daso-webgpu'); const n = await import('daso-webgpu/node'); const v = await import('daso-webgpu/viz'); " +
      'console.log(typeof m.createTrainer, typeof m.createDataSource, typeof n.launchWebGpuPage, typeof v.LivePanel, typeof v.pseudoLabelBars)'], { cwd: app, encoding: 'utf8' });
    expect(out.trim()).toBe('function function function function function');
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(join(app, 'node_modules/.bin/daso'), ['--version'], { cwd: app, encoding: 'utf8' }).trim()).toBe(`daso-webgpu ${pkg.version}`);
    expect(existsSync(join(app, 'node_modules/puppeteer-core/package.json'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/puppeteer'))).toBe(false);
    const bundle = readFileSync(join(app, 'node_modules/daso-webgpu/dist/index.js'), 'utf8');
    expect(bundle).not.toMatch(/puppeteer|node:/);
    // `daso train` and the other commands open the harness page from the installed package: it must be served.
    const serve = spawn(join(app, 'node_modules/.bin/daso'), ['serve', '--port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let text = '';
        serve.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          const m = /harness: (http:\/\/127\.0\.0\.1:\d+)\/harness\.html/.exec(text);
          if (m) ok(m[1]);
        });
        serve.on('exit', (code) => fail(new Error(`daso serve exited (${code}): ${text}`)));
      });
      for (const f of ['harness.html', 'dist/harness.js']) expect((await fetch(`${url}/${f}`)).status, f).toBe(200);
    } finally {
      serve.kill('SIGTERM');
    }
  });

  it('type-checks an app against the installed types with tsc --strict', () => {
    copyFileSync(join(repo, 'test/fixtures/app/app.ts'), join(app, 'src/app.ts'));
    copyFileSync(join(repo, 'test/fixtures/app/node-tool.ts'), join(app, 'src/node-tool.ts'));
    mkdirSync(join(app, 'wrong'));
    writeFileSync(join(app, 'wrong/wrong.ts'), [
      "import { createDataSource, createTrainer } from 'daso-webgpu';",
      'const data = createDataSource({ labeled: { images: [], labels: [] } });',
      'const trainer = await createTrainer({ data, config: { stepz: 5 } });',
      'export const p: string = await trainer.predict([]);',
    ].join('\n'));
    const base = { strict: true, target: 'ES2022', lib: ['ES2022', 'DOM'], types: ['node'], noEmit: true, skipLibCheck: false };
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { ...base, module: 'ESNext', moduleResolution: 'Bundler' }, include: ['src'] }));
    writeFileSync(join(app, 'tsconfig.nodenext.json'), JSON.stringify({ compilerOptions: { ...base, module: 'NodeNext', moduleResolution: 'NodeNext' }, include: ['src', 'wrong'] }));
    const t = performance.now();
    const ok = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
    expect(ok.stdout + ok.stderr).toBe('');
    expect(ok.status).toBe(0);
    // NodeNext: the app compiles as well, and the misuses in wrong/ are caught by the declarations (not `any`).
    const nn = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json'], { cwd: app, encoding: 'utf8' });
    const errors = nn.stdout.trim().split('\n').map((l) => l.replace(/\(\d+,\d+\)/, '')).sort();
    expect(errors).toEqual([
      "wrong/wrong.ts: error TS2322: Type 'Float32Array<ArrayBufferLike>' is not assignable to type 'string'.",
      "wrong/wrong.ts: error TS2561: Object literal may only specify known properties, but 'stepz' does not exist in type 'TrainerConfig'. Did you mean to write 'steps'?",
    ]);
    timings.tsc = performance.now() - t;
  }, 120_000);

  it('bundles the app and the example web app with esbuild, without puppeteer', async () => {
    const { build } = await import('esbuild');
    mkdirSync(join(app, 'web'));
    for (const f of ['app.ts', 'folder.ts', 'index.html']) copyFileSync(join(repo, 'examples/web', f), join(app, 'web', f));
    const t = performance.now();
    const opts = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', absWorkingDir: app, logLevel: 'silent' } as const;
    await build({ ...opts, entryPoints: ['src/app.ts'], outfile: 'dist/app.js' });
    await build({ ...opts, entryPoints: ['web/app.ts'], outfile: 'web/dist/app.js' });
    timings.esbuild = performance.now() - t;
    for (const f of ['dist/app.js', 'web/dist/app.js']) expect(readFileSync(join(app, f), 'utf8')).not.toMatch(/puppeteer/);
    writeFileSync(join(app, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./dist/app.js"></script>');
  });

  it('trains and predicts in headless Chromium: the Node example, then the browser bundle', async () => {
    copyFileSync(join(repo, 'examples/node/train-arrays.mjs'), join(app, 'train-arrays.mjs'));
    let t = performance.now();
    const run = spawnSync(process.execPath, ['train-arrays.mjs', '4', 'predictions.json'], { cwd: app, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    timings.nodeExample = performance.now() - t;
    timings.installToFirstPrediction = performance.now() - installStart;
    expect(run.stderr).toMatch(/labeled per class 24 8 3/);
    expect(run.stdout).toMatch(/wrote predictions\.json: predicted \d \d \d for classes 0 1 2/);
    const pred = JSON.parse(readFileSync(join(app, 'predictions.json'), 'utf8')) as { probabilities: number[][]; steps: number };
    expect(pred.steps).toBe(4);
    expect(pred.probabilities).toHaveLength(3);
    for (const row of pred.probabilities) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    // The app's own bundle, served and opened with the installed package's Node parts.
    t = performance.now();
    const node = (await import(pathToFileURL(join(app, 'node_modules/daso-webgpu/dist/node.js')).href)) as typeof import('../src/node/index.js');
    const server = await node.startServer(app, { extraFiles: ['index.html', 'dist/app.js'], datasets: {} });
    const chromium = await node.launchChromium();
    try {
      const page = await chromium.browser.newPage();
      await page.goto(`${server.url}/index.html`);
      await page.waitForFunction('window.appResult !== undefined', { timeout: 240_000, polling: 500 });
      const r = (await page.evaluate('window.appResult')) as { steps: number[]; probs: number[]; top1: number; saved: number; error?: string };
      expect(r.error).toBeUndefined();
      expect(r.steps).toEqual([1, 2]);
      expect(r.probs).toHaveLength(9);
      expect(r.top1).toBeGreaterThanOrEqual(0);
      expect(r.saved).toBeGreaterThan(100_000);
    } finally {
      await chromium.close();
      await server.close();
    }
    timings.browserBundle = performance.now() - t;
  }, 600_000);
});
