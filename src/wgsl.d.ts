// esbuild (loader '.wgsl': 'text') and vitest (the wgsl plugin in vitest.config.ts) import WGSL files as strings.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
