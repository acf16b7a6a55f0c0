/// <reference types="@webgpu/types" preserve="true" />
// Public API for embedding. First the high-level API (src/api/): createDataSource() from the app's images and
// createTrainer() to train FixMatch + DASO on them, predict, evaluate, save and load. Below it, the engine room: the
// runtime, every kernel launcher, the autograd tape, the WRN, the step builder and the training loop. The caller owns
// the GPUDevice (or lets us acquire one); everything is async; dispose() frees GPU memory.
export * from './api/index.js';

// The engine.
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
export {
  conv2dForward, conv2dForwardPacked, conv2dPackedForwardShape, conv2dBackwardInput, conv2dBackwardInputPacked,
  conv2dPackedBackwardInputShape, conv2dBackwardWeight, conv2dBackwardWeightScratchShape, conv2dOutputSize, type Conv2dOptions,
} from './kernels/conv2d.js';
export { batchnormForwardTrain, batchnormForwardEval, batchnormBackward, batchnormScratchShape, type BatchNormOptions } from './kernels/batchnorm.js';
export { leakyReluForward, leakyReluBackward, add, axpy, fill, copy } from './kernels/elementwise.js';
export { globalAvgPoolForward, globalAvgPoolBackward } from './kernels/pool.js';
export { dasoPseudoLabel, dasoRefreshHistogram, pseudoLabelUniforms, type PseudoLabelSwitches } from './kernels/daso.js';
export { augmentBatch, packU8ToU32, CIFAR10_NORM, CIFAR100_NORM, FASHION_MNIST_NORM, type Normalisation } from './kernels/augment.js';

// Autograd-lite, the model, and training.
export { Tape, Var } from './graph/tape.js';
export { wrnSpec, type WrnConfig, type WrnSpec } from './nn/wrn-spec.js';
export { WrnState, encoderForward, classifierForward, ParamVars } from './nn/wrn.js';
export { readSafetensors, writeSafetensors, validateTensors, type StTensor } from './nn/safetensors.js';
export { TrainState } from './train/model-state.js';
export { DasoState } from './ssl/daso-state.js';
export { buildSslStep, type SslStep, type StepTensors } from './ssl/ssl-step.js';
export { parseStepConfig, type StepConfig } from './train/config.js';
export { parseTrainConfig, type TrainConfig } from './train/train-config.js';
export { PRESETS } from './train/presets.js';
export { train, type TrainEvent, type TrainHooks, type TrainData, type ExplicitSplit, type EvalRecord } from './train/trainer.js';
export { exportCheckpoint, loadCheckpoint } from './train/checkpoint.js';

// Data.
export { loadIdxDataset, gunzipIfNeeded } from './data/idx.js';
export { parseCifar10, parseCifar100 } from './data/cifar.js';
export { syntheticDataset } from './data/synthetic.js';
export { longTailSplit, longTailCounts } from './data/split.js';
export { EpochSampler } from './data/sampler.js';
export type { ImageDataset } from './data/dataset.js';
