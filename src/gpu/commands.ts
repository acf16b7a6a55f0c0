// Recorded command lists: a step's dispatches are recorded once (pipelines compiled asynchronously up front, bind
// groups and uniform buffers created once) and replayed with one compute pass and one queue submission per replay.
// This is ONNX Runtime's "graph capture" idea applied to a whole training step.
import type { Dispatch, PipelineCache } from './kernel.js';

interface Compiled {
  d: Dispatch;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  uniformBuffer?: GPUBuffer;
}

export interface KernelTiming {
  name: string;
  shape: string;
  key: string;
  gpuNs: number;
  flops: number;
  bytes: number;
}

export class CommandList {
  readonly dispatches: Dispatch[] = [];
  private compiled: Compiled[] | null = null;
  private querySet: GPUQuerySet | null = null;
  private queryBuffers: { resolve: GPUBuffer; read: GPUBuffer } | null = null;

  constructor(readonly device: GPUDevice, readonly pipelines: PipelineCache, readonly label = 'commands') {}

  add(...ds: Dispatch[]): this {
    if (this.compiled) throw new Error(`command list '${this.label}': cannot add after compile()`);
    this.dispatches.push(...ds);
    return this;
  }

  /** Compiles every pipeline in parallel and builds the bind groups. Must be awaited before submit(). */
  async compile(): Promise<this> {
    if (this.compiled) return this;
    const pipelines = await Promise.all(this.dispatches.map((d) => this.pipelines.get(d)));
    // A bind group that does not match its pipeline's layout (a binding list out of step with the WGSL) is a
    // validation error that WebGPU only reports asynchronously; without this scope the list would run as a silent
    // no-op (seen once as a 0 ms benchmark row). Once per compile, not per step.
    this.device.pushErrorScope('validation');
    let compiled: Compiled[];
    try {
      compiled = this.buildBindGroups(pipelines);
    } catch (e) {
      await this.device.popErrorScope();
      throw e;
    }
    const err = await this.device.popErrorScope();
    if (err) {
      throw new Error(`command list '${this.label}': building the bind groups failed: ${err.message}` +
        ' (a kernel record\'s binding list does not match its WGSL entry point)');
    }
    this.compiled = compiled;
    return this;
  }

  private buildBindGroups(pipelines: GPUComputePipeline[]): Compiled[] {
    return this.dispatches.map((d, i) => {
      const pipeline = pipelines[i];
      let uniformBuffer: GPUBuffer | undefined;
      const entries: GPUBindGroupEntry[] = d.bindings.map((name, binding) => {
        if (name === 'uniforms') {
          if (!d.uniforms) throw new Error(`${d.name}: binding 'uniforms' but the kernel record gave no uniform data`);
          uniformBuffer = this.device.createBuffer({
            size: Math.max(16, Math.ceil(d.uniforms.byteLength / 16) * 16),
            usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
            label: `${d.name} uniforms`,
          });
          this.device.queue.writeBuffer(uniformBuffer, 0, d.uniforms);
          return { binding, resource: { buffer: uniformBuffer } };
        }
        const t = d.tensors[name];
        return { binding, resource: { buffer: t.buffer, offset: t.offset, size: t.byteLength } };
      });
      const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: d.key });
      return { d, pipeline, bindGroup, uniformBuffer };
    });
  }

  private ready(): Compiled[] {
    if (!this.compiled) throw new Error(`command list '${this.label}': call 'await compile()' before submit()`);
    return this.compiled;
  }

  /** Replaces the uniforms of dispatch `index` (takes effect at the next submit). */
  setUniforms(index: number, data: ArrayBuffer): void {
    const c = this.ready()[index];
    if (!c.uniformBuffer) throw new Error(`${c.d.name}: this dispatch has no uniforms`);
    this.device.queue.writeBuffer(c.uniformBuffer, 0, data);
  }

  /** Encodes all dispatches into one compute pass and submits once. */
  submit(): void {
    const list = this.ready();
    const enc = this.device.createCommandEncoder({ label: this.label });
    const pass = enc.beginComputePass({ label: this.label });
    for (const c of list) {
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, c.bindGroup);
      pass.dispatchWorkgroups(c.d.grid[0], c.d.grid[1], c.d.grid[2]);
    }
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  async run(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Runs the list once with one pass per dispatch and timestamp queries around each; returns GPU ns per dispatch.
   * (Per-pass timestamps serialise the work, so this is for profiling, not for training.) */
  async timed(): Promise<KernelTiming[]> {
    const list = this.ready();
    if (!this.device.features.has('timestamp-query')) throw new Error('timestamp-query is not available on this device');
    const n = list.length;
    if (!this.querySet) {
      this.querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * n });
      this.queryBuffers = {
        resolve: this.device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
        read: this.device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
      };
    }
    const qb = this.queryBuffers!;
    const enc = this.device.createCommandEncoder({ label: `${this.label} (timed)` });
    list.forEach((c, i) => {
      const pass = enc.beginComputePass({
        label: c.d.key,
        timestampWrites: { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
      });
      pass.setPipeline(c.pipeline);
      pass.setBindGroup(0, c.bindGroup);
      pass.dispatchWorkgroups(c.d.grid[0], c.d.grid[1], c.d.grid[2]);
      pass.end();
    });
    enc.resolveQuerySet(this.querySet!, 0, 2 * n, qb.resolve, 0);
    enc.copyBufferToBuffer(qb.resolve, 0, qb.read, 0, 16 * n);
    this.device.queue.submit([enc.finish()]);
    await qb.read.mapAsync(GPUMapMode.READ);
    const ts = new BigInt64Array(qb.read.getMappedRange().slice(0));
    qb.read.unmap();
    return list.map((c, i) => ({
      name: c.d.name,
      shape: c.d.shape,
      key: c.d.key,
      gpuNs: Number(ts[2 * i + 1] - ts[2 * i]),
      flops: c.d.flops,
      bytes: c.d.bytes,
    }));
  }

  dispose(): void {
    for (const c of this.compiled ?? []) c.uniformBuffer?.destroy();
    this.compiled = null;
    this.querySet?.destroy();
    this.queryBuffers?.resolve.destroy();
    this.queryBuffers?.read.destroy();
    this.querySet = null;
    this.queryBuffers = null;
  }
}
