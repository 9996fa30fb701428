// init over builds imported as modules (the worker and edge-light entry points).

import { createInit, fetchModule, isModule, toUrl, type Initializers } from './init.js';
import type { Build } from '../engine/builds.js';

/**
 * init and initSync over the imported builds. An import that yields a file path instead of a Module
 * (Bun, for `import x from './x.wasm'`) is read from disk by `init`.
 * @internal
 */
export function importedInit(imported: Readonly<Partial<Record<Build, WebAssembly.Module | string>>>): Initializers {
  return createInit({
    builds: (Object.keys(imported) as Build[]),
    load: async (build) => {
      const module = imported[build]!;
      return isModule(module) ? module as WebAssembly.Module : fetchModule(toUrl(module as string));
    },
    loadSync: (build) => {
      const module = imported[build]!;
      if (!isModule(module)) {
        throw new TypeError(`initSync(): importing the ${build} build gave ${JSON.stringify(module)}, not a WebAssembly.Module; use await init()`);
      }
      return module as WebAssembly.Module;
    },
  });
}
