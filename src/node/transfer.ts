// Values crossing between Node and the page of launchWebGpuPage(): JSON, except that typed arrays (and ArrayBuffers)
// travel as raw bytes through the static server's /io exchange rather than as JSON numbers, which would be slow and
// lose their type. Pure: the same walkers run on both sides, each side giving how it stores and fetches bytes.

/** A typed array in transit: where its bytes are and what it was. */
export interface BytesRef {
  __dasoBytes: string;
  type: string;
}

/** What the page answers for one evaluate() call. */
export type CallResult = { ok: true; value: unknown } | { ok: false; error: string };

const CTORS: Record<string, new (b: ArrayBuffer) => ArrayBufferView> = {
  Uint8Array, Uint8ClampedArray, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array,
  BigInt64Array, BigUint64Array,
};

function typeName(v: ArrayBufferView | ArrayBuffer): string | null {
  if (v instanceof ArrayBuffer) return 'ArrayBuffer';
  for (const [name, C] of Object.entries(CTORS)) if (v instanceof C) return name; // Node's Buffer is a Uint8Array
  return null;
}

function isRef(v: unknown): v is BytesRef {
  return typeof v === 'object' && v !== null && typeof (v as BytesRef).__dasoBytes === 'string' && typeof (v as BytesRef).type === 'string';
}

/** Replaces every typed array / ArrayBuffer in `v` by a reference from `store` (which keeps a copy of the bytes). */
export async function encodeValue(v: unknown, store: (bytes: Uint8Array) => Promise<string> | string, path = 'value'): Promise<unknown> {
  if (v instanceof ArrayBuffer || (ArrayBuffer.isView(v) && !(v instanceof DataView))) {
    const type = typeName(v);
    if (!type) throw new Error(`${path}: a ${Object.prototype.toString.call(v)} cannot cross to or from the page (use a standard typed array)`);
    const bytes = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    return { __dasoBytes: await store(bytes.slice()), type } satisfies BytesRef;
  }
  if (Array.isArray(v)) return Promise.all(v.map((x, i) => encodeValue(x, store, `${path}[${i}]`)));
  if (typeof v === 'object' && v !== null) {
    if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
      throw new Error(`${path}: a ${Object.prototype.toString.call(v)} cannot cross to or from the page (plain objects, arrays, ` +
        `typed arrays and JSON values can)`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await encodeValue(x, store, `${path}.${k}`);
    return out;
  }
  if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint') {
    throw new Error(`${path}: a ${typeof v} cannot cross to or from the page`);
  }
  return v;
}

/** The inverse of encodeValue: `fetch` returns the bytes stored under a reference. */
export async function decodeValue(v: unknown, fetch: (ref: string) => Promise<Uint8Array> | Uint8Array): Promise<unknown> {
  if (isRef(v)) {
    const bytes = await fetch(v.__dasoBytes);
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    if (v.type === 'ArrayBuffer') return buf;
    const C = CTORS[v.type];
    if (!C) throw new Error(`unknown typed array type '${v.type}' in transit`);
    return new C(buf);
  }
  if (Array.isArray(v)) return Promise.all(v.map((x) => decodeValue(x, fetch)));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await decodeValue(x, fetch);
    return out;
  }
  return v;
}
