// Seeded mutation fuzzing of the input parsers (issue 11 item 5): safetensors, IDX (and its gzip layer), CIFAR binary,
// train/step configs. Each case must end in a clean parse that passes the invariants below, or in a plain Error that
// names the file or the config key. An engine error (TypeError, RangeError: a missing check), a message that does
// not say which file, pollution of Object.prototype or a slow case fails the test with its case label. Node only.
// The seed is committed so CI is reproducible; DASO_FUZZ_SEED=<n> explores another sequence locally.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeCifar, parseCifar10, parseCifar100, type NamedBytes } from '../src/data/cifar.js';
import { validateDataset } from '../src/data/dataset.js';
import { gunzipIfNeeded, parseIdxImages, parseIdxLabels } from '../src/data/idx.js';
import { isStDType, numElements, readSafetensors, validateTensors, writeSafetensors, type StTensor, type TensorSpec } from '../src/nn/safetensors.js';
import { DEFAULT_STEP_CONFIG, parseStepConfig } from '../src/train/config.js';
import { PRESETS } from '../src/train/presets.js';
import { DEFAULT_TRAIN_CONFIG, parseTrainConfig } from '../src/train/train-config.js';
import { deepArray, mutateBytes, Prng, report, runCase, setOwn, slots, tally, valuePool, type Tally } from './helpers/fuzz.js';
import { idx } from './helpers/idx.js';

const SEED = 0x0da5_0011;
const seed = Number(process.env.DASO_FUZZ_SEED ?? SEED);
const enc = new TextEncoder();
const JSON_POOL = valuePool(false);
const JS_POOL = valuePool(true);

function finish(t: Tally): void {
  report(t);
  expect(t.bugs).toEqual([]);
  expect(t.cases).toBeGreaterThan(0);
}

// ---- safetensors ----

const ST = 'fuzz.safetensors';

function baseTensors(rng: Prng): Record<string, StTensor> {
  const t: Record<string, StTensor> = {
    'a.f32': { dtype: 'F32', shape: [2, 3], data: Float32Array.from({ length: 6 }, () => rng.next() * 4 - 2) },
    'b.f64': { dtype: 'F64', shape: [], data: new Float64Array([rng.next()]) },
    'c.i32': { dtype: 'I32', shape: [4], data: Int32Array.from({ length: 4 }, () => rng.int(2 ** 31) - 2 ** 30) },
    'd.i64': { dtype: 'I64', shape: [2, 1], data: new BigInt64Array([BigInt(rng.int(1000)), -7n]) },
    'e.u8': { dtype: 'U8', shape: [5], data: rng.bytes(5) },
    'f.empty': { dtype: 'F32', shape: [0, 3], data: new Float32Array(0) },
  };
  setOwn(t, '__proto__', { dtype: 'U8', shape: [1], data: new Uint8Array([42]) });
  return t;
}
const META = { format: 'pt', config: JSON.stringify({ model: { depth: 10 } }), note: 'ünïcode' };

function specOf(t: Record<string, StTensor>): Record<string, TensorSpec> {
  const s: Record<string, TensorSpec> = {};
  for (const [k, v] of Object.entries(t)) setOwn(s, k, { dtype: v.dtype, shape: v.shape });
  return s;
}

