import { widenValues, type FloatArrayInput, type TensorLike } from '../ops/common.js';
import { planRows, type RowOptions } from '../ops/row_ops.js';
import { logSoftmaxRow } from './log_sum_exp.js';

/** Reference softmax: exp(z_c - logsumexp(z)) per row, in float64 (from logSoftmaxRow). */
export function softmax(logits: FloatArrayInput, classes: number, out?: Float32Array | Float64Array, options?: RowOptions): Float32Array | Float64Array;
export function softmax(logits: TensorLike, classes?: number, out?: Float32Array | Float64Array, options?: RowOptions): Float32Array | Float64Array;
export function softmax(
  logits: FloatArrayInput | TensorLike, classes?: number, out?: Float32Array | Float64Array, options?: RowOptions,
): Float32Array | Float64Array {
  const plan = planRows(logits, classes, out, false, true, options, 'softmax');
  // Other element types widened in JavaScript, exactly as the kernels' widen does.
  // The plan's classes: a tensor's last dimension when the argument is left out.
  const input = widenValues(plan.input, plan.inputKind), rows = plan.rows, cols = plan.classes;
  const result = out ?? new Float64Array(input.length);
  for (let r = 0; r < rows; r++) {
    const row = input.subarray(r * cols, (r + 1) * cols);
    const lp = logSoftmaxRow(row);
    for (let c = 0; c < cols; c++) result[r * cols + c] = Math.exp(lp[c]);
  }
  return result;
}
