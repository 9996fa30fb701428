// Entry point of the `node` condition (Node, and Deno and Bun, which take it): the package's own builds
// are read from disk, each runtime's fastest way in a fresh process (load/init.ts, fetchModule): node:fs
// in Node, Deno.readFileSync in Deno, Bun.file in Bun. No import statement names a node: built-in, since
// importing one in Deno starts its Node compatibility layer (~20 ms). The CommonJS build
// (dist/cjs/node.js, `require`) is this file and its imports bundled as CommonJS (scripts/finish-dist.mjs).

import { createInit, fetchModule, fileReader, ownBuildUrl, type InitOptions, type InitSyncOptions } from './load/init.js';
import type { Xentropy } from './api.js';

export * from './index.js';

const own = /* @__PURE__ */ createInit({
  load: async (build) => {
    const url = ownBuildUrl(build);
    // Node < 20.16 has no process.getBuiltinModule, through which fileReader finds node:fs. Bun first:
    // fetchModule reads there with Bun.file, and getting node:fs is a start-up cost of its own
    // (docs/performance.md, start-up).
    if (!('Bun' in globalThis) && !fileReader()) return new WebAssembly.Module((await import('node:fs')).readFileSync(url));
    return fetchModule(url);
  },
  loadSync: (build) => {
    const fs = fileReader();
    if (!fs) {
      throw new TypeError('initSync() reads the package\'s own .wasm through process.getBuiltinModule, which needs Node ≥ 20.16: '
        + 'upgrade Node, pass options.module, or call await init() once first (initSync then reuses its module)');
    }
    return fs.readFileSync(ownBuildUrl(build));
  },
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
