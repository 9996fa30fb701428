// Entry point of the `browser` condition: the package's own builds are fetched from beside this script
// and compiled while they stream (served as application/wasm). Each URL is written out literally and
// names a sibling (load/init.ts, ownBuildUrl): bundlers that follow `new URL('./x.wasm', import.meta.url)`
// (Vite, webpack, Parcel) emit the .wasm files, and with one that leaves such URLs as written (esbuild)
// copying them beside the bundle is enough.

import { createInit, fetchModule, ownBuildUrl, type InitOptions, type InitSyncOptions } from './load/init.js';
import type { Xentropy } from './api.js';
import { staticScorers } from './parts.js';

export * from './full.js';

const own = /* @__PURE__ */ createInit({ scorers: staticScorers, load: (build) => fetchModule(ownBuildUrl(build)) });

/**
 * Loads the kernels and returns a new xentropy instance with its own memory. Without `module`, the
 * package's own build chosen by `build` (default 'auto': relaxed SIMD where the browser validates it,
 * else SIMD, else scalar), fetched from next to this script and compiled once per page. A page with a
 * Content-Security-Policy needs `script-src 'wasm-unsafe-eval'` (or a module passed in).
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 * @throws Error when fetching the .wasm fails
 */
export function init(options?: InitOptions): Promise<Xentropy> {
  return own.init(options);
}

/**
 * Synchronous `init`. A browser cannot fetch synchronously: pass `module` (a WebAssembly.Module or its
 * bytes), or use `init`, after which the compiled module is reused here too.
 * @throws TypeError when `module` is missing (and `init` has not loaded that build yet) or of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 */
export function initSync(options?: InitSyncOptions): Xentropy {
  return own.initSync(options);
}
