// copy_into launcher (see shaders/concat.wgsl).
import source from '../../shaders/concat.wgsl';
import { ceilDiv, grid1d, makeDispatch, type Dispatch, type KernelDef } from '../gpu/kernel.js';
import type { Tensor } from '../gpu/tensor.js';
import { shapeStr } from '../gpu/tensor.js';

const WG = 256;

export const copyIntoDef: KernelDef<{ N: number; OFFSET: number }> = {
  name: 'copy_into',
  source,
  bindings: ['src', 'dst'],
  constants: (p) => ({ N: p.N, OFFSET: p.OFFSET, WG }),
  dispatch: (p) => grid1d(ceilDiv(p.N, WG)),
  bytes: (p) => 8 * p.N,
};

/** dst.flat[offset .. offset+src.size) = src (same dtype). */
export function copyInto(src: Tensor, dst: Tensor, offset: number): Dispatch {
  const k = 'copy_into';
  if (src.dtype !== dst.dtype) throw new Error(`${k}: argument 'src' has dtype ${src.dtype}, 'dst' has ${dst.dtype}`);
  if (!Number.isInteger(offset) || offset < 0 || offset + src.size > dst.size) {
    throw new Error(`${k}: ${src.size} elements at offset ${offset} do not fit 'dst' ${shapeStr(dst.shape)} (${dst.size} elements)`);
  }
  return makeDispatch(copyIntoDef, { N: src.size, OFFSET: offset }, { src, dst }, `${src.size} at ${offset}`);
}

/** Copies `parts` one after another along the first axis of `out`. */
export function concatRows(parts: Tensor[], out: Tensor): Dispatch[] {
  const rest = shapeStr(out.shape.slice(1));
  let rows = 0;
  for (const p of parts) {
    if (shapeStr(p.shape.slice(1)) !== rest) throw new Error(`concat_rows: part ${p} does not match rows of ${rest}`);
    rows += p.shape[0];
  }
  if (rows !== out.shape[0]) throw new Error(`concat_rows: parts have ${rows} rows, 'out' ${shapeStr(out.shape)} has ${out.shape[0]}`);
  let off = 0;
  return parts.map((p) => {
    const d = copyInto(p, out, off);
    off += p.size;
    return d;
  });
}
