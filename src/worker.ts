// Entry point of the `worker` condition (worker bundlers; workerd has its own, workerd.ts, with one build):
// the package's own builds are imported as modules. workerd compiles no WebAssembly at run time ("Wasm
// code generation disallowed by embedder"); it runs only the modules uploaded with the Worker, so they
// are imported here, never fetched or read. Nothing touches import.meta at module level: a module-level
// `new URL(..., import.meta.url)` stops a Worker from starting.

import simd from './xentropy.wasm';
import relaxed from './xentropy.relaxed.wasm';
import scalar from './xentropy.scalar.wasm';
import { importedInit, type InitOptions, type InitSyncOptions } from './load/init.js';
import type { Xentropy } from './api.js';
import { staticScorers } from './parts.js';

export * from './full.js';

const own = /* @__PURE__ */ importedInit({ 'relaxed-simd': relaxed, simd, scalar }, staticScorers);

/**
 * Loads the kernels and returns a new xentropy instance with its own memory. Without `module`, the
 * package's own build chosen by `build` (default 'auto': relaxed SIMD where the runtime validates it,
 * else SIMD, else scalar), from the .wasm modules imported with this file.
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 */
export function init(options?: InitOptions): Promise<Xentropy> {
  return own.init(options);
}

/**
 * Synchronous `init`, from the imported modules (or `module`).
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 */
export function initSync(options?: InitSyncOptions): Xentropy {
  return own.initSync(options);
}
