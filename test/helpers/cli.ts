// Running the built `daso` CLI as a child process, as a user would: a tiny synthetic DASO config, waiting for a line
// of its output, and looking for browsers it left behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The CLI reads the user's tune cache (~/.cache/daso-webgpu/tune.json) by default: tests must not see it (their
// choices would depend on what the person ran before), so every child gets a private one unless a test sets its own
// (vitest.config.ts sets one for every test file; this covers the helper used on its own).
if (!process.env.DASO_TUNE_CACHE) process.env.DASO_TUNE_CACHE = join(mkdtempSync(join(tmpdir(), 'daso-tune-')), 'tune.json');

/** A tiny DASO run (WRN-10-1 on 3 classes of 8x8 synthetic images): a step takes a fraction of a second here. */
// eval.batch_size 4 = the training batch: the evaluation then reuses the EMA forward's compiled pipelines instead of
// compiling a third set (a tiny run 31-33 s instead of 34-36 s, beside other work).
export function tinyConfig(over: { max_iter?: number; train?: Record<string, number> } = {}) {
  return {
    name: 'tiny', algorithm: 'daso', max_iter: over.max_iter ?? 8,
    model: { depth: 10, width: 1, in_channels: 1, num_classes: 3, image_size: 8 },
    data: { dataset: 'synthetic', num_valid_per_class: 2, n1: 12, m1: 20, gamma_l: 4, gamma_u: 4 },
    ssl: { tau: 0.5 },
    daso: { warmup: 2, pl_update_period: 2, queue_size: 4 },
    train: { batch_size: 4, unlabeled_ratio: 1, log_every: 1, eval_every: 2, checkpoint_every: 2, seed: 3, ...over.train },
    eval: { batch_size: 4, per_class_limit: 3, median_of: 2 },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJson(path: string, v: unknown): string {
  writeFileSync(path, JSON.stringify(v));
  return path;
}

/** Runs `daso ARGS` to the end (synchronously). */
export function daso(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
}

export interface Running {
  child: ChildProcess;
  out: () => string;
  /** Resolves when the output matches `re` (rejects after `ms`). */
  waitFor(re: RegExp, ms?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();

/** SIGKILLs every child `start` began that is still running (a failed test must not leave a run behind). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

/** Starts `daso ARGS` in the background. A private TMPDIR lets the test find the browser profile it creates. */
export function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let text = '';
  const listeners: (() => void)[] = [];
  const onData = (d: Buffer) => {
    text += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => child.on('exit', (code, signal) => ok({ code, signal })));
  return {
    child,
    out: () => text,
    exited,
    waitFor: (re, ms = 120_000) => new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`timed out waiting for ${re}; output:\n${text}`)), ms);
      const check = () => {
        if (re.test(text)) { clearTimeout(timer); ok(); }
      };
      listeners.push(check);
      void exited.then(() => setTimeout(() => { if (!re.test(text)) { clearTimeout(timer); fail(new Error(`exited before ${re}; output:\n${text}`)); } }, 50));
      check();
    }),
  };
}

/** A private temp folder for a child's TMPDIR (its browser profile goes there). */
export function privateTmp(): string {
  const d = tempDir('daso-tmp-');
  mkdirSync(d, { recursive: true });
  return d;
}

/** Processes whose command line mentions `text` (e.g. a browser profile folder). */
export function processesMentioning(text: string): string[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

/** Waits until no process mentions `text` and `dir` holds no browser profile (or `ms` passes); returns what is left. */
export async function leftovers(tmp: string, ms = 8000): Promise<{ processes: string[]; profiles: string[] }> {
  const t0 = Date.now();
  for (;;) {
    const processes = processesMentioning(tmp);
    const profiles = existsSync(tmp) ? readdirSync(tmp).filter((f) => f.startsWith('daso-chromium-')) : [];
    if ((!processes.length && !profiles.length) || Date.now() - t0 > ms) return { processes, profiles };
    await new Promise((ok) => setTimeout(ok, 250));
  }
}
