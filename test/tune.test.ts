// The conv autotuner (src/tune): on a tiny DASO step it picks one of the offered rungs per conv kernel, the cache is
// keyed by adapter and shape, `cached` reuses it without timing, `off` ignores it, a malformed cache is a warning,
// the chosen rung is what the recorded dispatches run (read back from their entry points), and the budget holds.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STEP_BENCH_CASES } from '../src/cli/step-bench.js';
import { readTuneCache, saveTuneEntries, tuneRequestFromFlags } from '../src/cli/tune-file.js';
import type { StepBenchCase, StepBenchRow } from '../src/harness/step-bench.js';
import { adapterKey, cachedChoices, emptyTuneCache, mergeTuneCache, type TuneCache } from '../src/tune/cache.js';
import { convKey, parseConvKey, RUNGS, rungOf, rungsFor, type ConvShape } from '../src/tune/candidates.js';
import type { TuneRequest } from '../src/tune/prepare.js';
import { loadPageTuneCache, pageTuneRequest, savePageTuneEntries } from '../src/tune/page-store.js';
import {
  conv2dBackwardInputPacked, conv2dBackwardWeight, conv2dBackwardWeightDyShape, conv2dBackwardWeightScratchShape, conv2dForwardPacked,
} from '../src/kernels/conv2d.js';
import type { Tensor } from '../src/gpu/tensor.js';
import { readSafetensors } from '../src/nn/safetensors.js';
import { checkTrainingMetadata } from '../src/train/checkpoint-check.js';
import { daso, tinyConfig, writeJson } from './helpers/cli.js';
import { closeHarness, harnessPage } from './helpers/harness.js';

afterAll(closeHarness);

const base = STEP_BENCH_CASES.find((c) => c.name === 'fmnist-daso')!;
const TINY: StepBenchCase = {
  name: 'tiny', label: 'WRN-10-1 1x8x8 K=3', B: 4, Bu: 4,
  cfg: { ...base.cfg, model: { depth: 10, width: 1, in_channels: 1, num_classes: 3, image_size: 8 }, daso: { ...base.cfg.daso, queue_size: 4 } },
};

/** Builds the tiny step in the page (reps 0: built, not run) with the given tune request. The builds share the page's
 * compiled pipelines (each build would otherwise compile the same ~90 again: ~20 s a build on SwiftShader) unless
 * `share` is false. */
async function buildTiny(tune: TuneRequest, share = true): Promise<StepBenchRow['tune']> {
  const page = await harnessPage();
  const res = await page.evaluate(
    (cs, t, sh) => (window as unknown as { daso: { benchStep: (x: unknown) => Promise<unknown> } }).daso.benchStep({ case: cs, reps: 0, tune: t, sharePipelines: sh }),
    TINY as never, tune as never, share,
  ) as { ok: true; row: StepBenchRow } | { ok: false; error: string };
  if (!res.ok) throw new Error(res.error);
  return res.row.tune;
}

/** A fake tensor for the pure launchers (they only read shapes). */
const fake = (shape: number[]): Tensor => ({ shape, dtype: 'f32', size: shape.reduce((a, b) => a * b, 1) } as unknown as Tensor);

