// `daso bench-gpu`: the one prepared command for a machine with a real GPU (issue 15 item 6). It launches Chromium
// with the flags Linux needs for a hardware WebGPU adapter (Vulkan), says which adapter it got, then runs three parts,
// each under a share of one time budget (default 450 s, so `npm run bench:gpu` with its build stays under 8 minutes):
//   conv     the conv2d rows of `daso bench` (WRN-28-2 shapes, batch 64): every rung of the ladder;
//   step     whole training steps of `daso bench-step`: wrn28-2-sup-b64, then wrn28-2-daso-b64, each after the
//            autotuner has chosen its conv rungs (--tune fresh within a share of the part; entries to the tune cache);
//   compare  `daso bench-compare`'s single-op cases (ours vs tfjs-backend-webgpu), if tfjs's bundle was built.
// On a fallback adapter (SwiftShader: the CPU) or with --dry-run the work is scaled down (only the rungs the training
// step runs, one repetition, compare at batch 8, no DASO step) so the whole command still fits the budget here.
// Why a budget per case and a hard deadline: the GPU machine is lent for minutes, so a part that would overrun must
// give up with a reason rather than take the session with it. A case that runs past its part's deadline gets its
// browser killed (a page cannot be interrupted otherwise); the next part starts a fresh one.
// The JSON and markdown are rewritten after every case, so whatever finished is kept if the command is killed.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'puppeteer-core';
import { benchCases } from '../../bench/cases/index.js';
import type { CompareApi, CompareCase, CompareInfo, CompareRow } from '../../bench/compare/types.js';
import type { BenchRow } from '../harness/bench-table.js';
import type { StepBenchRow } from '../harness/step-bench.js';
import { conv2dBackwardWeightRule } from '../kernels/conv2d.js';
import { launchChromium, openHarness, type LaunchedBrowser } from './browser.js';
import { environment, fallbackHint, GPU_FLAG_SETS, isHardwareAdapter } from './gpu-choice.js';
import { writeAtomic } from './files.js';
import { startServer, type StaticServer } from './server.js';
import { STEP_BENCH_CASES } from './step-bench.js';
import { markdown, type AdapterAttempt, type BenchGpuReport, type PartReport } from './bench-gpu-report.js';
import { readTuneCache, saveTuneEntries, tuneCachePath } from './tune-file.js';
import type { TuneMode } from '../tune/prepare.js';

/** Last resort when no GPU flag set gives any adapter: the flags every other command uses (SwiftShader here). */
const PLAIN_FLAGS = { name: 'plain', flags: [] as string[] };

/** The step part tunes each step's conv rungs first (src/tune, --tune fresh) within this share of the part's budget
 * (at most 60 s; 10 s on a scaled-down run, where it mostly exercises the path), then times the tuned step; the
 * entries go to the tune cache file (tune-file.ts), so later runs on this adapter get them with --tune cached. */
const TUNE_SHARE = 0.3;
export const AUTOTUNE_STATUS = `fresh before each step case (within ${100 * TUNE_SHARE}% of the step part's budget, at most 60 s; 10 s when ` +
  'scaled down); each step row\'s tune has the mode, tuning time (not in the step times), the rung of every conv and the measured entries, ' +
  'which are merged into the tune cache file';

export interface BenchGpuOptions {
  outDir: string;
  dryRun: boolean;
  /** Seconds for the whole command (browser starts included). */
  budgetS: number;
  verbose: boolean;
  /** --tune (default fresh here): how the step part picks its conv rungs; cached/off as on bench-step. */
  tune?: TuneMode;
  /** The command line as typed, for the report. */
  command: string;
}

const now = () => performance.now();
const sec = (ms: number) => Math.round(ms / 100) / 10;

/** The conv2d cases of `daso bench`, as the 'kernel shape' text its --filter matches. */
export function convCaseNames(): string[] {
  return benchCases.filter((c) => c.kernel.startsWith('conv2d_')).map((c) => `${c.kernel} ${c.shape}`);
}

