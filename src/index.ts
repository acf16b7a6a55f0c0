// Public API for embedding: the caller owns the GPUDevice (or lets us acquire one); everything is async; dispose()
// frees GPU memory.
export { acquireGpu, describeAdapter, type AdapterReport, type GpuContext, type AcquireOptions } from './gpu/device.js';
export { Runtime } from './gpu/runtime.js';
export { CommandList, type KernelTiming } from './gpu/commands.js';
export { MemoryPool, Tensor, type DType, type MemoryReport } from './gpu/tensor.js';
export { makeDispatch, type Dispatch, type KernelDef } from './gpu/kernel.js';
export { matmul } from './kernels/matmul.js';
