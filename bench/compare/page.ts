// The bench-compare page's script (dist/compare.js, loaded by bench/compare/compare.html): acquires our device
// (Runtime.create) and starts tfjs-backend-webgpu, which requests its own adapter and device from the same
// navigator.gpu of the same browser (SwiftShader here), then exposes `window.dasoCompare` to the CLI.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs union package does this import): tf.grads and
// tf.variableGrads need them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';
import { describeAdapter } from '../../src/gpu/device.js';
import { Runtime } from '../../src/gpu/runtime.js';
import { compareCases } from './cases.js';
import { runCase, tfBackend } from './runner.js';
import type { CompareApi, CompareInfo } from './types.js';

declare global {
  interface Window {
    dasoCompare: CompareApi;
    dasoCompareReady: Promise<CompareInfo>;
  }
}

const status = document.getElementById('status');
const say = (s: string) => { if (status) status.textContent = s; };

window.dasoCompareReady = (async () => {
  try {
    const rt = await Runtime.create({ onLost: say });
    // Small inputs whose data is still on the CPU would otherwise run on tfjs's CPU kernels: time the GPU kernels.
    tf.env().set('WEBGPU_CPU_FORWARD', false);
    const ok = await tf.setBackend('webgpu');
    await tf.ready();
    if (!ok || tf.getBackend() !== 'webgpu') throw new Error(`tfjs: the webgpu backend did not start (backend: ${tf.getBackend()})`);
    const b = tfBackend() as unknown as { device: GPUDevice; adapterInfo?: { vendor?: string; architecture?: string } };
    const flagNames = ['WEBGPU_CPU_FORWARD', 'WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE', 'WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE',
      'WEBGPU_MATMUL_PROGRAM_TYPE', 'WEBGPU_CONV_SEPARATE_IM2COL_SHADER', 'WEBGPU_USE_LOW_POWER_GPU'];
    const info: CompareInfo = {
      ours: rt.info,
      tfjsBackend: tf.getBackend(),
      tfjsVersion: tf.version_core,
      tfjsAdapter: b.adapterInfo ? { vendor: b.adapterInfo.vendor, architecture: b.adapterInfo.architecture } : null,
      tfjsTimestampQuery: b.device.features.has('timestamp-query'),
      tfjsFlags: Object.fromEntries(flagNames.map((k) => [k, tf.env().get(k)])),
    };
    window.dasoCompare = {
      cases: (o) => compareCases(o.batch, o.stepBatches),
      async run(c, o) {
        // Progress lines start with 'bench-compare:' (the CLI prints them); the rest is --verbose detail.
        const log = (m: string) => console.log(`bench-compare: ${m}`);
        return runCase(rt, c, o.reps, log);
      },
    };
    say(`ours: ${describeAdapter(rt.info!)}; tfjs ${info.tfjsVersion} on ${info.tfjsBackend} (${info.tfjsAdapter?.vendor ?? '?'} / ${info.tfjsAdapter?.architecture ?? '?'})`);
    return info;
  } catch (e) {
    say(`failed: ${(e as Error).message}`);
    throw e;
  }
})();