/** The rung the training step runs without tuning for each conv and direction: forward / input grad the highest
 * plain version up to v4 (v5 is the workgroup-tile rung the rule never picks), weight grad conv2dBackwardWeightRule's
 * version for the shape named in the case (v5 / v4 / v3). Tile or variant suffixes ('.v3-16x8') are never the rule. */
export function stepRungNames(names: string[]): string[] {
  const best = new Map<string, { v: number; name: string }>();
  for (const n of names) {
    const m = /^(conv2d_\w+)\.v(\d+) (.*)$/.exec(n);
    if (!m) continue;
    const key = `${m[1]} ${m[3]}`;
    const v = Number(m[2]);
    if (m[1] === 'conv2d_backward_weight') {
      const g = /(\d+)x(\d+)->(\d+)x(\d+) k(\d+) s(\d+) p(\d+)/.exec(m[3]);
      if (!g) continue;
      const [, , W, , OW, R, stride, pad] = g.map(Number);
      if (v === conv2dBackwardWeightRule({ R, stride, pad, W, OW })) best.set(key, { v, name: n });
      continue;
    }
    if (v > 4) continue;
    if (!best.has(key) || best.get(key)!.v < v) best.set(key, { v, name: n });
  }
  return names.filter((n) => [...best.values()].some((b) => b.name === n));
}

// How often each distinct conv occurs in WRN-28-2 (4 blocks per stage: the first block's two convs and shortcut,
// then 3 blocks of 2 convs at the stage width), keyed by the `what` label of bench/cases/conv2d.ts.
const WRN28_CONV_COUNT: Record<string, number> = {
  stem: 1, 'stage1 first': 1, 'stage1 shortcut': 1, stage1: 7,
  'stage2 first': 1, 'stage2 shortcut': 1, stage2: 7,
  'stage3 first': 1, 'stage3 shortcut': 1, stage3: 7,
};

/** A lower bound of one WRN-28-2 supervised B=64 step's conv time (ms), from this run's own conv rows of the rungs
 * the step runs: forward + weight grad of every conv, input grad of every conv but the stem (the image needs no
 * gradient). BN, activations, loss and optimiser are left out, hence a lower bound. Null unless every row is there. */
export function stepConvLowerBoundMs(rows: BenchRow[]): number | null {
  const rungs = new Set(stepRungNames(convCaseNames()));
  let total = 0;
  let used = 0;
  for (const r of rows) {
    if (!rungs.has(`${r.kernel} ${r.shape}`)) continue;
    const what = /\(([^)]*)\)$/.exec(r.shape)?.[1] ?? '';
    const count = WRN28_CONV_COUNT[what];
    if (count === undefined) return null;
    used++;
    if (r.kernel.startsWith('conv2d_backward_input') && what === 'stem') continue;
    total += count * (r.gpuMs ?? r.wallMs);
  }
  return used === rungs.size ? total : null;
}

/** 'nvidia/hopper' -> 'nvidia-hopper': the adapter part of the default file name. */
export function adapterSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown-adapter';
}

/** Runs `fn` but gives up at `deadline` (performance.now() ms): 'timeout' then, and the caller kills the browser. */
async function withDeadline<T>(deadline: number, fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; timeout: boolean; error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const left = Math.max(0, deadline - now());
  try {
    const timeout = new Promise<'timeout'>((ok) => { timer = setTimeout(() => ok('timeout'), left); });
    const r = await Promise.race([fn().then((value) => ({ value })), timeout]);
    if (r === 'timeout') return { ok: false, timeout: true, error: `still running at its deadline (${sec(left)} s left when it started)` };
    return { ok: true, value: r.value };
  } catch (e) {
    return { ok: false, timeout: false, error: (e as Error).message ?? String(e) };
  } finally {
    clearTimeout(timer);
  }
}

