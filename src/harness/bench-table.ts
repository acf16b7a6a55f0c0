// The benchmark table (pure: shared by the page and the Node CLI).
export interface BenchRow {
  kernel: string;
  shape: string;
  dispatches: number;
  gpuMs: number | null;
  gpuMsMin: number | null;
  gpuMsMax: number | null;
  wallMs: number;
  gflops: number | null;
  gbps: number | null;
  adapter: string;
}

export function benchTable(rows: BenchRow[]): string {
  const head = '| kernel | shape | GPU ms (median) | min..max | wall ms | GFLOP/s | GB/s |\n|---|---|---:|---:|---:|---:|---:|';
  const f = (x: number | null, d = 3) => (x === null ? '-' : x.toFixed(d));
  return [head, ...rows.map((r) =>
    `| ${r.kernel} | ${r.shape} | ${f(r.gpuMs)} | ${f(r.gpuMsMin)}..${f(r.gpuMsMax)} | ${f(r.wallMs)} | ${f(r.gflops, 2)} | ${f(r.gbps, 2)} |`)].join('\n');
}

/** `--filter` of `daso bench` and `daso bench-compare`: the row's text contains one of the '|'-separated parts. */
export function matchesFilter(filter: string | undefined, text: string): boolean {
  return !filter || filter.split('|').some((f) => text.includes(f));
}
