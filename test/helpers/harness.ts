// Test-side access to the harness page: run a named op on the GPU with given inputs and get its outputs back.
// References run here in Node from the same TypeScript modules, so the GPU result is checked against an
// independent execution of the reference.
import { inject } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { openHarness } from '../../src/cli/browser.js';

export type Arrays = Record<string, number[]>;

let browser: Browser | undefined;
let page: Page | undefined;

/** The suite's shared Chromium (started once by test/global-setup); each file connects, and disconnects when done.
 * The long protocol timeout lets a slow SwiftShader step finish instead of failing the call. */
export function connectTestBrowser(): Promise<Browser> {
  return puppeteer.connect({ browserWSEndpoint: inject('wsEndpoint'), protocolTimeout: 1_800_000 });
}

export async function harnessPage(): Promise<Page> {
  if (page) return page;
  browser = await connectTestBrowser();
  page = await openHarness(browser, inject('baseUrl'));
  return page;
}

export async function closeHarness(): Promise<void> {
  await page?.close().catch(() => undefined);
  await browser?.disconnect();
  page = undefined;
  browser = undefined;
}

/** Runs op `name` in the page; rejects with the page's error message (shape errors and the like). */
export async function runOp(name: string, params: unknown, inputs: Record<string, ArrayLike<number>> = {}): Promise<Record<string, Float64Array>> {
  const p = await harnessPage();
  const plain: Arrays = {};
  for (const [k, v] of Object.entries(inputs)) plain[k] = Array.from(v);
  const res = await p.evaluate(
    async (n, pa, inp) => (window as unknown as { daso: { runOp: (a: string, b: unknown, c: unknown) => Promise<unknown> } }).daso.runOp(n, pa, inp),
    name, params as never, plain,
  ) as { ok: true; outputs: Arrays } | { ok: false; error: string };
  if (!res.ok) throw new Error(res.error);
  const out: Record<string, Float64Array> = {};
  for (const [k, v] of Object.entries(res.outputs)) out[k] = Float64Array.from(v);
  return out;
}

/** Evaluates an arbitrary function of the page's `daso` object (for runtime tests: memory report, errors, info). */
export async function inPage<T>(fn: (daso: any) => Promise<T> | T): Promise<T> {
  const p = await harnessPage();
  return p.evaluate(`(${fn.toString()})(window.daso)`) as Promise<T>;
}
