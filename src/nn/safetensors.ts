// safetensors reader/writer (https://github.com/huggingface/safetensors), browser and Node alike: plain
// Uint8Array/DataView/TextEncoder, no Node imports.
//
// Layout: 8-byte little-endian u64 N, N bytes of JSON header
//   {"__metadata__"?: {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
// (offsets relative to the first byte after the header), then the raw little-endian tensor data.
//
// Writing: tensors in name order (UTF-8 byte order), packed back to back from offset 0; `__metadata__` first (keys
// sorted) when given and non-empty; compact JSON; header padded with spaces to a multiple of 8 bytes like the official
// writer. (The official Rust writer orders the data by dtype size descending, then name; for files whose tensors share
// one dtype, or whose name order already agrees with that, the bytes are identical.)
//
// Reading: every tensor is copied into a fresh typed array (aligned for its dtype, independent of the input buffer).
// Gaps, unsorted or overlapping ranges are accepted; a range outside the data section or of the wrong size is not.

export type StDType = 'F32' | 'F64' | 'I32' | 'I64' | 'U8';

export type StData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface StTensor {
  dtype: StDType;
  shape: number[];
  data: StData;
}

export interface TensorSpec {
  /** One dtype, or the dtypes accepted. */
  dtype: StDType | StDType[];
  shape: number[];
}

const DTYPES: Record<StDType, { bytes: number; ctor: string; make: (n: number) => StData }> = {
  F32: { bytes: 4, ctor: 'Float32Array', make: (n) => new Float32Array(n) },
  F64: { bytes: 8, ctor: 'Float64Array', make: (n) => new Float64Array(n) },
  I32: { bytes: 4, ctor: 'Int32Array', make: (n) => new Int32Array(n) },
  I64: { bytes: 8, ctor: 'BigInt64Array', make: (n) => new BigInt64Array(n) },
  U8: { bytes: 1, ctor: 'Uint8Array', make: (n) => new Uint8Array(n) },
};

const SUPPORTED = Object.keys(DTYPES).join(', ');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** Same cap as the official reader: a header over 100 MB is refused rather than parsed. */
const MAX_HEADER_BYTES = 100_000_000;

export function isStDType(d: unknown): d is StDType {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, d);
}

export function dtypeBytes(d: StDType): number {
  return DTYPES[d].bytes;
}

