// Flat layouts: all parameters of a model in one f32 buffer (and gradients, momentum, EMA copies with the same
// layout), so the optimizer and the EMA are one fused dispatch each. Every tensor starts on a 64-float (256-byte)
// boundary because a storage binding's offset must be a multiple of minStorageBufferOffsetAlignment (256).
// The padding is zero and stays zero under SGD (d = 0 + wd*0) and EMA.
import type { Tensor } from '../gpu/tensor.js';
import { numel } from '../gpu/tensor.js';

export const FLAT_ALIGN = 64;

export interface FlatEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export class FlatLayout {
  readonly entries: FlatEntry[] = [];
  readonly byName = new Map<string, FlatEntry>();
  readonly total: number;

  constructor(specs: readonly { name: string; shape: number[] }[]) {
    let off = 0;
    for (const s of specs) {
      const e = { name: s.name, shape: s.shape, offset: off, size: numel(s.shape) };
      this.entries.push(e);
      this.byName.set(s.name, e);
      off += Math.ceil(e.size / FLAT_ALIGN) * FLAT_ALIGN;
    }
    this.total = Math.max(off, FLAT_ALIGN);
  }

  get(name: string): FlatEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`no tensor named '${name}' in this layout`);
    return e;
  }

  view(flat: Tensor, name: string): Tensor {
    const e = this.get(name);
    return flat.view(e.offset, e.shape, name);
  }

  /** Number of real (unpadded) values. */
  get count(): number {
    return this.entries.reduce((s, e) => s + e.size, 0);
  }

  /** Packs named arrays into a flat array (padding zero). */
  pack(get: (e: FlatEntry) => ArrayLike<number>): Float32Array {
    const out = new Float32Array(this.total);
    for (const e of this.entries) {
      const src = get(e);
      if (src.length !== e.size) throw new Error(`'${e.name}': ${src.length} values for shape [${e.shape.join(', ')}]`);
      out.set(src, e.offset);
    }
    return out;
  }

  unpack(flat: ArrayLike<number>, name: string): Float32Array {
    const e = this.get(name);
    return Float32Array.from({ length: e.size }, (_, i) => flat[e.offset + i]);
  }
}
