// Every kernel family's benchmark cases at WRN-28-2 / CIFAR shapes (32x32, batch 64 unless stated).
import { matmulCases } from './matmul.js';
import type { BenchCase } from './util.js';

export const benchCases: BenchCase[] = [...matmulCases];
