// Entry point of the `node` condition when Node (or Bun, which takes it) runs the package, imported or
// required (require(esm): scripts/finish-dist.mjs). Deno takes its own condition, `deno`, and bundlers
// `module` (esbuild, webpack, Rollup): both the default entry point, src/index.ts. The package's own
// builds are read from disk, each runtime's fastest way in a fresh process (load/init.ts, fetchModule):
// node:fs in Node, Bun.file in Bun. No import statement names a node: built-in.
//
// What a plain `init()` never runs (the scorers, the pool, the float64 reference: src/parts.ts) is not
// imported here: each of those exports is a stand-in that loads src/parts.ts with require() on first
// use, so a fresh process compiles none of it for `import` and `init()` (docs/performance.md, start-up).

import {
  createInit, fetchModule, fileReader, nodeBuiltin, ownBuildUrl, type InitOptions, type InitSyncOptions,
} from './load/init.js';
import { lazyClass, lazyFunctions } from './load/lazy.js';
import type { Xentropy } from './api.js';
import type * as Parts from './parts.js';
import type * as ReferenceModule from './reference/index.js';
import type { Scorer as ScorerClass } from './ops/scorer.js';
import type { BinaryScorer as BinaryScorerClass, MultilabelScorer as MultilabelScorerClass } from './ops/binary_scorer.js';
import type { PoolOptions, XentropyPool as XentropyPoolClass } from './pool/pool.js';
import type {
  PoolBinaryScorer as PoolBinaryScorerClass, PoolMultilabelScorer as PoolMultilabelScorerClass, PoolScorer as PoolScorerClass,
} from './pool/pool_scorer.js';

export * from './library.js';

let parts: typeof Parts | undefined;

/** src/parts.ts, loaded on first use. */
function loadParts(): typeof Parts {
  // An ES module has no `require` of its own in Node: the second branch loads dist/parts.js there
  // (Node ≥ 20.19 and 22.12 require ES modules), also where a global one exists (the REPL's, which
  // resolves from elsewhere). Bun has one. A bundler that takes this file rather than the `module`
  // condition's sees a literal require and bundles the parts in (scripts/finish-dist.mjs keeps it so).
  // createRequire is given this file, not its folder: Jest's resolves from the parent of a folder.
  parts ??= (typeof require === 'function' && require !== (globalThis as { require?: unknown }).require
    ? require('./parts.js')
    : nodeModule().createRequire(new URL('./node.js', import.meta.url))('./parts.js')) as typeof Parts;
  return parts;
}

/** node:module, found without an import statement (Node ≥ 20.16). */
function nodeModule(): typeof import('node:module') {
  const found = nodeBuiltin('node:module') as typeof import('node:module') | undefined;
  if (!found) {
    throw new Error(`xentropy loads its scorers, pool and float64 reference with require() on first use, which needs `
      + `Node ≥ 20.19 or 22.12 (the versions package.json's engines names), not ${process.version}: upgrade Node`);
  }
  return found;
}

const own = /* @__PURE__ */ createInit({
  scorers: loadParts,
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

/**
 * Starts a pool of workers (worker_threads) over one shared WebAssembly.Memory: results bit-identical
 * to `init({ build: 'simd' })`, each call's rows split across the workers (docs/memory-and-threads.md).
 * @param options threads: number of workers, an integer in [1, 256] (default: the available
 *   parallelism, at least 1); inlineBelow: calls on fewer elements run on the calling thread
 *   (default 2^18; 0: every call on the workers)
 * @throws (rejects with) TypeError / RangeError for bad options; Error when the runtime has no
 *   workers or no shared WebAssembly memory, or a worker cannot start
 */
export async function createPool(options?: PoolOptions): Promise<XentropyPoolClass> {
  return loadParts().createPool(options);
}

/** A one-pass, mergeable evaluation of a classifier; see `xe.scorer`. */
export const Scorer = /* @__PURE__ */ lazyClass<typeof ScorerClass>('Scorer', () => loadParts().Scorer);
export type Scorer = ScorerClass;
/** A one-pass, mergeable evaluator of a binary classifier; see `xe.binaryScorer`. */
export const BinaryScorer = /* @__PURE__ */ lazyClass<typeof BinaryScorerClass>('BinaryScorer', () => loadParts().BinaryScorer);
export type BinaryScorer = BinaryScorerClass;
/** A one-pass, mergeable evaluator of a multilabel classifier; see `xe.multilabelScorer`. */
export const MultilabelScorer = /* @__PURE__ */ lazyClass<typeof MultilabelScorerClass>('MultilabelScorer', () => loadParts().MultilabelScorer);
export type MultilabelScorer = MultilabelScorerClass;
/** A pool of workers; see `createPool`. */
export const XentropyPool = /* @__PURE__ */ lazyClass<typeof XentropyPoolClass>('XentropyPool', () => loadParts().XentropyPool);
export type XentropyPool = XentropyPoolClass;
/** The pool's scorer; see `pool.scorer`. */
export const PoolScorer = /* @__PURE__ */ lazyClass<typeof PoolScorerClass>('PoolScorer', () => loadParts().PoolScorer);
export type PoolScorer = PoolScorerClass;
/** The pool's binary scorer; see `pool.binaryScorer`. */
export const PoolBinaryScorer = /* @__PURE__ */ lazyClass<typeof PoolBinaryScorerClass>('PoolBinaryScorer', () => loadParts().PoolBinaryScorer);
export type PoolBinaryScorer = PoolBinaryScorerClass;
/** The pool's multilabel scorer; see `pool.multilabelScorer`. */
export const PoolMultilabelScorer = /* @__PURE__ */ lazyClass<typeof PoolMultilabelScorerClass>('PoolMultilabelScorer', () => loadParts().PoolMultilabelScorer);
export type PoolMultilabelScorer = PoolMultilabelScorerClass;

/** The float64 reference: the same functions as the WebAssembly API, in plain JavaScript. */
export const reference: typeof ReferenceModule = /* @__PURE__ */ lazyFunctions({
  binaryCrossEntropy: 3, binaryCrossEntropyWithGrad: 3, binaryScore: 3, crossEntropy: 3, crossEntropyWithGrad: 3, entropy: 3,
  jsDivergence: 4, klDivergence: 4, klDivergenceWithGrad: 4, logSoftmax: 4, logSumExp: 4, multilabelScore: 3, perplexity: 3,
  score: 3, softmax: 4,
}, () => loadParts().reference);
