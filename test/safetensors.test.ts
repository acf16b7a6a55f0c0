// safetensors reader/writer and atomic file writes: Node only, no GPU.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from '../src/nn/atomic-write.js';
import { readSafetensors, validateTensors, writeSafetensors, type StTensor } from '../src/nn/safetensors.js';

const enc = new TextEncoder();

/** A file from a header string (unpadded) and raw data bytes, header length written as given. */
function rawFile(header: string, data: number[] | Uint8Array = [], headerLen?: bigint): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLen ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function bytesOf(t: StTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

describe('safetensors round trip', () => {
  const tensors: Record<string, StTensor> = {
    'f32.scalar': { dtype: 'F32', shape: [], data: new Float32Array([-0]) },
    'f32.one': { dtype: 'F32', shape: [1], data: new Float32Array([NaN]) },
    'f32.mat': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1.5, -2, Infinity, -Infinity, 1e-45, 3.4028234663852886e38]) },
    'f32.empty': { dtype: 'F32', shape: [0], data: new Float32Array(0) },
    'f32.empty2': { dtype: 'F32', shape: [3, 0, 2], data: new Float32Array(0) },
    'f64.vec': { dtype: 'F64', shape: [3], data: new Float64Array([Math.PI, -1e-300, 5e-324]) },
    'f64.scalar': { dtype: 'F64', shape: [], data: new Float64Array([0.1]) },
    'i32.ones': { dtype: 'I32', shape: [1, 1, 1], data: new Int32Array([-2147483648]) },
    'i32.vec': { dtype: 'I32', shape: [4], data: new Int32Array([0, -1, 2147483647, 7]) },
    'i64.scalar': { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) },
    'i64.vec': { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]) },
    'u8.odd': { dtype: 'U8', shape: [3], data: new Uint8Array([0, 128, 255]) },
    'u8.scalar': { dtype: 'U8', shape: [], data: new Uint8Array([9]) },
  };
  // A tensor named "__proto__" must be stored as data, not become a prototype.
  Object.defineProperty(tensors, '__proto__', {
    value: { dtype: 'U8', shape: [1], data: new Uint8Array([42]) },
    enumerable: true,
  });

  it('writes and reads every dtype and shape (scalars, [1], zero-size) bit-exactly with metadata', () => {
    const meta = { format: 'pt', note: 'ünïcode ✓', empty: '' };
    const file = writeSafetensors(tensors, meta);
    const headerLen = Number(new DataView(file.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0);
    const { tensors: got, metadata } = readSafetensors(file, 'rt.safetensors');
    expect(metadata).toEqual(meta);
    expect(Object.keys(got).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const g = got[name];
      expect(g.dtype, name).toBe(t.dtype);
      expect(g.shape, name).toEqual(t.shape);
      expect(g.data.constructor, name).toBe(t.data.constructor);
      expect(g.data.byteOffset % g.data.BYTES_PER_ELEMENT, name).toBe(0);
      expect(Array.from(bytesOf(g)), name).toEqual(Array.from(bytesOf(t)));
    }
    expect(got.__proto__.data[0]).toBe(42);
    expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
  });

  it('reads from an unaligned view and returns aligned copies independent of the input', () => {
    const file = writeSafetensors({ x: { dtype: 'F64', shape: [2], data: new Float64Array([1.25, -3]) } });
    const buf = new Uint8Array(file.length + 3);
    buf.set(file, 3);
    const view = buf.subarray(3);
    const { tensors: got } = readSafetensors(view);
    expect(got.x.data).toBeInstanceOf(Float64Array);
    expect(Array.from(got.x.data as Float64Array)).toEqual([1.25, -3]);
    buf.fill(0);
    expect(Array.from(got.x.data as Float64Array)).toEqual([1.25, -3]);
    expect(got.x.data.buffer).not.toBe(buf.buffer);
  });

  it('writes an empty file set as an 8-byte-padded "{}" header', () => {
    const file = writeSafetensors({});
    expect(Array.from(file)).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...enc.encode('{}      ')]);
    expect(readSafetensors(file)).toEqual({ tensors: {}, metadata: {} });
  });
});

