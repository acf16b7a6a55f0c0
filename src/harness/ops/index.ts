// Every kernel family registers its ops here.
import type { OpFn } from '../op-table.js';
import { matmulOps } from './matmul.js';

export const ops: Record<string, OpFn> = {
  ...matmulOps,
};
