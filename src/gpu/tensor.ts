// GPU tensors and their memory. Every buffer comes from a MemoryPool that owns it explicitly (never the garbage
// collector) and keeps the report the issue trackers of tfjs/ORT show users need: bytes allocated from the device,
// bytes in use by live tensors, and the peaks of both. Reuse is by exact size and usage: the training step has
// static shapes, so exact-size reuse never fragments and never over-allocates (ORT #29016 is what buckets cost).

export type DType = 'f32' | 'i32' | 'u32';
export type TypedArrayFor<D extends DType> = D extends 'f32' ? Float32Array : D extends 'i32' ? Int32Array : Uint32Array;

// A function, not a constant: GPUBufferUsage exists only where WebGPU does, and Node-side code imports this module.
const storageUsage = (): number => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The adapter limits a tensor's buffer must fit. Every pool tensor is a storage buffer that kernels bind whole (or
 * through views inside it), so its size must fit both. */
export interface BufferLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface MemoryPoolOptions {
  /** Tighter limits than the device's (the smaller of the two applies): to check that a step fits a smaller
   * adapter, e.g. WebGPU's defaults (256 MiB buffer, 128 MiB binding), and for tests. */
  limits?: Partial<BufferLimits>;
  /** The adapter, for error messages (e.g. "google / swiftshader (fallback adapter)"). */
  adapter?: string;
}

const mib = (b: number): string => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1)} MiB`;

/** The error for a tensor that does not fit an adapter limit: names the buffer, its shape and bytes, the limit and
 * its value, the adapter, and what to change. Thrown when the tensor is allocated, i.e. while a step is being
 * recorded, before anything is submitted. */
export function limitError(label: string, shape: readonly number[], dtype: DType, bytes: number, limit: keyof BufferLimits, value: number, adapter?: string): Error {
  const what = limit === 'maxBufferSize' ? 'the largest buffer it can create' : 'the largest storage buffer a kernel can bind';
  return new Error(`tensor '${label}' ${shapeStr(shape)} ${dtype} needs ${bytes} bytes (${mib(bytes)}), over this device's ${limit} of ` +
    `${value} bytes (${mib(value)}: ${what})${adapter ? ` on adapter ${adapter}` : ''}. Its size grows with the batch: use a smaller ` +
    'batch (batch_size, or unlabeled_ratio for the unlabeled part), or an adapter with a larger limit (a device of your own must be ' +
    `requested with requiredLimits { ${limit}: adapter.limits.${limit} }; daso's own device already asks for the adapter's maximum)`);
}

export interface MemoryReport {
  allocatedBytes: number;
  inUseBytes: number;
  peakAllocatedBytes: number;
  peakInUseBytes: number;
  buffers: number;
  freeBuffers: number;
}

export class Tensor {
  constructor(
    readonly pool: MemoryPool,
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType,
    readonly label: string,
    /** Byte offset into `buffer` (views into a flat parameter buffer); a multiple of 256 when bound. */
    readonly offset = 0,
    /** The tensor this one is a view of (views are never released on their own). */
    readonly base: Tensor | null = null,
  ) {}
  /** A view of `shape` starting `elemOffset` elements in. Bound views need elemOffset*4 % 256 == 0
   * (minStorageBufferOffsetAlignment); flat parameter buffers pad every tensor to 64 floats for this. */
  view(elemOffset: number, shape: readonly number[], label = this.label): Tensor {
    if (elemOffset < 0 || elemOffset + numel(shape) > this.size) {
      throw new Error(`view '${label}': elements ${elemOffset}..${elemOffset + numel(shape)} outside '${this.label}' of ${this.size}`);
    }
    return new Tensor(this.pool, this.buffer, [...shape], this.dtype, label, this.offset + elemOffset * 4, this.base ?? this);
  }
  /** The same memory with another shape of equal size. */
  reshape(shape: readonly number[]): Tensor {
    if (numel(shape) !== this.size) throw new Error(`reshape '${this.label}': ${shapeStr(this.shape)} to ${shapeStr(shape)} changes the size`);
    return new Tensor(this.pool, this.buffer, [...shape], this.dtype, this.label, this.offset, this.base ?? this);
  }
  get size(): number {
    return numel(this.shape);
  }
  get byteLength(): number {
    return this.size * 4;
  }
  /** Returns the buffer to the pool; the tensor must not be used afterwards. */
  release(): void {
    if (this.base === null) this.pool.release(this);
  }
  toString(): string {
    return `${this.label}${shapeStr(this.shape)}:${this.dtype}`;
  }
}

export class MemoryPool {
  private free = new Map<string, GPUBuffer[]>();
  private live = new Set<Tensor>();
  private allocated = 0;
  private inUse = 0;
  private peakAllocated = 0;
  private peakInUse = 0;
  private count = 0;