/** A file from header text and data bytes; the length prefix is the true length unless `len` lies. */
function stFile(header: string, data: Uint8Array, len?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, len ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

const bytesOf = (t: StTensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** Why two tensor sets differ (names, dtypes, shapes, bytes), or undefined. */
function diffTensors(a: Record<string, StTensor>, b: Record<string, StTensor>): string | undefined {
  const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
  if (ka.join('\0') !== kb.join('\0')) return `names ${ka.join(',')} != ${kb.join(',')}`;
  for (const k of ka) {
    const x = a[k], y = b[k];
    if (x.dtype !== y.dtype || x.shape.join() !== y.shape.join() || bytesOf(x).join() !== bytesOf(y).join()) return `tensor '${k}' differs`;
  }
  return undefined;
}

/** Invariants of a successful read: well-formed tensors no bigger than the input, and a faithful rewrite. */
function checkRead(r: ReturnType<typeof readSafetensors>, inputLen: number): string | undefined {
  if (Object.getPrototypeOf(r.tensors) !== Object.prototype) return 'tensors object has a replaced prototype';
  for (const [k, t] of Object.entries(r.tensors)) {
    if (!isStDType(t.dtype) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return `tensor '${k}' is malformed`;
    if (t.data.length !== numElements(t.shape) || t.data.byteLength > inputLen) return `tensor '${k}' has ${t.data.length} values`;
  }
  if (!Object.values(r.metadata).every((v) => typeof v === 'string')) return 'metadata holds a non-string';
  let again: Uint8Array;
  try {
    again = writeSafetensors(r.tensors, r.metadata);
  } catch (e) {
    // The writer may refuse what the reader accepts (an empty tensor name), but only with a clear message.
    return e instanceof Error && e.constructor === Error && e.message.startsWith('writeSafetensors: ') ? undefined : `rewrite threw ${String(e)}`;
  }
  return diffTensors(r.tensors, readSafetensors(again, 'rewrite').tensors);
}

const DTYPE_LIES = ['BF16', 'F16', 'f32', '', 'U8', 'I64', 'F64', 123, null, ['F32'], { F32: 1 }];
const SHAPE_LIES = [[-1], [2 ** 53], [1e300], [2 ** 26, 2 ** 26], [2 ** 53 - 1, 2], [2 ** 31, 2 ** 31, 0], Array(40).fill(2 ** 40).concat([0]),
  [1.5], '3', [], [1], ['2'], [null], { 0: 1 }, null];

function headerEdit(rng: Prng, header: Record<string, unknown>, dataLen: number): string {
  const entries = Object.keys(header).filter((k) => k !== '__metadata__');
  const entry = header[rng.pick(entries)] as Record<string, unknown>;
  switch (rng.int(8)) {
    case 0:
      entry.dtype = rng.pick(DTYPE_LIES);
      break;
    case 1:
      entry.shape = rng.pick(SHAPE_LIES);
      break;
    case 2:
      entry.data_offsets = rng.pick([[0, dataLen + 1], [dataLen, dataLen + 8], [2 ** 53, 2 ** 53 + 4], [2 ** 53 - 1, 2 ** 53 - 1], [-1, 4],
        [4, 0], [0], [0, 4, 8], ['0', '4'], [0, 1e300], null, [0.5, 4.5]]);
      break;
    case 3:
      setOwn(rng.pick([header, entry, (header.__metadata__ ?? header) as object]), rng.pick(['__proto__', 'constructor', 'prototype']),
        rng.pick([{ x: 1 }, { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, 'x', 1]));
      break;
    case 4:
      return JSON.stringify(rng.pick([[], 5, 'header', null, true, [header]]));
    case 5:
      header.__metadata__ = rng.pick([null, 'x', [], { k: 1 }, { k: null }, { k: {} }, {}]);
      break;
    default: {
      const [obj, k] = rng.pick(slots(header));
      if (rng.chance(0.3)) delete obj[k];
      else obj[k] = rng.pick(JSON_POOL);
    }
  }
  return JSON.stringify(header);
}

function textEdit(rng: Prng, text: string): string {
  const i = rng.int(text.length + 1);
  const c = rng.pick([...'{}[]",:-.0123456789eE aZ\\', '\\u0000', '"__proto__":{}', '1e999', 'null', '9007199254740993']);
  const r = rng.int(3);
  return text.slice(0, i) + (r === 2 ? '' : c) + text.slice(i + (r === 0 ? 0 : 1));
}

describe('fuzz: safetensors', () => {
  it('readSafetensors + validateTensors on mutated files', async () => {
    const rng = new Prng(seed ^ 0x11);
    const t = tally('safetensors read');
    for (let i = 0; i < 1500; i++) {
      const base = baseTensors(rng);
      const file = writeSafetensors(base, rng.chance(0.8) ? META : undefined);
      const n = Number(new DataView(file.buffer).getBigUint64(0, true));
      const text = new TextDecoder().decode(file.subarray(8, 8 + n));
      const data = file.subarray(8 + n);
      let bytes: Uint8Array, how: string;
      const op = rng.int(20);
      if (op < 6) ({ bytes, how } = mutateBytes(file, rng, 8 + n));
      else if (op < 8) {
        const lie = rng.pick([0n, 1n, 7n, BigInt(n - 1), BigInt(n + 1), BigInt(n + 8), BigInt(file.length), 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n,
          2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, BigInt(rng.int(file.length * 2))]);
        bytes = file.slice();
        new DataView(bytes.buffer).setBigUint64(0, lie, true);
        how = `header length ${lie}`;
      } else if (op < 16) {
        const h = headerEdit(rng, JSON.parse(text), data.length);
        bytes = stFile(h, rng.chance(0.8) ? data : data.subarray(0, rng.int(data.length + 1)));
        how = `header ${h.slice(0, 200)}`;
      } else if (op < 19 || rng.chance(0.8)) { // deep nesting below: ~1% of cases, each parses 400 KB
        const h = textEdit(rng, rng.chance(0.5) ? text : textEdit(rng, text));
        bytes = stFile(h, data);
        how = `header text ${h.slice(0, 200)}`;
      } else {
        // Nesting deep enough that JSON.stringify (used for error messages) overflows the stack.
        const d = 100_000 + rng.int(100_000);
        const deep = '['.repeat(d) + ']'.repeat(d);
        bytes = stFile(rng.pick([`{"t":{"dtype":${deep}}}`, `{"t":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`, `{"__metadata__":{"k":${deep}}}`]), data);
        how = `nesting ${d} deep`;
      }
      await runCase(t, `#${i} (${how})`, ST, () => {
        const r = readSafetensors(bytes, ST);
        const bad = checkRead(r, bytes.length);
        if (bad) return bad;
        validateTensors(r.tensors, specOf(base), ST, { allowExtraPrefixes: rng.chance(0.5) ? ['x'] : [] });
      });
    }
    finish(t);
  });

  it('writeSafetensors on mutated tensor sets round-trips or refuses', async () => {
    const rng = new Prng(seed ^ 0x12);
    const t = tally('safetensors write');
    for (let i = 0; i < 400; i++) {
      let tensors: unknown = baseTensors(rng);
      let meta: unknown = rng.chance(0.7) ? { ...META } : undefined;
      const names = Object.keys(tensors as object);
      const name = rng.pick(names);
      const entry = (tensors as Record<string, Record<string, unknown>>)[name];
      let how = '';
      switch (rng.int(7)) {
        case 0: entry.dtype = rng.pick(DTYPE_LIES); how = `dtype ${String(entry.dtype)}`; break;
        case 1: entry.shape = rng.chance(0.05) ? deepArray(100_000) : rng.pick(SHAPE_LIES); how = 'shape'; break;
        case 2:
          entry.data = rng.pick([null, undefined, [1, 2], new Float32Array(1), new Float64Array(6), new Int32Array(4), new BigInt64Array(2),
            new Uint8Array(5), new Uint16Array(2), new Float32Array(0), {}]);
          how = `data ${Object.prototype.toString.call(entry.data)}`;
          break;
        case 3: setOwn(tensors as object, name, rng.pick([null, undefined, {}, 5, 'x', []])); how = 'entry'; break;
        case 4:
          meta = rng.pick([null, [], 5, 'x', { k: 3 }, { k: null }, {}, { '': '' }, { k: 'x'.repeat(10_000) }]);
          if (rng.chance(0.3)) setOwn((meta = {}) as object, '__proto__', rng.pick(['v', 1]));
          how = `metadata ${JSON.stringify(meta)?.slice(0, 40)}`;
          break;
        case 5: tensors = rng.pick([null, [], 5, 'x']); how = `tensors ${String(tensors)}`; break;
        default: {
          const nn = rng.pick(['', '__metadata__', '__proto__', 'n'.repeat(1000), 'quo"te\\', 'ünï', 'constructor']);
          setOwn(tensors as object, nn, { dtype: 'U8', shape: [2], data: new Uint8Array([1, 2]) });
          how = `name ${nn.slice(0, 20)}`;
        }
      }
      await runCase(t, `#${i} (${how})`, 'writeSafetensors', () => {
        const out = writeSafetensors(tensors as Record<string, StTensor>, meta as Record<string, string>);
        const back = readSafetensors(out, 'rewrite');
        return diffTensors(tensors as Record<string, StTensor>, back.tensors);
      });
    }
    finish(t);
  });
});

// ---- IDX (and its gzip layer) ----

const IMAGES = 'fuzz-images-idx3-ubyte';
const LABELS = 'fuzz-labels-idx1-ubyte';


function baseIdx(rng: Prng, images: boolean): Uint8Array {
  if (!images) {
    const n = rng.int(8);
    return idx(0x801, [n], Uint8Array.from({ length: n }, () => rng.int(10)));
  }
  const n = rng.int(4), rows = 1 + rng.int(4), cols = 1 + rng.int(4);
  return idx(0x803, [n, rows, cols], rng.bytes(n * rows * cols));
}

/** Huge or off-by-one dimensions, a changed dtype/ndims byte, or a byte-level mutation. */
function mutateIdx(rng: Prng, b: Uint8Array): { bytes: Uint8Array; how: string } {
  const ndims = b[3];
  const op = rng.int(10);
  if (op < 4 || b.length < 4 + 4 * ndims) return mutateBytes(b, rng, 4 + 4 * ndims);
  const out = b.slice();
  if (op < 8) {
    const k = rng.int(ndims), dv = new DataView(out.buffer);
    const cur = dv.getUint32(4 + 4 * k, false);
    const v = rng.pick([0, 1, cur + 1, Math.max(0, cur - 1), 0xffffffff, 0x7fffffff, 0x80000000, 0x10000, 60000, 28]);
    dv.setUint32(4 + 4 * k, v, false);
    return { bytes: out, how: `dim ${k} = ${v}` };
  }
  const at = rng.pick([2, 3]), v = rng.pick([0x00, 0x01, 0x03, 0x08, 0x09, 0x0b, 0x0d, 0x0e, 0xff]);
  out[at] = v;
  return { bytes: out, how: `magic byte ${at} = ${v}` };
}

function checkImages(r: ReturnType<typeof parseIdxImages>, inputLen: number): string | undefined {
  if (r.rows < 1 || r.cols < 1 || r.pixels.length !== r.n * r.rows * r.cols || r.pixels.length > inputLen) {
    return `${r.n} images of ${r.rows}x${r.cols} in ${r.pixels.length} bytes`;
  }
}

function checkLabels(l: Int32Array, inputLen: number, numClasses: number): string | undefined {
  if (l.length > inputLen) return `${l.length} labels from ${inputLen} bytes`;
  if (!l.every((y) => y >= 0 && y < numClasses)) return `a label outside 0..${numClasses - 1}`;
}

describe('fuzz: IDX', () => {
  it('parseIdxImages / parseIdxLabels on mutated files', async () => {
    const rng = new Prng(seed ^ 0x21);
    const t = tally('idx');
    for (let i = 0; i < 1200; i++) {
      const images = rng.chance(0.5);
      const { bytes, how } = mutateIdx(rng, baseIdx(rng, images));
      const numClasses = rng.pick([10, 10, 2, 1, 256]);
      const file = images ? IMAGES : LABELS;
      await runCase(t, `#${i} ${file} (${how})`, file, () =>
        images ? checkImages(parseIdxImages(bytes, file), bytes.length) : checkLabels(parseIdxLabels(bytes, file, numClasses), bytes.length, numClasses));
    }
    finish(t);
  });

  it('gunzipIfNeeded on corrupted gzip, then the parser', async () => {
    const rng = new Prng(seed ^ 0x22);
    const t = tally('idx gzip');
    for (let i = 0; i < 300; i++) {
      const images = rng.chance(0.5);
      const gz = new Uint8Array(gzipSync(baseIdx(rng, images)));
      // Most mutations hit the gzip header (flags, method) or the CRC/length trailer, where zlib decides.
      const head = rng.chance(0.5);
      const m = head ? mutateBytes(gz, rng, 10) : mutateBytes(gz.slice().reverse(), rng, 8);
      const bytes = head ? m.bytes : m.bytes.reverse();
      const file = `${images ? IMAGES : LABELS}.gz`;
      await runCase(t, `#${i} ${file} (${m.how})`, file, async () => {
        const raw = await gunzipIfNeeded(bytes, file);
        return images ? checkImages(parseIdxImages(raw, file), Infinity) : checkLabels(parseIdxLabels(raw, file), Infinity, 10);
      });
    }
    finish(t);
  });
});

// ---- CIFAR binary ----

const CIFAR_NAMES = /data_batch_\d\.bin|train\.bin|fuzz-cifar/;

function baseCifar(rng: Prng, hundred: boolean, name: string): NamedBytes {
  const n = 1 + rng.int(3);
  const labels = Array.from({ length: n }, () => rng.int(hundred ? 100 : 10));
  const coarse = hundred ? Array.from({ length: n }, () => rng.int(20)) : undefined;
  return { name, bytes: encodeCifar(rng.bytes(n * 3072), labels, coarse) };
}

function mutateCifar(rng: Prng, f: NamedBytes, rec: number): string {
  const op = rng.int(10);
  if (op < 4) {
    const m = mutateBytes(f.bytes, rng, 2);
    f.bytes = m.bytes;
    return m.how;
  }
  if (op < 7) {
    const r = rng.int(f.bytes.length / rec), k = rng.int(rec - 3072), v = rng.pick([9, 10, 19, 20, 99, 100, 255]);
    f.bytes = f.bytes.slice();
    f.bytes[r * rec + k] = v;
    return `record ${r} label byte ${k} = ${v}`;
  }
  const len = Math.max(0, f.bytes.length + rng.pick([-1, 1, -rec, rec, -3072, 3072, 2, -f.bytes.length]));
  const out = new Uint8Array(len);
  out.set(f.bytes.subarray(0, len));
  f.bytes = out;
  return `resize to ${len}`;
}

describe('fuzz: CIFAR', () => {
  it('parseCifar10 / parseCifar100 on mutated batches', async () => {
    const rng = new Prng(seed ^ 0x31);
    const t = tally('cifar');
    for (let i = 0; i < 600; i++) {
      const hundred = rng.chance(0.5);
      const rec = hundred ? 3074 : 3073;
      const files = Array.from({ length: rng.int(3) }, (_, k) => baseCifar(rng, hundred, hundred ? 'train.bin' : `data_batch_${k + 1}.bin`));
      const hows = files.length > 0 ? [mutateCifar(rng, rng.pick(files), rec)] : ['no files'];
      // Now and then hand a file to the other format's parser.
      const parse10 = rng.chance(0.1) ? hundred : !hundred;
      await runCase(t, `#${i} (${parse10 ? 'cifar10' : 'cifar100'}: ${hows.join(', ')})`, CIFAR_NAMES, () => {
        const d = parse10 ? parseCifar10(files, 'fuzz-cifar10') : parseCifar100(files, 'fuzz-cifar100');
        validateDataset(d);
        const total = files.reduce((s, f) => s + f.bytes.length, 0);
        if (d.images.length !== d.n * 3072 || d.images.length > total) return `${d.n} images in ${d.images.length} bytes`;
      });
    }
    finish(t);
  });

  it('encodeCifar refuses what it cannot store, and what it stores parses back', async () => {
    const rng = new Prng(seed ^ 0x32);
    const t = tally('cifar encode');
    for (let i = 0; i < 300; i++) {
      const n = rng.int(4);
      const hundred = rng.chance(0.5);
      const label = () => (rng.chance(0.2) ? rng.pick(JS_POOL) : rng.int(hundred ? 100 : 10)) as number;
      const labels = Array.from({ length: n }, label);
      const coarse = hundred ? Array.from({ length: rng.chance(0.1) ? n + rng.pick([-1, 1]) : n }, () => (rng.chance(0.1) ? 20 : rng.int(20))) : undefined;
      const images = rng.bytes(Math.max(0, n * 3072 + (rng.chance(0.1) ? rng.pick([-1, 1, 3072]) : 0)));
      await runCase(t, `#${i} (labels ${String(labels.map(String))}, coarse ${String(coarse)}, ${images.length} pixel bytes)`, /encodeCifar|train\.bin|data_batch_1\.bin/, () => {
        const bytes = encodeCifar(images, labels, coarse);
        if (n === 0) return;
        const d = hundred ? parseCifar100([{ name: 'train.bin', bytes }]) : parseCifar10([{ name: 'data_batch_1.bin', bytes }]);
        if (Array.from(d.labels).join() !== labels.join()) return `labels ${labels.join()} came back as ${Array.from(d.labels).join()}`;
      });
    }
    finish(t);
  });
});

// ---- configs ----

const CONFIG_NAMES = /config|model\./;
const DANGEROUS = ['__proto__', 'constructor', 'prototype'];
const INHERITED = ['toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

const stepOnly = (c: object) => Object.fromEntries(Object.entries(c).filter(([k]) => k in DEFAULT_STEP_CONFIG));
const TRAIN_BASES = [DEFAULT_TRAIN_CONFIG, ...Object.values(PRESETS), {}, { algorithm: 'daso', max_iter: 10, daso: { warmup: 100 } },
  { name: 'x', data: { dataset: 'synthetic' }, train: { seed: 3 } }];
const STEP_BASES = [DEFAULT_STEP_CONFIG, {}, { algorithm: 'fixmatch', ssl: { tau: 0.5 } }, ...Object.values(PRESETS).map(stepOnly)];

/** 1-3 edits of a config: replaced values, deleted keys, unknown / inherited / prototype keys, or a non-object root. */
function mutateConfig(rng: Prng, base: object): { cfg: unknown; how: string[] } {
  let cfg: unknown = JSON.parse(JSON.stringify(base));
  const how: string[] = [];
  for (let e = 1 + rng.int(3); e > 0; e--) {
    const all = slots(cfg);
    const containers = [cfg, ...all.map(([o, k]) => o[k])]
      .filter((v): v is object => v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype);
    const op = rng.int(12);
    if (op < 5 && all.length > 0) {
      const [o, k] = rng.pick(all), v = rng.pick(JS_POOL);
      setOwn(o, k, v);
      how.push(`${k}=${typeof v === 'symbol' ? 'symbol' : String(v).slice(0, 20)}`);
    } else if (op < 7 && all.length > 0) {
      const [o, k] = rng.pick(all);
      delete o[k];
      how.push(`delete ${k}`);
    } else if (op < 10 && containers.length > 0) {
      const k = rng.pick(op === 7 ? ['lr', 'tdist', 'Depth', 'model ', 'x', ''] : op === 8 ? INHERITED : DANGEROUS);
      setOwn(rng.pick(containers), k, rng.pick([{ x: 1 }, { polluted: true }, { prototype: { x: 1 } }, 1, null, 'x', []]));
      how.push(`add ${k}`);
    } else if (op === 10) {
      cfg = rng.pick(JS_POOL);
      how.push('root replaced');
    } else {
      const [o, k] = rng.pick(all.length > 0 ? all : [[{}, 'x'] as [Record<string, unknown>, string]]);
      if (typeof o[k] === 'number' || typeof o[k] === 'boolean') o[k] = String(o[k]);
      how.push(`stringify ${k}`);
    }
  }
  // A third of the cases go through JSON text: JSON.parse makes '__proto__' an own key, NaN becomes null.
  if (rng.chance(0.33)) {
    try {
      const text = JSON.stringify(cfg);
      if (text !== undefined) cfg = JSON.parse(text);
      how.push('via JSON');
    } catch {
      // BigInt, cycles: not JSON; keep the JS value.
    }
  }
  return { cfg, how };
}

/** Why a parsed config does not have exactly the defaults' shape with sane numbers, or undefined. */
function checkConfig(v: unknown, d: unknown, path: string): string | undefined {
  if (d !== null && typeof d === 'object') {
    if (v === d) return `'${path}' is the defaults object itself (editing the result would edit the defaults)`;
    if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return `'${path}' is not a plain object`;
    const kv = Object.keys(v).sort().join(), kd = Object.keys(d).sort().join();
    if (kv !== kd) return `'${path}' has keys ${kv}, expected ${kd}`;
    for (const k of Object.keys(d)) {
      const bad = checkConfig((v as Record<string, unknown>)[k], (d as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (bad) return bad;
    }
    return undefined;
  }
  if (typeof v !== typeof d) return `'${path}' is a ${typeof v}`;
  if (typeof v === 'number' && !(Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)) return `'${path}' = ${v}`;
}

describe('fuzz: configs', () => {
  const cases: [string, object[], (j: unknown) => object, object, number][] = [
    ['train config', TRAIN_BASES, parseTrainConfig, DEFAULT_TRAIN_CONFIG, 1000],
    ['step config', STEP_BASES, parseStepConfig, DEFAULT_STEP_CONFIG, 500],
  ];
  for (const [name, bases, parse, defaults, count] of cases) {
    it(`${name}: mutated configs parse or name the key; Object.prototype stays clean`, async () => {
      const rng = new Prng(seed ^ (name.length * 0x41));
      const t = tally(name);
      const before = JSON.stringify(defaults);
      for (let i = 0; i < count; i++) {
        const { cfg, how } = mutateConfig(rng, rng.pick(bases));
        await runCase(t, `#${i} (${how.join('; ')})`, CONFIG_NAMES, () => {
          const c = parse(cfg);
          const bad = checkConfig(c, defaults, '');
          if (bad) return bad;
          if (JSON.stringify(defaults) !== before) return 'the defaults changed';
        });
        // Checked after every case too (runCase checks Object.prototype): a parse must not edit the defaults.
        if (JSON.stringify(defaults) !== before) t.bugs.push(`${name} #${i}: the defaults changed`);
      }
      finish(t);
    });
  }

  it('refuses prototype keys by name (regressions found by this fuzzer)', () => {
    for (const k of DANGEROUS) {
      expect(() => parseTrainConfig(JSON.parse(`{"model":{"${k}":{"x":1}}}`))).toThrow(`config key 'model.${k}' is not allowed`);
      expect(() => parseStepConfig(JSON.parse(`{"${k}":{"x":1}}`))).toThrow(`config key '${k}' is not allowed`);
    }
    expect(() => parseStepConfig({ toString: 'x' })).toThrow(/unknown config key 'toString'/);
    expect(() => parseTrainConfig({ max_iter: 1e300 })).toThrow(/config key 'max_iter' = 1e\+300 is too large/);
    expect(() => parseTrainConfig({ model: { width: 2 ** 60 } })).toThrow(/config key 'model.width' = .* is too large/);
    expect(() => parseTrainConfig({ name: '../../etc' })).toThrow(/config key 'name' = "..\/..\/etc" must be/);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('fuzz: regressions found by this fuzzer', () => {
  it('safetensors: deep nesting and huge zero-size shapes', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    expect(() => readSafetensors(stFile(`{"t":{"dtype":${deep}}}`, new Uint8Array(0)), ST)).toThrow(/^fuzz\.safetensors: tensor 't': unknown dtype \[object Array\] \(supported/);
    // 40 dims of 2^40 overflow to Infinity, and Infinity * 0 is NaN: the zero dim must win.
    const shape = [...Array(40).fill(2 ** 40), 0];
    const r = readSafetensors(stFile(JSON.stringify({ t: { dtype: 'F32', shape, data_offsets: [0, 0] } }), new Uint8Array(0)), ST);
    expect(r.tensors.t.data.length).toBe(0);
    expect(() => writeSafetensors({}, null as unknown as Record<string, string>)).toThrow(/^writeSafetensors: metadata must be an object/);
  });

  it('encodeCifar refuses labels that are not bytes instead of wrapping them', () => {
    expect(() => encodeCifar(new Uint8Array(3072), [300])).toThrow('encodeCifar: label 300 of record 0 is not a byte (0..255)');
    expect(() => encodeCifar(new Uint8Array(3072), [1], [])).toThrow('encodeCifar: 0 coarse labels for 1 records');
  });
});
