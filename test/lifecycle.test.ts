// How a `daso train` run stops, whatever stops it: SIGTERM / SIGINT at a step boundary with a checkpoint and exit
// 143 / 130, a second signal at once, kill -9 of node (the watchdog takes the browser down), and crashes at three
// moments (mid-step, mid-evaluation, mid-checkpoint write) resumed to the same bits as an uninterrupted run.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../src/nn/safetensors.js';
import { daso, killChildren, leftovers, privateTmp, start, tempDir, tinyConfig, writeJson } from './helpers/cli.js';

const dir = tempDir('daso-life-');
afterEach(killChildren);
const records = (run: string) => readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { kind: string; step: number });
/** Steps of the evaluation records (log records come every step in these runs). */
const metricsSteps = (run: string) => records(run).filter((r) => r.kind === 'eval').map((r) => r.step);
const ckStep = (run: string) => Number(readSafetensors(new Uint8Array(readFileSync(join(run, 'checkpoint.safetensors'))), 'ck').tensors.step.data[0]);

describe('signals', () => {
  it('SIGTERM stops at a step boundary with a checkpoint, exit 143, no browser or profile left; --resume finishes the run', async () => {
    // 16 steps: room to stop well before the end (a tiny step is ~0.1 s; the signal is handled within one), few to
    // run on resume (this was 40: ~10 s of the test spent finishing the run).
    const cfg = writeJson(join(dir, 'long.json'), tinyConfig({ max_iter: 16, train: { checkpoint_every: 1000, eval_every: 1000 } }));
    const run = join(dir, 'term');
    const tmp = privateTmp();
    const r = start(['train', '--config', cfg, '--out-dir', run], { TMPDIR: tmp });
    await r.waitFor(/step 3\/16 /);
    r.child.kill('SIGTERM');
    const ex = await r.exited;
    expect(ex.code, r.out()).toBe(143);
    const m = /stopped after step (\d+)/.exec(r.out());
    expect(m, r.out()).not.toBeNull();
    const stopped = Number(m![1]);
    expect(stopped).toBeGreaterThanOrEqual(3);
    expect(stopped).toBeLessThan(16);
    expect(ckStep(run)).toBe(stopped);
    expect(await leftovers(tmp)).toEqual({ processes: [], profiles: [] });
    const resumed = daso(['train', '--resume', run]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(new RegExp(`starting at step ${stopped}`));
    expect(existsSync(join(run, 'final.json'))).toBe(true);
  }, 300_000);

  it('a second SIGINT exits at once with 130 and still leaves no browser behind', async () => {
    const cfg = writeJson(join(dir, 'long2.json'), tinyConfig({ max_iter: 400, train: { checkpoint_every: 1000, eval_every: 1000 } }));
    const tmp = privateTmp();
    const r = start(['train', '--config', cfg, '--out-dir', join(dir, 'int2')], { TMPDIR: tmp });
    await r.waitFor(/step 2\/400/);
    r.child.kill('SIGINT');
    // Signals of one kind do not queue: wait until the first was handled before sending the second.
    await r.waitFor(/SIGINT received/);
    r.child.kill('SIGINT');
    const ex = await r.exited;
    expect(ex.code, r.out()).toBe(130);
    expect(r.out()).toMatch(/second SIGINT/);
    expect(await leftovers(tmp)).toEqual({ processes: [], profiles: [] });
  }, 300_000);

  it('SIGTERM to a benchmark closes its browser and exits 143 at once (nothing to save)', async () => {
    const tmp = privateTmp();
    const r = start(['bench', '--filter', 'matmul', '--reps', '1000', '--out', join(dir, 'bench.json')], { TMPDIR: tmp });
    await r.waitFor(/adapter:/);
    const t0 = Date.now();
    r.child.kill('SIGTERM');
    expect((await r.exited).code, r.out()).toBe(143);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await leftovers(tmp)).toEqual({ processes: [], profiles: [] });
    expect(existsSync(join(dir, 'bench.json'))).toBe(false);
  }, 120_000);

  it('kill -9 of node takes the browser and its profile folder down too (watchdog)', async () => {
    const cfg = writeJson(join(dir, 'long3.json'), tinyConfig({ max_iter: 400, train: { checkpoint_every: 1000, eval_every: 1000 } }));
    const tmp = privateTmp();
    const r = start(['train', '--config', cfg, '--out-dir', join(dir, 'kill9')], { TMPDIR: tmp });
    await r.waitFor(/step 2\/400/);
    // The browser is running now: its profile folder is in the private TMPDIR.
    expect(readdirSync(tmp).filter((f) => f.startsWith('daso-chromium-'))).toHaveLength(1);
    r.child.kill('SIGKILL');
    expect((await r.exited).signal).toBe('SIGKILL');
    expect(await leftovers(tmp)).toEqual({ processes: [], profiles: [] });
  }, 300_000);
});

