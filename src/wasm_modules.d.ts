// What importing a .wasm gives in runtimes that load WebAssembly as modules (workerd, wrangler,
// Vercel Edge with `?module`): a compiled WebAssembly.Module. Bun gives a file path instead.

declare module '*.wasm' {
  const module: WebAssembly.Module | string;
  export default module;
}

declare module '*.wasm?module' {
  const module: WebAssembly.Module;
  export default module;
}
