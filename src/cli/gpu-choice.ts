// Which adapter a CLI run gets. Headless Chromium on Linux offers only SwiftShader (a CPU Vulkan) unless it is
// started with Vulkan flags, so `daso train` / `step` / `bench-step` on a machine with a GPU ran on the CPU: the
// adapter the user has was never reached. `--gpu auto` (the default) looks for signs of a GPU (nvidia-smi, a
// hardware Vulkan ICD, a DRM render node) and only then tries bench-gpu's flag sets (GPU_FLAG_SETS) before
// Chromium's plain flags, so a machine without a GPU (CI, this project's 2-core box) pays nothing for it.
// `--gpu require` fails, naming what the machine shows and what to try, when no hardware adapter comes up;
// `--gpu off` keeps the plain flags (e.g. to compare against SwiftShader on a GPU machine).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { launchChromium, openHarness, type LaunchedBrowser } from './browser.js';

export type GpuMode = 'auto' | 'require' | 'off';
export const GPU_MODES: readonly GpuMode[] = ['auto', 'require', 'off'];

export function parseGpuMode(v: unknown, command: string): GpuMode {
  if (v === undefined) return 'auto';
  if (typeof v === 'string' && (GPU_MODES as readonly string[]).includes(v)) return v as GpuMode;
  throw new Error(`${command}: --gpu ${String(v)} is not one of ${GPU_MODES.join(', ')} (auto: a hardware adapter when this ` +
    'machine shows a GPU, else Chromium\'s default; require: fail without one; off: Chromium\'s default flags)');
}

/** Flag sets tried in order until one gives a hardware adapter. They are added to CHROMIUM_FLAGS (cli/browser.ts),
 * which already has --headless=new and --enable-unsafe-webgpu. Sources: Chrome's "Supercharge Web AI model testing"
 * (headless Chrome on Linux + NVIDIA: --use-angle=vulkan --enable-features=Vulkan --disable-vulkan-surface) and
 * gpuweb/gpuweb#5022 (Chrome 131+ on Linux also wants VulkanFromANGLE,DefaultANGLEVulkan).
 * --enable-webgpu-developer-features turns off the 100 us quantisation of timestamp queries: without it most
 * per-dispatch GPU times on a fast GPU would read as 0 or 0.1 ms. */
export const GPU_FLAG_SETS: { name: string; flags: string[] }[] = [
  {
    name: 'vulkan-angle',
    flags: ['--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan', '--use-angle=vulkan', '--ignore-gpu-blocklist',
      '--disable-vulkan-surface', '--enable-webgpu-developer-features'],
  },
  {
    name: 'vulkan-native',
    flags: ['--enable-features=Vulkan', '--use-vulkan=native', '--ignore-gpu-blocklist', '--disable-vulkan-surface',
      '--enable-webgpu-developer-features'],
  },
];

/** What this machine shows about its GPU (bench-gpu's report keeps it; --gpu auto decides from it). */
export interface GpuEnvironment {
  node: string;
  platform: string;
  nvidiaSmi: string | null;
  vulkanIcds: string[];
  libvulkan: boolean | null;
  vkDriverFiles: string | null;
}
type Env = GpuEnvironment;

export function environment(): GpuEnvironment {
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  const icds: string[] = [];
  // /usr/local/nvidia/...: where some GPU containers mount the driver (not on the loader's default search path).
  for (const d of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/nvidia/share/vulkan/icd.d']) {
    try { for (const f of readdirSync(d)) icds.push(join(d, f)); } catch { /* absent */ }
  }
  const ld = spawnSync('ldconfig', ['-p'], { encoding: 'utf8', timeout: 10_000 });
  return {
    node: process.version, platform: `${process.platform}-${process.arch}`,
    nvidiaSmi: smi.status === 0 ? smi.stdout.trim() : null, vulkanIcds: icds,
    libvulkan: ld.status === 0 ? /libvulkan\.so\.1\b/.test(ld.stdout) : null,
    vkDriverFiles: process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? null,
  };
}

/** Why a fallback adapter may have been all Chromium offered, with what to try (from what this machine shows). */
export function fallbackHint(env: GpuEnvironment): string {
  if (!env.nvidiaSmi) return 'nvidia-smi is absent or failed, so this looks like a machine without an NVIDIA GPU';
  // No libvulkan.so.1 on the system is not a cause: Chromium ships its own Vulkan loader; the ICD is what it needs.
  const nv = env.vulkanIcds.filter((f) => /nvidia/i.test(f));
  if (!nv.length) {
    return 'nvidia-smi sees a GPU but no NVIDIA Vulkan ICD (nvidia_icd.json) is installed: Chromium reaches the GPU ' +
      'through Vulkan, so install the driver\'s Vulkan part (e.g. libnvidia-gl-<version>, or in a container set ' +
      'NVIDIA_DRIVER_CAPABILITIES=all, which includes "graphics")';
  }
  if (nv.every((f) => f.startsWith('/usr/local/nvidia/')) && !env.vkDriverFiles) {
    return `the NVIDIA Vulkan ICD is only at ${nv[0]}, off the loader's search path: export VK_DRIVER_FILES=${nv[0]} and rerun`;
  }
  return 'nvidia-smi sees a GPU and an NVIDIA Vulkan ICD is installed, yet Chromium chose the fallback: check chrome://gpu ' +
    '(`chromium --headless=new --no-sandbox --enable-features=Vulkan --use-angle=vulkan --print-to-pdf=gpu.pdf chrome://gpu`)';
}


