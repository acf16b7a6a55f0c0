// The runtime a caller holds: the device, the memory pool and the pipeline cache, with helpers to record, run and
// read back. No globals: the caller owns the GPUDevice and dispose() frees the GPU memory.
import { CommandList } from './commands.js';
import { acquireGpu, type AcquireOptions, type AdapterReport, type GpuContext } from './device.js';
import type { Dispatch } from './kernel.js';
import { PipelineCache } from './kernel.js';
import { MemoryPool, readTensor, type BufferLimits, type DType, type Tensor } from './tensor.js';
import { ConvChoices } from '../tune/choices.js';

export class Runtime {
  readonly pool: MemoryPool;
  readonly pipelines: PipelineCache;
  /** The conv rungs steps built on this runtime use (src/tune: the autotuner's choices; empty: the fixed rule).
   * Replace it before building a step; the graph op records into it what each conv got. */
  convChoices = new ConvChoices();

  /** `pipelines`: a cache shared with other runtimes on this device (compiling a training step's pipelines takes
   * seconds, and a second trainer on the same device needs the same ones). `opts.limits`: tighter buffer limits than
   * the device's for every tensor of this runtime (see MemoryPoolOptions). */
  constructor(readonly device: GPUDevice, readonly info?: AdapterReport, pipelines?: PipelineCache, opts: { limits?: Partial<BufferLimits> } = {}) {
    if (pipelines && pipelines.device !== device) throw new Error('Runtime: the pipeline cache belongs to another GPUDevice');
    const adapter = info ? `${info.vendor || '?'} / ${info.architecture || '?'}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}` : undefined;
    this.pool = new MemoryPool(device, { limits: opts.limits, adapter });
    this.pipelines = pipelines ?? new PipelineCache(device);
  }

  static async create(opts: AcquireOptions = {}): Promise<Runtime & { ctx: GpuContext }> {
    const ctx = await acquireGpu(opts);
    return Object.assign(new Runtime(ctx.device, ctx.info), { ctx });
  }

  tensor(shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
    return this.pool.tensor(shape, dtype, label);
  }

  upload(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32', label?: string): Tensor {
    return this.pool.upload(data, shape, dtype, label);
  }

  commands(label?: string): CommandList {
    return new CommandList(this.device, this.pipelines, label);
  }

  /** Records, compiles and runs dispatches once (tests and one-off work; a training step keeps its CommandList). */
  async run(...ds: Dispatch[]): Promise<void> {
    const list = this.commands('run');
    list.add(...ds);
    await list.compile();
    await list.run();
    list.dispose();
  }

  read(t: Tensor): Promise<Float32Array | Int32Array | Uint32Array> {
    return readTensor(this.device, t);
  }

  dispose(): void {
    this.pool.dispose();
  }
}
