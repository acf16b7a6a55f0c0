// Adapter and device acquisition. Requests timestamp-query when offered (per-kernel GPU time) and the limits the
// kernels need; says which browser and flags are missing when WebGPU is not there.

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
  timestamps: boolean;
  /** The device has the 'subgroups' feature (requested when the adapter offers it): kernels may use subgroup
   * reductions (src/kernels/batchnorm.ts picks its variant from `deviceFeatures`). */
  subgroups: boolean;
  /** Subgroup sizes the adapter reports (0 when unknown or without subgroups). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** The device has 'shader-f16' (requested when offered; no kernel has an f16 variant yet). */
  f16: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  info: AdapterReport;
  /** Resolves with the reason when the device is lost. */
  lost: Promise<GPUDeviceLostInfo>;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Fail when the only adapter is a software fallback (for real-GPU benchmark runs). */
  requireHardware?: boolean;
  /** Called once when the device is lost, with the reason. */
  onLost?: (message: string) => void;
}

const HOW_TO_GET_WEBGPU =
  'Use Chromium/Chrome 113+ from http://127.0.0.1 or https (a secure context). Headless Chromium needs ' +
  '--enable-unsafe-webgpu (and --enable-unsafe-swiftshader on machines without a GPU); `npm test` and ' +
  '`npx daso` start it with these flags.';

export async function acquireGpu(opts: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new Error(`WebGPU is not available here (navigator.gpu is undefined). ${HOW_TO_GET_WEBGPU}`);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error(`navigator.gpu.requestAdapter() returned null: no WebGPU adapter. ${HOW_TO_GET_WEBGPU}`);
  const ai = adapter.info;
  const isFallback = Boolean((ai as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
  if (opts.requireHardware && isFallback) {
    throw new Error(`the adapter is a software fallback (${ai.vendor} ${ai.architecture}) but a hardware GPU was required`);
  }
  const timestamps = adapter.features.has('timestamp-query');
  // Optional features, each requested only when the adapter offers it: without them the device is the same as before.
  const optional = (['subgroups', 'shader-f16'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const L = adapter.limits;
  // Ask for the adapter's maxima of the limits that bound our buffers and workgroups: the defaults (128 MiB per
  // binding, 256 MiB per buffer) are too small for batch-320 activations of WRN-28-2 stage 1 (~42 MB each is fine,
  // but the split-K partial sums and dataset buffers are not).
  const device = await adapter.requestDevice({
    requiredFeatures: [...(timestamps ? ['timestamp-query' as GPUFeatureName] : []), ...optional],
    requiredLimits: {
      maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
      maxBufferSize: L.maxBufferSize,
      maxComputeWorkgroupStorageSize: L.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: L.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: L.maxComputeWorkgroupSizeX,
      maxComputeWorkgroupSizeY: L.maxComputeWorkgroupSizeY,
      maxStorageBuffersPerShaderStage: L.maxStorageBuffersPerShaderStage,
    },
  });
  const lost = device.lost.then((info) => {
    const msg = `WebGPU device lost (${info.reason}): ${info.message}`;
    if (info.reason !== 'destroyed') {
      console.error(msg);
      opts.onLost?.(msg);
    }
    return info;
  });
  device.addEventListener('uncapturederror', (ev) => {
    console.error(`WebGPU uncaptured error: ${(ev as GPUUncapturedErrorEvent).error.message}`);
  });
  const info: AdapterReport = {
    vendor: ai.vendor,
    architecture: ai.architecture,
    device: ai.device,
    description: ai.description,
    isFallbackAdapter: isFallback,
    timestamps,
    subgroups: device.features.has('subgroups'),
    subgroupMinSize: device.features.has('subgroups') ? Number((ai as GPUAdapterInfo & { subgroupMinSize?: number }).subgroupMinSize ?? 0) : 0,
    subgroupMaxSize: device.features.has('subgroups') ? Number((ai as GPUAdapterInfo & { subgroupMaxSize?: number }).subgroupMaxSize ?? 0) : 0,
    f16: device.features.has('shader-f16'),
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
    maxBufferSize: device.limits.maxBufferSize,
    maxComputeWorkgroupStorageSize: device.limits.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: device.limits.maxComputeInvocationsPerWorkgroup,
  };
  return { device, adapter, info, lost };
}

export function describeAdapter(info: AdapterReport): string {
  return `${info.vendor || 'unknown vendor'} / ${info.architecture || 'unknown architecture'}` +
    `${info.isFallbackAdapter ? ' (fallback adapter)' : ''}, timestamp-query ${info.timestamps ? 'yes' : 'no'}` +
    `, subgroups ${info.subgroups ? `yes (${info.subgroupMinSize}-${info.subgroupMaxSize})` : 'no'}, shader-f16 ${info.f16 ? 'yes' : 'no'}`;
}
