// xentropy: cross-entropy, softmax and their gradients in SIMD WebAssembly, with a float64 reference.

import { Xentropy } from './api.js';
import {
  createInit, fetchModule, fileReader, ownBuildUrl, ownSharedBuildUrl, type InitOptions, type InitSyncOptions,
} from './load/init.js';
import { startPool, XentropyPool, type PoolOptions } from './pool/pool.js';
import {
  binaryCrossEntropy, binaryCrossEntropyWithGrad, binaryScore, crossEntropy, crossEntropyWithGrad, entropy, jsDivergence,
  klDivergence, klDivergenceWithGrad, logSoftmax, logSumExp, multilabelScore, perplexity, score, softmax,
} from './reference/index.js';
import type * as ReferenceModule from './reference/index.js';

export { Xentropy, XentropyPool };
export { PoolBinaryScorer, PoolMultilabelScorer, PoolScorer } from './pool/pool_scorer.js';

// An object marked pure rather than `export * as reference`: the package's entry points are single files
// (scripts/finish-dist.mjs), in which esbuild builds a namespace with a call that bundlers keep, and the
// whole reference with it, in apps that never use it. Its type names every export of reference/index.ts.
/** The float64 reference: the same functions as the WebAssembly API, in plain JavaScript. */
export const reference: typeof ReferenceModule = /* @__PURE__ */ Object.freeze({
  binaryCrossEntropy, binaryCrossEntropyWithGrad, binaryScore, crossEntropy, crossEntropyWithGrad, entropy, jsDivergence,
  klDivergence, klDivergenceWithGrad, logSoftmax, logSumExp, multilabelScore, perplexity, score, softmax,
});
export type { PoolOptions } from './pool/pool.js';
export type { Build, Features } from './engine/builds.js';
export type { ModuleSource } from './engine/driver.js';
export { Resident } from './engine/driver.js';
export type { ResidentArray, ResidentDtype } from './engine/driver.js';
export type {
  DistributionForm, FloatArrayInput, FloatValues, Float16ArrayLike, FocalOptions, HalfDtype, IndexTarget, LossAndGrad,
  ReducedLoss, Reduction, ResidentOptions, TensorLike, TensorOptions, Unit,
} from './ops/common.js';
export type { RowOptions } from './ops/row_ops.js';
export type {
  CrossEntropyBatch, CrossEntropyGradOptions, CrossEntropyInput, CrossEntropyOptions, CrossEntropyOverOptions,
  PerplexityOptions, PerplexityResult,
} from './ops/cross_entropy.js';
export type {
  BinaryCrossEntropyGradOptions, BinaryCrossEntropyOptions, BinaryInputForm, BinaryTarget,
} from './ops/binary_cross_entropy.js';
export type { EntropyOptions, EntropyReduction } from './ops/entropy.js';
export type {
  KlDivergenceOptions, KlDivergenceGradOptions, JsDivergenceOptions, KlInput, DivergenceReduction,
} from './ops/kl_divergence.js';
export { MAX_CONFUSION_CLASSES, QUANTILE_SLOTS, Scorer } from './ops/scorer.js';
export type {
  ScorerOptions, ScorerInput, ScorerNumber, ScorerState, ScoreResult, CalibrationBin, PerClassResult, AveragedResult, Binning,
} from './ops/scorer.js';
export { BinaryScorer, MultilabelScorer } from './ops/binary_scorer.js';
export type {
  BinaryCalibrationBin, BinaryConfusion, BinaryLabels, BinaryScoreResult, BinaryScorerInput, BinaryScorerOptions,
  BinaryScorerState, BinaryUpdateOptions, CalibrationBinning, LabelAverages, MultilabelScoreResult, MultilabelScorerOptions,
  MultilabelScorerState, PrecisionRecallCurve, RocCurve, StateNumber,
} from './ops/binary_scorer.js';
export type { InitOptions, InitSyncOptions } from './load/init.js';

// The default entry point (conditions import and default): the package's own
// builds are found next to this file, read from disk where the runtime has node:fs, else fetched.
// The other entry points (src/node.ts, browser.ts, worker.ts, edge_light.ts) differ only in that.
const own = /* @__PURE__ */ createInit({
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

/** The pool's build (SIMD, shared memory), compiled once per process. */
let sharedModule: Promise<WebAssembly.Module> | undefined;

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
  return startPool(options, () => {
    // A failed load is not cached, so a later call can retry.
    sharedModule ??= fetchModule(ownSharedBuildUrl()).catch((error: unknown) => {
      sharedModule = undefined;
      throw error;
    });
    return sharedModule;
  });
}