describe('rungs (pure)', () => {
  // Ragged shapes: odd sizes, channel counts not multiples of the tiles, both strides, 1x1 and 3x3.
  const shapes: ConvShape[] = [
    { N: 3, C: 5, H: 9, W: 7, K: 11, R: 3, stride: 1, pad: 1 },
    { N: 2, C: 3, H: 12, W: 8, K: 17, R: 3, stride: 1, pad: 1 },
    { N: 2, C: 6, H: 9, W: 9, K: 10, R: 3, stride: 2, pad: 1 },
    { N: 1, C: 7, H: 10, W: 6, K: 9, R: 1, stride: 2, pad: 0 },
  ];
  it('every rung offered records the rung its name says (the printed rung is the dispatched entry point)', () => {
    for (const s of shapes) {
      const oh = Math.floor((s.H + 2 * s.pad - s.R) / s.stride) + 1, ow = Math.floor((s.W + 2 * s.pad - s.R) / s.stride) + 1;
      const x = fake([s.N, s.C, s.H, s.W]), w = fake([s.K, s.C, s.R, s.R]), y = fake([s.N, s.K, oh, ow]);
      const o = { stride: s.stride, pad: s.pad };
      for (const r of rungsFor('forward', s)) {
        expect(rungOf('forward', conv2dForwardPacked(x, w, fake([s.C * s.R * s.R, Math.ceil(s.K / 16) * 16]), y, { ...r.opts, ...o }))).toBe(r.name);
      }
      for (const r of rungsFor('input', s)) {
        expect(rungOf('input', conv2dBackwardInputPacked(y, w, fake([s.K * s.R * s.R, Math.ceil(s.C / 16) * 16]), x, { ...r.opts, ...o }))).toBe(r.name);
      }
      const scratch = fake(conv2dBackwardWeightScratchShape(x.shape, y.shape, s.R)), dyT = fake(conv2dBackwardWeightDyShape(y.shape));
      for (const r of rungsFor('weight', s)) {
        expect(rungOf('weight', conv2dBackwardWeight(x, y, w, scratch, { ...r.opts, ...o, dyT }))).toBe(r.name);
      }
    }
    expect(RUNGS.forward.map((r) => r.name)).toContain('v4 16x16');
    expect(rungsFor('forward', shapes[0]).map((r) => r.name)).not.toContain('v4 8x16'); // W=7: no aligned rows
    expect(rungsFor('input', shapes[2]).map((r) => r.name)).toEqual(['v2']); // stride 2: only v2
    expect(rungsFor('forward', shapes[1]).map((r) => r.name)).toContain('v5');
    expect(rungsFor('forward', shapes[1], { hardware: false }).map((r) => r.name)).not.toContain('v5'); // GPU rungs
  });

  it('keys round-trip and the cache keeps adapters apart', () => {
    const s = shapes[1];
    expect(parseConvKey(convKey('weight', s))).toEqual({ dir: 'weight', shape: s });
    expect(parseConvKey('weight:1,2,3')).toBeNull();
    const a = { vendor: 'v', architecture: 'a', device: 'd', description: 'x' };
    const b = { ...a, device: 'other' };
    const c = mergeTuneCache(mergeTuneCache(emptyTuneCache(), a, { [convKey('forward', s)]: { rung: 'v2', ms: { v2: 1 }, date: '' } }), b, {});
    expect(cachedChoices(c, a)).toEqual({ [convKey('forward', s)]: 'v2' });
    expect(cachedChoices(c, b)).toEqual({});
    expect(Object.keys(c.adapters)).toEqual([adapterKey(a), adapterKey(b)]);
  });
});

describe('tune flags and cache file (Node)', () => {
  it('a checkpoint\'s conv_choices must be conv key -> rung name', () => {
    const meta = { config: '{}', feed: '{}', format: 'daso-webgpu/1' };
    const probs = (c: string) => checkTrainingMetadata({ ...meta, conv_choices: c }).filter((p) => p.includes('conv_choices'));
    expect(probs(JSON.stringify({ 'forward:12,1,8,8,16,3,1,1': 'v2' }))).toEqual([]);
    expect(probs(JSON.stringify({ 'forward:12,1': 'v2' }))[0]).toMatch(/not an object of conv key/);
    expect(probs(JSON.stringify({ 'weight:1,1,1,1,1,1,1,0': 3 }))[0]).toMatch(/not an object of conv key/);
    expect(probs('[')[0]).toMatch(/'conv_choices' is not JSON/);
  });

  it('rejects a bad --tune value naming the flag and the allowed values', () => {
    expect(() => tuneRequestFromFlags({ tune: 'fast' })).toThrow(/--tune: 'fast' is not a tune mode \(use one of: off, cached, fresh/);
    expect(() => tuneRequestFromFlags({ tune: 'off', 'tune-budget-s': -1 })).toThrow(/--tune-budget-s/);
    expect(tuneRequestFromFlags({}).request.mode).toBe('cached');
    expect(() => pageTuneRequest('fast', undefined, 'createTrainer: options.tune')).toThrow(/createTrainer: options.tune: 'fast' is not a tune mode/);
  });

  it('the page store keeps entries per adapter (memory where there is no localStorage, as in Node)', () => {
    const a = { vendor: 'v', architecture: 'a', device: 'd', description: 'x' };
    savePageTuneEntries({ adapter: a, entries: { 'forward:1,1,4,4,1,3,1,1': { rung: 'v2', ms: {}, date: '' } } });
    expect(cachedChoices(loadPageTuneCache(), a)).toEqual({ 'forward:1,1,4,4,1,3,1,1': 'v2' });
    expect(pageTuneRequest('cached').cache).toEqual(loadPageTuneCache());
    expect(pageTuneRequest('off').cache).toBeNull();
  });

  it('a malformed cache file is a warning naming the file, then the rule (empty cache)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daso-tune-test-'));
    const warnings: string[] = [];
    for (const [name, text] of [['broken.json', '{"format": 1, "adapters": '], ['wrong.json', '{"format": 1, "adapters": {"x": {"entries": {"forward:1,2": {"rung": "v2"}}}}}']]) {
      const f = join(dir, name);
      writeFileSync(f, text);
      expect(readTuneCache(f, (s) => warnings.push(s))).toEqual(emptyTuneCache());
    }
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(join(dir, 'broken.json'));
    expect(warnings[0]).toMatch(/not JSON/);
    expect(warnings[1]).toMatch(/wrong\.json.*'forward:1,2' is not a conv key/);
    expect(readTuneCache(join(dir, 'missing.json'), (s) => warnings.push(s))).toEqual(emptyTuneCache());
    expect(warnings).toHaveLength(2); // no file: no warning
  });
});

