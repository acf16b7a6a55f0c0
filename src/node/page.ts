// `daso-webgpu/node`: the library from Node. WebGPU lives in a browser, so this launches headless Chromium with WebGPU
// (the system Chromium through puppeteer-core: $CHROMIUM_PATH or /usr/bin/chromium), serves a page that loads the
// library's own bundle from the installed package on 127.0.0.1 (WebGPU needs a secure context), and runs functions
// in it: evaluate((lib, arg) => ..., arg) gets the library module and the argument, and its result comes back.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium, type LaunchedBrowser } from '../cli/browser.js';
import { startServer, type StaticServer } from '../cli/server.js';
import type { AdapterReport } from '../gpu/device.js';
import { decodeValue, encodeValue, type CallResult } from './transfer.js';

/** The library module as the page has it. */
export type DasoLibrary = typeof import('../index.js');

export interface WebGpuPageOptions {
  /** Where the page's console goes: true = stderr, a function = each line; default: nowhere. */
  log?: boolean | ((line: string) => void);
  /** More Chromium flags (besides WebGPU's). */
  chromiumFlags?: string[];
}

export interface WebGpuPage {
  /** The adapter the page got (SwiftShader on machines without a GPU). */
  adapter: AdapterReport;
  /** Runs `fn(lib, arg)` in the page and returns its result. `fn` travels as source text: it cannot use variables of
   * the enclosing Node scope, only `lib` and `arg`. Typed arrays in `arg` and in the result cross as bytes; the rest
   * must be JSON (plain objects, arrays, numbers, strings, booleans, null). */
  evaluate<A, R>(fn: (lib: DasoLibrary, arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>>;
  page: Page;
  browser: Browser;
  /** Closes the browser (its process group and profile folder go too) and the server. */
  close(): Promise<void>;
}

/** The installed package's root (the folder with its package.json), whether this runs bundled (dist/node.js) or as
 * source (src/node/page.ts). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'daso-webgpu') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`daso-webgpu/node: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** The files the page loads (relative to the package root). */
export const PAGE_FILES = ['dist/node-page.html', 'dist/node-page.js', 'dist/index.js', 'dist/index.js.map'];

export async function launchWebGpuPage(opts: WebGpuPageOptions = {}): Promise<WebGpuPage> {
  const root = packageRoot();
  for (const f of PAGE_FILES.slice(0, 3)) {
    if (!existsSync(join(root, f))) throw new Error(`daso-webgpu/node: ${join(root, f)} is missing (in a checkout, run \`npm run build\`)`);
  }
  const server: StaticServer = await startServer(root, { extraFiles: PAGE_FILES, datasets: {} });
  let chromium: LaunchedBrowser;
  try {
    chromium = await launchChromium(opts.chromiumFlags ?? []);
  } catch (e) {
    await server.close();
    throw e;
  }
  const close = async () => {
    await chromium.close();
    await server.close();
  };
  try {
    const page = await chromium.browser.newPage();
    page.setDefaultTimeout(0);
    const log = opts.log === true ? (l: string) => process.stderr.write(`[page] ${l}\n`) : opts.log || null;
    if (log) page.on('console', (m) => log(m.text()));
    page.on('pageerror', (e) => log?.(`page error: ${String(e)}`));
    await page.goto(`${server.url}/dist/node-page.html`, { waitUntil: 'load' });
    const ready = await page.evaluate(async () => {
      const w = window as unknown as { dasoNode?: { ready: Promise<unknown> } };
      if (!w.dasoNode) return { ok: false as const, error: 'dist/node-page.js did not load' };
      try {
        return { ok: true as const, info: await w.dasoNode.ready };
      } catch (e) {
        return { ok: false as const, error: String((e as Error).message ?? e) };
      }
    });
    if (!ready.ok) throw new Error(`daso-webgpu/node: the page has no WebGPU: ${ready.error}`);
    let calls = 0;
    return {
      adapter: ready.info as AdapterReport,
      page,
      browser: chromium.browser,
      close,
      async evaluate<A, R>(fn: (lib: DasoLibrary, arg: A) => R | Promise<R>, arg?: A): Promise<Awaited<R>> {
        if (typeof fn !== 'function') throw new Error('evaluate(fn, arg): fn must be a function of (lib, arg)');
        const id = ++calls;
        const names: string[] = [];
        try {
          const encoded = await encodeValue(arg, (bytes) => {
            const name = `call${id}-in${names.length}`;
            names.push(name);
            server.io.files.set(name, bytes);
            return server.io.url(name);
          }, 'arg');
          const res = await page.evaluate(
            (src, a, base, n) => (window as unknown as { dasoNode: { call(s: string, a: unknown, b: string, n: number): Promise<unknown> } }).dasoNode.call(src, a, base, n),
            fn.toString(), encoded as never, server.io.url(''), id,
          ) as CallResult;
          if (!res.ok) throw new Error(res.error);
          return (await decodeValue(res.value, (name) => {
            const b = server.io.received.get(name);
            if (!b) throw new Error(`evaluate(): the page's result part ${name} did not arrive`);
            server.io.received.delete(name);
            return b;
          })) as Awaited<R>;
        } finally {
          for (const n of names) server.io.files.delete(n);
        }
      },
    };
  } catch (e) {
    await close();
    throw e;
  }
}