const PROBE = async () => {
  const out: Record<string, unknown> = {};
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { error: 'navigator.gpu is undefined' };
  for (const pp of ['high-performance', 'low-power'] as const) {
    const a = await gpu.requestAdapter({ powerPreference: pp });
    if (!a) { out[pp] = null; continue; }
    const info: Record<string, unknown> = {};
    // GPUAdapterInfo's fields are getters on its prototype: for..in reaches them; keep plain values only.
    for (const k in a.info) {
      const v = (a.info as unknown as Record<string, unknown>)[k];
      if (['string', 'number', 'boolean'].includes(typeof v)) info[k] = v;
    }
    out[pp] = { info, features: [...a.features].sort(), maxBufferSize: a.limits.maxBufferSize };
  }
  return out;
};

/** One browser with the chosen flags and the harness page open; relaunched after a part killed it. */
class Session {
  browser: LaunchedBrowser | null = null;
  page: Page | null = null;
  constructor(private server: StaticServer, public flags: string[], private verbose: boolean) {}
  async harness(): Promise<Page> {
    if (this.page && !this.page.isClosed()) return this.page;
    if (!this.browser) this.browser = await launchChromium(this.flags);
    this.page = await openHarness(this.browser.browser, this.server.url, this.verbose);
    return this.page;
  }
  async newPage(): Promise<Page> {
    if (!this.browser) this.browser = await launchChromium(this.flags);
    return this.browser.browser.newPage();
  }
  kill(): void {
    this.browser?.kill();
    this.browser = null;
    this.page = null;
  }
  async close(): Promise<void> {
    await this.browser?.close();
    this.browser = null;
    this.page = null;
  }
}

async function tryFlags(server: StaticServer, set: { name: string; flags: string[] }, verbose: boolean, deadline: number): Promise<{ attempt: AdapterAttempt; session: Session | null }> {
  const session = new Session(server, set.flags, verbose);
  const attempt: AdapterAttempt = { flagSet: set.name, flags: set.flags, ok: false, adapter: null, probe: null, error: null, chromium: null };
  const r = await withDeadline(deadline, async () => {
    const page = await session.harness();
    attempt.chromium = await session.browser!.browser.version();
    attempt.adapter = (await page.evaluate(() => (window as unknown as { dasoInfo: unknown }).dasoInfo)) as Record<string, unknown>;
    attempt.probe = (await page.evaluate(PROBE)) as Record<string, unknown>;
  });
  if (r.ok) {
    attempt.ok = true;
    return { attempt, session };
  }
  attempt.error = r.error;
  session.kill();
  return { attempt, session: null };
}

const isHardware = (a: AdapterAttempt) => a.ok && isHardwareAdapter(a.adapter);

function emptyPart<R>(budgetS: number, settings: Record<string, unknown>): PartReport<R> {
  return { status: 'skipped', reason: 'not run yet', budgetS, wallS: 0, settings, rows: [], skipped: [] };
}

/** Runs `names` one at a time until the part's deadline: a case is not started when the slowest case so far would
 * not fit before it; one still running at the deadline is stopped (browser killed) and the rest are skipped. */
async function runCases<R>(part: PartReport<R>, names: string[], deadline: number, run: (name: string) => Promise<R>,
  session: Session, save: () => void, log: (m: string) => void): Promise<void> {
  const t0 = now();
  part.status = 'done';
  part.reason = null;
  let slowest = 0;
  for (const [i, name] of names.entries()) {
    const left = deadline - now();
    if (slowest > left) {
      const reason = `budget: ${sec(left)} s left of this part's ${part.budgetS} s, the slowest case so far took ${sec(slowest)} s`;
      part.skipped.push(...names.slice(i).map((n) => ({ case: n, reason })));
      part.status = 'partial';
      part.reason = `${names.length - i} of ${names.length} cases skipped (${reason})`;
      break;
    }
    const c0 = now();
    log(`  [${i + 1}/${names.length}] ${name}`);
    const r = await withDeadline(deadline, () => run(name));
    slowest = Math.max(slowest, now() - c0);
    if (r.ok) part.rows.push(r.value);
    else if (r.timeout) {
      session.kill();
      const reason = `stopped: ${r.error}; the browser was killed to keep to the budget`;
      part.skipped.push({ case: name, reason }, ...names.slice(i + 1).map((n) => ({ case: n, reason: `budget: the part's deadline passed while '${name}' ran` })));
      part.status = 'partial';
      const later = names.length - i - 1;
      part.reason = `'${name}' ran past the part's ${part.budgetS} s budget and was stopped${later ? `; ${later} later case(s) skipped` : ''}`;
      break;
    } else {
      part.skipped.push({ case: name, reason: `error: ${r.error}` });
      part.status = 'partial';
      part.reason = `${part.skipped.length} case(s) failed (see skipped)`;
      // A page error can leave the device lost; a fresh browser for the next case costs seconds, not the run.
      session.kill();
    }
    part.wallS = sec(now() - t0);
    save();
  }
  part.wallS = sec(now() - t0);
  if (!part.rows.length && part.status !== 'done') part.status = part.skipped.every((s) => s.reason.startsWith('error')) ? 'error' : 'skipped';
  save();
}

