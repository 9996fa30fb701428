// The CSP control of ../browser.mjs: served under script-src 'self' without 'wasm-unsafe-eval', so
// compiling any module must be refused and reported. It proves the header is in force and that the
// harness sees violations; the pages that run xentropy are then checked for having none.

const EMPTY_MODULE = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);

globalThis.cspControl = WebAssembly.compile(EMPTY_MODULE).then(
  () => 'compiled',
  (error) => `${error.name}: ${error.message}`,
);