describe('autotuner on a tiny DASO step (page)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daso-tune-page-'));
  const file = join(dir, 'tune.json');
  let fresh: StepBenchRow['tune'];

  it('fresh: times the step\'s conv kernels, picks an offered rung for each, and the cache is keyed by adapter and shape', async () => {
    fresh = await buildTiny({ mode: 'fresh', budgetS: 120, reps: 1 });
    const keys = Object.keys(fresh.entries);
    expect(fresh.notReached).toEqual([]);
    expect(keys.length).toBeGreaterThan(10); // online fwd/dgrad/wgrad and the EMA forward of 7 convs
    for (const [k, e] of Object.entries(fresh.entries)) {
      const p = parseConvKey(k)!;
      expect(p, k).not.toBeNull();
      // The workgroup-tile rungs are offered on hardware adapters only (SwiftShader here).
      const offered = rungsFor(p.dir, p.shape, { hardware: !/swiftshader/i.test(JSON.stringify(fresh.adapter)) }).map((r) => r.name);
      expect(offered, k).toContain(e.rung);
      expect(Object.keys(e.ms).sort(), k).toEqual([...offered].sort()); // every offered rung was timed
      // The fastest, or the rule within the 3% margin of it.
      expect(e.ms[e.rung], k).toBeLessThanOrEqual(Math.min(...Object.values(e.ms)) / 0.97 + 1e-9);
    }
    expect(saveTuneEntries(file, fresh)).toBe(keys.length);
    const cache = JSON.parse(readFileSync(file, 'utf8')) as TuneCache;
    expect(Object.keys(cache.adapters)).toEqual([adapterKey(fresh.adapter)]);
    expect(fresh.adapter.vendor).not.toBe('');
    expect(cachedChoices(cache, fresh.adapter)).toEqual(fresh.table);
    // Every conv kernel of the step runs the chosen rung (rungOf reads the recorded dispatch's entry point).
    for (const line of fresh.convs) expect(line).toMatch(/^conv (ema|online):\S+: fwd \S+.* \| dgrad .* \| wgrad /);
  });

  it('cached reuses the file without timing; off ignores it', async () => {
    const cache = readTuneCache(file);
    const cached = await buildTiny({ mode: 'cached', cache });
    expect(cached.tuneMs).toBe(0);
    expect(cached.entries).toEqual({});
    expect(cached.table).toEqual(fresh.table);
    expect(cached.convs).toEqual(fresh.convs);
    const off = await buildTiny({ mode: 'off', cache });
    expect(off.table).toEqual({});
    expect(off.convs.join('\n')).not.toContain('(tuned)');
  });

  it('a chosen rung reaches the recorded dispatches (a cache forcing non-rule rungs)', async () => {
    // Every forward conv on v2 and every weight gradient on v1: neither is the rule anywhere.
    const entries = Object.fromEntries(Object.keys(fresh.entries).filter((k) => !k.startsWith('input:'))
      .map((k) => [k, { rung: k.startsWith('forward:') ? 'v2' : 'v1', ms: {}, date: '' }]));
    const forced = await buildTiny({ mode: 'cached', cache: mergeTuneCache(emptyTuneCache(), fresh.adapter, entries) });
    for (const line of forced.convs) {
      expect(line).toMatch(/fwd v2 \(tuned\)/);
      if (line.startsWith('conv online:')) expect(line).toMatch(/wgrad v1 \(tuned\)/);
    }
    // A cache for another adapter is not used.
    const other = await buildTiny({ mode: 'cached', cache: mergeTuneCache(emptyTuneCache(), { ...fresh.adapter, device: 'another GPU' }, entries) });
    expect(other.table).toEqual({});
  });

  it('respects the budget: 0 s times nothing (all on the rule); a small budget stops early', async () => {
    const none = await buildTiny({ mode: 'fresh', budgetS: 0 });
    expect(none.entries).toEqual({});
    expect(none.notReached.length).toBe(Object.keys(fresh.entries).length);
    expect(none.convs.join('\n')).not.toContain('(tuned)');
    const t0 = Date.now();
    // Its own pipeline cache: compiling is what outruns the budget here (with the page's warm cache a whole tuning of
    // this tiny step takes under 1 s on SwiftShader, and nothing would be left out).
    const some = await buildTiny({ mode: 'fresh', budgetS: 1, reps: 1 }, false);
    // One conv's rungs (compile + warm-up + a round) may finish after the budget runs out, not more.
    // (The first conv's pipelines compile in parallel and cannot be cut short: ~20 s for the 7 weight-gradient rungs on
    // SwiftShader; after that nothing more starts.)
    expect(some.notReached.length).toBeGreaterThan(0);
    expect(some.tuneMs).toBeLessThan(1000 + 35_000);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(Object.keys(some.entries).length + some.notReached.length).toBe(Object.keys(fresh.entries).length);
  });
});

