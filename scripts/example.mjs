// `npm run example`: bundles the example web app (examples/web) against the library's source and serves it with the
// project's static server on 127.0.0.1 (WebGPU needs a secure context; http://127.0.0.1 is one).
// Usage: npm run example [-- --port N]
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { startServer } from '../dist/node.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = process.argv.indexOf('--port');
const port = at > 0 ? Number(process.argv[at + 1]) : 8090;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`example: --port needs a port number, got '${process.argv[at + 1]}'\n`);
  process.exit(1);
}
await build({
  absWorkingDir: root, entryPoints: ['examples/web/app.ts'], outfile: 'examples/web/dist/app.js', bundle: true, format: 'esm',
  platform: 'browser', target: 'es2022', sourcemap: true, loader: { '.wgsl': 'text' }, logLevel: 'warning',
  // In this checkout the app imports the library's source; an app using the installed package gets dist/index.js.
  alias: { 'daso-webgpu/viz': './src/viz/index.ts', 'daso-webgpu': './src/index.ts' },
});
const server = await startServer(root, {
  port, datasets: {}, extraFiles: ['examples/web/index.html', 'examples/web/dist/app.js', 'examples/web/dist/app.js.map'],
}).catch((e) => {
  process.stderr.write(`example: ${e.message}\n`);
  process.exit(1);
});
process.stdout.write(`example: ${server.url}/examples/web/index.html (Chrome/Chromium 113+ with WebGPU; Ctrl-C to stop)\n`);
for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => void server.close().then(() => process.exit(0)));
