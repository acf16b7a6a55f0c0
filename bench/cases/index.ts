// Every kernel family's benchmark cases at WRN-28-2 / CIFAR shapes (32x32, batch 64 unless stated).
import { matmulCases } from './matmul.js';
import { augmentCases } from './augment.js';
import { lossCases } from './loss.js';
import { conv2dCases } from './conv2d.js';
import { stateCases } from './state.js';
import { batchnormCases } from './batchnorm.js';
import { elementwiseCases } from './elementwise.js';
import type { BenchCase } from './util.js';

export const benchCases: BenchCase[] = [...matmulCases, ...augmentCases, ...lossCases, ...conv2dCases, ...stateCases, ...batchnormCases, ...elementwiseCases];
