// One declarative record per kernel, and the pipeline cache.
//
// A KernelDef says everything about a kernel in one place: its name, its WGSL (from shaders/), the buffers it binds
// in @binding order, and pure functions of the launch parameters that give the override constants it is specialised
// on, the dispatch grid and (optionally) per-launch uniforms. The cache key is explicit: the kernel name plus every
// override constant, so two launches share a pipeline exactly when they compile to the same code.
//
// Shapes are override constants, not uniforms: the training step's shapes are static, and constant loop bounds let
// the compiler unroll and fold the index math (SwiftShader's JIT and real GPUs both benefit). Values that change
// between replays of a recorded step (learning rate, EMA decay) are uniforms.
//
// Variants by device feature (issue 15): `enable` directives are textual, so a kernel whose code differs by feature
// (e.g. subgroup reductions) gives `source` as a function of its parameters, which runs `preprocessWgsl` (the
// wgsl-preprocessor `#if`) over one .wgsl file, and names the variant with `variant(p)`; the variant is part of the
// cache key. Launchers choose the variant from `deviceFeatures(device)` (or the caller forces one).
import type { Tensor } from './tensor.js';
import { shapeStr } from './tensor.js';
// @ts-expect-error wgsl-preprocessor ships no type declarations (typed below).
import { wgsl as wgslUntyped } from 'wgsl-preprocessor/wgsl-preprocessor.js';

const wgslTag = wgslUntyped as (strings: TemplateStringsArray, ...values: unknown[]) => string;

export type Constants = Record<string, number>;
export type Grid = [number, number, number];

export interface KernelDef<P> {
  name: string;
  /** The WGSL text, or a function of the parameters giving it (feature variants: see `variant`). */
  source: string | ((p: P) => string);
  /** Entry point (default 'main'); part of the cache key. */
  entryPoint?: (p: P) => string;
  /** Name of the source variant ('' = the plain one), e.g. 'subgroups'; part of the cache key. Required whenever
   * `source(p)` can give different texts. */
  variant?: (p: P) => string;
  /** Binding names in @binding order (group 0). The name 'uniforms' marks the uniform buffer. */
  bindings: readonly string[];
  constants(p: P): Constants;
  dispatch(p: P): Grid;
  uniforms?(p: P): ArrayBuffer;
  /** Floating-point operations of one launch (for GFLOP/s in benchmarks); bytes moved for memory-bound kernels. */
  flops?(p: P): number;
  bytes?(p: P): number;
}

/** One recorded launch: a kernel record, its specialisation and its buffers. Nothing is on the GPU yet. */
export interface Dispatch {
  name: string;
  key: string;
  source: string;
  entryPoint: string;
  constants: Constants;
  grid: Grid;
  bindings: readonly string[];
  tensors: Record<string, Tensor>;
  uniforms?: ArrayBuffer;
  flops: number;
  bytes: number;
  /** A short description of the launch for timing tables, e.g. "M=64 N=10 K=128". */
  shape: string;
}

export function cacheKey(name: string, constants: Constants): string {
  return `${name}|${Object.keys(constants).sort().map((k) => `${k}=${constants[k]}`).join(',')}`;
}

export function makeDispatch<P>(def: KernelDef<P>, p: P, tensors: Record<string, Tensor>, shape = ''): Dispatch {
  for (const b of def.bindings) {
    if (b !== 'uniforms' && !tensors[b]) throw new Error(`${def.name}: missing tensor for binding '${b}'`);
  }
  const constants = def.constants(p);
  const entryPoint = def.entryPoint?.(p) ?? 'main';
  const variant = def.variant?.(p) ?? '';
  const grid = def.dispatch(p);
  for (const g of grid) {
    if (!Number.isInteger(g) || g < 1 || g > 65535) {
      throw new Error(`${def.name}: dispatch grid [${grid.join(', ')}] is out of range (1..65535 per dimension) for ${shape}`);
    }
  }
  return {
    name: def.name,
    key: cacheKey(`${entryPoint === 'main' ? def.name : `${def.name}.${entryPoint}`}${variant ? `[${variant}]` : ''}`, constants),
    source: typeof def.source === 'function' ? def.source(p) : def.source,
    entryPoint,
    constants,
    grid,
    bindings: def.bindings,
    tensors,
    uniforms: def.uniforms?.(p),
    flops: def.flops?.(p) ?? 0,
    bytes: def.bytes?.(p) ?? 0,
    shape,
  };
}

/** What the device offers that kernels may specialise on (features requested by `acquireGpu` when offered). */
export interface DeviceFeatures {
  /** WGSL `enable subgroups;` (subgroupAdd, subgroupMin, ...). */
  subgroups: boolean;
  /** WGSL `enable f16;` (feature 'shader-f16'). */
  f16: boolean;
  /** A software fallback adapter (SwiftShader): some variants are slower there (see the launchers). */
  fallback: boolean;
}

const FEATURES = new WeakMap<GPUDevice, DeviceFeatures>();

