// The parts of the library that a plain `init()` never runs: the scorers, the pool and the float64
// reference. The node entry (src/node.ts) loads this module with require() on first use, so that
// `import` and `init()` in a fresh Node process compile none of it (docs/performance.md, start-up);
// the other entry points export these with the rest (src/index.ts). A bundler that meets node.ts's
// require() bundles this module into the app, which then loads it with everything else.

import type { ScorerClasses } from './api.js';
// createPool lives here with the pool, and through it load/ and api.ts are reached from every entry
// point, this one included: esbuild then puts them in the library's chunk, not a third one that the
// node entry would load as well (test/package.test.ts counts its modules).
import { ownSharedModule } from './load/init.js';
import { BinaryScorer, MultilabelScorer } from './ops/binary_scorer.js';
import { Scorer } from './ops/scorer.js';
import { startPool, type PoolOptions, type XentropyPool } from './pool/pool.js';
import {
  binaryCrossEntropy, binaryCrossEntropyWithGrad, binaryScore, crossEntropy, crossEntropyWithGrad, entropy, jsDivergence,
  klDivergence, klDivergenceWithGrad, logSoftmax, logSumExp, multilabelScore, perplexity, score, softmax,
} from './reference/index.js';
import type * as ReferenceModule from './reference/index.js';

export { Scorer, BinaryScorer, MultilabelScorer };
export { XentropyPool } from './pool/pool.js';
export { PoolBinaryScorer, PoolMultilabelScorer, PoolScorer } from './pool/pool_scorer.js';

const SCORERS: ScorerClasses = { Scorer, BinaryScorer, MultilabelScorer };

/** @internal The scorer classes, as the `scorers` of an entry point's createInit (api.ts, ScorerClasses). */
export function staticScorers(): ScorerClasses {
  return SCORERS;
}

// An object marked pure rather than `export * as reference`: the package's entry points are single files
// (scripts/finish-dist.mjs), in which esbuild builds a namespace with a call that bundlers keep, and the
// whole reference with it, in apps that never use it. Its type names every export of reference/index.ts.
/** The float64 reference: the same functions as the WebAssembly API, in plain JavaScript. */
export const reference: typeof ReferenceModule = /* @__PURE__ */ Object.freeze({
  binaryCrossEntropy, binaryCrossEntropyWithGrad, binaryScore, crossEntropy, crossEntropyWithGrad, entropy, jsDivergence,
  klDivergence, klDivergenceWithGrad, logSoftmax, logSumExp, multilabelScore, perplexity, score, softmax,
});
/**
 * Starts a pool of workers (worker_threads in Node, module Web Workers in browsers) over one shared
 * WebAssembly.Memory. Each call's rows are split across the workers, and its results are bit-identical
 * to a one-thread instance of the SIMD build, `init({ build: 'simd' })`: the same kernels per row and
 * the same order of the batch sum. Resident buffers from `pool.alloc` / `pool.tensor` are read by the
 * workers without copying; plain arrays are copied into the shared memory first.
 *
 * Browsers allow shared memory only on cross-origin isolated pages (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`). The
 * workers run dist/pool/worker.js as module workers, found at `./pool/worker.js` from the entry point's
 * file (bundlers that follow `new Worker(new URL(..., import.meta.url))`, as Vite and webpack do,
 * include it; with esbuild, the plugin `xentropy/esbuild` copies it beside the bundle).
 * Call `pool.close()` when done; in Node, idle workers do not keep the process alive.
 *
 * @param options threads: number of workers, an integer in [1, 256] (default: the available
 *   parallelism, at least 1); inlineBelow: calls on fewer elements run on the calling thread
 *   (default 2^18; 0: every call on the workers)
 * @throws (rejects with) TypeError / RangeError for bad options; Error when the runtime has no
 *   workers or no shared WebAssembly memory, or a worker cannot start
 */
export async function createPool(options: PoolOptions = {}): Promise<XentropyPool> {
  return startPool(options, ownSharedModule);
}