/** Software Vulkan drivers: lavapipe (Mesa's llvmpipe Vulkan) and SwiftShader's ICD are CPUs, not GPUs. */
const SOFTWARE_ICD = /lvp|lavapipe|swiftshader|swrast/i;

/** Signs that a hardware adapter may be reachable: a working nvidia-smi, a hardware Vulkan ICD or a DRM render node. */
export function gpuSigns(env: Pick<Env, 'nvidiaSmi' | 'vulkanIcds'>, renderNodes: string[]): string[] {
  const signs: string[] = [];
  if (env.nvidiaSmi) signs.push(`nvidia-smi: ${env.nvidiaSmi.split('\n')[0]}`);
  const hw = env.vulkanIcds.filter((f) => !SOFTWARE_ICD.test(f));
  if (hw.length) signs.push(`Vulkan ICD ${hw.join(', ')}`);
  if (renderNodes.length) signs.push(`render node ${renderNodes.join(', ')}`);
  return signs;
}

function renderNodes(): string[] {
  try {
    return existsSync('/dev/dri') ? readdirSync('/dev/dri').filter((f) => f.startsWith('renderD')).map((f) => `/dev/dri/${f}`) : [];
  } catch {
    return [];
  }
}

/** The page's adapter report (`rt.info`): a hardware adapter is neither marked fallback nor SwiftShader. */
export function isHardwareAdapter(info: Record<string, unknown> | null | undefined): boolean {
  if (!info || info.isFallbackAdapter !== false) return false;
  return !/swiftshader/i.test(`${info.vendor} ${info.architecture} ${info.description}`);
}

export function adapterName(info: Record<string, unknown>): string {
  return `${info.vendor || 'unknown'}/${info.architecture || 'unknown'}`;
}

export interface AdapterSession {
  chromium: LaunchedBrowser;
  page: Page;
  adapter: Record<string, unknown>;
  /** bench-gpu's flag-set name, or 'plain'. */
  flagSet: string;
  hardware: boolean;
  /** One line for the user: the adapter and, for a fallback, why. */
  summary: string;
}

const PROBE_MS = 60_000;

async function open(flags: string[], url: string, verbose: boolean): Promise<{ chromium: LaunchedBrowser; page: Page; adapter: Record<string, unknown> }> {
  const chromium = await launchChromium(flags);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // A GPU process that hangs on a broken driver must not hang the run: each try gets PROBE_MS.
    const page = await Promise.race([
      openHarness(chromium.browser, url, verbose),
      new Promise<never>((_, fail) => { timer = setTimeout(() => fail(new Error(`no WebGPU device within ${PROBE_MS / 1000} s`)), PROBE_MS); }),
    ]);
    const adapter = (await page.evaluate(() => (window as unknown as { dasoInfo: unknown }).dasoInfo)) as Record<string, unknown>;
    return { chromium, page, adapter };
  } catch (e) {
    chromium.kill();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Starts Chromium on the adapter `mode` asks for and opens the harness page on it. */
export async function launchOnAdapter(mode: GpuMode, url: string, verbose: boolean, log: (m: string) => void = () => undefined): Promise<AdapterSession> {
  const env = mode === 'off' ? null : environment();
  const signs = env ? gpuSigns(env, renderNodes()) : [];
  const tried: string[] = [];
  if (env && (signs.length || mode === 'require')) {
    for (const set of GPU_FLAG_SETS) {
      try {
        const s = await open(set.flags, url, verbose);
        if (isHardwareAdapter(s.adapter)) {
          return { ...s, flagSet: set.name, hardware: true, summary: `adapter ${adapterName(s.adapter)} (hardware, Chromium flags '${set.name}')` };
        }
        tried.push(`${set.name}: ${adapterName(s.adapter)} (fallback)`);
        await s.chromium.close();
      } catch (e) {
        tried.push(`${set.name}: ${(e as Error).message}`);
      }
      log(`--gpu ${mode}: ${tried[tried.length - 1]}`);
    }
  }
  if (mode === 'require') {
    throw new Error(`--gpu require: no hardware WebGPU adapter (${signs.length ? `signs of a GPU: ${signs.join('; ')}` : 'no sign of a GPU on this machine'}; ` +
      `tried ${tried.join('; ')}): ${fallbackHint(env!)}. Use --gpu auto to run on Chromium's default adapter instead.`);
  }
  const s = await open([], url, verbose);
  const hardware = isHardwareAdapter(s.adapter);
  const why = hardware ? '' : mode === 'off' ? ' (--gpu off)' : signs.length ? ` (the GPU flag sets gave none: ${tried.join('; ')})` : ' (no GPU found on this machine)';
  return {
    ...s, flagSet: 'plain', hardware,
    summary: `adapter ${adapterName(s.adapter)}${hardware ? ' (hardware)' : ', a software fallback that runs on the CPU'}${why}`,
  };
}
