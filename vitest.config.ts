import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [
    {
      // Node-side tests import kernel modules (for their references); load .wgsl files as text like esbuild does.
      name: 'wgsl-as-text',
      load(id: string) {
        if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
        return null;
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // One headless Chromium serves every file; files run one at a time (2 cores, SwiftShader uses both).
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/helpers/count-reporter.ts'],
    // The CLI reads the user's conv tune cache (~/.cache/daso-webgpu/tune.json) by default; every CLI a test starts
    // gets a private path instead (no file there: the rule), so results never depend on what the person ran before.
    env: { DASO_TUNE_CACHE: process.env.DASO_TUNE_CACHE ?? join(tmpdir(), `daso-tune-test-${process.pid}`, 'tune.json') },
  },
});