/** Element count of a shape ([] is a scalar: 1 element). */
export function numElements(shape: readonly number[]): number {
  // A zero dim makes the tensor empty whatever the other dims are; checked first because a product of large dims can
  // reach Infinity, and Infinity * 0 is NaN.
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

function fmtShape(shape: readonly unknown[]): string {
  return `[${shape.join(', ')}]`;
}

/** A header value for an error message: never throws (JSON.stringify does on deep nesting and BigInt) and is cut
 * short, so a hostile header cannot turn the error itself into a crash or a megabyte of text. */
function brief(v: unknown): string {
  let s: string | undefined;
  try {
    s = JSON.stringify(v);
  } catch {
    s = undefined;
  }
  s ??= typeof v === 'object' || typeof v === 'function' ? Object.prototype.toString.call(v) : String(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  // defineProperty, so a tensor named "__proto__" is stored as data rather than replacing the prototype.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function utf8Compare(a: string, b: string, enc: TextEncoder): number {
  const x = enc.encode(a), y = enc.encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/** Reverses each `width`-byte word in place (only used on big-endian hosts). */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) bytes.subarray(i, i + width).reverse();
}

function dataBytes(data: StData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Serialises tensors (and optional string metadata) to safetensors bytes. */
export function writeSafetensors(tensors: Record<string, StTensor>, metadata?: Record<string, string>): Uint8Array<ArrayBuffer> {
  if (!isPlainObject(tensors)) throw new Error(`writeSafetensors: tensors must be an object of name -> tensor, got ${brief(tensors)}`);
  if (metadata !== undefined && !isPlainObject(metadata)) {
    throw new Error(`writeSafetensors: metadata must be an object of strings, got ${brief(metadata)}`);
  }
  const enc = new TextEncoder();
  const names = Object.keys(tensors).sort((a, b) => utf8Compare(a, b, enc));
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    const keys = Object.keys(metadata).sort((a, b) => utf8Compare(a, b, enc));
    if (keys.length > 0) {
      const meta: Record<string, string> = {};
      for (const k of keys) {
        if (typeof metadata[k] !== 'string') throw new Error(`writeSafetensors: metadata '${k}' must be a string, got ${typeof metadata[k]}`);
        setOwn(meta, k, metadata[k]);
      }
      header.__metadata__ = meta;
    }
  }
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new Error(`writeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
    if (name.length === 0) throw new Error('writeSafetensors: empty tensor name');
    const t = tensors[name];
    if (!isStDType(t?.dtype)) throw new Error(`writeSafetensors: tensor '${name}' has unsupported dtype ${String(t?.dtype)} (supported: ${SUPPORTED})`);
    if (!Array.isArray(t.shape) || !t.shape.every(isCount)) {
      throw new Error(`writeSafetensors: tensor '${name}' has an invalid shape ${brief(t.shape)} (non-negative integers expected)`);
    }
    const info = DTYPES[t.dtype];
    const ctor = t.data?.constructor?.name;
    if (ctor !== info.ctor) throw new Error(`writeSafetensors: tensor '${name}' is ${t.dtype} and needs a ${info.ctor}, got ${ctor ?? typeof t.data}`);
    const n = numElements(t.shape);
    if (t.data.length !== n) {
      throw new Error(`writeSafetensors: tensor '${name}' has ${t.data.length} values for shape ${fmtShape(t.shape)} (${n} expected)`);
    }
    const end = offset + n * info.bytes;
    setOwn(header, name, { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, end] });
    offset = end;
  }
  const json = enc.encode(JSON.stringify(header));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let pos = 8 + padded;
  for (const name of names) {
    const t = tensors[name];
    const bytes = dataBytes(t.data);
    out.set(bytes, pos);
    if (!LITTLE_ENDIAN) swapBytes(out.subarray(pos, pos + bytes.length), DTYPES[t.dtype].bytes);
    pos += bytes.length;
  }
  return out;
}

/**
 * Parses safetensors bytes. `what` (a file name) prefixes every error message.
 * Tensors are returned as fresh copies; metadata is {} when the file has none.
 */
export function readSafetensors(
  bytes: Uint8Array,
  what = 'safetensors data',
): { tensors: Record<string, StTensor>; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new Error(`${what}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) {
    fail(`header length ${n64} runs past the end of the file (${bytes.length - 8} bytes after the length field)`);
  }
  const n = Number(n64);
  if (n > MAX_HEADER_BYTES) fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    fail(`header is not a JSON object (got ${header === null ? 'null' : Array.isArray(header) ? 'an array' : typeof header})`);
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const tensors: Record<string, StTensor> = {};
  const metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ entry '${k}' is not a string`);
        setOwn(metadata, k, v as string);
      }
      continue;
    }
    const tf = (msg: string): never => fail(`tensor '${name}': ${msg}`);
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) tf('entry is not an object');
    const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isStDType(dtype)) return tf(`unknown dtype ${brief(dtype)} (supported: ${SUPPORTED})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) return tf(`invalid shape ${brief(shape)} (non-negative integers expected)`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      return tf(`invalid data_offsets ${brief(offsets)} (two non-negative integers expected)`);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) tf(`data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataLen) tf(`data_offsets [${begin}, ${end}] run past the end of the data section (${dataLen} bytes): file truncated?`);
    const info = DTYPES[dtype];
    const count = numElements(shape);
    if (!Number.isSafeInteger(count * info.bytes) || end - begin !== count * info.bytes) {
      tf(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but ${dtype} ${fmtShape(shape)} needs ${count * info.bytes}`);
    }
    const data = info.make(count);
    const dst = dataBytes(data);
    dst.set(bytes.subarray(dataStart + begin, dataStart + end));
    if (!LITTLE_ENDIAN) swapBytes(dst, info.bytes);
    setOwn(tensors, name, { dtype, shape: [...shape], data });
  }
  return { tensors, metadata };
}

/**
 * Checks a tensor set against the expected names, dtypes and shapes. Throws one Error listing every problem
 * (missing, unexpected, wrong dtype, wrong shape), each naming the tensor. Names starting with one of
 * `opts.allowExtraPrefixes` may be present without being expected.
 */
export function validateTensors(
  tensors: Record<string, StTensor>,
  expected: Record<string, TensorSpec>,
  what: string,
  opts: { allowExtraPrefixes?: string[] } = {},
): void {
  const problems: string[] = [];
  const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  for (const name of Object.keys(expected)) {
    const spec = expected[name];
    const dtypes = Array.isArray(spec.dtype) ? spec.dtype : [spec.dtype];
    if (!has(tensors, name)) {
      problems.push(`missing tensor '${name}' (expected ${dtypes.join(' or ')} ${fmtShape(spec.shape)})`);
      continue;
    }
    const t = tensors[name];
    if (!dtypes.includes(t.dtype)) problems.push(`tensor '${name}' has dtype ${t.dtype}, expected ${dtypes.join(' or ')}`);
    if (t.shape.length !== spec.shape.length || t.shape.some((s, i) => s !== spec.shape[i])) {
      problems.push(`tensor '${name}' has shape ${fmtShape(t.shape)}, expected ${fmtShape(spec.shape)}`);
    }
  }
  const prefixes = opts.allowExtraPrefixes ?? [];
  for (const name of Object.keys(tensors)) {
    if (!has(expected, name) && !prefixes.some((p) => name.startsWith(p))) problems.push(`unexpected tensor '${name}'`);
  }
  if (problems.length === 0) return;
  const shown = problems.slice(0, 20);
  if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`);
  throw new Error(`${what}: ${problems.length === 1 ? shown[0] : `${problems.length} problems:\n  ${shown.join('\n  ')}`}`);
}
