// Entry point of the `edge-light` condition (Vercel Edge Functions, Next.js middleware): the package's
// own builds are imported with `?module`, which Vercel's bundler turns into WebAssembly.Modules that the
// host compiles and hands to the Edge sandbox (which compiles no WebAssembly itself). Those modules come
// from another realm: init recognises them without instanceof (load/init.ts, isModule).
//
// The relaxed-SIMD build is left out: the host compiles every imported module before the function
// starts, and a host without relaxed SIMD (`next dev` on Node 20) would then fail to start it at all.

import simd from './xentropy.wasm?module';
import scalar from './xentropy.scalar.wasm?module';
import { importedInit, type InitOptions, type InitSyncOptions } from './load/init.js';
import type { Xentropy } from './api.js';
import { staticScorers } from './parts.js';

export * from './full.js';

const own = /* @__PURE__ */ importedInit({ simd, scalar }, staticScorers);

/**
 * Loads the kernels and returns a new xentropy instance with its own memory. Without `module`, the
 * package's own build chosen by `build` (default 'auto': SIMD where the runtime validates it, else
 * scalar), from the .wasm modules imported with this file (`?module`).
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
