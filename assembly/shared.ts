// Entry of the shared-memory build (asconfig.json target "shared", dist/xentropy.shared.wasm, built
// by `npm run build:wasm`): the kernels the worker pool runs (src/pool/pool.ts, src/pool/worker.ts) and no
// others, from the same sources as index.ts. The pool computes the cross-entropy family and the
// scorer's fold (scoreRows, engine/score_groups.ts) only; exporting
// every kernel here would add code to the package for functions no worker calls. A kernel the pool
// starts to use must be exported here too (test/package.test.ts checks the pool's list).

export { logSumExp } from './log_sum_exp';
export { crossEntropySparse } from './cross_entropy_sparse';
export { crossEntropySoft } from './cross_entropy_soft';
export { crossEntropyProbsSparse, crossEntropyProbsSoft } from './cross_entropy_probs';
export { softcapForward, softcapBackward } from './softcap';
export { focalSparse, focalSoft } from './focal';
export { binaryCrossEntropyLogits, binaryCrossEntropyProbs, binaryFocal, binaryScratchBytes } from './binary_cross_entropy';
export { firstOutside } from './range';
export { widen } from './widen';
export { scoreRows } from './score';
export { heapBase, buildFeatures } from './index';
