// Row-wise operations shared by the softmax, logSoftmax and logSumExp suites, with the measured
// error of the SIMD kernels against the float64 reference (logits ~ N(0, 3^2), C up to 128256):
// logSumExp under 1 ulp except near 0 (worst 9.6e-7 absolute), logSoftmax worst 2.5e-6 absolute,
// softmax worst 2.0e-6 relative. The f32 subtraction z - max (exact only within a factor of two)
// dominates: it perturbs each exponent by up to 2^-24 |z - max|.

import type { Tolerance } from './helpers.js';

export type RowOp = 'logSoftmax' | 'softmax' | 'logSumExp';

/** Tolerance of each op against the float64 reference, from the measurements above with margin. */
export const rowOpTolerance: Record<RowOp, Tolerance> = {
  logSumExp: { rel: 2.4e-7, abs: 2e-6 },
  logSoftmax: { rel: 2.4e-7, abs: 4e-6 },
  softmax: { rel: 4e-6, abs: 1e-37 },
};