describe('crash and resume', () => {
  const cfg = join(dir, 'tiny.json');
  const base = join(dir, 'base');
  beforeAll(() => {
    writeJson(cfg, tinyConfig());
    const r = daso(['train', '--config', cfg, '--out-dir', base]);
    expect(r.status, r.stderr).toBe(0);
  }, 300_000);

  // Mid-step: killed while step 5 is in flight; mid-evaluation: the evaluation at step 4 was computed but not
  // recorded; mid-checkpoint: the checkpoint of step 6 is fully written to its temp file, the rename never happens.
  for (const fault of ['progress:5', 'eval:4', 'checkpoint-write:6']) {
    it(`killed at ${fault}, resumed: the final state equals the uninterrupted run bit for bit, each step logged once`, async () => {
      const run = join(dir, `crash-${fault.replace(':', '-')}`);
      const tmp = privateTmp();
      const r = daso(['train', '--config', cfg, '--out-dir', run], { DASO_FAULT: fault, TMPDIR: tmp });
      expect(r.signal, r.stdout + r.stderr).toBe('SIGKILL');
      expect(await leftovers(tmp)).toEqual({ processes: [], profiles: [] });
      if (fault.startsWith('checkpoint-write')) expect(readdirSync(run).some((f) => f.endsWith('.tmp'))).toBe(true);
      const again = daso(['train', '--resume', run]);
      expect(again.status, again.stderr).toBe(0);
      if (fault.startsWith('checkpoint-write')) {
        expect(again.stdout).toMatch(/removed 1 temp file\(s\) of a writer that died/);
        expect(readdirSync(run).some((f) => f.endsWith('.tmp'))).toBe(false);
        // Log records of steps 5 and 6 and the evaluation of step 6 were made after the checkpoint of step 4.
        expect(again.stdout).toMatch(/dropped 3 record\(s\) made after the checkpoint \(step 4\)/);
      }
      expect(metricsSteps(run)).toEqual([2, 4, 6, 8]);
      // One start record, then one log record a step: the pseudo-label statistics continue across the crash.
      expect(records(run).filter((r) => r.kind === 'log').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(records(run).filter((r) => r.kind === 'start')).toHaveLength(1);
      const feats = readdirSync(join(base, 'features')).sort();
      expect(feats).toEqual(['final.safetensors', 'step-000002.safetensors', 'step-000004.safetensors', 'step-000006.safetensors', 'step-000008.safetensors']);
      for (const f of feats) expect(readFileSync(join(run, 'features', f)).equals(readFileSync(join(base, 'features', f))), f).toBe(true);
      expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe(readFileSync(join(base, 'metrics.jsonl'), 'utf8'));
      const a = readSafetensors(new Uint8Array(readFileSync(join(base, 'checkpoint.safetensors'))), 'base');
      const b = readSafetensors(new Uint8Array(readFileSync(join(run, 'checkpoint.safetensors'))), 'resumed');
      expect(Object.keys(b.tensors).sort()).toEqual(Object.keys(a.tensors).sort());
      const differ = Object.keys(a.tensors).filter((k) => Buffer.compare(Buffer.from(a.tensors[k].data.buffer), Buffer.from(b.tensors[k].data.buffer)) !== 0);
      expect(differ).toEqual([]);
      expect(b.metadata).toEqual(a.metadata);
      expect(JSON.parse(readFileSync(join(run, 'final.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(base, 'final.json'), 'utf8')));
    }, 300_000);
  }

  it('a fresh run refuses a folder that holds any run file, not only a checkpoint', () => {
    const run = join(dir, 'metrics-only');
    const bad = daso(['train', '--config', cfg, '--out-dir', run, '--set', 'max_iter=0']); // refused by the config check
    expect(bad.stderr).toMatch(/max_iter/);
    expect(existsSync(join(run, 'config.json'))).toBe(false);
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'metrics.jsonl'), '{"step":2}\n');
    const r = daso(['train', '--config', cfg, '--out-dir', run]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already holds a run \(metrics\.jsonl\): choose another --out-dir, or delete the folder/);
    expect(readFileSync(join(run, 'metrics.jsonl'), 'utf8')).toBe('{"step":2}\n');
  });
});

describe('the page side', () => {
  it('notices that the CLI behind its server is gone and stops the run with a message', async () => {
    const { connectTestBrowser } = await import('./helpers/harness.js');
    const { startServer } = await import('../src/cli/server.js');
    const { openHarness } = await import('../src/cli/browser.js');
    const { syntheticDataset } = await import('../src/data/synthetic.js');
    const c = tinyConfig({ max_iter: 400, train: { checkpoint_every: 1000, eval_every: 1000 } });
    const srv = await startServer(process.cwd());
    const browser = await connectTestBrowser();
    const page = await openHarness(browser, srv.url);
    try {
      const ref = (key: string, perClass: number, seed: number) => {
        const d = syntheticDataset({ numClasses: 3, channels: 1, height: 8, width: 8, perClass, seed, name: key });
        srv.io.files.set(`${key}_images`, d.images);
        srv.io.files.set(`${key}_labels`, new Uint8Array(Int32Array.from(d.labels).buffer));
        return { name: key, n: d.n, channels: 1, height: 8, width: 8, numClasses: 3, imagesUrl: srv.io.url(`${key}_images`), labelsUrl: srv.io.url(`${key}_labels`) };
      };
      const steps: number[] = [];
      await page.exposeFunction('dasoReport', (e: { type: string; step?: number }) => { if (e.type === 'progress') steps.push(e.step!); });
      await page.exposeFunction('dasoCheckpoint', () => undefined);
      const req = { config: c, train: ref('train', 34, 1), test: ref('test', 10, 2), resumeUrl: null, ioBase: srv.io.url('') };
      const result = page.evaluate((r) => (window as unknown as { daso: { train(r: unknown): Promise<unknown> } }).daso.train(r), req as never) as Promise<{ ok: boolean; error?: string }>;
      while (steps.length < 2) await new Promise((ok) => setTimeout(ok, 100));
      const t0 = Date.now();
      await srv.close(); // what the page sees when the node process dies
      const res = await result;
      expect(res.ok).toBe(false);
      expect(res.error).toMatch(/lost the connection to the CLI: the run stopped/);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect(steps[steps.length - 1]).toBeLessThan(400);
    } finally {
      await page.close().catch(() => undefined);
      await browser.disconnect();
    }
  }, 120_000);
});
