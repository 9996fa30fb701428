// Entry point of the `workerd` condition (Cloudflare Workers, wrangler): the relaxed-SIMD build alone,
// imported as a module. workerd compiles every imported .wasm before the Worker starts (a cost of each
// cold start: docs/performance.md, start-up), and init() there always picks relaxed SIMD, so the SIMD
// and scalar builds were compiled for nothing. A fallback cannot live here: a workerd without relaxed
// SIMD would refuse the Worker at that compile, before any of its code runs. workerd's V8 validates
// relaxed SIMD by default, and the runtime matrix checks it in the workerd it tests. For the
// SIMD build's bits, import it yourself (`import simd from 'xentropy/xentropy.wasm'`) and pass it as
// init({ module: simd }). Nothing touches import.meta at module level (see worker.ts).

import relaxed from './xentropy.relaxed.wasm';
import { importedInit, type InitOptions, type InitSyncOptions } from './load/init.js';
import type { Xentropy } from './api.js';
import { staticScorers } from './parts.js';

export * from './full.js';

const own = /* @__PURE__ */ importedInit({ 'relaxed-simd': relaxed }, staticScorers);

/**
 * Loads the kernels and returns a new xentropy instance with its own memory. Without `module`, the
 * package's relaxed-SIMD build, imported as a module with this file (`build` may only be 'auto' or
 * 'relaxed-simd' here; pass another build as `module`).
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not 'auto' or 'relaxed-simd', or is combined with `module`
 */
export function init(options?: InitOptions): Promise<Xentropy> {
  return own.init(options);
}

/**
 * Synchronous `init`, from the imported module (or `module`).
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not 'auto' or 'relaxed-simd', or is combined with `module`
 */
export function initSync(options?: InitSyncOptions): Xentropy {
  return own.initSync(options);
}