  /** The limits every tensor is checked against (the device's, or tighter ones from the options). */
  readonly limits: BufferLimits;
  readonly adapter: string | undefined;

  constructor(readonly device: GPUDevice, opts: MemoryPoolOptions = {}) {
    const d = device.limits;
    const o = opts.limits ?? {};
    const tighter = (dev: number, own: number | undefined) => (own === undefined ? dev : Math.min(dev, own));
    this.limits = {
      maxBufferSize: tighter(d.maxBufferSize, o.maxBufferSize),
      maxStorageBufferBindingSize: tighter(d.maxStorageBufferBindingSize, o.maxStorageBufferBindingSize),
    };
    this.adapter = opts.adapter;
  }

  /** Throws the limit error when a tensor of `shape` would not fit the device (see `limitError`). */
  checkFits(shape: readonly number[], dtype: DType, label: string): void {
    const bytes = Math.max(4, numel(shape) * 4);
    for (const limit of ['maxBufferSize', 'maxStorageBufferBindingSize'] as const) {
      if (bytes > this.limits[limit]) throw limitError(label, shape, dtype, bytes, limit, this.limits[limit], this.adapter);
    }
  }

  /** A tensor of `shape` whose contents are unspecified (reused buffers keep old data). */
  tensor(shape: readonly number[], dtype: DType = 'f32', label = 'tensor'): Tensor {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 1) throw new Error(`tensor '${label}': bad shape ${shapeStr(shape)} (dimensions must be integers >= 1)`);
    }
    // Checked here, when the tensor is allocated (a step allocates all its tensors while it is recorded, before
    // anything is submitted): WebGPU itself would fail later and less clearly (createBuffer over maxBufferSize is a
    // validation error on an invalid buffer; a binding over maxStorageBufferBindingSize fails the bind group).
    this.checkFits(shape, dtype, label);
    const bytes = Math.max(4, numel(shape) * 4);
    const key = `${bytes}`;
    const list = this.free.get(key);
    let buffer = list?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({ size: bytes, usage: storageUsage(), label });
      this.allocated += bytes;
      this.count++;
      this.peakAllocated = Math.max(this.peakAllocated, this.allocated);
    }
    const t = new Tensor(this, buffer, [...shape], dtype, label);
    this.live.add(t);
    this.inUse += bytes;
    this.peakInUse = Math.max(this.peakInUse, this.inUse);
    return t;
  }

  /** A tensor filled with `data` (uploaded through the queue; visible to the next submission). */
  upload(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', label = 'upload'): Tensor {
    if (data.length !== numel(shape)) {
      throw new Error(`upload '${label}': ${data.length} values given for shape ${shapeStr(shape)} (${numel(shape)} expected)`);
    }
    const t = this.tensor(shape, dtype, label);
    this.write(t, data);
    return t;
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    if (data.length !== t.size) throw new Error(`write '${t.label}': ${data.length} values for ${t.size} elements`);
    const arr = t.dtype === 'f32' ? Float32Array.from(data) : t.dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
    this.device.queue.writeBuffer(t.buffer, t.offset, arr);
  }

  release(t: Tensor): void {
    if (!this.live.delete(t)) return; // released twice: ignore rather than corrupt the free list
    const bytes = t.buffer.size;
    this.inUse -= bytes;
    const key = `${bytes}`;
    const list = this.free.get(key) ?? [];
    list.push(t.buffer);
    this.free.set(key, list);
  }

  /** Destroys pooled buffers that no live tensor uses (the device memory goes back). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.allocated -= b.size;
        this.count--;
        b.destroy();
      }
    }
    this.free.clear();
  }

  /** Destroys everything, live tensors included. */
  dispose(): void {
    for (const t of [...this.live]) this.release(t);
    this.trim();
  }

  report(): MemoryReport {
    let freeBuffers = 0;
    for (const l of this.free.values()) freeBuffers += l.length;
    return {
      allocatedBytes: this.allocated,
      inUseBytes: this.inUse,
      peakAllocatedBytes: this.peakAllocated,
      peakInUseBytes: this.peakInUse,
      buffers: this.count,
      freeBuffers,
    };
  }
}

/** Copies a tensor back to the CPU (one map per call: for tests, checkpoints and periodic metrics only). */
export async function readTensor<D extends DType>(device: GPUDevice, t: Tensor & { dtype: D }): Promise<TypedArrayFor<D>>;
export async function readTensor(device: GPUDevice, t: Tensor): Promise<Float32Array | Int32Array | Uint32Array> {
  const staging = device.createBuffer({ size: t.byteLength, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: `read ${t.label}` });
  const enc = device.createCommandEncoder({ label: `read ${t.label}` });
  enc.copyBufferToBuffer(t.buffer, t.offset, staging, 0, t.byteLength);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const bytes = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return t.dtype === 'f32' ? new Float32Array(bytes) : t.dtype === 'i32' ? new Int32Array(bytes) : new Uint32Array(bytes);
}
