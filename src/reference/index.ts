// The float64 reference: the same functions as the WebAssembly API, written as plain JavaScript for
// reading and for checking. It is the test oracle, and a fallback where WebAssembly is unavailable.
// Arrays it allocates are Float64Array; an `out` or `gradOut` Float32Array is filled instead.

export { logSumExp } from './log_sum_exp.js';
export { logSoftmax } from './log_softmax.js';
export { softmax } from './softmax.js';
export { crossEntropy, crossEntropyWithGrad, perplexity } from './cross_entropy.js';
export { entropy } from './entropy.js';
export { klDivergence, klDivergenceWithGrad, jsDivergence } from './kl_divergence.js';
export { binaryCrossEntropy, binaryCrossEntropyWithGrad } from './binary_cross_entropy.js';
export { score } from './scorer.js';
export { binaryScore, multilabelScore } from './binary_scorer.js';
