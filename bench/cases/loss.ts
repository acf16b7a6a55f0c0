// Softmax, fused cross-entropy, row reductions and prototype cosine similarity at DASO's shapes: B = 64 labeled,
// 128 unlabeled per view, 320 for the joint forward; K = 10 classes; D = 128 features (WRN-28-2); 1.47M parameters.
import { cosineSimilarityBackward, cosineSimilarityForward } from '../../src/kernels/cosine.js';
import { softmaxCrossEntropyHard, softmaxCrossEntropySoft } from '../../src/kernels/loss.js';
import { histogram, rowMax, sumReduce, sumReduceScratchShape } from '../../src/kernels/reduce.js';
import { logSoftmaxForward, softmaxForward } from '../../src/kernels/softmax.js';
import { random, type BenchCase } from './util.js';

const K = 10;
const D = 128;
const PARAMS = 1_467_610; // WRN-28-2 with 10 classes

function softmax(B: number, log = false): BenchCase {
  return {
    kernel: log ? 'log_softmax_forward' : 'softmax_forward',
    shape: `B=${B} K=${K}`,
    build: (rt) => [(log ? logSoftmaxForward : softmaxForward)(random(rt, [B, K], 'x'), rt.tensor([B, K]))],
  };
}

function ce(B: number, soft: boolean): BenchCase {
  return {
    kernel: soft ? 'softmax_cross_entropy_soft' : 'softmax_cross_entropy_hard',
    shape: `B=${B} K=${K}`,
    build(rt) {
      const logits = random(rt, [B, K], 'logits');
      const w = random(rt, [B], 'w');
      const lossRows = rt.tensor([B]), dlogits = rt.tensor([B, K]);
      return soft
        ? [softmaxCrossEntropySoft(logits, random(rt, [B, K], 'targets'), w, lossRows, dlogits, 1 / B)]
        : [softmaxCrossEntropyHard(logits, random(rt, [B], 'labels', 'i32', K), w, lossRows, dlogits, 1 / B)];
    },
  };
}

function cosine(B: number, backward: boolean): BenchCase {
  return {
    kernel: backward ? 'cosine_similarity_backward' : 'cosine_similarity_forward',
    shape: `B=${B} K=${K} D=${D}`,
    build(rt) {
      const z = random(rt, [B, D], 'z'), protos = random(rt, [K, D], 'protos');
      return backward
        ? [cosineSimilarityBackward(z, protos, random(rt, [B, K], 'dsim'), rt.tensor([B, D]), 20)]
        : [cosineSimilarityForward(z, protos, rt.tensor([B, K]), 20)];
    },
  };
}

function sum(n: number, twoStage: boolean): BenchCase {
  return {
    kernel: 'sum_reduce',
    shape: `n=${n} ${twoStage ? '2 stages' : '1 stage'}`,
    build: (rt) => sumReduce(random(rt, [n], 'x'), rt.tensor([1]), 1, twoStage ? rt.tensor(sumReduceScratchShape(n)) : undefined),
  };
}

export const lossCases: BenchCase[] = [
  softmax(320), softmax(64), softmax(128, true),
  ce(320, false), ce(64, false), ce(128, true),
  cosine(128, false), cosine(128, true),
  {
    kernel: 'row_max',
    shape: `B=128 K=${K}`,
    build: (rt) => [rowMax(random(rt, [128, K], 'x'), rt.tensor([128]), rt.tensor([128], 'i32'))],
  },
  {
    kernel: 'histogram',
    shape: `B=12800 K=${K}`,
    build: (rt) => [histogram(random(rt, [12800], 'labels', 'i32', K), rt.tensor([K], 'i32'), false)],
  },
  // The whole parameter vector (e.g. a squared-gradient sum): two stages versus one workgroup.
  sum(PARAMS, true), sum(PARAMS, false),
];
