// Every kernel family registers its ops here.
import type { OpFn } from '../op-table.js';
import { trainOps } from './train.js';
import { dasoOps } from './daso.js';
import { plStatsOps } from './pl-stats.js';
import { matmulOps } from './matmul.js';
import { augmentOps } from './augment.js';
import { stateOps } from './state.js';
import { conv2dOps } from './conv2d.js';
import { conv2dTiledOps } from './conv2d-tiled.js';
import { lossOps } from './loss.js';
import { elementwiseOps } from './elementwise.js';
import { batchnormOps } from './batchnorm.js';

export const ops: Record<string, OpFn> = {
  ...trainOps,
  ...dasoOps,
  ...plStatsOps,
  ...matmulOps,
  ...augmentOps,
  ...stateOps,
  ...conv2dOps,
  ...conv2dTiledOps,
  ...lossOps,
  ...elementwiseOps,
  ...batchnormOps,
};
