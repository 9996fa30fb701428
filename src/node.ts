// Entry point of the `node` condition (Node, and Deno and Bun where they take it): the package's own
// builds are read from disk with node:fs. The CommonJS build (dist/cjs/, `require`) is this
// file and its imports compiled to CommonJS (scripts/finish-dist.mjs).

import { readFileSync } from 'node:fs';
import { createInit, ownBuildUrl, type InitOptions, type InitSyncOptions } from './load/init.js';
import type { Xentropy } from './api.js';

export * from './index.js';

const own = /* @__PURE__ */ createInit({
  // Read and compiled synchronously, as fetchModule does (load/init.ts), which is faster in a fresh process.
  load: async (build) => new WebAssembly.Module(readFileSync(ownBuildUrl(build))),
  loadSync: (build) => readFileSync(ownBuildUrl(build)),
});

/**
 * Loads the kernels and returns a new xentropy instance with its own memory. Without `module`, the
 * package's own build chosen by `build` (default 'auto': relaxed SIMD, else SIMD, else scalar), read
 * from disk and compiled once per process.
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 */
export function init(options?: InitOptions): Promise<Xentropy> {
  return own.init(options);
}

/**
 * Synchronous `init`; without `module` it reads the package's own build from disk.
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 */
export function initSync(options?: InitSyncOptions): Xentropy {
  return own.initSync(options);
}
