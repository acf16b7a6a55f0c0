// An IDX file (big-endian magic, dims, then the bytes) for the loader tests and the fuzzer.
export function idx(magic: number, dims: number[], data: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, magic, false);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