describe('daso train --tune (CLI)', () => {
  it('prints the rung of each conv, stores the choices in the start record and the checkpoint, and a resume reuses them', async () => {
    const adapter = (await buildTiny({ mode: 'off' })).adapter;
    const dir = mkdtempSync(join(tmpdir(), 'daso-tune-train-'));
    const cfg = writeJson(join(dir, 'cfg.json'), tinyConfig({ max_iter: 4, train: { log_every: 2 } }));
    // The tiny run's online convs see N = 4 + 2*4 = 12 images: force v2 on its first 3x3 conv's forward.
    const key = 'forward:12,1,8,8,16,3,1,1';
    const forced = join(dir, 'forced.json');
    writeFileSync(forced, JSON.stringify(mergeTuneCache(emptyTuneCache(), adapter, { [key]: { rung: 'v2', ms: {}, date: '' } })));
    const run = join(dir, 'run');
    const r = daso(['train', '--config', cfg, '--out-dir', run, '--tune-cache', forced]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/conv rungs \(--tune cached\):\nconv ema:init_conv: fwd v4 8x16 \| dgrad - \| wgrad -\n/);
    expect(r.stdout).toContain('conv online:init_conv: fwd v2 (tuned) | dgrad - | wgrad v4');
    const start = JSON.parse(readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n')[0]);
    expect(start.kind).toBe('start');
    expect(start.tune).toBe('cached');
    expect(start.conv_choices[key]).toBe('v2');
    expect(start.conv_choices['forward:4,1,8,8,16,3,1,1']).toBe('v4 8x16');
    const meta = readSafetensors(new Uint8Array(readFileSync(join(run, 'checkpoint.safetensors'))), 'checkpoint').metadata;
    expect(JSON.parse(meta.conv_choices)).toEqual(start.conv_choices);
    // Resumed with another cache mode: the checkpoint's choices win.
    const again = daso(['train', '--resume', run, '--tune', 'off']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('conv rungs (--tune resumed: the choices stored in the checkpoint)');
    expect(again.stdout).toContain('conv online:init_conv: fwd v2 (tuned)');
    // A bad mode is refused before a browser starts, naming the flag and the values.
    const bad = daso(['train', '--config', cfg, '--out-dir', join(dir, 'x'), '--tune', 'always']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--tune: 'always' is not a tune mode \(use one of: off, cached, fresh/);
  });
});