export async function runBenchGpu(root: string, o: BenchGpuOptions): Promise<BenchGpuReport> {
  if (!(o.budgetS >= 30)) throw new Error(`bench-gpu: --budget-s must be a number of seconds >= 30, got ${o.budgetS} (starting Chromium and checking the adapter alone can take 20 s; leave it out for the default 450)`);
  const t0 = now();
  // 10 s are kept back for closing the browser and writing the files after the last part.
  const end = t0 + (o.budgetS - 10) * 1000;
  const log = (m: string) => process.stdout.write(`${m}\n`);
  const env = environment();
  const date = new Date();
  const report: BenchGpuReport = {
    schema: 'daso-bench-gpu/1', date: date.toISOString(), command: o.command, dryRun: o.dryRun, scaledDown: o.dryRun,
    scaledDownReason: o.dryRun ? '--dry-run' : null, budgetS: o.budgetS, wallS: 0,
    adapter: { name: 'none', isFallbackAdapter: true, verdict: 'no adapter yet', flagSet: '', flags: [], report: null, probe: null, chromium: null, attempts: [] },
    environment: env, autotune: (o.tune ?? 'fresh') === 'fresh' ? AUTOTUNE_STATUS : `--tune ${o.tune}: the step part ran ${o.tune === 'off' ? 'the fixed rule' : 'the cached choices (the rule where none)'}`,
    parts: { conv: emptyPart(0, {}), step: emptyPart(0, {}), compare: emptyPart(0, {}) },
  };
  let out = '';
  const save = () => {
    if (!out) return;
    report.wallS = sec(now() - t0);
    writeAtomic(out, JSON.stringify(report, null, 2));
    writeAtomic(`${out.slice(0, -5)}.md`, `${markdown(report)}\n`);
  };

  const server = await startServer(root);
  let session: Session | null = null;
  try {
    // Adapter: the GPU flag sets in order; the first hardware adapter wins. Each try gets at most 60 s (a GPU
    // process that hangs on a broken driver must not take the budget).
    log(`bench-gpu: budget ${o.budgetS} s${o.dryRun ? ', dry run' : ''}; nvidia-smi: ${env.nvidiaSmi ?? 'absent'}; Vulkan ICDs: ${env.vulkanIcds.join(', ') || 'none'}`);
    for (const set of GPU_FLAG_SETS) {
      const { attempt, session: s } = await tryFlags(server, set, o.verbose, Math.min(end, now() + 60_000));
      report.adapter.attempts.push(attempt);
      log(`flags '${set.name}': ${attempt.ok ? `adapter ${JSON.stringify(attempt.adapter)}` : `no device: ${attempt.error}`}`);
      if (s && isHardware(attempt)) { await session?.close(); session = s; break; }
      // Keep the first working fallback browser in case no set gives hardware (saves a launch).
      if (s && !session) session = s;
      else await s?.close();
    }
    if (!session) {
      const { attempt, session: s } = await tryFlags(server, PLAIN_FLAGS, o.verbose, Math.min(end, now() + 60_000));
      report.adapter.attempts.push(attempt);
      if (!s) {
        throw new Error(`bench-gpu: no flag set gave a WebGPU device (${report.adapter.attempts.map((a) => `${a.flagSet}: ${a.error}`).join('; ')}). ` +
          `Check that Chromium starts (CHROMIUM_PATH) and ${fallbackHint(env)}`);
      }
      session = s;
    }
    const chosen = report.adapter.attempts.find((a) => a.flags === session!.flags)!;
    const info = chosen.adapter!;
    const fallback = !isHardware(chosen);
    const name = `${info.vendor || 'unknown'}/${info.architecture || 'unknown'}`;
    report.adapter = {
      ...report.adapter, name, isFallbackAdapter: fallback, flagSet: chosen.flagSet, flags: chosen.flags,
      report: info, probe: chosen.probe, chromium: chosen.chromium,
      verdict: fallback
        ? `NOT A GPU: Chromium offered only ${name}, a software fallback that runs on the CPU, so every number below is a CPU number. ${fallbackHint(env)}.`
        : `hardware adapter: these are GPU numbers (${info.timestamps ? 'timestamp-query available' : 'no timestamp-query: GPU ms columns are empty, wall times only'}).`,
    };
    report.scaledDown = o.dryRun || fallback;
    report.scaledDownReason = [o.dryRun ? '--dry-run' : '', fallback ? `fallback adapter ${name}` : ''].filter(Boolean).join(' and ') || null;
    out = resolve(o.outDir, `gpu-${adapterSlug(name)}-${date.toISOString().slice(0, 10)}.json`);
    log(`adapter: ${name}. ${report.adapter.verdict}`);
    if (report.scaledDown) log(`scaled down (${report.scaledDownReason}): step rungs only, 1 rep, compare at batch 8, no DASO step`);
    save();
    const scaled = report.scaledDown;
    // Each part gets a share of what is left when it starts (time a part does not use flows to the next ones).
    const partBudget = (share: number) => Math.max(0, (end - now()) * share);

    // Part 1: the conv ladder.
    {
      const all = convCaseNames();
      const names = scaled ? stepRungNames(all) : all;
      const reps = scaled ? 1 : 5;
      const budget = partBudget(0.35);
      const part = report.parts.conv = emptyPart<BenchRow>(sec(budget), { cases: names.length, of: all.length, reps, batch: 64, which: scaled ? 'the rungs the training step runs' : 'every conv2d rung' });
      log(`conv: ${names.length} case(s), reps ${reps}, budget ${part.budgetS} s`);
      const s = session;
      await runCases(part, names, now() + budget, async (n) => {
        const page = await s.harness();
        const rows = (await page.evaluate(
          (filter, r) => (window as unknown as { daso: { bench: (x: unknown) => Promise<unknown> } }).daso.bench({ filter, reps: r }),
          n, reps,
        )) as BenchRow[];
        const exact = rows.filter((x) => `${x.kernel} ${x.shape}` === n);
        if (exact.length !== 1) throw new Error(`bench case '${n}' gave ${rows.length} row(s), ${exact.length} exact`);
        return exact[0];
      }, session, save, o.verbose ? log : () => undefined);
      log(`conv: ${part.status}${part.reason ? ` (${part.reason})` : ''}, ${part.rows.length} row(s) in ${part.wallS} s`);
    }

    // Part 2: training steps at B=64.
    {
      const reps = scaled ? 1 : 3;
      const budget = partBudget(0.55);
      const part = report.parts.step = emptyPart<StepBenchRow>(sec(budget), { reps, note: 'benchStep runs a warm-up step, reps timed steps and one timed() profile step' });
      const names = ['wrn28-2-sup-b64'];
      if (scaled) part.skipped.push({ case: 'wrn28-2-daso-b64', reason: `scaled-down run (${report.scaledDownReason}): the DASO step puts 320 images through the encoder plus a 64-image EMA forward, against 64` });
      else names.push('wrn28-2-daso-b64');
      // On a slow adapter a step can take longer than the whole part: do not start one that this run's own conv
      // rows already say cannot finish (reps + 2 steps, each at least the step's conv time).
      const lb = stepConvLowerBoundMs(report.parts.conv.rows);
      const tuneMode: TuneMode = o.tune ?? 'fresh';
      const tuneS = tuneMode !== 'fresh' ? 0 : Math.floor(Math.min(scaled ? 10 : 60, (budget / 1000) * TUNE_SHARE));
      part.settings.tuneBudgetS = tuneS;
      if (lb !== null && lb * (reps + 2) + tuneS * 1000 > budget) {
        const reason = `budget: this run's conv rows put one wrn28-2-sup-b64 step at >= ${sec(lb)} s (convs alone), and bench-step runs ${reps + 2} steps, more than the part's ${part.budgetS} s`;
        part.skipped.unshift(...names.map((n) => ({ case: n, reason })));
        part.reason = reason;
        log(`step: skipped (${reason})`);
      } else {
        log(`step: ${names.join(', ')}, reps ${reps}, budget ${part.budgetS} s${lb !== null ? ` (conv lower bound ${sec(lb)} s per step)` : ''}`);
        const s = session;
        const pre = [...part.skipped];
        part.skipped = [];
        await runCases(part, names, now() + budget, async (n) => {
          const page = await s.harness();
          const c = STEP_BENCH_CASES.find((x) => x.name === n)!;
          const res = (await page.evaluate(
            (cs, r, tune) => (window as unknown as { daso: { benchStep: (x: unknown) => Promise<unknown> } }).daso.benchStep({ case: cs, reps: r, tune }),
            c as never, reps, (tuneMode === 'fresh' ? { mode: 'fresh', budgetS: tuneS } : { mode: tuneMode, cache: tuneMode === 'cached' ? readTuneCache(tuneCachePath()) : null }) as never,
          )) as { ok: true; row: StepBenchRow } | { ok: false; error: string };
          if (!res.ok) throw new Error(res.error);
          const tn = res.row.tune;
          if (tn.mode === 'fresh') {
            log(`  ${n}: tuned in ${(tn.tuneMs / 1000).toFixed(1)} s (${Object.keys(tn.entries).length} conv kernels decided, ${tn.notReached.length} left to the rule); ` +
              `${saveTuneEntries(tuneCachePath(), tn)} entries written to ${tuneCachePath()}`);
          } else log(`  ${n}: --tune ${tn.mode}: ${Object.keys(tn.table).length} conv kernel choice(s) applied`);
          if (o.verbose) for (const l of tn.convs) log(`    ${l}`);
          log(`  ${n}: ${res.row.wallMsMedian.toFixed(1)} ms/step wall, ${res.row.imagesPerSec.toFixed(1)} images/s`);
          return res.row;
        }, session, save, log);
        part.skipped.push(...pre);
        if (pre.length && part.status === 'done') { part.status = 'partial'; part.reason = pre.map((x) => `${x.case}: ${x.reason}`).join('; '); }
      }
      save();
      log(`step: ${part.status}${part.reason ? ` (${part.reason})` : ''}`);
    }

    // Part 3: ours vs tfjs, single ops (whole steps are part 2's job; tfjs's step would need minutes on a fallback).
    {
      const batch = scaled ? 8 : 64;
      const reps = scaled ? 1 : 3;
      const budget = partBudget(1);
      const part = report.parts.compare = emptyPart<CompareRow>(sec(budget), { batch, reps, stepBatches: [] });
      const bundle = resolve(root, 'dist/compare.js');
      const tfjs = resolve(root, 'node_modules/@tensorflow/tfjs-backend-webgpu/package.json');
      if (!existsSync(bundle) || !existsSync(tfjs)) {
        part.reason = `tfjs's bundle is missing (${!existsSync(bundle) ? bundle : tfjs} not found): install the dev dependencies (npm ci) and build (npm run build), then rerun`;
        log(`compare: skipped (${part.reason})`);
      } else if (budget < 10_000) {
        part.reason = `budget: ${sec(budget)} s left, too little to start the compare page`;
        log(`compare: skipped (${part.reason})`);
      } else {
        // The compare page acquires its own device; close the harness page first so two devices do not share memory.
        await session.page?.close().catch(() => undefined);
        session.page = null;
        // Held in one object: the closures below reassign it after a relaunch.
        const cp: { page: Page | null; info: CompareInfo | null; cases: CompareCase[] } = { page: null, info: null, cases: [] };
        const open = async () => {
          const page = cp.page = await session!.newPage();
          page.setDefaultTimeout(0);
          page.on('pageerror', (e) => process.stderr.write(`[page error] ${String(e)}\n`));
          await page.goto(`${server.url}/bench/compare/compare.html`, { waitUntil: 'load' });
          const st = (await page.evaluate(async () => {
            const w = window as unknown as { dasoCompareReady?: Promise<unknown> };
            if (!w.dasoCompareReady) return { ok: false, error: 'dist/compare.js did not load (run `npm run build`)' };
            try { return { ok: true, info: await w.dasoCompareReady }; } catch (e) { return { ok: false, error: String((e as Error).message ?? e) }; }
          })) as { ok: boolean; info?: CompareInfo; error?: string };
          if (!st.ok) throw new Error(`compare page: ${st.error}`);
          cp.info = st.info!;
          cp.cases = (await page.evaluate((b) => (window as unknown as { dasoCompare: CompareApi }).dasoCompare.cases({ batch: b, stepBatches: [] }), batch)) as CompareCase[];
        };
        const opened = await withDeadline(now() + Math.min(budget, 60_000), open);
        if (!opened.ok) {
          if (opened.timeout) session.kill();
          part.status = 'error';
          part.reason = `the compare page did not open: ${opened.error}`;
          log(`compare: ${part.reason}`);
        } else {
          part.settings.tfjs = { version: cp.info!.tfjsVersion, backend: cp.info!.tfjsBackend, adapter: cp.info!.tfjsAdapter, timestampQuery: cp.info!.tfjsTimestampQuery };
          const byName = new Map(cp.cases.map((c) => [`${c.op} ${c.shape}`, c]));
          log(`compare: ${cp.cases.length} case(s) at batch ${batch}, reps ${reps}, budget ${part.budgetS} s; tfjs adapter ${JSON.stringify(cp.info!.tfjsAdapter)}`);
          const s = session;
          await runCases(part, [...byName.keys()], now() + budget, async (n) => {
            if (!cp.page || cp.page.isClosed() || !s.browser) await open();
            const row = (await cp.page!.evaluate(
              (cs, r) => (window as unknown as { dasoCompare: CompareApi }).dasoCompare.run(cs, { reps: r, verbose: false }),
              byName.get(n) as never, reps,
            )) as CompareRow;
            if (row.status !== 'ok') log(`  ${n}: ${row.status}${row.ours.error ? ` — ours: ${row.ours.error}` : ''}${row.tfjs.error ? ` — tfjs: ${row.tfjs.error}` : ''}`);
            return row;
          }, session, save, o.verbose ? log : () => undefined);
          const bad = part.rows.filter((x) => x.status === 'mismatch' || x.status === 'ours error');
          if (bad.length) {
            part.status = 'partial';
            part.reason = `${bad.length} row(s) mismatch or failed on our side: ${bad.map((x) => `'${x.op} ${x.shape}': ${x.status}`).join(', ')}${part.reason ? `; ${part.reason}` : ''}`;
          }
        }
      }
      save();
      log(`compare: ${part.status}${part.reason ? ` (${part.reason})` : ''}, ${part.rows.length} row(s)`);
    }
  } finally {
    await session?.close();
    await server.close();
    save();
  }
  log(`\n${markdown(report)}\nwrote ${out} and ${out.slice(0, -5)}.md (${report.wallS} s)`);
  // A wrong result of ours is a failure of the command (as in bench-compare); slow or skipped parts are not.
  const bad = report.parts.compare.rows.filter((x) => x.status === 'mismatch' || x.status === 'ours error');
  if (bad.length) throw new Error(`bench-gpu: ${bad.length} compare row(s) disagree with tfjs or failed on our side (see ${out.slice(0, -5)}.md; results written)`);
  return report;
}
