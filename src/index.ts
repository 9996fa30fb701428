// xentropy: cross-entropy, softmax and their gradients in SIMD WebAssembly, with a float64 reference.
// The default entry point (conditions deno, the node condition's module for bundlers, import and
// default): the library (src/library.ts) and its parts (src/parts.ts), loaded together, as the
// browser, worker, workerd and edge-light entry points load them (src/full.ts). Its own builds are
// found next to this file, read from disk where the runtime can (Node, Deno, Bun), else fetched; the
// other entry points differ only in that (and src/node.ts in loading the parts on first use).

import type { Xentropy } from './api.js';
import { createInit, fetchModule, fileReader, ownBuildUrl, type InitOptions, type InitSyncOptions } from './load/init.js';
import { staticScorers } from './parts.js';

export * from './full.js';

const own = /* @__PURE__ */ createInit({
  scorers: staticScorers,
  load: (build) => fetchModule(ownBuildUrl(build)),
  loadSync: (build) => {
    const fs = fileReader();
    if (!fs) throw new TypeError('initSync() cannot read the package\'s own .wasm in this runtime; pass options.module, or use await init()');
    return fs.readFileSync(ownBuildUrl(build));
  },
});

/**
 * Loads the kernels and returns a new xentropy instance with its own memory. Without `module`, the
 * package's own build chosen by `build` (default 'auto': relaxed SIMD, else SIMD, else scalar), read
 * from disk in Node, Deno and Bun and fetched elsewhere; it is compiled once and reused by later calls.
 * @throws TypeError when `module` is of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 */
export function init(options?: InitOptions): Promise<Xentropy> {
  return own.init(options);
}

/**
 * Synchronous `init`: without a module it reads the package's own .wasm (Node, Deno, Bun).
 * @throws TypeError when no module is given and the runtime cannot read files, or `module` is of an unusable type
 * @throws RangeError when `build` is not a build name, or is combined with `module`
 */
export function initSync(options?: InitSyncOptions): Xentropy {
  return own.initSync(options);
}