export function deviceFeatures(device: GPUDevice): DeviceFeatures {
  let f = FEATURES.get(device);
  if (!f) {
    // GPUDevice.adapterInfo (Chrome 132+) and GPUAdapterInfo.isFallbackAdapter (Chrome 136+); absent -> not fallback.
    const info = (device as GPUDevice & { adapterInfo?: { isFallbackAdapter?: boolean } }).adapterInfo;
    f = {
      subgroups: device.features.has('subgroups'),
      f16: device.features.has('shader-f16'),
      fallback: Boolean(info?.isFallbackAdapter),
    };
    FEATURES.set(device, f);
  }
  return f;
}

/** Runs wgsl-preprocessor over WGSL text from a .wgsl file: `#if NAME` / `#elif NAME` (NAME a key of `flags`),
 * `#else`, `#endif` on lines of their own. The text is cut at each NAME into the tagged-template form the
 * preprocessor takes (`#if ${value}`), so the kernels stay plain .wgsl files. Unknown names throw. */
export function preprocessWgsl(text: string, flags: Record<string, boolean>): string {
  const parts = text.split(/(?<=#(?:if|elif)) +([A-Za-z_][A-Za-z0-9_]*)/);
  const strings: string[] = [];
  const values: boolean[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) strings.push(parts[i]);
    else {
      if (!(parts[i] in flags)) throw new Error(`preprocessWgsl: unknown flag '${parts[i]}' (known: ${Object.keys(flags).join(', ') || 'none'})`);
      values.push(flags[parts[i]]);
    }
  }
  return wgslTag(Object.assign(strings, { raw: strings }) as unknown as TemplateStringsArray, ...values);
}

/** Splits a 1-D count of workgroups into a 2-D grid (65535 per dimension); shaders rebuild the linear index
 * from `workgroup_id` and `num_workgroups`. */
export function grid1d(workgroups: number): Grid {
  if (workgroups <= 65535) return [Math.max(1, workgroups), 1, 1];
  const y = Math.ceil(workgroups / 65535);
  return [Math.ceil(workgroups / y), y, 1];
}

export function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

/** Throws an Error naming the kernel, the argument and the expected versus given shape. */
export function expectShape(kernel: string, arg: string, t: Tensor, expected: readonly number[], dtype?: string): void {
  const same = t.shape.length === expected.length && t.shape.every((d, i) => d === expected[i]);
  if (!same) throw new Error(`${kernel}: argument '${arg}' has shape ${shapeStr(t.shape)}, expected ${shapeStr(expected)}`);
  if (dtype && t.dtype !== dtype) throw new Error(`${kernel}: argument '${arg}' has dtype ${t.dtype}, expected ${dtype}`);
}

export function expectRank(kernel: string, arg: string, t: Tensor, rank: number, dtype?: string): void {
  if (t.shape.length !== rank) throw new Error(`${kernel}: argument '${arg}' has shape ${shapeStr(t.shape)}, expected rank ${rank}`);
  if (dtype && t.dtype !== dtype) throw new Error(`${kernel}: argument '${arg}' has dtype ${t.dtype}, expected ${dtype}`);
}

/** Compiles pipelines asynchronously and caches them by key; WGSL errors name the kernel and the line. */
export class PipelineCache {
  private modules = new Map<string, Promise<GPUShaderModule>>();
  private pipelines = new Map<string, Promise<GPUComputePipeline>>();
  compiled = 0;

  constructor(readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  get(d: Pick<Dispatch, 'name' | 'key' | 'source' | 'entryPoint' | 'constants'>): Promise<GPUComputePipeline> {
    let p = this.pipelines.get(d.key);
    if (!p) {
      p = this.create(d);
      this.pipelines.set(d.key, p);
      p.catch(() => this.pipelines.delete(d.key));
    }
    return p;
  }

  private module(name: string, source: string): Promise<GPUShaderModule> {
    let m = this.modules.get(source);
    if (!m) {
      m = (async () => {
        const module = this.device.createShaderModule({ code: source, label: name });
        const info = await module.getCompilationInfo();
        const errors = info.messages.filter((x) => x.type === 'error');
        if (errors.length > 0) {
          const lines = source.split('\n');
          const text = errors
            .map((e) => `  line ${e.lineNum}:${e.linePos}: ${e.message}\n    | ${lines[e.lineNum - 1]?.trim() ?? ''}`)
            .join('\n');
          throw new Error(`WGSL compile error in kernel '${name}':\n${text}`);
        }
        return module;
      })();
      this.modules.set(source, m);
      m.catch(() => this.modules.delete(source));
    }
    return m;
  }

  private async create(d: Pick<Dispatch, 'name' | 'key' | 'source' | 'entryPoint' | 'constants'>): Promise<GPUComputePipeline> {
    const module = await this.module(d.name, d.source);
    try {
      const pipeline = await this.device.createComputePipelineAsync({
        label: d.key,
        layout: 'auto',
        compute: { module, entryPoint: d.entryPoint, constants: d.constants },
      });
      this.compiled++;
      return pipeline;
    } catch (e) {
      throw new Error(`kernel '${d.name}' failed to build its pipeline (${d.key}): ${(e as Error).message}`);
    }
  }
}
