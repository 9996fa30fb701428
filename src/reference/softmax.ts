import { planRows } from '../ops/row_ops.js';
import { logSoftmaxRow } from './log_sum_exp.js';

/** Reference softmax: exp(z_c - logsumexp(z)) per row, in float64 (from logSoftmaxRow). */
export function softmax(
  logits: Float32Array, classes: number, out?: Float32Array | Float64Array,
): Float32Array | Float64Array {
  const { input, rows } = planRows(logits, classes, out, false, true);
  const result = out ?? new Float64Array(input.length);
  for (let r = 0; r < rows; r++) {
    const row = input.subarray(r * classes, (r + 1) * classes);
    const lp = logSoftmaxRow(row);
    for (let c = 0; c < classes; c++) result[r * classes + c] = Math.exp(lp[c]);
  }
  return result;
}
