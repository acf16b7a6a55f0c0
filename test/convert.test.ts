// `daso convert` / scripts/convert_official.py: official DASO checkpoints (ytaek-oh/daso layout, written here by
// test/helpers/official_ckpt.py the way the official code writes them) <-> project checkpoints, bit for bit both ways,
// and every refusal with its message. Needs Debian's python3-torch; skipped, with the reason printed, without it.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConvertArgs, runConvert } from '../src/cli/convert.js';
import { readSafetensors, writeSafetensors, type StTensor } from '../src/nn/safetensors.js';
import { wrnSpec } from '../src/nn/wrn-spec.js';
import { validateCheckpoint } from '../src/train/checkpoint-check.js';
import { parseStepFileConfig } from '../src/train/step-config.js';
import { daso, tempDir, writeJson } from './helpers/cli.js';

const ROOT = join(__dirname, '..');
const PY = '/usr/bin/python3';
const P = join(ROOT, 'test/fixtures/parity');
const probe = spawnSync(PY, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
const hasTorch = !probe.error && probe.status === 0;
if (!hasTorch) console.log(`test/convert.test.ts skipped: ${PY} cannot import torch and numpy (${probe.error?.message ?? probe.stderr.trim().split('\n').pop()}); apt-get install -y python3-torch`);

interface Run { code: number | null; out: string; err: string }

/** Runs python asynchronously, so that independent files are made in parallel. */
function py(args: string[]): Promise<Run> {
  return new Promise((ok) => {
    const c = spawn(PY, args, { cwd: ROOT });
    let out = '', err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    c.on('close', (code) => ok({ code, out, err }));
  });
}
const helper = (...a: string[]) => py(['test/helpers/official_ckpt.py', ...a]);
const conv = (...a: string[]) => py(['scripts/convert_official.py', ...a]);
async function ok(r: Promise<Run>): Promise<Run> {
  const x = await r;
  if (x.code !== 0) throw new Error(`exit ${x.code}: ${x.err}${x.out}`);
  return x;
}

const read = (p: string) => readSafetensors(new Uint8Array(readFileSync(p)), p);
const bytes = (t: StTensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
function sameBits(a: StTensor | undefined, b: StTensor | undefined, name: string): void {
  expect(a, `${name} missing`).toBeDefined();
  expect(b, `${name} missing`).toBeDefined();
  expect(a!.dtype, name).toBe(b!.dtype);
  expect(a!.shape, name).toEqual(b!.shape);
  expect(Buffer.compare(Buffer.from(bytes(a!)), Buffer.from(bytes(b!))), `${name} differs`).toBe(0);
}

const dasoCfgPath = join(P, 'daso-active/config.json');
const dasoCfg = parseStepFileConfig(JSON.parse(readFileSync(dasoCfgPath, 'utf8')));
const fixmatchCfg = { ...dasoCfg, algorithm: 'fixmatch' as const };

describe.skipIf(!hasTorch)('convert official <-> project', () => {
  const dir = tempDir('daso-convert-');
  const f = (n: string) => join(dir, n);
  let toProject: Run;
  let noEmaToProject: Run;

  beforeAll(async () => {
    const width2 = JSON.parse(readFileSync(dasoCfgPath, 'utf8'));
    width2.model.width = 2;
    writeJson(f('width2.json'), width2);
    writeFileSync(f('text.pth'), 'not a pickle\n');
    await Promise.all([
      ok(helper('make', f('o.pth'), '--config', dasoCfgPath, '--dump', f('o.dump.safetensors'))),
      ok(helper('make', f('ne.pth'), '--config', dasoCfgPath, '--no-ema', '--drop-momentum', '3', '--numpy-meta', '--dump', f('ne.dump.safetensors'))),
    ]);
    [toProject, noEmaToProject] = await Promise.all([
      ok(conv('to-project', f('o.pth'), f('p.safetensors'), '--config', dasoCfgPath)),
      ok(conv('to-project', f('ne.pth'), f('ne.safetensors'), '--config', dasoCfgPath)),
    ]);
  }, 120_000);

  it('official -> project: every tensor bit for bit, by name and by parameter index; DASO state marked absent', () => {
    const p = read(f('p.safetensors'));
    const dump = read(f('o.dump.safetensors')).tensors;
    // The converted file is a valid checkpoint of this model (fixmatch: the same tensors without daso.*) ...
    expect(() => validateCheckpoint(p.tensors, p.metadata, fixmatchCfg, 'p.safetensors')).not.toThrow();
    const spec = wrnSpec(dasoCfg.model);
    let n = 0;
    for (const [name, t] of Object.entries(p.tensors)) {
      if (name.startsWith('model.')) sameBits(t, dump[`model/${name.slice(6)}`], name);
      else if (name.startsWith('ema.')) sameBits(t, dump[`ema_model/ema_model.${name.slice(4)}`], name);
      else if (name === 'step') sameBits(t, dump.iter, name);
      else continue;
      n++;
    }
    expect(n).toBe(2 * (spec.params.length + spec.buffers.length + spec.bnNames.length) + 1);
    // momentum: the official state is keyed by the parameter's index in model.parameters() (= wrn-spec order)
    spec.params.forEach((prm, i) => sameBits(p.tensors[`optim.momentum.${prm.name}`], dump[`momentum/${i}`], prm.name));
    // the EMA's num_batches_tracked is float32 after an official EMA update, and stays so
    expect(p.tensors['ema.encoder.unit4.0.num_batches_tracked'].dtype).toBe('F32');
    expect(p.metadata.daso_state).toBe('absent');
    expect(toProject.out).toMatch(/daso: absent/);
    // ... and the loading side refuses it for 'daso', saying why and what to do instead.
    expect(() => validateCheckpoint(p.tensors, p.metadata, dasoCfg, 'p.safetensors'))
      .toThrow(/p\.safetensors: its DASO state .* is absent .*Use it with algorithm 'fixmatch' or 'supervised'/);
  });

  it('--daso-from rebuilds the DASO state by the documented rule (EMA features / predictions), and it loads for daso', async () => {
    // class 0 has 6 labeled images (> queue_size 3: the last 3 stay, oldest first), 2 has 4, 3 exactly 3, 1 and 4 none
    const y = [0, 0, 2, 0, 3, 0, 2, 0, 3, 3, 2, 2];
    const img = [dasoCfg.model.in_channels, dasoCfg.model.image_size, dasoCfg.model.image_size];
    let s = 12345;
    const noise = (n: number) => Float32Array.from({ length: n }, () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 * 4 - 2; });
    const per = img.reduce((a, b) => a * b, 1);
    writeFileSync(f('images.safetensors'), writeSafetensors({
      x_lb: { dtype: 'F32', shape: [y.length, ...img], data: noise(y.length * per) },
      y_lb: { dtype: 'I64', shape: [y.length], data: BigInt64Array.from(y, BigInt) },
      x_ulb_w: { dtype: 'F32', shape: [10, ...img], data: noise(10 * per) },
    }));
    const [r] = await Promise.all([
      ok(conv('to-project', f('o.pth'), f('r.safetensors'), '--config', dasoCfgPath, '--daso-from', f('images.safetensors'))),
      ok(helper('features', f('o.pth'), f('images.safetensors'), f('feat.safetensors'), '--config', dasoCfgPath)),
    ]);
    expect(r.out).toMatch(/daso: rebuilt from .*queue_len \[3, 0, 3, 3, 0\]/);
    expect(r.out).toMatch(/class\(es\) \[1, 4\] have no labeled image/);
    const p = read(f('r.safetensors'));
    const ref = read(f('feat.safetensors')).tensors;
    expect(p.metadata.daso_state).toBe('rebuilt');
    expect(() => validateCheckpoint(p.tensors, p.metadata, dasoCfg, 'r.safetensors')).not.toThrow();
    const K = dasoCfg.model.num_classes, L = dasoCfg.daso.queue_size, D = 64;
    const q = p.tensors['daso.queue'].data as Float32Array, feat = ref.feat_lb.data as Float32Array;
    for (let k = 0; k < K; k++) {
      const rows = y.map((c, i) => (c === k ? i : -1)).filter((i) => i >= 0).slice(-L);
      expect(Number(p.tensors['daso.queue_len'].data[k]), `queue_len[${k}]`).toBe(rows.length);
      for (let j = 0; j < L; j++) {
        const got = q.subarray((k * L + j) * D, (k * L + j + 1) * D);
        const want = j < rows.length ? feat.subarray(rows[j] * D, (rows[j] + 1) * D) : new Float32Array(D);
        expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)), `queue[${k}][${j}]`).toBe(true);
      }
    }
    sameBits(p.tensors['daso.prototypes'], ref.prototypes, 'daso.prototypes');
    const hist = new Array(K).fill(0);
    for (const c of ref.pred_ulb.data as BigInt64Array) hist[Number(c)]++;
    expect(Array.from(p.tensors['daso.pl_hist'].data as BigInt64Array, Number)).toEqual(hist);
    expect(Array.from(p.tensors['daso.pl_window'].data as BigInt64Array, Number)).toEqual(new Array(K).fill(0));
    // a bad images file is refused by name
    const bad = await conv('to-project', f('o.pth'), f('x.safetensors'), '--config', dasoCfgPath, '--daso-from', join(P, 'supervised-wrn10-1/batch.safetensors'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/images '.*supervised-wrn10-1\/batch\.safetensors': tensor 'x_ulb_w' is missing/);
  }, 120_000);

  it('official -> project -> official gives the original back bit for bit (and the comparison can fail)', async () => {
    await ok(conv('to-official', f('p.safetensors'), f('o2.pth')));
    expect((await helper('compare', f('o.pth'), f('o2.pth'))).out).toMatch(/identical/);
    const differ = await helper('compare', f('o.pth'), f('ne.pth'));
    expect(differ.code).toBe(1);
    expect(differ.out).toMatch(/differ at/);
  }, 60_000);

  it('no EMA, never-stepped momentum and numpy meta: reported, rebuilt exactly, and written back absent', async () => {
    expect(noEmaToProject.out).toMatch(/ema\.\* = a copy of the model/);
    expect(noEmaToProject.out).toMatch(/3 of 25 buffers absent .* written as zeros/);
    const p = read(f('ne.safetensors')).tensors;
    const spec = wrnSpec(dasoCfg.model);
    for (const b of spec.params) sameBits(p[`ema.${b.name}`], p[`model.${b.name}`], b.name);
    spec.params.forEach((prm, i) => {
      const m = p[`optim.momentum.${prm.name}`].data as Float32Array;
      if (i < 3) expect(m.every((v) => Object.is(v, 0)), prm.name).toBe(true);
      else sameBits(p[`optim.momentum.${prm.name}`], read(f('ne.dump.safetensors')).tensors[`momentum/${i}`], prm.name);
    });
    const back = await ok(conv('to-official', f('ne.safetensors'), f('ne2.pth')));
    expect(back.out).toMatch(/ema_model: None/);
    expect((await helper('compare', f('ne.pth'), f('ne2.pth'))).out).toMatch(/identical/);
  }, 60_000);

  it('project -> official -> project is bit for bit (committed fixture; optimizer settings from its metadata)', async () => {
    const src = join(P, 'supervised-wrn10-1/checkpoint.safetensors');
    const r = await ok(conv('to-official', src, f('sup.pth')));
    expect(r.out).toMatch(/param_groups from the checkpoint's metadata config/);
    await ok(conv('to-project', f('sup.pth'), f('sup.safetensors'), '--config', join(P, 'supervised-wrn10-1/config.json')));
    const a = read(src).tensors, b = read(f('sup.safetensors')).tensors;
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) sameBits(b[k], a[k], k);
  }, 60_000);

  it('project (daso) -> official drops daso.* and says so; back in, the state is marked absent', async () => {
    const r = await ok(conv('to-official', join(P, 'daso-active/checkpoint.safetensors'), f('d.pth'), '--config', dasoCfgPath));
    expect(r.out).toMatch(/dropped: daso\.pl_hist, daso\.pl_window, daso\.prototypes, daso\.queue, daso\.queue_len/);
    await ok(conv('to-project', f('d.pth'), f('d.safetensors'), '--config', dasoCfgPath));
    const d = read(f('d.safetensors'));
    expect(Object.keys(d.tensors).filter((k) => k.startsWith('daso.'))).toEqual([]);
    expect(() => validateCheckpoint(d.tensors, d.metadata, dasoCfg, 'd.safetensors')).toThrow(/daso_state = "absent"/);
  }, 60_000);

  it('refuses what is not an official DASO checkpoint, naming the file and the problem', async () => {
    await ok(py(['-c', `import torch, collections; torch.save([1, 2], '${f('list.pth')}'); ` +
      `torch.save(collections.OrderedDict(w=torch.zeros(2)), '${f('bare.pth')}')`]));
    const cases: [string, RegExp][] = [
      ['list.pth', /list\.pth' is not an official DASO checkpoint: expected the dict .* got a list/],
      ['bare.pth', /bare\.pth' is not an official DASO checkpoint: .* got a bare state_dict \(1 tensors\)/],
      ['text.pth', /text\.pth' is not a PyTorch checkpoint written by torch\.save/],
      ['missing.pth', /missing\.pth': no such file/],
    ];
    const runs = await Promise.all(cases.map(([name]) => conv('to-project', f(name), f('x.safetensors'), '--config', dasoCfgPath)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i][0]).toBe(1);
      expect(r.err, cases[i][0]).toMatch(cases[i][1]);
    });
  }, 60_000);

  it('refuses another model size (tensor and both shapes), NaN (tensor), extra heads, and pickles that run code', async () => {
    await Promise.all([
      ok(helper('make', f('w2.pth'), '--config', f('width2.json'))),
      ok(helper('make', f('nan.pth'), '--config', dasoCfgPath, '--nan', 'ema_model/ema_model.encoder.unit2.0.layer.2.weight')),
      ok(helper('make', f('abc.pth'), '--config', dasoCfgPath, '--extra-head')),
      ok(helper('make', f('evil.pth'), '--config', dasoCfgPath, '--evil')),
    ]);
    const [w2, nan, abc, evil] = await Promise.all(['w2.pth', 'nan.pth', 'abc.pth', 'evil.pth']
      .map((n) => conv('to-project', f(n), f('x.safetensors'), '--config', dasoCfgPath)));
    for (const r of [w2, nan, abc, evil]) expect(r.code).toBe(1);
    expect(w2.err).toMatch(/w2\.pth' 'model': tensor 'encoder\.unit1\.0\.layer\.0\.weight' has shape \[32, 16, 3, 3\] but the config's WRN-10-1, 1 input channels, 5 classes needs \[16, 16, 3, 3\]; convert with the config of the run/);
    expect(nan.err).toMatch(/nan\.pth' 'ema_model': tensor 'encoder\.unit2\.0\.layer\.2\.weight' has a non-finite value \(nan at index 1\)/);
    expect(abc.err).toMatch(/abc_classifier\.weight, abc_classifier\.bias; they are an ABC classifier/);
    expect(evil.err).toMatch(/evil\.pth': the pickle imports (__builtin__|builtins)\.print, .* refused, .* --trust-pickle/);
    expect(evil.out + evil.err).not.toMatch(/PWNED/);
  }, 120_000);

  it('to-official refuses NaN and non-checkpoints, naming the tensor', async () => {
    const src = read(join(P, 'supervised-wrn10-1/checkpoint.safetensors'));
    const t = { ...src.tensors };
    const w = Float32Array.from(t['ema.encoder.unit1.0.layer.0.weight'].data as Float32Array);
    w[5] = Infinity;
    t['ema.encoder.unit1.0.layer.0.weight'] = { ...t['ema.encoder.unit1.0.layer.0.weight'], data: w };
    writeFileSync(f('inf.safetensors'), writeSafetensors(t, src.metadata));
    writeFileSync(f('outputs.safetensors'), writeSafetensors({ ...src.tensors, 'out.loss': { dtype: 'F32', shape: [], data: Float32Array.of(1) } }));
    const [inf, outs] = await Promise.all([conv('to-official', f('inf.safetensors'), f('x.pth')), conv('to-official', f('outputs.safetensors'), f('x.pth'))]);
    expect(inf.code).toBe(1);
    expect(inf.err).toMatch(/inf\.safetensors' 'ema\.\*': tensor 'encoder\.unit1\.0\.layer\.0\.weight' has a non-finite value \(inf at index 5\)/);
    expect(outs.code).toBe(1);
    expect(outs.err).toMatch(/outputs\.safetensors': tensor\(s\) a checkpoint does not hold: out\.loss/);
  }, 60_000);

  it('daso convert: the CLI front end (usage, flags, python3-torch missing, errors exit 1)', () => {
    expect(parseConvertArgs(['to-official', 'a.safetensors', 'b.pth'])).toEqual({ direction: 'to-official', input: 'a.safetensors', out: 'b.pth', config: undefined, trustPickle: false, dasoFrom: undefined });
    expect(parseConvertArgs(['to-project', 'a.pth', '--daso-from', 'i.safetensors', 'b.safetensors', '--config', 'c.json']))
      .toMatchObject({ input: 'a.pth', out: 'b.safetensors', config: 'c.json', dasoFrom: 'i.safetensors' });
    expect(() => parseConvertArgs(['to-official', 'a', 'b', '--daso-from', 'i'])).toThrow(/--daso-from applies to to-project only/);
    expect(() => parseConvertArgs(['to-project', 'a.pth', 'b.safetensors'])).toThrow(/--config C\.json is required/);
    expect(() => parseConvertArgs(['sideways', 'a', 'b'])).toThrow(/'to-project' or 'to-official', got 'sideways'/);
    expect(() => parseConvertArgs(['to-official', 'a', 'b', '--force'])).toThrow(/unknown flag '--force'/);
    const opts = { direction: 'to-official' as const, input: 'a.safetensors', out: 'b.pth' };
    const saved = process.env.DASO_PYTHON;
    try {
      process.env.DASO_PYTHON = '/nonexistent/python3';
      expect(() => runConvert(ROOT, opts)).toThrow(/cannot run \/nonexistent\/python3 \(ENOENT\).*apt-get install -y python3-torch/);
      process.env.DASO_PYTHON = '/bin/false';
      expect(() => runConvert(ROOT, opts)).toThrow(/\/bin\/false cannot import torch and numpy .*apt-get install -y python3-torch/);
    } finally {
      if (saved === undefined) delete process.env.DASO_PYTHON;
      else process.env.DASO_PYTHON = saved;
    }
    // through the bundle, as a user runs it
    expect(spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT }).status).toBe(0);
    const help = daso(['convert', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/usage: daso convert to-project OFFICIAL\.pth OUT\.safetensors --config C\.json/);
    const bad = daso(['convert', 'to-official', join(dir, 'inf.safetensors'), join(dir, 'y.pth')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^daso: convert: .*inf\.safetensors' 'ema\.\*': tensor 'encoder\.unit1\.0\.layer\.0\.weight' has a non-finite value/);
  }, 120_000);
});