describe('safetensors byte layout matches the reference writer', () => {
  it('one dtype, with metadata: names sorted, __metadata__ first, header space-padded to 8', () => {
    const header =
      '{"__metadata__":{"format":"pt"},"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(header.length).toBe(138);
    const expected = new Uint8Array([
      144, 0, 0, 0, 0, 0, 0, 0, // u64 LE header length: 138 + 6 spaces
      ...enc.encode(header), 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
      0x00, 0x00, 0x80, 0x3e, // s = 0.25
      0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, // w = [1.5, -2]
    ]);
    const file = writeSafetensors(
      { w: { dtype: 'F32', shape: [2], data: new Float32Array([1.5, -2]) }, s: { dtype: 'F32', shape: [], data: new Float32Array([0.25]) } },
      { format: 'pt' },
    );
    expect(Array.from(file)).toEqual(Array.from(expected));
  });

  it('mixed dtypes (name order = dtype-size order), no metadata', () => {
    const header =
      '{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},' +
      '"c":{"dtype":"U8","shape":[3],"data_offsets":[20,23]}}';
    expect(header.length).toBe(164);
    const expected = new Uint8Array([
      168, 0, 0, 0, 0, 0, 0, 0,
      ...enc.encode(header), 0x20, 0x20, 0x20, 0x20,
      1, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // a = [1, -2]
      0x00, 0x00, 0xc0, 0x3f, // b = [1.5]
      1, 2, 255, // c
    ]);
    const file = writeSafetensors({
      c: { dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 255]) },
      b: { dtype: 'F32', shape: [1], data: new Float32Array([1.5]) },
      a: { dtype: 'I64', shape: [2], data: new BigInt64Array([1n, -2n]) },
    });
    expect(Array.from(file)).toEqual(Array.from(expected));
    const { tensors } = readSafetensors(expected);
    expect(Array.from(tensors.a.data as BigInt64Array)).toEqual([1n, -2n]);
  });

  it('reads an unpadded header with gaps, unsorted and overlapping ranges', () => {
    const header =
      '{"late":{"dtype":"U8","shape":[2],"data_offsets":[6,8]},"early":{"dtype":"I32","shape":[],"data_offsets":[0,4]},' +
      '"overlap":{"dtype":"U8","shape":[2,1],"data_offsets":[3,5]}}';
    const { tensors } = readSafetensors(rawFile(header, [5, 0, 0, 0, 9, 8, 7, 6]));
    expect(Array.from(tensors.late.data as Uint8Array)).toEqual([7, 6]);
    expect(Array.from(tensors.early.data as Int32Array)).toEqual([5]);
    expect(Array.from(tensors.overlap.data as Uint8Array)).toEqual([0, 9]);
    expect(tensors.overlap.shape).toEqual([2, 1]);
  });
});

