// Bundles the browser side (harness page script and the embeddable library) and the Node CLI with esbuild.
// WGSL files are imported as text so every kernel's source lives in shaders/ and ships inside the bundle.
import { build } from 'esbuild';

const common = { bundle: true, format: 'esm', sourcemap: true, loader: { '.wgsl': 'text' }, logLevel: 'warning' };

await Promise.all([
  build({ ...common, platform: 'browser', target: 'es2022', entryPoints: ['src/harness/main.ts'], outfile: 'dist/harness.js' }),
  build({ ...common, platform: 'browser', target: 'es2022', entryPoints: ['src/index.ts'], outfile: 'dist/index.js' }),
  // bench:compare's page (bench/compare/compare.html): our kernels and tfjs-backend-webgpu in one bundle of its own.
  build({ ...common, platform: 'browser', target: 'es2022', entryPoints: ['bench/compare/page.ts'], outfile: 'dist/compare.js' }),
  build({ ...common, platform: 'node', target: 'node20', packages: 'external', entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' }),
]);
