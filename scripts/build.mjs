// Bundles the browser side (harness page script and the embeddable library) and the Node CLI with esbuild.
// WGSL files are imported as text so every kernel's source lives in shaders/ and ships inside the bundle.
// Declarations (dist/types) come from `npm run build:types` (tsc), run by prepack: they take longer than every bundle
// together, and the tests only need the bundles.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';

const common = { bundle: true, format: 'esm', sourcemap: true, loader: { '.wgsl': 'text' }, logLevel: 'warning' };
const browser = { ...common, platform: 'browser', target: 'es2022' };
const node = { ...common, platform: 'node', target: 'node20', packages: 'external' };

// The node helper's page loads the library bundle itself (dist/index.js) instead of a second copy of it.
const libraryIsExternal = {
  name: 'library-is-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.js', external: true }));
  },
};

mkdirSync('dist', { recursive: true });
writeFileSync('dist/node-page.html', '<!doctype html>\n<meta charset="utf-8">\n<title>daso-webgpu</title>\n<link rel="icon" href="data:,">\n' +
  '<script type="module" src="./node-page.js"></script>\n');
await Promise.all([
  build({ ...browser, entryPoints: ['src/harness/main.ts'], outfile: 'dist/harness.js' }),
  build({ ...browser, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' }),
  build({ ...browser, entryPoints: ['src/node/page-main.ts'], outfile: 'dist/node-page.js', plugins: [libraryIsExternal], sourcemap: false }),
  // bench:compare's page (bench/compare/compare.html): our kernels and tfjs-backend-webgpu in one bundle of its own.
  build({ ...browser, entryPoints: ['bench/compare/page.ts'], outfile: 'dist/compare.js' }),
  build({ ...node, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' }),
  build({ ...node, entryPoints: ['src/node/index.ts'], outfile: 'dist/node.js' }),
]);