describe('readSafetensors rejects bad files naming the file and the problem', () => {
  const f = 'bad.safetensors';
  const ok = (dtype: string, shape: string, offsets: string) =>
    `{"t":{"dtype":"${dtype}","shape":${shape},"data_offsets":${offsets}}}`;
  const cases: [string, Uint8Array, RegExp][] = [
    ['shorter than 8 bytes', new Uint8Array(5), /^bad\.safetensors: file is 5 bytes, shorter than the 8-byte header length$/],
    ['empty file', new Uint8Array(0), /file is 0 bytes/],
    ['header length past the end', rawFile('{}', [], 1000n), /^bad\.safetensors: header length 1000 runs past the end of the file \(2 bytes/],
    ['header length near 2^64', rawFile('{}', [], 2n ** 64n - 1n), /header length 18446744073709551615 runs past the end/],
    ['header not UTF-8', rawFile('{"\xff"}').map((b, i) => (i === 10 ? 0xff : b)), /^bad\.safetensors: header is not valid UTF-8$/],
    ['header not JSON', rawFile('{"t": '), /^bad\.safetensors: header is not valid JSON \(/],
    ['header an array', rawFile('[1,2]'), /^bad\.safetensors: header is not a JSON object \(got an array\)$/],
    ['header null', rawFile('null'), /header is not a JSON object \(got null\)/],
    ['header a number', rawFile('42'), /header is not a JSON object \(got number\)/],
    ['entry not an object', rawFile('{"t":[1]}'), /^bad\.safetensors: tensor 't': entry is not an object$/],
    ['unknown dtype', rawFile(ok('BF16', '[1]', '[0,2]'), [0, 0]), /^bad\.safetensors: tensor 't': unknown dtype "BF16" \(supported: F32, F64, I32, I64, U8\)$/],
    ['missing dtype', rawFile('{"t":{"shape":[1],"data_offsets":[0,4]}}', [0, 0, 0, 0]), /tensor 't': unknown dtype undefined/],
    ['negative dim', rawFile(ok('F32', '[-1]', '[0,0]')), /tensor 't': invalid shape \[-1\]/],
    ['fractional dim', rawFile(ok('F32', '[1.5]', '[0,0]')), /tensor 't': invalid shape \[1\.5\]/],
    ['shape not an array', rawFile(ok('F32', '3', '[0,12]'), new Uint8Array(12)), /tensor 't': invalid shape 3/],
    ['one offset', rawFile(ok('F32', '[1]', '[0]'), [0, 0, 0, 0]), /tensor 't': invalid data_offsets \[0\] \(two non-negative integers expected\)/],
    ['offsets reversed', rawFile(ok('U8', '[1]', '[2,1]'), [0, 0, 0]), /tensor 't': data_offsets \[2, 1\] end before they begin/],
    [
      'truncated data',
      rawFile(ok('F32', '[3]', '[0,12]'), new Uint8Array(10)),
      /^bad\.safetensors: tensor 't': data_offsets \[0, 12\] run past the end of the data section \(10 bytes\): file truncated\?$/,
    ],
    [
      'size does not match shape and dtype',
      rawFile(ok('F32', '[2,2]', '[0,12]'), new Uint8Array(16)),
      /^bad\.safetensors: tensor 't': data_offsets \[0, 12\] hold 12 bytes but F32 \[2, 2\] needs 16$/,
    ],
    ['I64 size mismatch', rawFile(ok('I64', '[]', '[0,4]'), new Uint8Array(8)), /hold 4 bytes but I64 \[\] needs 8/],
    ['metadata not an object', rawFile('{"__metadata__":"x"}'), /^bad\.safetensors: __metadata__ is not an object of strings$/],
    ['metadata value not a string', rawFile('{"__metadata__":{"k":1}}'), /^bad\.safetensors: __metadata__ entry 'k' is not a string$/],
  ];
  for (const [label, bytes, re] of cases) {
    it(label, () => {
      expect(() => readSafetensors(bytes, f)).toThrow(re);
    });
  }

  it('rejects a real file cut short by one byte', () => {
    const file = writeSafetensors({ w: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expect(() => readSafetensors(file.subarray(0, file.length - 1), 'cut.safetensors')).toThrow(
      /^cut\.safetensors: tensor 'w': data_offsets \[0, 16\] run past the end of the data section \(15 bytes\)/,
    );
  });

  it('uses a default name when none is given', () => {
    expect(() => readSafetensors(new Uint8Array(3))).toThrow(/^safetensors data: file is 3 bytes/);
  });
});

describe('writeSafetensors rejects bad tensors', () => {
  const w = (t: unknown) => () => writeSafetensors({ x: t as StTensor });
  it('names the tensor and the problem', () => {
    expect(w({ dtype: 'F16', shape: [1], data: new Uint16Array(1) })).toThrow(/tensor 'x' has unsupported dtype F16/);
    expect(w({ dtype: 'F32', shape: [2], data: new Float64Array(2) })).toThrow(/tensor 'x' is F32 and needs a Float32Array, got Float64Array/);
    expect(w({ dtype: 'I64', shape: [1], data: new Int32Array(1) })).toThrow(/needs a BigInt64Array, got Int32Array/);
    expect(w({ dtype: 'F32', shape: [2, 2], data: new Float32Array(3) })).toThrow(/tensor 'x' has 3 values for shape \[2, 2\] \(4 expected\)/);
    expect(w({ dtype: 'U8', shape: [-1], data: new Uint8Array(0) })).toThrow(/tensor 'x' has an invalid shape \[-1\]/);
    expect(() => writeSafetensors({ __metadata__: { dtype: 'U8', shape: [], data: new Uint8Array(1) } })).toThrow(/'__metadata__' is reserved/);
    expect(() => writeSafetensors({}, { k: 3 as unknown as string })).toThrow(/metadata 'k' must be a string/);
  });
});

describe('validateTensors', () => {
  const t = (dtype: StTensor['dtype'], shape: number[]): StTensor => ({
    dtype,
    shape,
    data: dtype === 'I64' ? new BigInt64Array(shape.reduce((a, b) => a * b, 1)) : new Float32Array(shape.reduce((a, b) => a * b, 1)),
  });
  const expected = { 'model.w': { dtype: 'F32' as const, shape: [16, 3, 3, 3] }, step: { dtype: ['I64', 'I32'] as ('I64' | 'I32')[], shape: [] } };

  it('accepts a matching set, and extras under allowed prefixes', () => {
    expect(() => validateTensors({ 'model.w': t('F32', [16, 3, 3, 3]), step: t('I64', []) }, expected, 'ckpt')).not.toThrow();
    expect(() =>
      validateTensors({ 'model.w': t('F32', [16, 3, 3, 3]), step: t('I64', []), 'extra.x': t('F32', [1]) }, expected, 'ckpt', {
        allowExtraPrefixes: ['extra.'],
      }),
    ).not.toThrow();
  });

  it('names a missing tensor with its expected dtype and shape', () => {
    expect(() => validateTensors({ step: t('I64', []) }, expected, 'ckpt.safetensors')).toThrow(
      /^ckpt\.safetensors: missing tensor 'model\.w' \(expected F32 \[16, 3, 3, 3\]\)$/,
    );
  });

  it('names an unexpected tensor', () => {
    expect(() =>
      validateTensors({ 'model.w': t('F32', [16, 3, 3, 3]), step: t('I64', []), 'model.v': t('F32', [1]) }, expected, 'ckpt', {
        allowExtraPrefixes: ['ema.'],
      }),
    ).toThrow(/^ckpt: unexpected tensor 'model\.v'$/);
  });

  it('names a wrong shape with expected vs given', () => {
    expect(() => validateTensors({ 'model.w': t('F32', [16, 3, 3]), step: t('I64', []) }, expected, 'ckpt')).toThrow(
      /^ckpt: tensor 'model\.w' has shape \[16, 3, 3\], expected \[16, 3, 3, 3\]$/,
    );
    expect(() => validateTensors({ 'model.w': t('F32', [16, 3, 3, 3]), step: t('I64', [1]) }, expected, 'ckpt')).toThrow(
      /tensor 'step' has shape \[1\], expected \[\]/,
    );
  });

  it('names a wrong dtype, listing the accepted ones', () => {
    expect(() => validateTensors({ 'model.w': t('F32', [16, 3, 3, 3]), step: t('F32', []) }, expected, 'ckpt')).toThrow(
      /^ckpt: tensor 'step' has dtype F32, expected I64 or I32$/,
    );
  });

  it('lists every problem at once', () => {
    let msg = '';
    try {
      validateTensors({ 'model.w': t('I64', [1]), junk: t('F32', [1]) }, expected, 'ckpt');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^ckpt: 4 problems:\n/);
    expect(msg).toContain("tensor 'model.w' has dtype I64, expected F32");
    expect(msg).toContain("tensor 'model.w' has shape [1], expected [16, 3, 3, 3]");
    expect(msg).toContain("missing tensor 'step' (expected I64 or I32 [])");
    expect(msg).toContain("unexpected tensor 'junk'");
  });
});

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'daso-atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates and replaces a file, leaving no temp files behind', async () => {
    const p = join(dir, 'ckpt.safetensors');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(p))).toEqual([1, 2, 3]);
    writeFileSync(join(dir, 'other'), 'x');
    await writeFileAtomic(p, new Uint8Array([4, 5]));
    expect(Array.from(readFileSync(p))).toEqual([4, 5]);
    writeFileAtomicSync(p, new Uint8Array(0));
    expect(readFileSync(p).length).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['ckpt.safetensors', 'other']);
  });

  it('round-trips a safetensors file through disk', async () => {
    const p = join(dir, 'rt.safetensors');
    await writeFileAtomic(p, writeSafetensors({ step: { dtype: 'I64', shape: [], data: new BigInt64Array([3n]) } }));
    const { tensors } = readSafetensors(new Uint8Array(readFileSync(p)), p);
    expect(tensors.step.data[0]).toBe(3n);
  });

  it('fails cleanly when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(dir, 'nope', 'x.bin'), new Uint8Array(1))).rejects.toThrow(/ENOENT/);
    expect(() => writeFileAtomicSync(join(dir, 'nope', 'x.bin'), new Uint8Array(1))).toThrow(/ENOENT/);
  });

  it('fails cleanly when the target is a directory, removing its temp file', async () => {
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const before = readdirSync(dir).sort();
    await expect(writeFileAtomic(sub, new Uint8Array(1))).rejects.toThrow(/EISDIR|EPERM|EEXIST/);
    expect(() => writeFileAtomicSync(sub, new Uint8Array(1))).toThrow(/EISDIR|EPERM|EEXIST/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});

describe('reads the Python-written parity fixtures (scripts/safetensors_io.py)', () => {
  const root = join(process.cwd(), 'test/fixtures/parity');
  for (const [name, C, S, B, last] of [
    ['supervised-wrn10-1', 1, 28, 8, 'unit3.0'],
    ['supervised-wrn28-1', 3, 32, 4, 'unit3.3'],
  ] as const) {
    it(name, () => {
      const read = (f: string) => readSafetensors(new Uint8Array(readFileSync(join(root, name, f))), `${name}/${f}`);
      const ckpt = read('checkpoint.safetensors');
      const batch = read('batch.safetensors');
      const exp = read('expected.safetensors');
      expect(ckpt.tensors.step).toEqual({ dtype: 'I64', shape: [], data: new BigInt64Array([7n]) });
      expect(exp.tensors.step.data[0]).toBe(8n);
      expect(batch.tensors.x_lb.shape).toEqual([B, C, S, S]);
      expect(batch.tensors.y_lb.dtype).toBe('I64');
      expect(exp.tensors['out.logits_lb'].shape).toEqual([B, 10]);
      expect(exp.tensors['out.loss'].shape).toEqual([]);
      expect(ckpt.tensors['model.encoder.init_conv.weight'].shape).toEqual([16, C, 3, 3]);
      expect(ckpt.tensors['model.encoder.unit4.0.num_batches_tracked'].data[0]).toBe(7n);
      expect(exp.tensors['model.encoder.unit4.0.num_batches_tracked'].data[0]).toBe(8n);
      // PyTorch 1.13 turns the EMA's counter into float32 (0.875*7 + 0.125*8); see scripts/torch_reference.py.
      expect(exp.tensors['ema.encoder.unit4.0.num_batches_tracked']).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([7.125]) });
      expect(ckpt.tensors[`optim.momentum.encoder.${last}.layer.5.weight`].dtype).toBe('F32');
      const params = Object.keys(ckpt.tensors).filter((k) => k.startsWith('optim.momentum.')).map((k) => k.slice(15));
      for (const p of params) {
        expect(exp.tensors[`grad.${p}`].shape, p).toEqual(ckpt.tensors[`model.${p}`].shape);
        expect(exp.tensors[`model.${p}`].shape, p).toEqual(ckpt.tensors[`model.${p}`].shape);
      }
      expect(JSON.parse(exp.metadata.config).model.in_channels).toBe(C);
    });
  }
});
