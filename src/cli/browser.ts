// Headless Chromium with WebGPU, driven through puppeteer. The flags are the ones measured to give an adapter on
// these machines (SwiftShader when there is no GPU); the network flags stop Chromium retrying closed connections.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer';

export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** The browser binary: $CHROMIUM_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}. Install it with 'apt-get install -y --no-install-recommends chromium' ` +
        `or set CHROMIUM_PATH to a Chromium/Chrome binary with WebGPU.`,
    );
  }
  return path;
}

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(extraFlags: string[] = []): Promise<LaunchedBrowser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'daso-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraFlags],
    userDataDir,
    // A CDP call may legitimately take long on SwiftShader (a WRN-28-2 batch-320 step is minutes); training does not
    // hold one call open at all (see cli/train.ts), but benchmarks do.
    protocolTimeout: 24 * 3_600_000,
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the harness page and waits until it has a GPU device (or reports why not). */
export async function openHarness(browser: Browser, url: string, log = false): Promise<Page> {
  const page = await browser.newPage();
  page.setDefaultTimeout(0);
  if (log) page.on('console', (m) => process.stderr.write(`[page] ${m.text()}\n`));
  page.on('pageerror', (e) => process.stderr.write(`[page error] ${String(e)}\n`));
  await page.goto(`${url}/harness.html`, { waitUntil: 'load' });
  const status = await page.evaluate(async () => {
    const w = window as unknown as { dasoReady?: Promise<unknown> };
    if (!w.dasoReady) return { ok: false, error: 'harness.js did not load (run `npm run build`)' };
    try {
      return { ok: true, info: await w.dasoReady };
    } catch (e) {
      return { ok: false, error: String((e as Error).message ?? e) };
    }
  });
  if (!status.ok) throw new Error(`harness page: ${status.error}`);
  return page;
}
