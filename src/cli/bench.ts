// `daso bench`: runs the in-page kernel benchmark in headless Chromium, prints a markdown table, writes JSON.
import { writeAtomic } from './files.js';
import { launchChromium, openHarness } from './browser.js';
import { startServer } from './server.js';
import { benchTable, type BenchRow } from '../harness/bench-table.js';

export interface BenchOptions {
  filter?: string;
  reps: number;
  out: string;
  verbose: boolean;
}


export async function runBench(root: string, o: BenchOptions): Promise<BenchRow[]> {
  const server = await startServer(root);
  const chromium = await launchChromium();
  try {
    const page = await openHarness(chromium.browser, server.url, o.verbose);
    const info = await page.evaluate(() => (window as unknown as { dasoInfo: unknown }).dasoInfo);
    process.stdout.write(`adapter: ${JSON.stringify(info)}\n`);
    const rows = (await page.evaluate(
      (filter, reps, verbose) => (window as unknown as { daso: { bench: (x: unknown) => Promise<unknown> } }).daso.bench({ filter, reps, verbose }),
      o.filter ?? '', o.reps, o.verbose,
    )) as BenchRow[];
    process.stdout.write(`${benchTable(rows)}\n`);
    writeAtomic(o.out, JSON.stringify({ date: new Date().toISOString(), adapter: info, reps: o.reps, rows }, null, 2));
    process.stdout.write(`wrote ${o.out}\n`);
    return rows;
  } finally {
    await chromium.close();
    await server.close();
  }
}
