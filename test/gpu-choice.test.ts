// --gpu: which adapter a CLI run gets (src/cli/gpu-choice.ts). The machine this runs on has no GPU (SwiftShader), so
// the hardware path itself is exercised by `daso bench-gpu` on a GPU machine; here: the decision from what a machine
// shows, the mode check, and that `require` fails before any run file is written while `auto` names the fallback.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gpuSigns, isHardwareAdapter, parseGpuMode } from '../src/cli/gpu-choice.js';
import { daso, tempDir, tinyConfig, writeJson } from './helpers/cli.js';

const env = (nvidiaSmi: string | null, vulkanIcds: string[]) => ({ nvidiaSmi, vulkanIcds });

describe('gpu choice', () => {
  it('looks for a GPU only where the machine shows one (software Vulkan drivers are not a sign)', () => {
    expect(gpuSigns(env(null, []), [])).toEqual([]);
    expect(gpuSigns(env(null, ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', '/usr/share/vulkan/icd.d/vk_swiftshader_icd.json']), [])).toEqual([]);
    expect(gpuSigns(env('NVIDIA H200, 570.1, 143771 MiB', []), [])).toEqual(['nvidia-smi: NVIDIA H200, 570.1, 143771 MiB']);
    expect(gpuSigns(env(null, ['/etc/vulkan/icd.d/nvidia_icd.json']), ['/dev/dri/renderD128'])).toEqual([
      'Vulkan ICD /etc/vulkan/icd.d/nvidia_icd.json', 'render node /dev/dri/renderD128']);
  });

  it('calls an adapter hardware only when it is neither marked fallback nor SwiftShader', () => {
    expect(isHardwareAdapter({ vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: false })).toBe(true);
    expect(isHardwareAdapter({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: false })).toBe(false);
    expect(isHardwareAdapter({ vendor: 'nvidia', architecture: 'hopper', isFallbackAdapter: true })).toBe(false);
    expect(isHardwareAdapter({ vendor: 'nvidia', architecture: 'hopper' })).toBe(false);
    expect(isHardwareAdapter(null)).toBe(false);
  });

  it('takes auto, require and off, and names the flag and the choices otherwise', () => {
    expect(parseGpuMode(undefined, 'train')).toBe('auto');
    for (const m of ['auto', 'require', 'off']) expect(parseGpuMode(m, 'train')).toBe(m);
    expect(() => parseGpuMode('cuda', 'train')).toThrow(/train: --gpu cuda is not one of auto, require, off/);
    expect(() => parseGpuMode(true, 'bench-step')).toThrow(/bench-step: --gpu true/);
  });

  it('daso train: a bad --gpu fails at once; require fails with the reason and leaves no run; auto names the fallback', () => {
    const dir = tempDir('daso-gpu-');
    const cfg = writeJson(join(dir, 'tiny.json'), tinyConfig({ max_iter: 2 }));
    const bad = daso(['train', '--config', cfg, '--out-dir', join(dir, 'bad'), '--gpu', 'cuda']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--gpu cuda is not one of auto, require, off/);
    expect(existsSync(join(dir, 'bad'))).toBe(false);

    const req = daso(['train', '--config', cfg, '--out-dir', join(dir, 'req'), '--gpu', 'require']);
    expect(req.status).toBe(1);
    expect(req.stderr).toMatch(/--gpu require: no hardware WebGPU adapter \(no sign of a GPU on this machine; tried vulkan-angle: .*vulkan-native: .*\)/);
    expect(req.stderr).toMatch(/--gpu auto/);
    expect(existsSync(join(dir, 'req')) ? readdirSync(join(dir, 'req')) : []).toEqual([]);

    const auto = daso(['train', '--config', cfg, '--out-dir', join(dir, 'auto')]);
    expect(auto.status, auto.stderr).toBe(0);
    expect(auto.stdout).toMatch(/adapter google\/swiftshader, a software fallback that runs on the CPU \(no GPU found on this machine\)/);
  }, 240_000);
});
