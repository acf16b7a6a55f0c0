// Starts what every test file shares: a fresh bundle, the static server and one headless Chromium with WebGPU.
// Test files connect to the browser by its endpoint and open their own harness page.
import type { TestProject } from 'vitest/node';
import { execFileSync } from 'node:child_process';
import { launchChromium, openHarness, type LaunchedBrowser } from '../../src/cli/browser.js';
import { startServer, type StaticServer } from '../../src/cli/server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    wsEndpoint: string;
    baseUrl: string;
  }
}

let browser: LaunchedBrowser | undefined;
let server: StaticServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  server = await startServer(process.cwd());
  browser = await launchChromium();
  const page = await openHarness(browser.browser, server.url);
  const info = await page.evaluate(() => (window as unknown as { dasoInfo: unknown }).dasoInfo);
  process.stdout.write(`WebGPU adapter under test: ${JSON.stringify(info)}\n`);
  await page.close();
  project.provide('wsEndpoint', browser.browser.wsEndpoint());
  project.provide('baseUrl', server.url);
}

export async function teardown(): Promise<void> {
  await browser?.close();
  await server?.close();
}
