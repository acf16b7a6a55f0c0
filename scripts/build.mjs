// Bundles the browser side (harness page script and the embeddable library) and the Node CLI with esbuild.
// WGSL files are imported as text so every kernel's source lives in shaders/ and ships inside the bundle.
// Declarations (dist/types) come from `npm run build:types` (tsc), run by prepack: they take longer than every bundle
// together, and the tests only need the bundles.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';

const common = { bundle: true, format: 'esm', sourcemap: true, loader: { '.wgsl': 'text' }, logLevel: 'warning' };
const browser = { ...common, platform: 'browser', target: 'es2022' };
// Node bundles: puppeteer-core stays a run-time dependency (it finds the system Chromium); everything else, such as
// `daso report`'s Plot, linkedom and umap-js (devDependencies), is bundled into dist/cli.js. linkedom's optional
// `canvas` (a native module) is never installed: its require sits in a try block with a shim as the fallback.
const node = { ...common, platform: 'node', target: 'node20', external: ['puppeteer-core', 'canvas'] };

// The node helper's page loads the library bundle itself (dist/index.js) instead of a second copy of it.
const libraryIsExternal = {
  name: 'library-is-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: './index.js', external: true }));
  },
};

// The bundles that carry the chart libraries (Observable Plot with d3, umap-js, linkedom) are minified: cli.js 2.1 to
// 1.1 MB, harness.js 1.2 to 0.67 MB, viz.js 0.79 to 0.39 MB (2026-12-02). With viz.js.map left out of the package
// (1.7 MB of third-party sources) the packed tarball is 1.1 MB instead of 1.6 MB. The library bundle (dist/index.js:
// our kernels and engine) stays readable for people studying it.
const heavy = { minify: true };

mkdirSync('dist', { recursive: true });
writeFileSync('dist/node-page.html', '<!doctype html>\n<meta charset="utf-8">\n<title>daso-webgpu</title>\n<link rel="icon" href="data:,">\n' +
  '<script type="module" src="./node-page.js"></script>\n');
await Promise.all([
  build({ ...browser, ...heavy, entryPoints: ['src/harness/main.ts'], outfile: 'dist/harness.js' }),
  build({ ...browser, entryPoints: ['src/index.ts'], outfile: 'dist/index.js' }),
  // daso-webgpu/viz: the charts of the live page and `daso report` (Observable Plot and umap-js bundled in).
  build({ ...browser, ...heavy, entryPoints: ['src/viz/index.ts'], outfile: 'dist/viz.js' }),
  build({ ...browser, entryPoints: ['src/node/page-main.ts'], outfile: 'dist/node-page.js', plugins: [libraryIsExternal], sourcemap: false }),
  // bench:compare's page (bench/compare/compare.html): our kernels and tfjs-backend-webgpu in one bundle of its own.
  build({ ...browser, entryPoints: ['bench/compare/page.ts'], outfile: 'dist/compare.js' }),
  build({ ...node, ...heavy, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' }),
  build({ ...node, entryPoints: ['src/node/index.ts'], outfile: 'dist/node.js' }),
]);
