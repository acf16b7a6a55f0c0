// `daso-webgpu/node`: the Node-only parts (never imported by the browser entry, so browser bundles never pull
// puppeteer-core): a headless-Chromium page where the library runs, and the pieces it is made of (the static server
// on 127.0.0.1, the Chromium launcher), which the `daso` CLI uses too.
export { launchWebGpuPage, packageRoot, type DasoLibrary, type WebGpuPage, type WebGpuPageOptions } from './page.js';
export { startServer, type ServerOptions, type StaticServer } from '../cli/server.js';
export { launchChromium, chromiumPath, CHROMIUM_FLAGS, type LaunchedBrowser } from '../cli/browser.js';
