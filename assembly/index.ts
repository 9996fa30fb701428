// The kernels, each in its own file with raw pointer + length arguments. Memory is owned by the
// TypeScript driver (src/engine/driver.ts); nothing here allocates.

export { logSumExp } from './log_sum_exp';
export { logSoftmax } from './log_softmax';
export { softmax } from './softmax';
export { crossEntropySparse } from './cross_entropy_sparse';
export { crossEntropySoft } from './cross_entropy_soft';
export { crossEntropyProbsSparse, crossEntropyProbsSoft } from './cross_entropy_probs';
export { softcapForward, softcapBackward } from './softcap';
export { focalSparse, focalSoft } from './focal';
export { binaryCrossEntropyLogits, binaryCrossEntropyProbs, binaryFocal, binaryScratchBytes } from './binary_cross_entropy';
export { firstOutside } from './range';
export { entropy } from './entropy';
export { klDivergence } from './kl_divergence';
export { jsDivergence } from './js_divergence';
export { scoreRows } from './score';
export { widen } from './widen';

/** First byte the driver may use: everything below holds the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}

/** The instruction sets this build was compiled with: bit 0 SIMD, bit 1 relaxed SIMD. */
export function buildFeatures(): i32 {
  return (ASC_FEATURE_SIMD ? 1 : 0) | (ASC_FEATURE_RELAXED_SIMD ? 2 : 0);
}
