// Public API for embedding: the caller owns the GPUDevice (or lets us acquire one); everything is async; dispose()
// frees GPU memory.
export { acquireGpu, describeAdapter, type AdapterReport, type GpuContext, type AcquireOptions } from './gpu/device.js';
export { Runtime } from './gpu/runtime.js';
export { CommandList, type KernelTiming } from './gpu/commands.js';
export { MemoryPool, Tensor, type DType, type MemoryReport } from './gpu/tensor.js';
export { makeDispatch, type Dispatch, type KernelDef } from './gpu/kernel.js';
export { matmul } from './kernels/matmul.js';
export { softmaxForward, logSoftmaxForward } from './kernels/softmax.js';
export { softmaxCrossEntropyHard, softmaxCrossEntropySoft, crossEntropyUniforms } from './kernels/loss.js';
export { sumReduce, sumReduceScratchShape, rowMax, histogram } from './kernels/reduce.js';
export { cosineSimilarityForward, cosineSimilarityBackward } from './kernels/cosine.js';
export { queuePush, queueAverage, ringToOldestFirst } from './kernels/queue.js';
export { sgdUpdate, sgdUniforms, emaUpdate, emaUniforms, type SgdOptions } from './kernels/optim.js';
export { conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dBackwardWeightScratchShape, conv2dOutputSize, type Conv2dOptions } from './kernels/conv2d.js';
export { batchnormForwardTrain, batchnormForwardEval, batchnormBackward, batchnormScratchShape, type BatchNormOptions } from './kernels/batchnorm.js';
export { leakyReluForward, leakyReluBackward, add, axpy, fill, copy } from './kernels/elementwise.js';
export { globalAvgPoolForward, globalAvgPoolBackward } from './kernels/pool.js';
